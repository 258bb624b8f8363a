//! Tests of the window's region lifecycle through `Window` directly: file ranges, anonymous
//! regions, placement, remap, resize, flush and every bad input's distinct error. The oracles are
//! the files' bytes (written by the test), the raw table bytes, and /proc/self/maps.

const std = @import("std");
const testing = std.testing;

const errors = @import("errors.zig");
const layout = @import("layout.zig");
const window_module = @import("window.zig");
const Window = window_module.Window;
const to_end = window_module.length_to_end;

const page = layout.page_bytes;

/// File offsets must be multiples of the OS page: 4 KiB on x86-64 and most arm64 Linux, 16 KiB on
/// macOS arm64 (and under tools/test-arm64.sh's QEMU_PAGESIZE=16384 run). Tests use multiples of it.
fn os_page() u64 {
    return std.heap.pageSize();
}

/// True under qemu-user told to report pages larger than the host's 4 KiB (QEMU_PAGESIZE=16384 in
/// tools/test-arm64.sh). qemu then emulates a file mapping whose last page runs past the end of
/// the file, which the host's 4 KiB pages cannot express, by reading the file into the page: a
/// shared writable one fails (ENOENT) and one placed over PROT_NONE fails (EFAULT). A real 16 KiB
/// kernel maps both. The tests that need such a mapping say so and skip in that run only.
pub fn qemu_large_pages() bool {
    return std.posix.getenv("QEMU_PAGESIZE") != null and os_page() > 4096;
}

pub fn skip_under_qemu_large_pages(comptime what: []const u8) error{SkipZigTest}!void {
    if (!qemu_large_pages()) return;
    std.debug.print("skipped under QEMU_PAGESIZE={d}: " ++ what ++ ": qemu-user cannot map a file whose last emulated page passes its end over PROT_NONE or shared writable (a 16 KiB-page kernel can; the 4 KiB runs cover it)\n", .{os_page()});
    return error.SkipZigTest;
}

const Fixture = struct {
    dir: testing.TmpDir,
    window: *Window,
    path_buffers: [4][std.fs.max_path_bytes]u8 = undefined,

    fn init(fixture: *Fixture) !void {
        fixture.dir = testing.tmpDir(.{});
        fixture.window = try Window.create(testing.allocator, 64 << 20, 1 << 20, 64);
    }

    fn deinit(fixture: *Fixture) void {
        fixture.window.verify_deep();
        fixture.window.destroy();
        fixture.dir.cleanup();
    }

    /// Writes a file whose byte i is `pattern(i, seed)` and returns its absolute path.
    fn file(fixture: *Fixture, index: usize, size_bytes: usize, seed: u8) ![:0]const u8 {
        var name_buffer: [16]u8 = undefined;
        const name = try std.fmt.bufPrint(&name_buffer, "f{d}.bin", .{index});
        const handle = try fixture.dir.dir.createFile(name, .{ .truncate = true });
        defer handle.close();
        var chunk: [4096]u8 = undefined;
        var written: usize = 0;
        while (written < size_bytes) {
            const n = @min(chunk.len, size_bytes - written);
            for (chunk[0..n], 0..) |*byte, i| byte.* = pattern(written + i, seed);
            try handle.writeAll(chunk[0..n]);
            written += n;
        }
        const path = try fixture.dir.dir.realpath(name, fixture.path_buffers[index][0 .. std.fs.max_path_bytes - 1]);
        fixture.path_buffers[index][path.len] = 0;
        return fixture.path_buffers[index][0..path.len :0];
    }

    fn bytes(fixture: *Fixture, info: window_module.RegionInfo) []const u8 {
        return fixture.window.base()[info.offset_bytes..][0..info.length_bytes];
    }
};

fn pattern(index: usize, seed: u8) u8 {
    return @truncate((index *% 131) ^ (index >> 9) ^ seed);
}

fn expect_pattern(bytes: []const u8, first_index: usize, seed: u8) !void {
    for (bytes, first_index..) |byte, index| {
        if (byte != pattern(index, seed)) {
            std.debug.print("byte {d}: {d} != {d}\n", .{ index, byte, pattern(index, seed) });
            return error.TestUnexpectedResult;
        }
    }
}

