//! Free-space bookkeeping for the slot area, in 64 KiB pages: a segment tree over the pages whose
//! nodes hold the longest free run (and the free runs touching each end) of their range.
//!
//! - `acquire`: first fit (the lowest-addressed free run long enough), O(log pages).
//! - `acquire_aligned`: the same with the start at a given phase of an alignment, O(log pages).
//! - `acquire_at`, `release`, `is_free`: O(log pages).
//! Memory is allocated once at init (2 x next_power_of_two(pages) nodes of 16 bytes; 2 MiB for a
//! 4 GiB window), never during operations. Free neighbours coalesce by construction.

const std = @import("std");
const assert = std.debug.assert;
const page_bytes = @import("layout.zig").page_bytes;

const Fill = enum(u8) { none, free, used };

const Node = struct {
    /// Longest run of free pages in the node's range.
    longest_pages: u32,
    /// Free pages at the start / end of the range.
    prefix_pages: u32,
    suffix_pages: u32,
    /// A pending assignment of the whole range, not yet pushed to the children.
    pending: Fill,
};

pub const Slots = struct {
    nodes: []Node,
    /// Leaves in the tree: a power of two >= `pages_count`; the padding leaves are used forever.
    leaves_count: u32,
    pages_count: u32,
    free_pages: u32,
    base_bytes: u64,

    pub fn init(allocator: std.mem.Allocator, base_bytes: u64, limit_bytes: u64) !Slots {
        assert(base_bytes % page_bytes == 0);
        assert(limit_bytes % page_bytes == 0);
        assert(base_bytes < limit_bytes);
        const pages_count: u32 = @intCast((limit_bytes - base_bytes) / page_bytes);
        const leaves_count = std.math.ceilPowerOfTwoAssert(u32, pages_count);
        const nodes = try allocator.alloc(Node, 2 * @as(usize, leaves_count));
        var slots = Slots{
            .nodes = nodes,
            .leaves_count = leaves_count,
            .pages_count = pages_count,
            .free_pages = pages_count,
            .base_bytes = base_bytes,
        };
        slots.apply(1, leaves_count, .used);
        slots.assign(1, 0, leaves_count, 0, pages_count, .free);
        assert(slots.nodes[1].longest_pages == pages_count);
        return slots;
    }

    pub fn deinit(slots: *Slots, allocator: std.mem.Allocator) void {
        allocator.free(slots.nodes);
        slots.* = undefined;
    }

    pub fn free_bytes(slots: *const Slots) u64 {
        return @as(u64, slots.free_pages) * page_bytes;
    }

    pub fn largest_free_bytes(slots: *const Slots) u64 {
        return @as(u64, slots.nodes[1].longest_pages) * page_bytes;
    }

    /// Takes the lowest-addressed free range of `size_bytes`; null when no free run is that long.
    pub fn acquire(slots: *Slots, size_bytes: u64) ?u64 {
        const pages = pages_of(size_bytes);
        if (pages > slots.nodes[1].longest_pages) return null;
        const first_page = slots.find(1, 0, slots.leaves_count, pages);
        assert(first_page + pages <= slots.pages_count);
        slots.assign(1, 0, slots.leaves_count, first_page, first_page + pages, .used);
        slots.free_pages -= pages;
        return slots.base_bytes + @as(u64, first_page) * page_bytes;
    }

    /// Takes a free range of `size_bytes` whose offset `o` has `o % align_bytes == phase_bytes`: in
    /// the lowest free run of `size_bytes + align_bytes - 64 KiB` (which holds such a start whatever
    /// its own alignment), so not always the lowest such range. Null, taking nothing, when no run is
    /// that long or the start would skip more than `max_skipped_bytes` of the run (the caller falls
    /// back to `acquire`).
    pub fn acquire_aligned(slots: *Slots, size_bytes: u64, align_bytes: u64, phase_bytes: u64, max_skipped_bytes: u64) ?u64 {
        assert(align_bytes % page_bytes == 0 and align_bytes > 0);
        assert(phase_bytes % page_bytes == 0 and phase_bytes < align_bytes);
        const pages = pages_of(size_bytes);
        const search_pages = @as(u64, pages) + align_bytes / page_bytes - 1;
        if (search_pages > slots.nodes[1].longest_pages) return null;
        const run_page = slots.find(1, 0, slots.leaves_count, @intCast(search_pages));
        const run_bytes = slots.base_bytes + @as(u64, run_page) * page_bytes;
        const offset_bytes = run_bytes + (phase_bytes + align_bytes - run_bytes % align_bytes) % align_bytes;
        assert(offset_bytes % align_bytes == phase_bytes);
        if (offset_bytes - run_bytes > max_skipped_bytes) return null;
        // Inside the free run `find` returned, so free: taken without another walk of the tree.
        assert(offset_bytes + size_bytes <= run_bytes + search_pages * page_bytes);
        const first_page = slots.page_of(offset_bytes);
        slots.assign(1, 0, slots.leaves_count, first_page, first_page + pages, .used);
        slots.free_pages -= pages;
        return offset_bytes;
    }

    /// Takes exactly `[offset_bytes, offset_bytes + size_bytes)` if all of it is free.
    pub fn acquire_at(slots: *Slots, offset_bytes: u64, size_bytes: u64) bool {
        if (!slots.is_free(offset_bytes, size_bytes)) return false;
        const first_page = slots.page_of(offset_bytes);
        const pages = pages_of(size_bytes);
        slots.assign(1, 0, slots.leaves_count, first_page, first_page + pages, .used);
        slots.free_pages -= pages;
        return true;
    }

    /// Returns a range taken by `acquire` or `acquire_at` (or any part of one).
    pub fn release(slots: *Slots, offset_bytes: u64, size_bytes: u64) void {
        const first_page = slots.page_of(offset_bytes);
        const pages = pages_of(size_bytes);
        assert(first_page + pages <= slots.pages_count);
        assert(slots.count_free(1, 0, slots.leaves_count, first_page, first_page + pages) == 0);
        slots.assign(1, 0, slots.leaves_count, first_page, first_page + pages, .free);
        slots.free_pages += pages;
        assert(slots.free_pages <= slots.pages_count);
    }

    /// Whether the whole range lies in the slot area and is free.
    pub fn is_free(slots: *Slots, offset_bytes: u64, size_bytes: u64) bool {
        if (offset_bytes < slots.base_bytes or offset_bytes % page_bytes != 0) return false;
        const first_page = slots.page_of(offset_bytes);
        const pages = pages_of(size_bytes);
        if (@as(u64, first_page) + pages > slots.pages_count) return false;
        return slots.count_free(1, 0, slots.leaves_count, first_page, first_page + pages) == pages;
    }

    /// Whether the whole range lies in the slot area and is taken (no page of it is free).
    pub fn is_taken(slots: *Slots, offset_bytes: u64, size_bytes: u64) bool {
        if (offset_bytes < slots.base_bytes or offset_bytes % page_bytes != 0) return false;
        const first_page = slots.page_of(offset_bytes);
        const pages = pages_of(size_bytes);
        if (@as(u64, first_page) + pages > slots.pages_count) return false;
        return slots.count_free(1, 0, slots.leaves_count, first_page, first_page + pages) == 0;
    }

    fn page_of(slots: *const Slots, offset_bytes: u64) u32 {
        assert(offset_bytes >= slots.base_bytes);
        assert(offset_bytes % page_bytes == 0);
        return @intCast((offset_bytes - slots.base_bytes) / page_bytes);
    }

    fn pages_of(size_bytes: u64) u32 {
        assert(size_bytes > 0);
        assert(size_bytes % page_bytes == 0);
        return @intCast(size_bytes / page_bytes);
    }

    /// The first page of the leftmost free run of `pages` in `node` (which has one).
    fn find(slots: *Slots, node: u32, node_first: u32, node_pages: u32, pages: u32) u32 {
        assert(slots.nodes[node].longest_pages >= pages);
        if (node_pages == 1) return node_first;
        slots.push(node, node_pages);
        const half = node_pages / 2;
        const left = slots.nodes[2 * node];
        const right = slots.nodes[2 * node + 1];
        if (left.longest_pages >= pages) return slots.find(2 * node, node_first, half, pages);
        if (left.suffix_pages + right.prefix_pages >= pages) return node_first + half - left.suffix_pages;
        return slots.find(2 * node + 1, node_first + half, half, pages);
    }

    /// Sets pages `[first, end)` (clipped to `node`) to `fill`.
    fn assign(slots: *Slots, node: u32, node_first: u32, node_pages: u32, first: u32, end: u32, fill: Fill) void {
        assert(fill != .none);
        const node_end = node_first + node_pages;
        if (end <= node_first or node_end <= first) return;
        if (first <= node_first and node_end <= end) return slots.apply(node, node_pages, fill);
        slots.push(node, node_pages);
        const half = node_pages / 2;
        slots.assign(2 * node, node_first, half, first, end, fill);
        slots.assign(2 * node + 1, node_first + half, half, first, end, fill);
        slots.pull(node, node_pages);
    }

    fn count_free(slots: *Slots, node: u32, node_first: u32, node_pages: u32, first: u32, end: u32) u32 {
        const node_end = node_first + node_pages;
        if (end <= node_first or node_end <= first) return 0;
        const n = slots.nodes[node];
        if (n.longest_pages == node_pages) return @min(end, node_end) - @max(first, node_first);
        if (n.longest_pages == 0) return 0;
        slots.push(node, node_pages);
        const half = node_pages / 2;
        return slots.count_free(2 * node, node_first, half, first, end) +
            slots.count_free(2 * node + 1, node_first + half, half, first, end);
    }

    fn apply(slots: *Slots, node: u32, node_pages: u32, fill: Fill) void {
        const free_pages: u32 = if (fill == .free) node_pages else 0;
        slots.nodes[node] = .{
            .longest_pages = free_pages,
            .prefix_pages = free_pages,
            .suffix_pages = free_pages,
            .pending = if (node_pages > 1) fill else .none,
        };
    }

    fn push(slots: *Slots, node: u32, node_pages: u32) void {
        assert(node_pages > 1);
        const fill = slots.nodes[node].pending;
        if (fill == .none) return;
        slots.apply(2 * node, node_pages / 2, fill);
        slots.apply(2 * node + 1, node_pages / 2, fill);
        slots.nodes[node].pending = .none;
    }

    fn pull(slots: *Slots, node: u32, node_pages: u32) void {
        const half = node_pages / 2;
        const left = slots.nodes[2 * node];
        const right = slots.nodes[2 * node + 1];
        slots.nodes[node] = .{
            .longest_pages = @max(@max(left.longest_pages, right.longest_pages), left.suffix_pages + right.prefix_pages),
            .prefix_pages = if (left.prefix_pages == half) half + right.prefix_pages else left.prefix_pages,
            .suffix_pages = if (right.suffix_pages == half) half + left.suffix_pages else right.suffix_pages,
            .pending = .none,
        };
        assert(slots.nodes[node].longest_pages <= node_pages);
    }
};

