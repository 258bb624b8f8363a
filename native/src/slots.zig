//! Free-space bookkeeping for the slot area: a sorted array of free extents, first-fit, coalescing
//! on free. Capacity is fixed at init (one extent more than the table has entries, which bounds the
//! number of holes), so map and unmap never allocate.
//!
//! Cost: O(number of free extents) per operation. The region-table issue replaces this with an
//! O(log n) structure; the interface stays.

const std = @import("std");
const assert = std.debug.assert;
const page_bytes = @import("layout.zig").page_bytes;

pub const Extent = struct {
    offset_bytes: u64,
    size_bytes: u64,

    fn end(extent: Extent) u64 {
        return extent.offset_bytes + extent.size_bytes;
    }
};

pub const Slots = struct {
    free: []Extent,
    free_count: u32,
    base_bytes: u64,
    limit_bytes: u64,

    pub fn init(allocator: std.mem.Allocator, base_bytes: u64, limit_bytes: u64, capacity: u32) !Slots {
        assert(base_bytes % page_bytes == 0);
        assert(limit_bytes % page_bytes == 0);
        assert(base_bytes < limit_bytes);
        assert(capacity > 0);
        const free = try allocator.alloc(Extent, @as(usize, capacity) + 1);
        free[0] = .{ .offset_bytes = base_bytes, .size_bytes = limit_bytes - base_bytes };
        return .{ .free = free, .free_count = 1, .base_bytes = base_bytes, .limit_bytes = limit_bytes };
    }

    pub fn deinit(slots: *Slots, allocator: std.mem.Allocator) void {
        allocator.free(slots.free);
        slots.* = undefined;
    }

    /// Takes the first free extent that fits `size_bytes`; null when none does.
    pub fn acquire(slots: *Slots, size_bytes: u64) ?u64 {
        assert(size_bytes > 0);
        assert(size_bytes % page_bytes == 0);
        for (slots.free[0..slots.free_count], 0..) |*extent, index| {
            if (extent.size_bytes < size_bytes) continue;
            const offset_bytes = extent.offset_bytes;
            extent.offset_bytes += size_bytes;
            extent.size_bytes -= size_bytes;
            if (extent.size_bytes == 0) slots.remove(index);
            slots.verify();
            return offset_bytes;
        }
        return null;
    }

    /// Returns `[offset_bytes, offset_bytes + size_bytes)`, merging with free neighbours.
    pub fn release(slots: *Slots, offset_bytes: u64, size_bytes: u64) void {
        assert(offset_bytes >= slots.base_bytes);
        assert(offset_bytes + size_bytes <= slots.limit_bytes);
        assert(size_bytes % page_bytes == 0);
        const freed = Extent{ .offset_bytes = offset_bytes, .size_bytes = size_bytes };

        // Index of the first free extent after the freed one.
        var index: usize = 0;
        while (index < slots.free_count and slots.free[index].offset_bytes < offset_bytes) index += 1;

        const merges_previous = index > 0 and slots.free[index - 1].end() == offset_bytes;
        const merges_next = index < slots.free_count and freed.end() == slots.free[index].offset_bytes;
        if (merges_previous and merges_next) {
            slots.free[index - 1].size_bytes += size_bytes + slots.free[index].size_bytes;
            slots.remove(index);
        } else if (merges_previous) {
            slots.free[index - 1].size_bytes += size_bytes;
        } else if (merges_next) {
            slots.free[index].offset_bytes = offset_bytes;
            slots.free[index].size_bytes += size_bytes;
        } else {
            assert(slots.free_count < slots.free.len);
            std.mem.copyBackwards(Extent, slots.free[index + 1 .. slots.free_count + 1], slots.free[index..slots.free_count]);
            slots.free[index] = freed;
            slots.free_count += 1;
        }
        slots.verify();
    }

    pub fn free_bytes(slots: *const Slots) u64 {
        var total: u64 = 0;
        for (slots.free[0..slots.free_count]) |extent| total += extent.size_bytes;
        return total;
    }

    fn remove(slots: *Slots, index: usize) void {
        assert(index < slots.free_count);
        std.mem.copyForwards(Extent, slots.free[index .. slots.free_count - 1], slots.free[index + 1 .. slots.free_count]);
        slots.free_count -= 1;
    }

    fn verify(slots: *const Slots) void {
        if (!std.debug.runtime_safety) return;
        var previous_end: u64 = 0;
        for (slots.free[0..slots.free_count]) |extent| {
            assert(extent.size_bytes > 0);
            assert(extent.offset_bytes >= slots.base_bytes);
            assert(extent.end() <= slots.limit_bytes);
            // Sorted, non-overlapping and never adjacent (adjacent extents are merged).
            assert(previous_end == 0 or extent.offset_bytes > previous_end);
            previous_end = extent.end();
        }
    }
};

test "first fit, coalescing in every direction" {
    var slots = try Slots.init(std.testing.allocator, page_bytes, 11 * page_bytes, 8);
    defer slots.deinit(std.testing.allocator);

    const a = slots.acquire(page_bytes).?;
    const b = slots.acquire(2 * page_bytes).?;
    const c = slots.acquire(page_bytes).?;
    try std.testing.expectEqual(page_bytes, a);
    try std.testing.expectEqual(2 * page_bytes, b);
    try std.testing.expectEqual(4 * page_bytes, c);
    try std.testing.expectEqual(@as(?u64, null), slots.acquire(7 * page_bytes));

    slots.release(b, 2 * page_bytes); // a hole between a and c
    try std.testing.expectEqual(@as(u32, 2), slots.free_count);
    try std.testing.expectEqual(b, slots.acquire(page_bytes).?); // first fit takes the hole
    slots.release(b, page_bytes);
    slots.release(a, page_bytes); // merges with the next extent
    slots.release(c, page_bytes); // merges both sides: everything is free again
    try std.testing.expectEqual(@as(u32, 1), slots.free_count);
    try std.testing.expectEqual(10 * page_bytes, slots.free_bytes());
    try std.testing.expectEqual(page_bytes, slots.acquire(10 * page_bytes).?);
}
