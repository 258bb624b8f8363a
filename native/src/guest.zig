//! A guest: one WebAssembly module instantiated in its own Wasmtime store over a window, its
//! exports resolved once, and calls through Wasmtime's unchecked fast path.

const std = @import("std");
const assert = std.debug.assert;

const wt = @import("wasmtime.zig");
const errors = @import("errors.zig");
const engine = @import("engine.zig");
const layout = @import("layout.zig");
const Window = @import("window.zig").Window;
const Error = errors.Error;
const fail = errors.fail;

/// Arguments and results of one call share this many 16-byte value slots.
pub const values_max = 16;
/// Exports a guest can resolve (functions looked up by name, each once).
pub const exports_max = 1024;

/// `vmw_export_t`: what the host learns about an exported function.
pub const ExportInfo = extern struct {
    index: u32,
    param_count: u32,
    result_count: u32,
    reserved0: u32 = 0,
    /// `wasm_valkind_t` of each parameter / result.
    params: [values_max]u8,
    results: [values_max]u8,
};

comptime {
    assert(@sizeOf(ExportInfo) == 48);
}

const Export = struct {
    func: wt.Func,
    values_len: u32,
};

pub const Guest = struct {
    window: *Window,
    store: *wt.Store,
    context: *wt.Context,
    module: *wt.Module,
    instance: wt.Instance,
    exports: [exports_max]Export,
    export_count: u32,
    /// Arguments in, results out; the host writes and reads it directly (`vmw_guest_values`).
    values: [values_max]wt.ValRaw align(16),

    pub fn create(window: *Window, wasm: []const u8) Error!*Guest {
        if (wasm.len == 0) return fail(error.BadModule, "the module is empty (0 bytes)", .{});
        if (window.guest != null) {
            return fail(error.Busy, "this window already has a guest; close it first (one guest per window in ABI v1)", .{});
        }
        const wasm_engine = try engine.get();

        var module_opt: ?*wt.Module = null;
        if (wt.wasmtime_module_new(wasm_engine, wasm.ptr, wasm.len, &module_opt)) |err| {
            return engine.fail_wasmtime(error.BadModule, "invalid WebAssembly module", err);
        }
        const module = module_opt.?;
        errdefer wt.wasmtime_module_delete(module);
        try check_imports(module);

        const guest = window.allocator.create(Guest) catch return fail(error.OutOfMemory, "out of memory allocating a guest", .{});
        errdefer window.allocator.destroy(guest);

        const store = wt.wasmtime_store_new(wasm_engine, null, null) orelse return fail(error.OutOfMemory, "cannot create a Wasmtime store", .{});
        errdefer wt.wasmtime_store_delete(store);
        const context = wt.wasmtime_store_context(store);

        const memory = try engine.window_memory(window, context);

        const linker = wt.wasmtime_linker_new(wasm_engine) orelse return fail(error.OutOfMemory, "cannot create a Wasmtime linker", .{});
        defer wt.wasmtime_linker_delete(linker);
        if (wt.wasmtime_linker_define(linker, context, "env", 3, "memory", 6, &memory)) |err| {
            return engine.fail_wasmtime(error.Link, "cannot define env.memory", err);
        }
        try define_host_functions(linker, window);

        guest.* = .{
            .window = window,
            .store = store,
            .context = context,
            .module = module,
            .instance = undefined,
            .exports = undefined,
            .export_count = 0,
            .values = std.mem.zeroes([values_max]wt.ValRaw),
        };
        var trap: ?*wt.Trap = null;
        if (wt.wasmtime_linker_instantiate(linker, context, module, &guest.instance, &trap)) |err| {
            return engine.fail_wasmtime(error.Link, "cannot instantiate the guest", err);
        }
        if (trap) |t| return fail_trap("the guest's start function trapped", t);

        window.guest = guest;
        return guest;
    }

    pub fn destroy(guest: *Guest) void {
        const window = guest.window;
        assert(window.guest == @as(?*anyopaque, guest));
        wt.wasmtime_store_delete(guest.store);
        wt.wasmtime_module_delete(guest.module);
        window.guest = null;
        window.allocator.destroy(guest);
    }

    /// Resolves an exported function once; later calls use `info.index`.
    pub fn find_export(guest: *Guest, name: []const u8) Error!ExportInfo {
        var item: wt.Extern = undefined;
        if (!wt.wasmtime_instance_export_get(guest.context, &guest.instance, name.ptr, name.len, &item)) {
            return fail(error.NotFound, "the guest has no export named \"{s}\"", .{name});
        }
        if (item.kind != wt.extern_kind_func) {
            return fail(error.TypeMismatch, "the guest's export \"{s}\" is not a function", .{name});
        }
        const func_type = wt.wasmtime_func_type(guest.context, &item.of.func);
        defer wt.wasm_functype_delete(func_type);
        const params = wt.wasm_functype_params(func_type);
        const results = wt.wasm_functype_results(func_type);
        if (params.size > values_max or results.size > values_max) {
            return fail(error.Unsupported, "export \"{s}\" has {d} parameters and {d} results; at most {d} each are supported", .{ name, params.size, results.size, values_max });
        }
        var info = ExportInfo{
            .index = 0,
            .param_count = @intCast(params.size),
            .result_count = @intCast(results.size),
            .params = std.mem.zeroes([values_max]u8),
            .results = std.mem.zeroes([values_max]u8),
        };
        for (0..params.size) |i| info.params[i] = try numeric_kind(name, wt.wasm_valtype_kind(params.data.?[i].?));
        for (0..results.size) |i| info.results[i] = try numeric_kind(name, wt.wasm_valtype_kind(results.data.?[i].?));

        if (guest.export_count == exports_max) {
            return fail(error.Unsupported, "more than {d} exports resolved on one guest", .{exports_max});
        }
        info.index = guest.export_count;
        guest.exports[guest.export_count] = .{
            .func = item.of.func,
            .values_len = @max(info.param_count, info.result_count),
        };
        guest.export_count += 1;
        return info;
    }

    /// Calls export `index` with the arguments in `values`; the results replace them.
    pub fn call(guest: *Guest, index: u32) Error!void {
        if (index >= guest.export_count) {
            return fail(error.InvalidArgument, "export index {d} was never resolved ({d} resolved)", .{ index, guest.export_count });
        }
        const target = &guest.exports[index];
        var trap: ?*wt.Trap = null;
        if (wt.wasmtime_func_call_unchecked(guest.context, &target.func, &guest.values, target.values_len, &trap)) |err| {
            // A trap raised by a host function (abort) arrives as an error with the trap as its cause.
            var message: wt.ByteVec = .{ .size = 0, .data = null };
            wt.wasmtime_error_message(err, &message);
            defer wt.wasm_byte_vec_delete(&message);
            wt.wasmtime_error_delete(err);
            return fail_trap_text("guest trapped", byte_vec_slice(&message));
        }
        if (trap) |t| return fail_trap("guest trapped", t);
    }
};