test "a byte range of a file, placed at a chosen offset" {
    var f: Fixture = undefined;
    try f.init();
    defer f.deinit();
    const path = try f.file(0, 300_000, 1);
    const at = f.window.layout.slots_base + 10 * page;
    const info = try f.window.map_file(path, 2 * os_page(), 100_000, .read, "part", .{ .at = at });
    try testing.expectEqual(at, info.offset_bytes);
    try testing.expectEqual(@as(u64, 100_000), info.length_bytes);
    try testing.expectEqual(2 * os_page(), info.file_offset_bytes);
    try expect_pattern(f.bytes(info), 2 * os_page(), 1);
    // To the end of the file, from its last OS page (299,008 with 4 KiB pages).
    const last_page = std.mem.alignBackward(u64, 300_000 - 1, os_page());
    const tail = try f.window.map_file(path, last_page, to_end, .read, "", .anywhere);
    try testing.expectEqual(300_000 - last_page, tail.length_bytes);
    try expect_pattern(f.bytes(tail), last_page, 1);
    // First fit takes the lowest free slot (the range at `at` is above it).
    try testing.expectEqual(f.window.layout.slots_base, tail.offset_bytes);
}

test "anonymous regions are zeroed scratch memory that keeps its contents when resized or moved" {
    var f: Fixture = undefined;
    try f.init();
    defer f.deinit();
    const info = try f.window.map_anonymous(100, "scratch", .anywhere);
    try testing.expectEqual(@as(u32, @intFromEnum(window_module.Kind.anonymous)), info.kind);
    const memory = f.window.base() + info.offset_bytes;
    for (memory[0..4096]) |byte| try testing.expectEqual(@as(u8, 0), byte);
    memory[0] = 42;
    memory[99] = 43;
    // A neighbour right after it forces the next growth to move the region.
    const neighbour = try f.window.map_anonymous(1, "", .{ .at = info.offset_bytes + page });
    const grown = try f.window.resize(info.id, info.generation, 3 * page);
    try testing.expect(grown.offset_bytes != info.offset_bytes);
    try testing.expect(grown.generation != info.generation);
    const moved = f.window.base() + grown.offset_bytes;
    try testing.expectEqual(@as(u8, 42), moved[0]);
    try testing.expectEqual(@as(u8, 43), moved[99]);
    try testing.expectEqual(@as(u8, 0), moved[3 * page - 1]);
    // Shrink in place, then grow back in place: the dropped tail comes back as zeros.
    moved[2 * page] = 7;
    const shrunk = try f.window.resize(grown.id, grown.generation, 100);
    try testing.expectEqual(grown.offset_bytes, shrunk.offset_bytes);
    const regrown = try f.window.resize(shrunk.id, shrunk.generation, 3 * page);
    try testing.expectEqual(grown.offset_bytes, regrown.offset_bytes);
    try testing.expectEqual(@as(u8, 0), moved[2 * page]);
    try testing.expectEqual(@as(u8, 43), moved[99]);
    try f.window.unmap(neighbour.id, neighbour.generation);
}

test "remap points a region at another file in place, or moves it when it does not fit" {
    try skip_under_qemu_large_pages("a remap to a file's partial last page, in place");
    var f: Fixture = undefined;
    try f.init();
    defer f.deinit();
    const small = try f.file(0, os_page() + 904, 2); // 5000 bytes with 4 KiB pages
    const large = try f.file(1, 3 * page + 1, 3);
    const info = try f.window.map_file(small, 0, to_end, .read, "r", .anywhere);
    const blocker = try f.window.map_anonymous(1, "", .{ .at = info.offset_bytes + page });

    const same_slot = try f.window.remap_file(info.id, info.generation, small, os_page(), to_end, .read);
    try testing.expectEqual(info.offset_bytes, same_slot.offset_bytes);
    try testing.expectEqual(@as(u64, 904), same_slot.length_bytes);
    try expect_pattern(f.bytes(same_slot), os_page(), 2);

    const moved = try f.window.remap_file(same_slot.id, same_slot.generation, large, 0, to_end, .read);
    try testing.expect(moved.offset_bytes != info.offset_bytes);
    try testing.expectEqual(info.id, moved.id);
    try expect_pattern(f.bytes(moved), 0, 3);
    // The old slot is free again.
    const reuse = try f.window.map_anonymous(page, "", .{ .at = info.offset_bytes });
    try testing.expectEqual(info.offset_bytes, reuse.offset_bytes);
    // The old handle is stale everywhere.
    try testing.expectError(error.Stale, f.window.unmap(info.id, info.generation));
    try testing.expectError(error.Stale, f.window.resize(info.id, same_slot.generation, 10));
    try f.window.unmap(blocker.id, blocker.generation);
}

