//! The imports libvmwindow gives every guest (AssemblyScript's `env.abort` and `env.seed`, and
//! `vmw.log`, `vmw.map`, `vmw.flush`, `vmw.release`, `vmw.fail`), and the trampoline that runs host-defined imports through
//! the guest's host callback. All use Wasmtime's unchecked host-function path.

const std = @import("std");
const assert = std.debug.assert;

const wt = @import("wasmtime.zig");
const errors = @import("errors.zig");
const engine = @import("engine.zig");
const layout = @import("layout.zig");
const os = @import("os.zig").impl;
const table_module = @import("table.zig");
const faults = @import("faults.zig");
const Window = @import("window.zig").Window;
const Error = errors.Error;
const fail = errors.fail;
const values_max = @import("module.zig").values_max;

/// Results of the `vmw.*` built-in host functions, as the guest sees them (VMW_HOST_*), from the
/// ABI definition (native/build.zig).
const abi = @import("vmwindow_abi");
pub const host_refused: i32 = abi.host_refused;
pub const host_not_mapped: i32 = abi.host_not_mapped;
pub const host_failed: i32 = abi.host_failed;

/// Policy bits (`vmw_guest_set_policy`): what the built-ins may do for a guest.
pub const policy_flush: u32 = 1 << 0;
pub const policy_all: u32 = policy_flush;

/// The functions that need a guest, for guest.zig's `Guest` (given as a parameter, so this file
/// does not import guest.zig: the dependency runs one way). `Guest` has `window`, `policy`,
/// `host_callback`, `host_user_data`, `host_values`, `set.running`, `timed_out_in`,
/// `host_deadline_passed()`, and `ImportRecord` (an import's guest, index, counts and label).
pub fn Bind(comptime Guest: type) type {
    return struct {
        pub fn define_builtins(linker: *wt.Linker, guest: *Guest) Error!void {
            const i32_kind = wt.valkind_i32;
            try define(linker, "env", "abort", &.{ i32_kind, i32_kind, i32_kind, i32_kind }, &.{}, host_abort, guest);
            try define(linker, "env", "seed", &.{}, &.{wt.valkind_f64}, host_seed, guest);
            try define(linker, "vmw", "log", &.{ i32_kind, i32_kind, i32_kind }, &.{}, host_log_discard, guest);
            try define(linker, "vmw", "flush", &.{i32_kind}, &.{i32_kind}, host_flush, guest);
            try define(linker, "vmw", "map", &.{ i32_kind, i32_kind, i32_kind }, &.{i32_kind}, host_map_refused, guest);
            try define(linker, "vmw", "release", &.{ i32_kind, i32_kind, i32_kind }, &.{i32_kind}, host_release, guest);
            try define(linker, "vmw", "fail", &.{ i32_kind, i32_kind }, &.{}, host_fail, guest);
        }

        fn guest_of(env: ?*anyopaque) *Guest {
            return @ptrCast(@alignCast(env.?));
        }

        /// A host-defined import: arguments go to `host_values`, the host callback runs, results come back.
        pub fn host_import(env: ?*anyopaque, caller: *wt.Caller, values: [*]wt.ValRaw, values_len: usize) callconv(.c) ?*wt.Trap {
            _ = caller;
            const import: *const Guest.ImportRecord = @ptrCast(@alignCast(env.?));
            const guest = import.guest;
            assert(values_len == @max(import.param_count, import.result_count));
            assert(guest.set.running);
            const label = import.label[0..import.label_len];
            const callback = guest.host_callback orelse return trap_format("host function {s} has no host callback (vmw_guest_set_host_callback)", .{label});
            @memcpy(guest.host_values[0..import.param_count], values[0..import.param_count]);
            // The callback is host code: a SIGBUS it takes must give it zeros, not a guest trap.
            faults.leave_guest(guest.window.fault_slot);
            const status = callback(guest.host_user_data, import.index);
            faults.enter_guest(guest.window.fault_slot);
            if (status != 0) return trap_format("host function {s} failed (status {d})", .{ label, status });
            if (guest.host_deadline_passed()) {
                // Reported as a timeout by the call (guest.zig run_error), not as this trap's text.
                guest.timed_out_in = import;
                return trap_format("the deadline passed in host function {s}", .{label});
            }
            @memcpy(values[0..import.result_count], guest.host_values[0..import.result_count]);
            return null;
        }

        /// AssemblyScript's `abort(message, fileName, line, column)`: a trap whose message carries all four.
        fn host_abort(env: ?*anyopaque, caller: *wt.Caller, values: [*]wt.ValRaw, values_len: usize) callconv(.c) ?*wt.Trap {
            _ = caller;
            assert(values_len == 4);
            return abort_trap(guest_of(env).window, values);
        }

        /// `vmw.fail(text, text_len)`: the C, Zig and Rust SDKs' `fail()`, a trap whose message is the text.
        fn host_fail(env: ?*anyopaque, caller: *wt.Caller, values: [*]wt.ValRaw, values_len: usize) callconv(.c) ?*wt.Trap {
            _ = caller;
            assert(values_len == 2);
            return fail_trap(guest_of(env).window, @bitCast(values[0].i32), @bitCast(values[1].i32));
        }

        /// `vmw.flush(id) -> i32`: writes a read-write region's dirty pages to its file (msync
        /// MS_SYNC). 0 on success; `host_refused` if the guest's policy does not allow it;
        /// `host_not_mapped` if `id` is not a live read-write region; `host_failed` if msync fails.
        fn host_flush(env: ?*anyopaque, caller: *wt.Caller, values: [*]wt.ValRaw, values_len: usize) callconv(.c) ?*wt.Trap {
            _ = caller;
            assert(values_len == 1);
            const guest = guest_of(env);
            values[0] = .{ .i32 = if (guest.policy & policy_flush == 0) host_refused else flush_region(guest.window, @bitCast(values[0].i32)) };
            return null;
        }

        /// `vmw.release(id, offset, length) -> i32` (see `release_pages`). Always allowed: it changes no byte.
        fn host_release(env: ?*anyopaque, caller: *wt.Caller, values: [*]wt.ValRaw, values_len: usize) callconv(.c) ?*wt.Trap {
            _ = caller;
            assert(values_len == 3);
            values[0] = .{ .i32 = release_pages(guest_of(env).window, values) };
            return null;
        }
    };
}