fn numeric_kind(name: []const u8, kind: u8) Error!u8 {
    return switch (kind) {
        wt.valkind_i32, wt.valkind_i64, wt.valkind_f32, wt.valkind_f64 => kind,
        else => fail(error.Unsupported, "export \"{s}\" uses a value type (kind {d}) other than i32, i64, f32 or f64", .{ name, kind }),
    };
}

fn fail_trap(what: []const u8, trap: *wt.Trap) Error {
    var message: wt.ByteVec = .{ .size = 0, .data = null };
    wt.wasm_trap_message(trap, &message);
    defer wt.wasm_byte_vec_delete(&message);
    wt.wasm_trap_delete(trap);
    return fail_trap_text(what, byte_vec_slice(&message));
}

/// Formats a trap as "what: <reason>" on the first line and Wasmtime's full text (with the wasm
/// backtrace) after it. Wasmtime's cause chain reads "0: memory fault at wasm address 0x...",
/// "1: wasm trap: out of bounds memory access"; the reason puts the trap first, its detail after.
fn fail_trap_text(what: []const u8, message: []const u8) Error {
    var text = message;
    // wasm_message_t may include the terminating NUL.
    if (text.len > 0 and text[text.len - 1] == 0) text = text[0 .. text.len - 1];
    text = std.mem.trim(u8, text, " \n");

    const caused_by = "Caused by:";
    const index = std.mem.lastIndexOf(u8, text, caused_by) orelse {
        const end = std.mem.indexOfScalar(u8, text, '\n') orelse text.len;
        if (end == text.len) return fail(error.Trap, "{s}: {s}", .{ what, text });
        return fail(error.Trap, "{s}: {s}\n{s}", .{ what, text[0..end], text });
    };
    var first: []const u8 = "";
    var last: []const u8 = "";
    var lines = std.mem.tokenizeScalar(u8, text[index + caused_by.len ..], '\n');
    while (lines.next()) |raw_line| {
        const line = strip_cause_number(std.mem.trim(u8, raw_line, " \t"));
        if (line.len == 0) continue;
        if (first.len == 0) first = line;
        last = line;
    }
    const wasm_trap = "wasm trap: ";
    if (std.mem.startsWith(u8, last, wasm_trap)) last = last[wasm_trap.len..];
    if (first.ptr == last.ptr or first.len == 0) return fail(error.Trap, "{s}: {s}\n{s}", .{ what, last, text });
    return fail(error.Trap, "{s}: {s} ({s})\n{s}", .{ what, last, first, text });
}