test "resize of a file region stays within its file and grows in place when it can" {
    var f: Fixture = undefined;
    try f.init();
    defer f.deinit();
    const path = try f.file(0, 4 * page, 4);
    const info = try f.window.map_file(path, 0, 1000, .read, "", .anywhere);
    const grown = try f.window.resize(info.id, info.generation, 2 * page + 5);
    try testing.expectEqual(info.offset_bytes, grown.offset_bytes);
    try expect_pattern(f.bytes(grown), 0, 4);
    try testing.expectError(error.OutOfRange, f.window.resize(grown.id, grown.generation, 4 * page + 1));
    try testing.expectError(error.InvalidArgument, f.window.resize(grown.id, grown.generation, 0));
}

test "flush makes writes durable and is a no-op for read-only regions" {
    try skip_under_qemu_large_pages("a read-write 10,000-byte file");
    var f: Fixture = undefined;
    try f.init();
    defer f.deinit();
    const path = try f.file(0, 10_000, 5);
    const info = try f.window.map_file(path, 0, to_end, .read_write, "", .anywhere);
    f.window.base()[info.offset_bytes + 3] = 0xAB;
    try f.window.flush(info.id, info.generation);
    var buffer: [10_000]u8 = undefined;
    const on_disk = try f.dir.dir.readFile("f0.bin", &buffer);
    try testing.expectEqual(@as(u8, 0xAB), on_disk[3]);
    const read_only = try f.window.map_file(path, 0, to_end, .read, "", .anywhere);
    try f.window.flush(read_only.id, read_only.generation);
}

test "every bad input has its own error and leaves the window unchanged" {
    var f: Fixture = undefined;
    try f.init();
    defer f.deinit();
    const path = try f.file(0, 10_000, 6);
    const w = f.window;
    const slots_base = w.layout.slots_base;
    try testing.expectError(error.Unaligned, w.map_file(path, 100, to_end, .read, "", .anywhere));
    // The first OS page boundary past the end of the 10,000-byte file (12,288 with 4 KiB pages).
    try testing.expectError(error.OutOfRange, w.map_file(path, std.mem.alignForward(u64, 10_001, os_page()), to_end, .read, "", .anywhere));
    try testing.expectError(error.OutOfRange, w.map_file(path, 0, 10_001, .read, "", .anywhere));
    try testing.expectError(error.InvalidArgument, w.map_file(path, 0, 0, .read, "", .anywhere));
    try testing.expectError(error.InvalidArgument, w.map_anonymous(0, "", .anywhere));
    try testing.expectError(error.InvalidArgument, w.map_file(path, 0, to_end, .read, "a name that is far too long", .anywhere));
    try testing.expectError(error.Unaligned, w.map_file(path, 0, to_end, .read, "", .{ .at = slots_base + 4096 }));
    try testing.expectError(error.Overlap, w.map_file(path, 0, to_end, .read, "", .{ .at = layout.guest_base }));
    try testing.expectError(error.OutOfRange, w.map_file(path, 0, to_end, .read, "", .{ .at = w.layout.window_bytes }));
    const taken = try w.map_file(path, 0, to_end, .read, "", .{ .at = slots_base });
    try testing.expectError(error.Overlap, w.map_file(path, 0, to_end, .read, "", .{ .at = slots_base }));
    try testing.expectError(error.NotFound, w.unmap(0, 0));
    try testing.expectError(error.NotFound, w.unmap(65, 0));
    try testing.expectError(error.Stale, w.unmap(taken.id, taken.generation + 1));
    try w.unmap(taken.id, taken.generation);
    try testing.expectError(error.NotMapped, w.unmap(taken.id, taken.generation));
    try testing.expectError(error.NotMapped, w.flush(taken.id, taken.generation));
    try testing.expectEqual(@as(u32, 0), w.table.header.count);
    try testing.expectEqual(w.layout.slots_bytes(), w.slots.free_bytes());
}