pub fn define(linker: *wt.Linker, module_name: []const u8, name: []const u8, params: []const u8, results: []const u8, callback: wt.UncheckedCallback, env: *anyopaque) Error!void {
    var param_vec: wt.ValTypeVec = undefined;
    var result_vec: wt.ValTypeVec = undefined;
    value_types(&param_vec, params);
    value_types(&result_vec, results);
    const func_type = wt.wasm_functype_new(&param_vec, &result_vec) orelse return fail(error.OutOfMemory, "cannot create a function type", .{});
    defer wt.wasm_functype_delete(func_type);
    if (wt.wasmtime_linker_define_func_unchecked(linker, module_name.ptr, module_name.len, name.ptr, name.len, func_type, callback, env, null)) |err| {
        return engine.fail_wasmtime(error.Link, "cannot define a host function", err);
    }
}

pub fn value_types(out: *wt.ValTypeVec, kinds: []const u8) void {
    assert(kinds.len <= values_max);
    if (kinds.len == 0) return wt.wasm_valtype_vec_new_empty(out);
    var types: [values_max]?*wt.ValType = undefined;
    for (kinds, 0..) |kind, i| types[i] = wt.wasm_valtype_new(kind);
    // Takes ownership of each value type.
    wt.wasm_valtype_vec_new(out, kinds.len, &types);
}

fn trap_format(comptime fmt: []const u8, args: anytype) ?*wt.Trap {
    var buffer: [256]u8 = undefined;
    const text = std.fmt.bufPrint(&buffer, fmt, args) catch buffer[0..];
    return wt.wasmtime_trap_new(text.ptr, text.len);
}

