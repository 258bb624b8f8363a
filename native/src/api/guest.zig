//! C ABI, guest area: `vmw_guest_*` (create, destroy, exports, calls).

const std = @import("std");

const errors = @import("../errors.zig");
const guest_module = @import("../guest.zig");
const Window = @import("../window.zig").Window;
const Guest = guest_module.Guest;
const Result = errors.Result;
const fail = errors.fail;
const to_result = @import("common.zig").to_result;

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