/// "12: text" -> "text"
fn strip_cause_number(line: []const u8) []const u8 {
    var digits: usize = 0;
    while (digits < line.len and std.ascii.isDigit(line[digits])) digits += 1;
    if (digits == 0 or !std.mem.startsWith(u8, line[digits..], ": ")) return line;
    return line[digits + 2 ..];
}

/// Refuses modules that do not take the window as `env.memory`, before any store is made.
fn check_imports(module: *wt.Module) Error!void {
    var imports: wt.ImportTypeVec = .{ .size = 0, .data = null };
    wt.wasmtime_module_imports(module, &imports);
    defer wt.wasm_importtype_vec_delete(&imports);
    var imports_memory = false;
    for (0..imports.size) |i| {
        const import = imports.data.?[i].?;
        const ty = wt.wasm_importtype_type(import);
        if (wt.wasm_externtype_kind(ty) != wt.externkind_memory) continue;
        const module_name = byte_vec_slice(wt.wasm_importtype_module(import));
        const name = byte_vec_slice(wt.wasm_importtype_name(import));
        if (!std.mem.eql(u8, module_name, "env") or !std.mem.eql(u8, name, "memory")) {
            return fail(error.Link, "the guest imports a memory as {s}.{s}; it must import env.memory (asc --importMemory)", .{ module_name, name });
        }
        const memory_type = wt.wasm_externtype_as_memorytype_const(ty).?;
        if (wt.wasmtime_memorytype_is64(memory_type)) {
            return fail(error.Link, "the guest imports a 64-bit memory; this window is a 32-bit memory", .{});
        }
        if (wt.wasmtime_memorytype_isshared(memory_type)) {
            return fail(error.Link, "the guest imports a shared memory; the window is not shared", .{});
        }
        imports_memory = true;
    }
    if (!imports_memory) {
        return fail(error.Link, "the guest does not import env.memory, so it cannot see the window (build it with asc --importMemory)", .{});
    }
}

fn byte_vec_slice(vec: *const wt.ByteVec) []const u8 {
    return if (vec.data) |data| data[0..vec.size] else "";
}

// Host functions -----------------------------------------------------------------------------------