test "window full, fragmented, and table full are told apart" {
    var f: Fixture = undefined;
    try f.init();
    defer f.deinit();
    const w = f.window;
    const slot_pages = w.layout.slots_bytes() / page;
    // Fill every other page, then free the rest: half is free but no two pages in a row.
    var infos: [1024]window_module.RegionInfo = undefined;
    var count: usize = 0;
    var page_index: u64 = 0;
    while (page_index < slot_pages and count < 64) : (page_index += 2) {
        infos[count] = try w.map_anonymous(1, "", .{ .at = w.layout.slots_base + page_index * page });
        count += 1;
    }
    try testing.expectError(error.WindowFull, w.map_anonymous(1, "", .anywhere)); // 64 ids used
    for (infos[0..count]) |info| if (info.id % 2 == 0) try w.unmap(info.id, info.generation);
    const free_bytes = w.slots.free_bytes();
    try testing.expect(free_bytes >= 2 * page);
    try testing.expectError(error.Fragmented, w.map_anonymous(w.slots.largest_free_bytes() + 1, "", .anywhere));
    try testing.expectError(error.WindowFull, w.map_anonymous(free_bytes + page, "", .anywhere));
    try testing.expectError(error.WindowFull, w.map_anonymous(w.layout.window_bytes, "", .anywhere));
}

test "16,384 regions map and unmap; the mapping count comes back to where it started" {
    const window = try Window.create(testing.allocator, 2 << 30, 1 << 20, 16_384);
    defer window.destroy();
    const maps_before = try count_maps(window);
    const infos = try testing.allocator.alloc(window_module.RegionInfo, 16_384);
    defer testing.allocator.free(infos);
    for (infos) |*info| info.* = try window.map_anonymous(1, "", .anywhere);
    try testing.expectEqual(@as(u32, 16_384), window.table.header.count);
    try testing.expectError(error.WindowFull, window.map_anonymous(1, "", .anywhere));
    for (infos) |info| try window.unmap(info.id, info.generation);
    try testing.expectEqual(@as(u32, 0), window.table.header.count);
    try testing.expectEqual(maps_before, try count_maps(window));
}

/// The mappings inside `window`'s reservation: the process's other mappings come and go with
/// other threads (a malloc arena, a thread stack) and say nothing about the window.
fn count_maps(window: *const Window) !usize {
    var buffer: [1 << 20]u8 = undefined;
    const file = try std.fs.openFileAbsolute("/proc/self/maps", .{});
    defer file.close();
    const len = try file.readAll(&buffer);
    const start = @intFromPtr(window.base());
    const end = start + layout.reservation_bytes;
    var count: usize = 0;
    var lines = std.mem.tokenizeScalar(u8, buffer[0..len], '\n');
    while (lines.next()) |line| {
        const dash = std.mem.indexOfScalar(u8, line, '-') orelse continue;
        const first = try std.fmt.parseInt(usize, line[0..dash], 16);
        if (first >= start and first < end) count += 1;
    }
    return count;
}

test "hostile u64 lengths and offsets are errors, not overflows" {
    var f: Fixture = undefined;
    try f.init();
    defer f.deinit();
    const path = try f.file(0, 10_000, 7);
    const max = std.math.maxInt(u64);
    try testing.expectError(error.WindowFull, f.window.map_anonymous(max - 1, "", .anywhere));
    try testing.expectError(error.Unaligned, f.window.map_anonymous(1, "", .{ .at = max - 5 }));
    try testing.expectError(error.OutOfRange, f.window.map_anonymous(1, "", .{ .at = 0xFFFF_FFFF_FFFF_0000 }));
    try testing.expectError(error.OutOfRange, f.window.map_file(path, os_page(), max - 16, .read, "", .anywhere));
    const region = try f.window.map_anonymous(100, "", .anywhere);
    try testing.expectError(error.WindowFull, f.window.resize(region.id, region.generation, max - 16));
    try testing.expectEqual(@as(u32, 1), f.window.table.header.count);
}

test "an anonymous region shrunk and grown again reads zeros where it was cut" {
    var f: Fixture = undefined;
    try f.init();
    defer f.deinit();
    const region = try f.window.map_anonymous(8192, "", .anywhere);
    @memset(f.window.base()[region.offset_bytes..][0..8192], 0xFF);
    const shrunk = try f.window.resize(region.id, region.generation, 100);
    const grown = try f.window.resize(shrunk.id, shrunk.generation, 8000);
    const bytes = f.window.base()[grown.offset_bytes..][0..8000];
    try testing.expectEqual(@as(u8, 0xFF), bytes[99]);
    for (bytes[100..]) |byte| try testing.expectEqual(@as(u8, 0), byte);
}

