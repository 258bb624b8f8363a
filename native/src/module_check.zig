//! Checks a guest module's active data segments before Wasmtime instantiates it.
//!
//! Wasmtime writes data segments into the memory from host code, where only "inside the memory's
//! size" is checked, and the whole window counts as inside. A segment aimed at the null page, the
//! table or a slot would fault in host code (PROT_NONE) and take the process down instead of
//! trapping. So every active segment must lie inside the guest area, with a constant offset.

const std = @import("std");
const assert = std.debug.assert;

const errors = @import("errors.zig");
const Error = errors.Error;
const fail = errors.fail;
const wasm_binary = @import("wasm_binary.zig");
const Reader = wasm_binary.Reader;

const section_data: u8 = 11;
const opcode_i32_const: u8 = 0x41;
const opcode_end: u8 = 0x0b;

/// One active data segment: its constant first address, its length and its index in the module.
pub const Segment = struct {
    index: u64,
    first: u64,
    length: u64,
};

/// Where a module's active data segments lie, kept so a compiled module can be checked against any
/// window's guest area without its bytes: the segment that starts lowest and the one that ends
/// highest (empty segments write nothing and are left out).
pub const Extent = struct {
    lowest: ?Segment = null,
    highest: ?Segment = null,

    fn add(extent: *Extent, segment: Segment) void {
        assert(segment.length > 0);
        if (extent.lowest == null or segment.first < extent.lowest.?.first) extent.lowest = segment;
        if (extent.highest == null or segment.first + segment.length > extent.highest.?.first + extent.highest.?.length) extent.highest = segment;
        assert(extent.lowest.?.first <= extent.highest.?.first + extent.highest.?.length);
    }
};

/// Refuses a module whose active data segments reach outside `[area_start, area_end)` or use a
/// non-constant offset. The module has already been validated by Wasmtime.
pub fn check_data_segments(wasm: []const u8, area_start: u64, area_end: u64) Error!void {
    try check_extent(try data_extent(wasm), area_start, area_end);
}

/// The extent of `wasm`'s active data segments; refuses non-constant offsets and truncation.
pub fn data_extent(wasm: []const u8) Error!Extent {
    var extent: Extent = .{};
    var reader = Reader{ .bytes = wasm, .position = wasm_binary.header.len };
    if (wasm.len < wasm_binary.header.len) return fail(error.BadModule, "the module is truncated", .{});
    while (reader.position < wasm.len) {
        const id = reader.byte() catch return truncated();
        const size = reader.uleb(u64) catch return truncated();
        const start = reader.position;
        if (id == section_data) {
            var section = Reader{ .bytes = wasm[0 .. start + @as(usize, @intCast(@min(size, wasm.len - start)))], .position = start };
            try scan_section(&section, &extent);
        }
        reader.position = start;
        reader.skip(size) catch return truncated();
    }
    return extent;
}

/// Refuses an extent that reaches outside `[area_start, area_end)`, naming a segment that does.
pub fn check_extent(extent: Extent, area_start: u64, area_end: u64) Error!void {
    assert(area_start < area_end);
    const segments = [_]?Segment{ extent.lowest, extent.highest };
    for (segments) |segment_opt| {
        const segment = segment_opt orelse continue;
        if (segment.first < area_start or segment.first > area_end or segment.length > area_end - segment.first) {
            return fail(error.Link, "data segment {d} covers [0x{x}, 0x{x}), outside the guest area [0x{x}, 0x{x}): build the guest with the SDK preset (asc guest.ts --config node_modules/@vmwindow/guest/asconfig.json; it sets --memoryBase {d})", .{ segment.index, segment.first, segment.first +| segment.length, area_start, area_end, area_start });
        }
    }
}

fn scan_section(reader: *Reader, extent: *Extent) Error!void {
    const count = reader.uleb(u64) catch return truncated();
    var index: u64 = 0;
    while (index < count) : (index += 1) {
        const flags = reader.uleb(u64) catch return truncated();
        switch (flags) {
            0, 2 => {
                if (flags == 2) _ = reader.uleb(u64) catch return truncated(); // memory index
                const opcode = reader.byte() catch return truncated();
                if (opcode != opcode_i32_const) {
                    return fail(error.Link, "data segment {d} has a non-constant offset; guests must place their data at constant addresses in the guest area", .{index});
                }
                const offset = std.math.cast(i32, reader.sleb(32) catch return truncated()) orelse return truncated();
                const end_opcode = reader.byte() catch return truncated();
                if (end_opcode != opcode_end) {
                    return fail(error.Link, "data segment {d} has an offset expression other than i32.const", .{index});
                }
                const length = reader.uleb(u64) catch return truncated();
                const first: u64 = @as(u32, @bitCast(offset));
                if (length > 0) extent.add(.{ .index = index, .first = first, .length = length });
                reader.skip(length) catch return truncated();
            },
            1 => {
                // Passive: only usable through memory.init, which the engine does not enable.
                const length = reader.uleb(u64) catch return truncated();
                reader.skip(length) catch return truncated();
            },
            else => return fail(error.BadModule, "data segment {d} has unknown flags {d}", .{ index, flags }),
        }
    }
}

fn truncated() Error {
    return fail(error.BadModule, "the module's sections are truncated", .{});
}

test "segments inside the guest area pass; outside, non-constant or truncated ones are refused" {
    const header = [_]u8{ 0, 'a', 's', 'm', 1, 0, 0, 0 };
    // data section: 1 segment, flags 0, i32.const 0x210000 (LEB: 80 80 84 01), end, 2 bytes "hi".
    const inside = header ++ [_]u8{ 11, 11, 1, 0, 0x41, 0x80, 0x80, 0x84, 0x01, 0x0b, 2, 'h', 'i' };
    try check_data_segments(&inside, 0x210000, 0x310000);
    try std.testing.expectError(error.Link, check_data_segments(&inside, 0x220000, 0x310000));
    try std.testing.expectError(error.Link, check_data_segments(&inside, 0x200000, 0x210001));
    // i32.const 0 (the null page)
    const at_zero = header ++ [_]u8{ 11, 7, 1, 0, 0x41, 0x00, 0x0b, 1, 'x' };
    try std.testing.expectError(error.Link, check_data_segments(&at_zero, 0x210000, 0x310000));
    // global.get 0 as the offset
    const global_offset = header ++ [_]u8{ 11, 7, 1, 0, 0x23, 0x00, 0x0b, 1, 'x' };
    try std.testing.expectError(error.Link, check_data_segments(&global_offset, 0x210000, 0x310000));
    // a negative offset (i32.const -1 = 0xFFFFFFFF) wraps to the top of the 32-bit space
    const negative = header ++ [_]u8{ 11, 7, 1, 0, 0x41, 0x7f, 0x0b, 1, 'x' };
    try std.testing.expectError(error.Link, check_data_segments(&negative, 0x210000, 0x310000));
    const cut = header ++ [_]u8{ 11, 10, 1, 0, 0x41 };
    try std.testing.expectError(error.BadModule, check_data_segments(&cut, 0x210000, 0x310000));
    // No data section at all.
    try check_data_segments(&header, 0x210000, 0x310000);
}
