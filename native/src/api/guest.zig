//! C ABI, guest area: `vmw_guest_*` (create in stages, host imports, limits, exports, calls).
//! Thin wrappers: argument checks here, the work in guest.zig.

const std = @import("std");

const errors = @import("../errors.zig");
const guest_module = @import("../guest.zig");
const Window = @import("../window.zig").Window;
const Guest = guest_module.Guest;
const Result = errors.Result;
const fail = errors.fail;
const common = @import("common.zig");
const to_result = common.to_result;
const traps = @import("../traps.zig");

pub export fn vmw_guest_create(window: *Window, wasm: ?[*]const u8, wasm_len: usize, out: ?*?*Guest) Result {
    errors.clear();
    const out_guest = out orelse return to_result(fail(error.InvalidArgument, "out is NULL", .{}));
    out_guest.* = null;
    const bytes = wasm orelse return to_result(fail(error.InvalidArgument, "wasm is NULL", .{}));
    out_guest.* = Guest.create(window, bytes[0..wasm_len]) catch |err| return errors.result_from_error(err);
    return .ok;
}

pub export fn vmw_guest_compile(window: *Window, wasm: ?[*]const u8, wasm_len: usize, flags: u32, out: ?*?*Guest) Result {
    errors.clear();
    const out_guest = out orelse return to_result(fail(error.InvalidArgument, "out is NULL", .{}));
    out_guest.* = null;
    const bytes = wasm orelse return to_result(fail(error.InvalidArgument, "wasm is NULL", .{}));
    const kind = common.engine_kind(flags) catch |err| return errors.result_from_error(err);
    out_guest.* = Guest.compile(window, bytes[0..wasm_len], kind) catch |err| return errors.result_from_error(err);
    return .ok;
}

pub export fn vmw_guest_define_import(
    guest: *Guest,
    module_name: ?[*]const u8,
    module_name_len: usize,
    name: ?[*]const u8,
    name_len: usize,
    params: ?[*]const u8,
    param_count: u32,
    results: ?[*]const u8,
    result_count: u32,
    out_index: ?*u32,
) Result {
    errors.clear();
    const index_out = out_index orelse return to_result(fail(error.InvalidArgument, "out_index is NULL", .{}));
    const module_bytes = module_name orelse return to_result(fail(error.InvalidArgument, "module is NULL", .{}));
    const name_bytes = name orelse return to_result(fail(error.InvalidArgument, "name is NULL", .{}));
    if (param_count > 0 and params == null) return to_result(fail(error.InvalidArgument, "params is NULL", .{}));
    if (result_count > 0 and results == null) return to_result(fail(error.InvalidArgument, "results is NULL", .{}));
    const param_kinds: []const u8 = if (params) |p| p[0..param_count] else &.{};
    const result_kinds: []const u8 = if (results) |r| r[0..result_count] else &.{};
    index_out.* = guest.define_import(module_bytes[0..module_name_len], name_bytes[0..name_len], param_kinds, result_kinds) catch |err|
        return errors.result_from_error(err);
    return .ok;
}

pub export fn vmw_guest_set_host_callback(guest: *Guest, callback: ?guest_module.HostCallback, user_data: ?*anyopaque) void {
    guest.set_host_callback(callback, user_data);
}

pub export fn vmw_guest_host_values(guest: *Guest) [*]u8 {
    return @ptrCast(&guest.host_values);
}

pub export fn vmw_guest_instantiate(guest: *Guest) Result {
    errors.clear();
    return to_result(guest.instantiate());
}

pub export fn vmw_guest_set_timeout(guest: *Guest, timeout_ms: u32) Result {
    errors.clear();
    return to_result(guest.set_timeout(timeout_ms));
}

pub export fn vmw_guest_set_fuel(guest: *Guest, fuel: u64) Result {
    errors.clear();
    return to_result(guest.set_fuel(fuel));
}

pub export fn vmw_guest_interrupt_token(guest: *Guest, out_token: ?*u64) Result {
    errors.clear();
    const token_out = out_token orelse return to_result(fail(error.InvalidArgument, "out_token is NULL", .{}));
    token_out.* = guest.interrupt_token() catch |err| return errors.result_from_error(err);
    return .ok;
}

/// Any thread: sets an atomic flag the guest's thread polls (interrupts.zig).
pub export fn vmw_interrupt(token: u64) Result {
    if (@import("../interrupts.zig").request(token)) return .ok;
    return .not_found;
}

pub export fn vmw_guest_set_policy(guest: *Guest, policy: u32) Result {
    errors.clear();
    return to_result(guest.set_policy(policy));
}

pub export fn vmw_guest_destroy(guest_opt: ?*Guest) Result {
    errors.clear();
    const guest = guest_opt orelse return .ok;
    return to_result(guest.destroy());
}

pub export fn vmw_guest_export(guest: *Guest, name: ?[*]const u8, name_len: usize, out: ?*guest_module.ExportInfo) Result {
    errors.clear();
    const info = out orelse return to_result(fail(error.InvalidArgument, "out is NULL", .{}));
    const name_bytes = name orelse return to_result(fail(error.InvalidArgument, "name is NULL", .{}));
    info.* = guest.find_export(name_bytes[0..name_len]) catch |err| return errors.result_from_error(err);
    return .ok;
}

pub export fn vmw_guest_export_nth(guest: *Guest, index: u32, name_out: ?[*]u8, name_capacity: usize, out_name_len: ?*usize, out_kind: ?*u32) Result {
    errors.clear();
    const len_out = out_name_len orelse return to_result(fail(error.InvalidArgument, "out_name_len is NULL", .{}));
    const kind_out = out_kind orelse return to_result(fail(error.InvalidArgument, "out_kind is NULL", .{}));
    const item = guest.export_nth(index) catch |err| return errors.result_from_error(err);
    len_out.* = item.name.len;
    kind_out.* = item.kind;
    if (item.name.len > name_capacity) {
        return to_result(fail(error.InvalidArgument, "export {d}'s name is {d} bytes; the buffer holds {d}", .{ index, item.name.len, name_capacity }));
    }
    if (item.name.len > 0) {
        const buffer = name_out orelse return to_result(fail(error.InvalidArgument, "name_out is NULL", .{}));
        @memcpy(buffer[0..item.name.len], item.name);
    }
    return .ok;
}

pub export fn vmw_guest_resolve_all(guest: *Guest, out_count: ?*u32) Result {
    errors.clear();
    const count_out = out_count orelse return to_result(fail(error.InvalidArgument, "out_count is NULL", .{}));
    count_out.* = guest.resolve_all() catch |err| return errors.result_from_error(err);
    return .ok;
}

/// Where the last VMW_ERR_TRAP of this thread faulted (`kind` VMW_FAULT_NONE when it was not a
/// memory fault in a window). Never fails but for a NULL `out`; does not clear the error message.
pub export fn vmw_last_fault(out: ?*traps.FaultInfo) Result {
    const info = out orelse return to_result(fail(error.InvalidArgument, "out is NULL", .{}));
    info.* = traps.last_fault_info();
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