test "release_pages drops a file region's pages from RSS; its bytes and writes stay" {
    var f: Fixture = undefined;
    try f.init();
    defer f.deinit();
    const size_bytes = 1 << 20;
    const path = try f.file(0, size_bytes, 8);
    const region = try f.window.map_file(path, 0, to_end, .read_write, "", .anywhere);
    const bytes = f.window.base()[region.offset_bytes..][0..size_bytes];
    try expect_pattern(bytes, 0, 8); // Faults every page in.
    bytes[5000] = 0x5A; // A dirty page: release must not lose it.
    try testing.expect(try resident_kib(@intFromPtr(bytes.ptr)) >= size_bytes / 1024);

    // The second half, with a length that ends inside a page (rounded up).
    try f.window.release_pages(region.id, region.generation, size_bytes / 2, size_bytes / 2 - 100);
    const half_kib = try resident_kib(@intFromPtr(bytes.ptr));
    try testing.expect(half_kib >= size_bytes / 2 / 1024 and half_kib < size_bytes / 2 / 1024 + 64);
    try f.window.release_pages(region.id, region.generation, 0, size_bytes);
    try testing.expect(try resident_kib(@intFromPtr(bytes.ptr)) < 64);

    // Same bytes from the page cache; the write is there and reaches the file.
    try testing.expectEqual(@as(u8, 0x5A), bytes[5000]);
    bytes[5000] = pattern(5000, 8);
    try expect_pattern(bytes, 0, 8);
    bytes[5000] = 0x5A;
    const os_page_bytes = os_page();
    try f.window.release_pages(region.id, region.generation, 0, os_page_bytes);
    const on_disk = try f.dir.dir.readFileAlloc(testing.allocator, "f0.bin", size_bytes);
    defer testing.allocator.free(on_disk);
    try testing.expectEqual(@as(u8, 0x5A), on_disk[5000]);

    const w = f.window;
    try testing.expectError(error.Unaligned, w.release_pages(region.id, region.generation, 100, os_page_bytes));
    try testing.expectError(error.OutOfRange, w.release_pages(region.id, region.generation, size_bytes, 1));
    try testing.expectError(error.OutOfRange, w.release_pages(region.id, region.generation, os_page_bytes, size_bytes));
    try testing.expectError(error.OutOfRange, w.release_pages(region.id, region.generation, os_page_bytes, std.math.maxInt(u64)));
    try testing.expectError(error.InvalidArgument, w.release_pages(region.id, region.generation, 0, 0));
    try testing.expectError(error.Stale, w.release_pages(region.id, region.generation + 1, 0, os_page_bytes));
    const scratch = try w.map_anonymous(8192, "", .anywhere);
    try testing.expectError(error.InvalidArgument, w.release_pages(scratch.id, scratch.generation, 0, os_page_bytes));
    try w.unmap(region.id, region.generation);
    try testing.expectError(error.NotMapped, w.release_pages(region.id, region.generation, 0, os_page_bytes));
}

/// The `Rss:` of the mapping that starts at `address`, from /proc/self/smaps, in KiB.
fn resident_kib(address: usize) !u64 {
    const smaps = try std.fs.cwd().readFileAlloc(testing.allocator, "/proc/self/smaps", 64 << 20);
    defer testing.allocator.free(smaps);
    var prefix_buffer: [32]u8 = undefined;
    const prefix = try std.fmt.bufPrint(&prefix_buffer, "{x}-", .{address});
    var lines = std.mem.splitScalar(u8, smaps, '\n');
    while (lines.next()) |line| {
        if (!std.mem.startsWith(u8, line, prefix)) continue;
        while (lines.next()) |field| {
            if (!std.mem.startsWith(u8, field, "Rss:")) continue;
            const value = std.mem.trim(u8, field["Rss:".len..], " kB");
            return std.fmt.parseInt(u64, value, 10);
        }
    }
    return error.MappingNotFound;
}