/// The trap of AssemblyScript's `abort(message, fileName, line, column)`, carrying all four.
fn abort_trap(window: *Window, values: [*]wt.ValRaw) ?*wt.Trap {
    var buffer: [1024]u8 = undefined;
    var len: usize = 0;
    len += copy_text(buffer[len..], "abort: ");
    const message_len = read_guest_string(window, @bitCast(values[0].i32), buffer[len..]);
    len += message_len;
    len += copy_text(buffer[len..], " at ");
    const file_len = read_guest_string(window, @bitCast(values[1].i32), buffer[len..]);
    len += file_len;
    const line: u32 = @bitCast(values[2].i32);
    const column: u32 = @bitCast(values[3].i32);
    const position = std.fmt.bufPrint(buffer[len..], ":{d}:{d}", .{ line, column }) catch "";
    len += position.len;
    assert(len <= buffer.len);
    // asc's shadow-stack check aborts with empty message and file at 1:1 (guest-sdk/README.md).
    if (message_len == 0 and file_len == 0 and line == 1 and column == 1) {
        const overflow = "abort: the AssemblyScript shadow stack overflowed (deep recursion through functions that keep managed references; empty message and file at :1:1)";
        return wt.wasmtime_trap_new(overflow, overflow.len);
    }
    return wt.wasmtime_trap_new(&buffer, one_line(buffer[0..len]).len);
}

/// The trap of `vmw.fail(text, text_len)`: "abort: " and the UTF-8 text up to its first NUL, read
/// from the guest area only (always mapped: a bad pointer or length gives a placeholder, never a
/// host fault).
fn fail_trap(window: *Window, address: u32, length_bytes: u32) ?*wt.Trap {
    var buffer: [1024 + "abort: ".len]u8 = undefined;
    var len = copy_text(&buffer, "abort: ");
    if (guest_area_bytes(window, address, length_bytes)) |text| {
        // Up to a NUL: the message travels on as a C string (vmw_last_error_message).
        len += copy_text(buffer[len..], text[0 .. std.mem.indexOfScalar(u8, text, 0) orelse text.len]);
    } else {
        len += copy_text(buffer[len..], "(unreadable text)");
    }
    assert(len <= buffer.len);
    return wt.wasmtime_trap_new(&buffer, one_line(buffer[0..len]).len);
}

/// `text` with every control character (newlines included) made a space, in place: a guest's
/// text stays one line of the trap's message, so it can neither split the reason nor pose as
/// Wasmtime's own "Caused by:" lines.
fn one_line(text: []u8) []u8 {
    for (text) |*byte| {
        if (byte.* < 0x20 or byte.* == 0x7f) byte.* = ' ';
    }
    return text;
}

fn host_seed(env: ?*anyopaque, caller: *wt.Caller, values: [*]wt.ValRaw, values_len: usize) callconv(.c) ?*wt.Trap {
    _ = env;
    _ = caller;
    assert(values_len == 1);
    const now: u64 = @truncate(@as(u128, @bitCast(std.time.nanoTimestamp())));
    values[0].f64 = @bitCast(@as(f64, @floatFromInt(now % (1 << 52))));
    return null;
}

/// `vmw.log(level, ptr, len)` when the host defines no logger: nothing is ever printed.
fn host_log_discard(env: ?*anyopaque, caller: *wt.Caller, values: [*]wt.ValRaw, values_len: usize) callconv(.c) ?*wt.Trap {
    _ = env;
    _ = caller;
    _ = values;
    assert(values_len == 3);
    return null;
}

/// `vmw.map(name_ptr, name_len, access)` when the host defines no mapping policy: refused.
fn host_map_refused(env: ?*anyopaque, caller: *wt.Caller, values: [*]wt.ValRaw, values_len: usize) callconv(.c) ?*wt.Trap {
    _ = env;
    _ = caller;
    assert(values_len == 3);
    values[0] = .{ .i32 = host_refused };
    return null;
}

