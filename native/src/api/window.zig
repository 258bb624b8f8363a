//! C ABI, window area: `vmw_window_*` (create, destroy, layout, map, unmap).

const std = @import("std");
const assert = std.debug.assert;

const errors = @import("../errors.zig");
const layout = @import("../layout.zig");
const window_module = @import("../window.zig");
const engine = @import("../engine.zig");
const Guest = @import("../guest.zig").Guest;
const Window = window_module.Window;
const Result = errors.Result;
const fail = errors.fail;
const to_result = @import("common.zig").to_result;

const allocator = std.heap.c_allocator;

pub export fn vmw_window_create(size_bytes: u64, guest_bytes: u64, capacity: u32, out: ?*?*Window) Result {
    errors.clear();
    const out_window = out orelse return to_result(fail(error.InvalidArgument, "out is NULL", .{}));
    out_window.* = null;
    const window = Window.create(allocator, size_bytes, guest_bytes, capacity) catch |err| return errors.result_from_error(err);
    out_window.* = window;
    return .ok;
}

/// Destroys the window's guest (if any) and the window. NULL is a no-op.
pub export fn vmw_window_destroy(window_opt: ?*Window) void {
    const window = window_opt orelse return;
    if (window.guest) |guest| Guest.destroy(@ptrCast(@alignCast(guest)));
    engine.release_provider(window);
    window.destroy();
}

pub export fn vmw_window_base(window: *const Window) [*]u8 {
    return window.base();
}

pub export fn vmw_window_size(window: *const Window) u64 {
    return window.layout.window_bytes;
}

pub export fn vmw_window_layout(window: *const Window, out: ?*LayoutInfo) Result {
    errors.clear();
    const info = out orelse return to_result(fail(error.InvalidArgument, "out is NULL", .{}));
    info.* = .{
        .window_bytes = window.layout.window_bytes,
        .table_offset = layout.table_offset,
        .table_bytes = window.layout.table_bytes,
        .guest_base = layout.guest_base,
        .guest_bytes = window.layout.guest_bytes,
        .slots_base = window.layout.slots_base,
        .capacity = window.layout.capacity,
    };
    return .ok;
}

/// `vmw_layout_t`
const LayoutInfo = extern struct {
    window_bytes: u64,
    table_offset: u64,
    table_bytes: u64,
    guest_base: u64,
    guest_bytes: u64,
    slots_base: u64,
    capacity: u32,
    reserved0: u32 = 0,
};

comptime {
    assert(@sizeOf(LayoutInfo) == 56);
}

pub export fn vmw_window_map_file(
    window: *Window,
    path: ?[*]const u8,
    path_len: usize,
    access: u32,
    name: ?[*]const u8,
    name_len: usize,
    out: ?*window_module.RegionInfo,
) Result {
    errors.clear();
    const info = out orelse return to_result(fail(error.InvalidArgument, "out is NULL", .{}));
    const path_bytes = path orelse return to_result(fail(error.InvalidArgument, "path is NULL", .{}));
    if (path_len == 0) return to_result(fail(error.InvalidArgument, "path is empty", .{}));
    var path_buffer: [std.fs.max_path_bytes]u8 = undefined;
    if (path_len >= path_buffer.len) return to_result(fail(error.InvalidArgument, "path is {d} bytes; at most {d} allowed", .{ path_len, path_buffer.len - 1 }));
    if (std.mem.indexOfScalar(u8, path_bytes[0..path_len], 0) != null) return to_result(fail(error.InvalidArgument, "path contains a NUL byte", .{}));
    @memcpy(path_buffer[0..path_len], path_bytes[0..path_len]);
    path_buffer[path_len] = 0;

    const region_access: window_module.Access = switch (access) {
        1 => .read,
        3 => .read_write,
        else => return to_result(fail(error.InvalidArgument, "access must be VMW_ACCESS_READ (1) or VMW_ACCESS_READ_WRITE (3), not {d}", .{access})),
    };
    const name_bytes: []const u8 = if (name) |n| n[0..name_len] else "";
    info.* = window.map_file(path_buffer[0..path_len :0], region_access, name_bytes) catch |err| return errors.result_from_error(err);
    return .ok;
}

pub export fn vmw_window_unmap(window: *Window, id: u32, generation: u32) Result {
    errors.clear();
    return to_result(window.unmap(id, generation));
}

