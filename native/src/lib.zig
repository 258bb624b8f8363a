//! libvmwindow's C ABI: the exported `vmw_*` functions (documented in include/vmwindow.h).
//! Each one is a thin wrapper that checks its arguments, calls into the area that implements it
//! (window.zig, guest.zig) and turns a Zig error into a `vmw_result_t`.

const std = @import("std");
const assert = std.debug.assert;

const errors = @import("errors.zig");
const layout = @import("layout.zig");
const window_module = @import("window.zig");
const guest_module = @import("guest.zig");
const engine = @import("engine.zig");
const Window = window_module.Window;
const Guest = guest_module.Guest;
const Result = errors.Result;
const fail = errors.fail;

const allocator = std.heap.c_allocator;

fn to_result(value: errors.Error!void) Result {
    value catch |err| return errors.result_from_error(err);
    return .ok;
}

pub export fn vmw_abi_version() u32 {
    return layout.abi_version;
}

pub export fn vmw_last_error_message() [*:0]const u8 {
    return errors.last_message();
}

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

pub export fn vmw_guest_create(window: *Window, wasm: ?[*]const u8, wasm_len: usize, out: ?*?*Guest) Result {
    errors.clear();
    const out_guest = out orelse return to_result(fail(error.InvalidArgument, "out is NULL", .{}));
    out_guest.* = null;
    const bytes = wasm orelse return to_result(fail(error.InvalidArgument, "wasm is NULL", .{}));
    out_guest.* = Guest.create(window, bytes[0..wasm_len]) catch |err| return errors.result_from_error(err);
    return .ok;
}

pub export fn vmw_guest_destroy(guest_opt: ?*Guest) void {
    const guest = guest_opt orelse return;
    guest.destroy();
}

pub export fn vmw_guest_export(guest: *Guest, name: ?[*]const u8, name_len: usize, out: ?*guest_module.ExportInfo) Result {
    errors.clear();
    const info = out orelse return to_result(fail(error.InvalidArgument, "out is NULL", .{}));
    const name_bytes = name orelse return to_result(fail(error.InvalidArgument, "name is NULL", .{}));
    info.* = guest.find_export(name_bytes[0..name_len]) catch |err| return errors.result_from_error(err);
    return .ok;
}

pub export fn vmw_guest_values(guest: *Guest) [*]u8 {
    return @ptrCast(&guest.values);
}

/// The hot path: no argument checks beyond the export index (the values array is fixed-size).
pub export fn vmw_guest_call(guest: *Guest, index: u32) Result {
    guest.call(index) catch |err| return errors.result_from_error(err);
    return .ok;
}

test {
    _ = @import("errors.zig");
    _ = @import("layout.zig");
    _ = @import("table.zig");
    _ = @import("slots.zig");
    _ = @import("engine.zig");
    _ = @import("window.zig");
    _ = @import("guest.zig");
    _ = @import("tests.zig");
}
