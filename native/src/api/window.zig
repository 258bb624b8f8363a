//! C ABI, window area: `vmw_window_*` (create, destroy, layout, map, unmap).

const std = @import("std");
const assert = std.debug.assert;

const errors = @import("../errors.zig");
const layout = @import("../layout.zig");
const window_module = @import("../window.zig");
const engine = @import("../engine.zig");
const guest_module = @import("../guest.zig");
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
    engine.warm_up();
    out_window.* = window;
    return .ok;
}

/// Destroys the window's guests (if any) and the window; BUSY (nothing destroyed) while one of
/// its guests runs. NULL is a no-op.
pub export fn vmw_window_destroy(window_opt: ?*Window) Result {
    errors.clear();
    const window = window_opt orelse return .ok;
    guest_module.destroy_all(window) catch |err| return errors.result_from_error(err);
    window.destroy();
    return .ok;
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

/// Copies a (pointer, length) path into a NUL-terminated buffer, checking it.
fn path_arg(buffer: *[std.fs.max_path_bytes]u8, path: ?[*]const u8, path_len: usize) errors.Error![:0]const u8 {
    const path_bytes = path orelse return fail(error.InvalidArgument, "path is NULL", .{});
    if (path_len == 0) return fail(error.InvalidArgument, "path is empty", .{});
    if (path_len >= buffer.len) return fail(error.InvalidArgument, "path is {d} bytes; at most {d} allowed", .{ path_len, buffer.len - 1 });
    if (std.mem.indexOfScalar(u8, path_bytes[0..path_len], 0) != null) return fail(error.InvalidArgument, "path contains a NUL byte", .{});
    @memcpy(buffer[0..path_len], path_bytes[0..path_len]);
    buffer[path_len] = 0;
    return buffer[0..path_len :0];
}

fn access_arg(access: u32) errors.Error!window_module.Access {
    return switch (access) {
        1 => .read,
        3 => .read_write,
        else => fail(error.InvalidArgument, "access must be VMW_ACCESS_READ (1) or VMW_ACCESS_READ_WRITE (3), not {d}", .{access}),
    };
}

const FileArgs = struct { path: [:0]const u8, access: window_module.Access };

fn file_args(buffer: *[std.fs.max_path_bytes]u8, path: ?[*]const u8, path_len: usize, access: u32) errors.Error!FileArgs {
    return .{ .path = try path_arg(buffer, path, path_len), .access = try access_arg(access) };
}

fn placement_arg(at_offset_bytes: u64) window_module.Placement {
    return if (at_offset_bytes == 0) .anywhere else .{ .at = at_offset_bytes };
}

fn name_arg(name: ?[*]const u8, name_len: usize) []const u8 {
    return if (name) |n| n[0..name_len] else "";
}

fn region_out(out: ?*window_module.RegionInfo, info: errors.Error!window_module.RegionInfo) Result {
    const result = info catch |err| return errors.result_from_error(err);
    out.?.* = result;
    return .ok;
}

pub export fn vmw_window_map_file(
    window: *Window,
    path: ?[*]const u8,
    path_len: usize,
    file_offset_bytes: u64,
    length_bytes: u64,
    access: u32,
    name: ?[*]const u8,
    name_len: usize,
    at_offset_bytes: u64,
    out: ?*window_module.RegionInfo,
) Result {
    errors.clear();
    if (out == null) return to_result(fail(error.InvalidArgument, "out is NULL", .{}));
    var path_buffer: [std.fs.max_path_bytes]u8 = undefined;
    const file = file_args(&path_buffer, path, path_len, access) catch |err| return errors.result_from_error(err);
    return region_out(out, window.map_file(file.path, file_offset_bytes, length_bytes, file.access, name_arg(name, name_len), placement_arg(at_offset_bytes)));
}

pub export fn vmw_window_map_anonymous(
    window: *Window,
    length_bytes: u64,
    name: ?[*]const u8,
    name_len: usize,
    at_offset_bytes: u64,
    out: ?*window_module.RegionInfo,
) Result {
    return anonymous_out(window, length_bytes, name, name_len, at_offset_bytes, out, .private);
}

pub export fn vmw_window_map_shareable(
    window: *Window,
    length_bytes: u64,
    name: ?[*]const u8,
    name_len: usize,
    at_offset_bytes: u64,
    out: ?*window_module.RegionInfo,
) Result {
    return anonymous_out(window, length_bytes, name, name_len, at_offset_bytes, out, .shareable);
}

/// vmw_window_map_anonymous and vmw_window_map_shareable: the same arguments, two kinds of memory.
fn anonymous_out(window: *Window, length_bytes: u64, name: ?[*]const u8, name_len: usize, at_offset_bytes: u64, out: ?*window_module.RegionInfo, memory: enum { private, shareable }) Result {
    errors.clear();
    if (out == null) return to_result(fail(error.InvalidArgument, "out is NULL", .{}));
    const placement = placement_arg(at_offset_bytes);
    return region_out(out, switch (memory) {
        .private => window.map_anonymous(length_bytes, name_arg(name, name_len), placement),
        .shareable => window.map_shareable(length_bytes, name_arg(name, name_len), placement),
    });
}

pub export fn vmw_window_map_shared(
    window: *Window,
    source: ?*Window,
    source_id: u32,
    source_generation: u32,
    name: ?[*]const u8,
    name_len: usize,
    at_offset_bytes: u64,
    out: ?*window_module.RegionInfo,
) Result {
    errors.clear();
    if (out == null) return to_result(fail(error.InvalidArgument, "out is NULL", .{}));
    const source_window = source orelse return to_result(fail(error.InvalidArgument, "source is NULL", .{}));
    return region_out(out, window.map_shared(source_window, source_id, source_generation, name_arg(name, name_len), placement_arg(at_offset_bytes)));
}

pub export fn vmw_window_remap_file(
    window: *Window,
    id: u32,
    generation: u32,
    path: ?[*]const u8,
    path_len: usize,
    file_offset_bytes: u64,
    length_bytes: u64,
    access: u32,
    out: ?*window_module.RegionInfo,
) Result {
    errors.clear();
    if (out == null) return to_result(fail(error.InvalidArgument, "out is NULL", .{}));
    var path_buffer: [std.fs.max_path_bytes]u8 = undefined;
    const file = file_args(&path_buffer, path, path_len, access) catch |err| return errors.result_from_error(err);
    return region_out(out, window.remap_file(id, generation, file.path, file_offset_bytes, length_bytes, file.access));
}

pub export fn vmw_window_resize(window: *Window, id: u32, generation: u32, length_bytes: u64, out: ?*window_module.RegionInfo) Result {
    errors.clear();
    if (out == null) return to_result(fail(error.InvalidArgument, "out is NULL", .{}));
    return region_out(out, window.resize(id, generation, length_bytes));
}

pub export fn vmw_window_flush(window: *Window, id: u32, generation: u32) Result {
    errors.clear();
    return to_result(window.flush(id, generation));
}

pub export fn vmw_window_release_pages(window: *Window, id: u32, generation: u32, offset_bytes: u64, length_bytes: u64) Result {
    errors.clear();
    return to_result(window.release_pages(id, generation, offset_bytes, length_bytes));
}

pub export fn vmw_window_region(window: *Window, id: u32, out: ?*window_module.RegionInfo) Result {
    errors.clear();
    if (out == null) return to_result(fail(error.InvalidArgument, "out is NULL", .{}));
    return region_out(out, window.region_info(id));
}

pub export fn vmw_window_unmap(window: *Window, id: u32, generation: u32) Result {
    errors.clear();
    return to_result(window.unmap(id, generation));
}