test "first fit, coalescing in every direction" {
    var slots = try Slots.init(std.testing.allocator, page_bytes, 11 * page_bytes);
    defer slots.deinit(std.testing.allocator);

    const a = slots.acquire(page_bytes).?;
    const b = slots.acquire(2 * page_bytes).?;
    const c = slots.acquire(page_bytes).?;
    try std.testing.expectEqual(page_bytes, a);
    try std.testing.expectEqual(2 * page_bytes, b);
    try std.testing.expectEqual(4 * page_bytes, c);
    try std.testing.expectEqual(@as(?u64, null), slots.acquire(7 * page_bytes));

    slots.release(b, 2 * page_bytes); // a hole between a and c
    try std.testing.expectEqual(b, slots.acquire(page_bytes).?); // first fit takes the hole
    slots.release(b, page_bytes);
    slots.release(a, page_bytes); // merges with the next free run
    slots.release(c, page_bytes); // merges both sides: everything is free again
    try std.testing.expectEqual(10 * page_bytes, slots.free_bytes());
    try std.testing.expectEqual(10 * page_bytes, slots.largest_free_bytes());
    try std.testing.expect(slots.acquire_at(5 * page_bytes, 2 * page_bytes));
    try std.testing.expect(!slots.acquire_at(6 * page_bytes, page_bytes));
    try std.testing.expect(!slots.is_free(0, page_bytes)); // below the slot area
    try std.testing.expect(!slots.is_free(10 * page_bytes, 2 * page_bytes)); // past its end
    try std.testing.expectEqual(page_bytes, slots.acquire(4 * page_bytes).?);
    try std.testing.expectEqual(7 * page_bytes, slots.acquire(4 * page_bytes).?);
}

