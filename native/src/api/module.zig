//! C ABI, compiled modules: `vmw_module_*` (compile once, instantiate in any window) and
//! `vmw_guest_*_module` (guests made from one). Thin wrappers: argument checks here, the work in
//! module.zig, module_cache.zig and guest.zig.

const std = @import("std");

const errors = @import("../errors.zig");
const module_mod = @import("../module.zig");
const guest_module = @import("../guest.zig");
const Window = @import("../window.zig").Window;
const Module = module_mod.Module;
const Guest = guest_module.Guest;
const Result = errors.Result;
const fail = errors.fail;
const common = @import("common.zig");
const to_result = common.to_result;
const flag_interruptible = common.flag_interruptible;
const flag_metered = common.flag_metered;

pub export fn vmw_module_compile(wasm: ?[*]const u8, wasm_len: usize, flags: u32, out: ?*?*Module) Result {
    return vmw_module_compile_cached(wasm, wasm_len, flags, null, 0, out, null);
}

pub export fn vmw_module_compile_cached(
    wasm: ?[*]const u8,
    wasm_len: usize,
    flags: u32,
    cache_dir: ?[*]const u8,
    cache_dir_len: usize,
    out: ?*?*Module,
    out_source: ?*u32,
) Result {
    errors.clear();
    const out_module = out orelse return to_result(fail(error.InvalidArgument, "out is NULL", .{}));
    out_module.* = null;
    const bytes = wasm orelse return to_result(fail(error.InvalidArgument, "wasm is NULL", .{}));
    const kind = common.engine_kind(flags) catch |err| return errors.result_from_error(err);
    if (cache_dir == null and cache_dir_len != 0) return to_result(fail(error.InvalidArgument, "cache_dir is NULL", .{}));
    const dir: ?[]const u8 = if (cache_dir) |d| d[0..cache_dir_len] else null;
    if (dir) |d| {
        if (d.len == 0 or d.len > 3000 or std.mem.indexOfScalar(u8, d, 0) != null) {
            return to_result(fail(error.InvalidArgument, "cache_dir must be 1..3000 bytes without NUL", .{}));
        }
    }
    var source: module_mod.Source = .compiled;
    out_module.* = module_mod.compile(bytes[0..wasm_len], kind, dir, &source) catch |err| return errors.result_from_error(err);
    if (out_source) |s| s.* = @intFromEnum(source);
    return .ok;
}

/// Releases the caller's reference; guests made from the module keep theirs. NULL is a no-op.
pub export fn vmw_module_destroy(module: ?*Module) void {
    if (module) |m| m.release();
}

/// The module's content hash (BLAKE3 of its bytes, 32 bytes) and engine flags.
pub export fn vmw_module_info(module: *Module, out_hash: ?*[32]u8, out_flags: ?*u32) void {
    if (out_hash) |h| h.* = module.hash;
    if (out_flags) |f| f.* = switch (module.engine_kind) {
        .plain => 0,
        .interruptible => flag_interruptible,
        .metered => flag_metered | flag_interruptible,
    };
}

/// Empties the process's module cache; returns how many modules it held.
pub export fn vmw_module_cache_clear() u32 {
    return module_mod.cache_clear();
}

pub export fn vmw_guest_prepare_module(window: *Window, module: ?*Module, out: ?*?*Guest) Result {
    errors.clear();
    const out_guest = out orelse return to_result(fail(error.InvalidArgument, "out is NULL", .{}));
    out_guest.* = null;
    const compiled = module orelse return to_result(fail(error.InvalidArgument, "module is NULL", .{}));
    out_guest.* = Guest.prepare(window, compiled) catch |err| return errors.result_from_error(err);
    return .ok;
}

pub export fn vmw_guest_create_from_module(window: *Window, module: ?*Module, out: ?*?*Guest) Result {
    errors.clear();
    const out_guest = out orelse return to_result(fail(error.InvalidArgument, "out is NULL", .{}));
    out_guest.* = null;
    const compiled = module orelse return to_result(fail(error.InvalidArgument, "module is NULL", .{}));
    const guest = Guest.prepare(window, compiled) catch |err| return errors.result_from_error(err);
    guest.instantiate() catch |err| {
        guest.destroy() catch {};
        return errors.result_from_error(err);
    };
    out_guest.* = guest;
    return .ok;
}
