//! The WebAssembly binary format's header and LEB128 integers, read and written: the one reader
//! and encoder behind module_check.zig (data segments), bulk_memory.zig (the rewrite) and
//! engine.zig (the provider module). Part of module_cache.zig's `code_version`: the rewrite
//! decodes with it.

const std = @import("std");
const assert = std.debug.assert;

/// Every module's first 8 bytes: "\0asm" and version 1.
pub const header = [_]u8{ 0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00 };

/// A cursor over `bytes`. Every read refuses to pass the end (`error.Truncated`).
pub const Reader = struct {
    bytes: []const u8,
    position: usize = 0,

    pub fn byte(reader: *Reader) error{Truncated}!u8 {
        if (reader.position >= reader.bytes.len) return error.Truncated;
        defer reader.position += 1;
        return reader.bytes[reader.position];
    }

    /// An unsigned LEB128 that fits `T`.
    pub fn uleb(reader: *Reader, comptime T: type) error{ Truncated, Overflow }!T {
        const bits = @typeInfo(T).int.bits;
        var result: u64 = 0;
        var shift: u32 = 0;
        while (true) {
            const b = try reader.byte();
            if (shift >= bits) return error.Overflow;
            result |= @as(u64, b & 0x7f) << @intCast(shift);
            if (b & 0x80 == 0) return std.math.cast(T, result) orelse error.Overflow;
            shift += 7;
        }
    }

    /// A signed LEB128 of at most `bits` bits (as many bytes as that takes); its value is not
    /// range-checked against `bits`.
    pub fn sleb(reader: *Reader, comptime bits: u32) error{ Truncated, Overflow }!i64 {
        var result: i64 = 0;
        var shift: u32 = 0;
        while (true) {
            const b = try reader.byte();
            if (shift >= bits) return error.Overflow;
            if (shift < 64) result |= @as(i64, b & 0x7f) << @intCast(shift);
            shift += 7;
            if (b & 0x80 == 0) {
                if (shift < 64 and b & 0x40 != 0) result |= @as(i64, -1) << @intCast(shift);
                return result;
            }
        }
    }

    pub fn skip(reader: *Reader, count: u64) error{Truncated}!void {
        if (count > reader.bytes.len - reader.position) return error.Truncated;
        reader.position += @intCast(count);
    }
};

/// 7 bits per byte: a u64 takes at most 10.
pub const uleb_max_bytes = 10;

/// Writes `value` as unsigned LEB128 into `out`; returns how many bytes.
pub fn encode_uleb(out: *[uleb_max_bytes]u8, value: u64) usize {
    var remaining = value;
    var len: usize = 0;
    while (true) : (len += 1) {
        const b: u8 = @intCast(remaining & 0x7f);
        remaining >>= 7;
        if (remaining == 0) {
            out[len] = b;
            assert(len < uleb_max_bytes);
            return len + 1;
        }
        out[len] = b | 0x80;
    }
}

/// Appends `value` as unsigned LEB128 to `out`.
pub fn append_uleb(allocator: std.mem.Allocator, out: *std.ArrayListUnmanaged(u8), value: u64) error{OutOfMemory}!void {
    var buffer: [uleb_max_bytes]u8 = undefined;
    const len = encode_uleb(&buffer, value);
    try out.appendSlice(allocator, buffer[0..len]);
}

test "LEB128 round trips and refusals" {
    var buffer: [uleb_max_bytes]u8 = undefined;
    for ([_]u64{ 0, 1, 127, 128, 65_536, std.math.maxInt(u32), std.math.maxInt(u64) }) |value| {
        const len = encode_uleb(&buffer, value);
        var reader = Reader{ .bytes = buffer[0..len] };
        try std.testing.expectEqual(value, try reader.uleb(u64));
        try std.testing.expectEqual(len, reader.position);
    }
    // 65,536 pages: 3 bytes.
    try std.testing.expectEqual(@as(usize, 3), encode_uleb(&buffer, 65_536));
    var too_big = Reader{ .bytes = &.{ 0x80, 0x80, 0x80, 0x80, 0x10 } };
    try std.testing.expectError(error.Overflow, too_big.uleb(u32));
    var cut = Reader{ .bytes = &.{0x80} };
    try std.testing.expectError(error.Truncated, cut.uleb(u32));
    // i32.const -1 and 0x210000.
    var minus_one = Reader{ .bytes = &.{0x7f} };
    try std.testing.expectEqual(@as(i64, -1), try minus_one.sleb(32));
    var guest_base = Reader{ .bytes = &.{ 0x80, 0x80, 0x84, 0x01 } };
    try std.testing.expectEqual(@as(i64, 0x210000), try guest_base.sleb(32));
    var six_bytes = Reader{ .bytes = &.{ 0x80, 0x80, 0x80, 0x80, 0x80, 0x00 } };
    try std.testing.expectError(error.Overflow, six_bytes.sleb(32));
}