test "matches a page-by-page first-fit model under random operations" {
    const pages_count = 300; // not a power of two: exercises the padding leaves
    var slots = try Slots.init(std.testing.allocator, 0x210000, 0x210000 + pages_count * page_bytes);
    defer slots.deinit(std.testing.allocator);
    var model = [_]bool{false} ** pages_count; // true = used
    var taken = std.ArrayList([2]u32){};
    defer taken.deinit(std.testing.allocator);
    var prng = std.Random.DefaultPrng.init(0x5107);
    const random = prng.random();

    for (0..20_000) |_| {
        const choice = random.uintLessThan(u32, 10);
        if (choice < 5 or taken.items.len == 0) {
            const pages = 1 + random.uintLessThan(u32, if (random.boolean()) 4 else 40);
            const expected = model_first_fit(&model, pages);
            const got = slots.acquire(pages * page_bytes);
            if (expected) |first| {
                try std.testing.expectEqual(0x210000 + @as(u64, first) * page_bytes, got.?);
                @memset(model[first..][0..pages], true);
                try taken.append(std.testing.allocator, .{ first, pages });
            } else try std.testing.expectEqual(@as(?u64, null), got);
        } else if (choice < 6) {
            const first = random.uintLessThan(u32, pages_count);
            const pages = 1 + random.uintLessThan(u32, 8);
            const free = first + pages <= pages_count and std.mem.indexOfScalar(bool, model[first..][0..pages], true) == null;
            try std.testing.expectEqual(free, slots.acquire_at(0x210000 + @as(u64, first) * page_bytes, pages * page_bytes));
            if (free) {
                @memset(model[first..][0..pages], true);
                try taken.append(std.testing.allocator, .{ first, pages });
            }
        } else {
            const range = taken.swapRemove(random.uintLessThan(usize, taken.items.len));
            slots.release(0x210000 + @as(u64, range[0]) * page_bytes, range[1] * page_bytes);
            @memset(model[range[0]..][0..range[1]], false);
        }
        var free_pages: u32 = 0;
        var longest: u32 = 0;
        var run: u32 = 0;
        for (model) |used| {
            run = if (used) 0 else run + 1;
            longest = @max(longest, run);
            free_pages += @intFromBool(!used);
        }
        try std.testing.expectEqual(free_pages, slots.free_pages);
        try std.testing.expectEqual(longest, slots.nodes[1].longest_pages);
    }
}