/// msync of window region `id` if it is a live read-write one: 0, `host_not_mapped`, `host_failed`.
fn flush_region(window: *Window, id: u32) i32 {
    if (id == 0 or id > window.layout.capacity) return host_not_mapped;
    const entry = window.table.entry(id);
    if (entry.state != table_module.state_live or entry.access & table_module.access_read_write != table_module.access_read_write) return host_not_mapped;
    assert(entry.offset_bytes % layout.page_bytes == 0);
    assert(entry.offset_bytes >= window.layout.slots_base);
    const mapped_bytes = std.mem.alignForward(u64, entry.length_bytes, os.os_page_bytes());
    os.sync(window.base() + entry.offset_bytes, mapped_bytes) catch return host_failed;
    return 0;
}

/// `vmw.release(id, offset, length) -> i32`: takes those bytes of file region `id` out of the
/// process's resident memory (Window.release_pages); they read the same afterwards. 0 on success;
/// `host_not_mapped` if `id` is not a live region; `host_refused` for an anonymous region, an
/// offset that is not a multiple of the OS page or a range outside the region; `host_failed` if
/// the OS call fails.
fn release_pages(window: *Window, values: [*]const wt.ValRaw) i32 {
    const id: u32 = @bitCast(values[0].i32);
    const offset_bytes: u32 = @bitCast(values[1].i32);
    const length_bytes: u32 = @bitCast(values[2].i32);
    if (id == 0 or id > window.layout.capacity) return host_not_mapped;
    const generation = window.table.entry(id).generation;
    window.release_pages(id, generation, offset_bytes, length_bytes) catch |err| return switch (err) {
        error.NotMapped, error.Stale => host_not_mapped,
        error.Io => host_failed,
        else => host_refused,
    };
    return 0;
}

fn copy_text(out: []u8, text: []const u8) usize {
    const len = @min(out.len, text.len);
    @memcpy(out[0..len], text[0..len]);
    return len;
}

/// `[address, address + length_bytes)` of the guest area, or null when any of it lies outside: the
/// guest area is always mapped, so reading it never faults in host code.
fn guest_area_bytes(window: *Window, address: u32, length_bytes: u32) ?[]const u8 {
    const area_start = layout.guest_base;
    const area_end = window.layout.slots_base;
    if (address < area_start or address >= area_end or length_bytes > area_end - address) return null;
    return window.base()[address..][0..length_bytes];
}

/// Decodes an AssemblyScript string (UTF-16LE, byte length in the u32 before it) as UTF-8.
/// Reads only from the guest area, which is always mapped: a bad pointer gives a placeholder,
/// never a host fault.
fn read_guest_string(window: *Window, address: u32, out: []u8) usize {
    if (address == 0) return copy_text(out, "(null)");
    if (address < 4 or address % 2 != 0) return copy_text(out, "(unreadable)");
    const prefix = guest_area_bytes(window, address - 4, 4) orelse return copy_text(out, "(unreadable)");
    const length_bytes = std.mem.readInt(u32, prefix[0..4], .little);
    const bytes = guest_area_bytes(window, address, length_bytes) orelse return copy_text(out, "(unreadable)");
    const units_ptr: [*]const u16 = @ptrCast(@alignCast(bytes.ptr));
    const units = units_ptr[0 .. length_bytes / 2];
    var len: usize = 0;
    var iterator = std.unicode.Utf16LeIterator.init(units);
    while (true) {
        const next = iterator.nextCodepoint() catch 0xFFFD;
        const code_point = next orelse break;
        var encoded: [4]u8 = undefined;
        const encoded_len = std.unicode.utf8Encode(code_point, &encoded) catch blk: {
            encoded[0..3].* = .{ 0xEF, 0xBF, 0xBD }; // U+FFFD for a lone surrogate
            break :blk 3;
        };
        if (len + encoded_len > out.len) break;
        @memcpy(out[len..][0..encoded_len], encoded[0..encoded_len]);
        len += encoded_len;
    }
    return len;
}