test "regions of 2 MiB or more start where address and file offset agree modulo 2 MiB; small ones first fit" {
    var f: Fixture = undefined;
    try f.init();
    defer f.deinit();
    const window = try Window.create(testing.allocator, 256 << 20, 1 << 20, 64);
    defer window.destroy();
    const large = layout.large_page_bytes;
    const base = @intFromPtr(window.base());
    try testing.expectEqual(@as(u64, 0), base % large); // the reservation is 2 MiB-aligned
    const small = try window.map_anonymous(100, "", .anywhere);
    try testing.expectEqual(window.layout.slots_base, small.offset_bytes); // first fit
    const path = try f.file(0, 20 << 20, 9);
    const whole = try window.map_file(path, 0, to_end, .read, "", .anywhere);
    try testing.expectEqual(@as(u64, 0), (base + whole.offset_bytes) % large);
    const part = try window.map_file(path, 3 * page, 16 << 20, .read, "", .anywhere);
    try testing.expectEqual(@as(u64, 3 * page), (base + part.offset_bytes) % large);
    try expect_pattern(window.base()[part.offset_bytes..][0 .. 16 << 20], 3 * page, 9);
    const scratch = try window.map_anonymous(16 << 20, "", .anywhere);
    try testing.expectEqual(@as(u64, 0), (base + scratch.offset_bytes) % large);
    // The pages skipped for alignment are still there for small regions.
    const next_small = try window.map_anonymous(100, "", .anywhere);
    try testing.expectEqual(window.layout.slots_base + page, next_small.offset_bytes);
    // Moved by a resize: aligned again.
    _ = try window.map_anonymous(1, "", .{ .at = scratch.offset_bytes + scratch.slot_bytes });
    const grown = try window.resize(scratch.id, scratch.generation, 32 << 20);
    try testing.expect(grown.offset_bytes != scratch.offset_bytes);
    try testing.expectEqual(@as(u64, 0), (base + grown.offset_bytes) % large);
}

test "aligned placement never costs a window of large regions more than an eighth of its room" {
    // Regions of 2 MiB + 64 KiB: aligning each one could skip up to 2 MiB - 64 KiB, halving what
    // fits. Alignment is only taken when it skips at most an eighth of the region.
    const window = try Window.create(testing.allocator, 64 << 20, 1 << 20, 64);
    defer window.destroy();
    const region_bytes = layout.large_page_bytes + page;
    const slot_pages = window.layout.slots_bytes() / page;
    var count: u64 = 0;
    while (window.map_anonymous(region_bytes, "", .anywhere)) |_| {
        count += 1;
    } else |err| try testing.expect(err == error.WindowFull or err == error.Fragmented);
    const region_pages = region_bytes / page;
    try testing.expect(count >= slot_pages * 8 / 9 / region_pages);
    try testing.expect(count <= slot_pages / region_pages);
}

test "random map, remap, resize and unmap keep every invariant verify_deep checks" {
    var f: Fixture = undefined;
    try f.init();
    defer f.deinit();
    const sizes_bytes = [_]usize{ 1, 4095, 4097, 65_536, 70_001, 3 * page + 17 };
    var paths: [sizes_bytes.len][:0]const u8 = undefined;
    for (&paths, sizes_bytes, 0..) |*path, size_bytes, index| path.* = try f.file(index % 4, size_bytes, @intCast(index));
    // f.file reuses 4 path buffers: keep the last four distinct files only.
    const files = paths[sizes_bytes.len - 4 ..];
    const file_sizes = sizes_bytes[sizes_bytes.len - 4 ..];
    var prng = std.Random.DefaultPrng.init(20261129);
    const random = prng.random();
    var live: [64]?window_module.RegionInfo = [_]?window_module.RegionInfo{null} ** 64;
    for (0..2_000) |_| {
        const slot = random.uintLessThan(usize, live.len);
        const pick = random.uintLessThan(usize, files.len);
        const length = 1 + random.uintLessThan(u64, file_sizes[pick]);
        const access: window_module.Access = if (random.boolean()) .read else .read_write;
        if (live[slot]) |info| {
            live[slot] = switch (random.uintLessThan(u8, 3)) {
                0 => blk: {
                    try f.window.unmap(info.id, info.generation);
                    break :blk null;
                },
                1 => f.window.remap_file(info.id, info.generation, files[pick], 0, length, access) catch |err| switch (err) {
                    error.WindowFull, error.Fragmented => info,
                    else => return err,
                },
                else => f.window.resize(info.id, info.generation, 1 + random.uintLessThan(u64, 200_000)) catch |err| switch (err) {
                    error.WindowFull, error.Fragmented, error.OutOfRange => info,
                    else => return err,
                },
            };
        } else if (random.boolean()) {
            live[slot] = f.window.map_file(files[pick], 0, length, access, "", .anywhere) catch |err| switch (err) {
                error.WindowFull, error.Fragmented => null,
                else => return err,
            };
        } else {
            live[slot] = f.window.map_anonymous(1 + random.uintLessThan(u64, 300_000), "", .anywhere) catch |err| switch (err) {
                error.WindowFull, error.Fragmented => null,
                else => return err,
            };
        }
        // A remap or resize refreshes the handle; re-read it so the next step is not stale.
        if (live[slot]) |info| live[slot] = try f.window.region_info(info.id);
        f.window.verify_deep();
    }
}