fn define_host_functions(linker: *wt.Linker, window: *Window) Error!void {
    try define(linker, "abort", &.{ wt.valkind_i32, wt.valkind_i32, wt.valkind_i32, wt.valkind_i32 }, &.{}, host_abort, window);
    try define(linker, "seed", &.{}, &.{wt.valkind_f64}, host_seed, window);
}

fn define(linker: *wt.Linker, name: []const u8, params: []const u8, results: []const u8, callback: wt.UncheckedCallback, window: *Window) Error!void {
    var param_vec: wt.ValTypeVec = undefined;
    var result_vec: wt.ValTypeVec = undefined;
    value_types(&param_vec, params);
    value_types(&result_vec, results);
    const func_type = wt.wasm_functype_new(&param_vec, &result_vec) orelse return fail(error.OutOfMemory, "cannot create a function type", .{});
    defer wt.wasm_functype_delete(func_type);
    if (wt.wasmtime_linker_define_func_unchecked(linker, "env", 3, name.ptr, name.len, func_type, callback, window, null)) |err| {
        return engine.fail_wasmtime(error.Link, "cannot define a host function", err);
    }
}

fn value_types(out: *wt.ValTypeVec, kinds: []const u8) void {
    assert(kinds.len <= values_max);
    if (kinds.len == 0) return wt.wasm_valtype_vec_new_empty(out);
    var types: [values_max]?*wt.ValType = undefined;
    for (kinds, 0..) |kind, i| types[i] = wt.wasm_valtype_new(kind);
    // Takes ownership of each value type.
    wt.wasm_valtype_vec_new(out, kinds.len, &types);
}

/// AssemblyScript's `abort(message, fileName, line, column)`: a trap whose message carries all four.
fn host_abort(env: ?*anyopaque, caller: *wt.Caller, values: [*]wt.ValRaw, values_len: usize) callconv(.c) ?*wt.Trap {
    _ = caller;
    assert(values_len == 4);
    const window: *Window = @ptrCast(@alignCast(env.?));
    var buffer: [1024]u8 = undefined;
    var len: usize = 0;
    len += copy_text(buffer[len..], "abort: ");
    len += read_guest_string(window, @bitCast(values[0].i32), buffer[len..]);
    len += copy_text(buffer[len..], " at ");
    len += read_guest_string(window, @bitCast(values[1].i32), buffer[len..]);
    const position = std.fmt.bufPrint(buffer[len..], ":{d}:{d}", .{ @as(u32, @bitCast(values[2].i32)), @as(u32, @bitCast(values[3].i32)) }) catch "";
    len += position.len;
    return wt.wasmtime_trap_new(&buffer, len);
}

fn host_seed(env: ?*anyopaque, caller: *wt.Caller, values: [*]wt.ValRaw, values_len: usize) callconv(.c) ?*wt.Trap {
    _ = env;
    _ = caller;
    assert(values_len == 1);
    const now: u64 = @truncate(@as(u128, @bitCast(std.time.nanoTimestamp())));
    values[0].f64 = @bitCast(@as(f64, @floatFromInt(now % (1 << 52))));
    return null;
}

fn copy_text(out: []u8, text: []const u8) usize {
    const len = @min(out.len, text.len);
    @memcpy(out[0..len], text[0..len]);
    return len;
}

/// Decodes an AssemblyScript string (UTF-16LE, byte length in the u32 before it) as UTF-8.
/// Reads only from the guest area, which is always mapped: a bad pointer gives a placeholder,
/// never a host fault.
fn read_guest_string(window: *Window, address: u32, out: []u8) usize {
    const area_start = layout.guest_base;
    const area_end = window.layout.slots_base;
    if (address == 0) return copy_text(out, "(null)");
    if (address < area_start + 4 or address >= area_end or address % 2 != 0) return copy_text(out, "(unreadable)");
    const base = window.base();
    const length_bytes = std.mem.readInt(u32, base[address - 4 ..][0..4], .little);
    if (length_bytes > area_end - address) return copy_text(out, "(unreadable)");
    const units_ptr: [*]const u16 = @ptrCast(@alignCast(base + address));
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
