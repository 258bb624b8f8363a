//! A Zig guest over mapped files: CRC-32, newline counts (the SDK's SIMD count and a plain loop),
//! lookups by name, typed views, and writes through read-write regions. tests/guest-languages.test.ts
//! runs it (and the same guest in C and Rust) against independent oracles. Build: docs/guest-zig.md.
const vmw = @import("vmwindow");

var crc_table: [256]u32 = undefined;
var crc_ready = false;

fn crc_init() void {
    for (&crc_table, 0..) |*slot, n| {
        var c: u32 = @intCast(n);
        for (0..8) |_| c = if (c & 1 != 0) 0xEDB88320 ^ (c >> 1) else c >> 1;
        slot.* = c;
    }
    crc_ready = true;
}

/// CRC-32 (IEEE, as zlib) of region `id`.
export fn crc32(id: u32) u32 {
    if (!crc_ready) crc_init();
    var c: u32 = 0xFFFFFFFF;
    for (vmw.region(id).bytes) |byte| c = crc_table[(c ^ byte) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFF;
}

/// Newlines in region `id`, with the SDK's scanning primitive.
export fn newlines(id: u32) u32 {
    return @intCast(vmw.count_byte(vmw.region(id).bytes, '\n'));
}

/// Newlines in region `id`, the plain loop a Zig programmer writes.
export fn newlines_plain(id: u32) u32 {
    var count: u32 = 0;
    for (vmw.region(id).bytes) |byte| count += @intFromBool(byte == '\n');
    return count;
}

/// Index of the first `byte` in region `id`, or -1.
export fn index_of(id: u32, byte: u32) i32 {
    const index = vmw.index_of_byte(vmw.region(id).bytes, @truncate(byte)) orelse return -1;
    return @intCast(index);
}

/// The id of the region named "input", or 0.
export fn find_input() u32 {
    return if (vmw.find("input")) |r| r.id else 0;
}

/// Sum of region `id` read as little-endian u32s (a typed view).
export fn sum_u32(id: u32) u64 {
    var sum: u64 = 0;
    for (vmw.region(id).as(u32)) |x| sum += x;
    return sum;
}

/// Sets every byte of region `id` to `value` through the SDK's writable view: the byte count, or
/// -1 when the region is read-only (nothing is written).
export fn fill(id: u32, value: u32) i32 {
    const bytes = vmw.region(id).bytes_mut() orelse return -1;
    for (bytes) |*b| b.* = @truncate(value);
    return @intCast(bytes.len);
}

/// A raw store at byte `index` of region `id`, whatever its access: traps on a read-only region.
export fn store(id: u32, index: u32, value: u32) void {
    const ptr: *volatile u8 = @ptrFromInt(@intFromPtr(vmw.region(id).bytes.ptr) + index);
    ptr.* = @truncate(value);
}

/// The byte at window address `address`: traps on a hole (null page, free slot, guard).
export fn load_at(address: u32) u32 {
    const ptr: *const volatile u8 = @ptrFromInt(address);
    return ptr.*;
}

/// Recursion with 1 KiB frames, returning `n`: 256 KiB of stack holds about 250 levels. Deeper,
/// the stack runs down through static data into the read-only table and traps.
export fn depth(n: u32) u32 {
    var frame: [1024]u8 = undefined;
    const slot: *volatile u8 = &frame[n % 1024];
    slot.* = @truncate(n);
    if (n == 0) return 0;
    return depth(n - 1) + 1 + (slot.* -% @as(u8, @truncate(n)));
}

/// Live regions, counted by walking the table with `vmw.next`.
export fn live_count() u32 {
    var count: u32 = 0;
    var id = vmw.next(0);
    while (id != 0) : (id = vmw.next(id)) count += 1;
    return count;
}

var remembered: ?vmw.Region = null;

/// The generation of region `id` as a view saw it when it was looked up (0 if not mapped).
export fn remember(id: u32) u32 {
    remembered = vmw.get(id);
    return if (remembered) |r| r.generation else 0;
}

/// Whether the region remembered last still has the generation it had (1) or not (0).
export fn remembered_current() u32 {
    const r = remembered orelse return 0;
    return @intFromBool(r.current());
}