fn model_first_fit(model: []const bool, pages: u32) ?u32 {
    var run: u32 = 0;
    for (model, 0..) |used, index| {
        run = if (used) 0 else run + 1;
        if (run == pages) return @intCast(index + 1 - pages);
    }
    return null;
}

test "acquire_aligned puts the start at the phase, inside a free run, or gives up" {
    const allocator = std.testing.allocator;
    const base = 0x210000; // like the real slot area: 2 MiB + 64 KiB
    var slots = try Slots.init(allocator, base, base + 64 * page_bytes);
    defer slots.deinit(allocator);
    const align_bytes = 8 * page_bytes;
    const small = slots.acquire(page_bytes).?; // the first page: runs now start unaligned
    try std.testing.expectEqual(@as(u64, base), small);
    const a = slots.acquire_aligned(4 * page_bytes, align_bytes, 0, align_bytes).?;
    try std.testing.expectEqual(@as(u64, 0), a % align_bytes);
    const b = slots.acquire_aligned(3 * page_bytes, align_bytes, 2 * page_bytes, align_bytes).?;
    try std.testing.expectEqual(@as(u64, 2 * page_bytes), b % align_bytes);
    try std.testing.expect(b >= a + 4 * page_bytes);
    // The pages skipped for alignment stay free for later (first fit finds them).
    try std.testing.expectEqual(@as(u64, base + page_bytes), slots.acquire(page_bytes).?);
    // No run long enough for an aligned start: null, and nothing taken.
    const free_before = slots.free_bytes();
    try std.testing.expectEqual(@as(?u64, null), slots.acquire_aligned(slots.largest_free_bytes() - page_bytes, align_bytes, 0, align_bytes));
    try std.testing.expectEqual(free_before, slots.free_bytes());
    // Too much to skip: null, and nothing taken.
    try std.testing.expectEqual(@as(?u64, null), slots.acquire_aligned(2 * page_bytes, align_bytes, 7 * page_bytes, 0));
    try std.testing.expectEqual(free_before, slots.free_bytes());
}
