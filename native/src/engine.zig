//! The Wasmtime engine and the memory creator that hands a window to Wasmtime.
//!
//! Wasmtime only calls a memory creator for memories that a module *defines*, so each guest store
//! first instantiates a tiny provider module that defines one memory of exactly the window's pages
//! (minimum = maximum) and exports it; the guest then imports that export as `env.memory`. The
//! creator, instead of allocating, returns the window that the calling thread has marked pending.

const std = @import("std");
const builtin = @import("builtin");
const assert = std.debug.assert;

const wt = @import("wasmtime.zig");
const errors = @import("errors.zig");
const traps = @import("traps.zig");
const wasm_binary = @import("wasm_binary.zig");
const layout = @import("layout.zig");
const Window = @import("window.zig").Window;
const Error = errors.Error;
const fail = errors.fail;

/// Guests that may get a per-call deadline run in an engine with epoch interruption, which puts an
/// epoch check in every function entry and loop back-edge (measured: a SIMD scan runs 2.5-2.8x
/// slower). Guests without deadlines run in a plain engine at full speed.
/// Guests that count instructions (fuel) run in a third engine that has both.
pub const Kind = enum(u2) { plain = 0, interruptible = 1, metered = 2 };
pub const kinds_count = @typeInfo(Kind).@"enum".fields.len;

var engines: [kinds_count]?*wt.Engine = @splat(null);
var engine_mutex: std.Thread.Mutex = .{};

/// The window whose memory the next provider instantiation on this thread should return.
threadlocal var pending_owner: ?*MemoryOwner = null;

/// What backs the Wasmtime memories made for one window's guests (guest.zig keeps one per window):
/// the window, and how many of those memories are alive (each guest's store holds one).
pub const MemoryOwner = struct {
    window: *Window,
    memory_refs: u32 = 0,
};

const creator = wt.MemoryCreator{
    .env = null,
    .new_memory = new_memory,
    .finalizer = null,
};

/// The process-wide engine of `kind`, created on first use and kept for the life of the process
/// (Wasmtime's signal handlers are process-wide anyway).
pub fn get(kind: Kind) Error!*wt.Engine {
    assert(@intFromEnum(kind) < kinds_count);
    engine_mutex.lock();
    defer engine_mutex.unlock();
    if (engines[@intFromEnum(kind)]) |e| return e;

    const config = wt.wasm_config_new() orelse return fail(error.OutOfMemory, "wasm_config_new failed", .{});
    // Bounds checks are elided for a 32-bit memory when reservation + guard cover 4 GiB + guard;
    // every window reserves exactly that (layout.reservation_bytes).
    wt.wasmtime_config_memory_reservation_set(config, layout.wasmtime_reservation_bytes);
    wt.wasmtime_config_memory_guard_size_set(config, layout.wasmtime_guard_bytes);
    wt.wasmtime_config_memory_reservation_for_growth_set(config, 0);
    wt.wasmtime_config_memory_may_move_set(config, false);
    // Copy-on-write initialisation conflicts with a host memory creator (Wasmtime aborts).
    wt.wasmtime_config_memory_init_cow_set(config, false);
    wt.wasmtime_config_signals_based_traps_set(config, true);
    // One memory per guest: the window. A module cannot define a second one behind our back.
    wt.wasmtime_config_wasm_multi_memory_set(config, false);
    // No bulk memory: Wasmtime runs memory.copy / memory.fill / memory.init as host library calls
    // that only check against the memory's size, and the whole window counts as inside it, so a
    // copy touching a PROT_NONE page (a free slot, the table, a read-only file) would fault in host
    // code and kill the process instead of trapping. Guests' memory.copy / memory.fill are
    // rewritten into calls of injected wasm functions before compiling (bulk_memory.zig), whose
    // plain loads and stores trap; the rewritten module needs no bulk memory. (Reference types and
    // what builds on them require bulk memory.)
    wt.wasmtime_config_wasm_bulk_memory_set(config, false);
    wt.wasmtime_config_wasm_reference_types_set(config, false);
    wt.wasmtime_config_wasm_function_references_set(config, false);
    wt.wasmtime_config_wasm_gc_set(config, false);
    wt.wasmtime_config_wasm_exceptions_set(config, false);
    wt.wasmtime_config_wasm_stack_switching_set(config, false);
    wt.wasmtime_config_wasm_component_model_async_set(config, false);
    wt.wasmtime_config_wasm_component_model_set(config, false);
    if (builtin.os.tag == .macos) {
        // Wasmtime's Mach exception port would displace JavaScriptCore's.
        wt.wasmtime_config_macos_use_mach_ports_set(config, false);
    }
    wt.wasmtime_config_host_memory_creator_set(config, &creator);
    // Per-call deadlines (ticker.zig): compiled code checks the epoch at function entries and loop
    // back-edges.
    wt.wasmtime_config_epoch_interruption_set(config, kind != .plain);
    // Fuel: every instruction costs one unit of a per-call budget (guest.zig set_fuel).
    wt.wasmtime_config_consume_fuel_set(config, kind == .metered);
    // Takes ownership of `config`.
    const created = wt.wasm_engine_new_with_config(config) orelse return fail(error.Wasmtime, "cannot create the Wasmtime engine", .{});
    engines[@intFromEnum(kind)] = created;
    return created;
}

fn new_memory(
    env: ?*anyopaque,
    ty: *const wt.MemoryType,
    minimum_bytes: usize,
    maximum_bytes: usize,
    reserved_size_bytes: usize,
    guard_size_bytes: usize,
    memory_ret: *wt.LinearMemory,
) callconv(.c) ?*wt.Error {
    _ = env;
    _ = maximum_bytes;
    const owner = pending_owner orelse
        return wt.wasmtime_error_new("vmwindow: a module defines its own memory; guests must import env.memory");
    const window = owner.window;
    if (wt.wasmtime_memorytype_is64(ty)) return wt.wasmtime_error_new("vmwindow: 64-bit memories are not supported by 32-bit windows");
    if (minimum_bytes != window.layout.window_bytes) return wt.wasmtime_error_new("vmwindow: provider memory size differs from the window");
    // Wasmtime's compiled code trusts that all of reserved + guard belongs to this memory.
    if (@max(reserved_size_bytes, minimum_bytes) + guard_size_bytes > layout.reservation_bytes) {
        return wt.wasmtime_error_new("vmwindow: Wasmtime asks for a larger reservation than the window has");
    }
    // The whole window, in whole wasm pages, inside the reservation Wasmtime's code relies on.
    assert(window.layout.window_bytes % layout.page_bytes == 0);
    assert(window.layout.window_bytes <= layout.reservation_bytes);
    // Only the provider instantiation is allowed to consume the pending owner.
    pending_owner = null;
    owner.memory_refs += 1;
    memory_ret.* = .{
        .env = owner,
        .get_memory = get_memory,
        .grow_memory = grow_memory,
        .finalizer = release_memory,
    };
    assert(owner.memory_refs > 0);
    return null;
}

fn get_memory(env: ?*anyopaque, byte_size: *usize, byte_capacity: *usize) callconv(.c) [*]u8 {
    const owner: *MemoryOwner = @ptrCast(@alignCast(env.?));
    // Wasmtime asks only for a memory it holds (counted until `release_memory`).
    assert(owner.memory_refs > 0);
    const window = owner.window;
    assert(window.layout.window_bytes <= layout.reservation_bytes);
    byte_size.* = window.layout.window_bytes;
    byte_capacity.* = window.layout.window_bytes;
    return window.base();
}

fn grow_memory(env: ?*anyopaque, new_size_bytes: usize) callconv(.c) ?*wt.Error {
    const owner: *MemoryOwner = @ptrCast(@alignCast(env.?));
    assert(owner.memory_refs > 0);
    const window = owner.window;
    if (new_size_bytes == window.layout.window_bytes) return null;
    return wt.wasmtime_error_new("vmwindow: the window's memory cannot grow");
}

fn release_memory(env: ?*anyopaque) callconv(.c) void {
    const owner: *MemoryOwner = @ptrCast(@alignCast(env.?));
    assert(owner.memory_refs > 0);
    owner.memory_refs -= 1;
}

/// The bytes of a module that defines and exports one memory of `pages` pages, min = max.
fn provider_bytes(buffer: *[64]u8, pages: u32) []const u8 {
    assert(pages > 0);
    assert(pages <= 65_536);
    const uleb_max_bytes = wasm_binary.uleb_max_bytes;
    var limits: [1 + 2 * uleb_max_bytes]u8 = undefined;
    limits[0] = 0x01; // flags: has maximum
    var limits_len: usize = 1;
    limits_len += wasm_binary.encode_uleb(limits[limits_len..][0..uleb_max_bytes], pages);
    limits_len += wasm_binary.encode_uleb(limits[limits_len..][0..uleb_max_bytes], pages);
    // At most 65536 pages: 3 LEB128 bytes each.
    assert(limits_len <= 1 + 2 * 3);

    var len: usize = 0;
    const header = wasm_binary.header;
    @memcpy(buffer[len..][0..header.len], &header);
    len += header.len;
    // Memory section: one memory.
    buffer[len] = 0x05;
    buffer[len + 1] = @intCast(1 + limits_len);
    buffer[len + 2] = 0x01;
    len += 3;
    @memcpy(buffer[len..][0..limits_len], limits[0..limits_len]);
    len += limits_len;
    // Export section: "memory" -> memory 0.
    const export_section = [_]u8{ 0x07, 0x0a, 0x01, 0x06, 'm', 'e', 'm', 'o', 'r', 'y', 0x02, 0x00 };
    @memcpy(buffer[len..][0..export_section.len], &export_section);
    len += export_section.len;
    assert(len == header.len + 3 + limits_len + export_section.len);
    return buffer[0..len];
}

var warmed_up = std.atomic.Value(bool).init(false);

/// Compiles one tiny function, once per process, when the first window is created: Wasmtime
/// compiles on a global thread pool that it starts on first use, and a pool that cannot start its
/// threads (the process at vm.max_map_count, so no thread stack can be mapped) is a Rust panic
/// that aborts the process. Started here, while the process can still map, it is there for every
/// later compile, which then fails with an error instead. Errors are ignored: compiling reports them.
pub fn warm_up() void {
    if (warmed_up.swap(true, .acq_rel)) return;
    const wasm_engine = get(.plain) catch return;
    // (module (func)): a type, a function, its empty body.
    const bytes = [_]u8{ 0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02, 0x01, 0x00, 0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b };
    var module: ?*wt.Module = null;
    if (wt.wasmtime_module_new(wasm_engine, &bytes, bytes.len, &module)) |err| {
        wt.wasmtime_error_delete(err);
        return;
    }
    wt.wasmtime_module_delete(module.?);
}

/// Provider modules by engine kind and window size, compiled once per process: Cranelift takes
/// ~1-5 ms even for this tiny module, which every new window would otherwise pay on its first guest.
const ProviderEntry = struct { kind: Kind, pages: u32, module: *wt.Module };
const providers_max = 16;
var providers: [providers_max]?ProviderEntry = @splat(null);
var providers_mutex: std.Thread.Mutex = .{};

/// A reference to the provider module for `pages` pages (the caller deletes it): the process's
/// copy for that size and kind, compiled once. (A full table, 16 sizes: a fresh, uncached one.)
fn provider_module(pages: u32, kind: Kind) Error!*wt.Module {
    assert(pages > 0);
    assert(pages <= 65_536);
    providers_mutex.lock();
    defer providers_mutex.unlock();
    var free_slot: ?usize = null;
    for (&providers, 0..) |*slot, index| {
        const entry = slot.* orelse {
            if (free_slot == null) free_slot = index;
            continue;
        };
        if (entry.kind != kind or entry.pages != pages) continue;
        return wt.wasmtime_module_clone(entry.module);
    }
    var buffer: [64]u8 = undefined;
    const bytes = provider_bytes(&buffer, pages);
    var module: ?*wt.Module = null;
    if (wt.wasmtime_module_new(try get(kind), bytes.ptr, bytes.len, &module)) |err| {
        return fail_wasmtime(error.Wasmtime, "cannot compile the window's memory provider", err);
    }
    if (free_slot) |index| {
        assert(providers[index] == null);
        providers[index] = .{ .kind = kind, .pages = pages, .module = wt.wasmtime_module_clone(module.?) };
    }
    return module.?;
}

/// Creates, inside `context`'s store, a Wasmtime memory that is `owner`'s window (counted in
/// `owner.memory_refs` until the store drops it). The store keeps the provider module alive.
pub fn window_memory(owner: *MemoryOwner, context: *wt.Context, kind: Kind) Error!wt.Extern {
    const module = try provider_module(owner.window.layout.pages(), kind);
    defer wt.wasmtime_module_delete(module);
    assert(pending_owner == null);
    const refs_before = owner.memory_refs;
    pending_owner = owner;
    defer pending_owner = null;

    var instance: wt.Instance = undefined;
    var trap: ?*wt.Trap = null;
    if (wt.wasmtime_instance_new(context, module, null, 0, &instance, &trap)) |err| {
        return fail_wasmtime(error.Wasmtime, "cannot create the window's memory", err);
    }
    assert(trap == null);
    // The provider's one memory was made by `new_memory`, over this owner's window.
    assert(pending_owner == null);
    assert(owner.memory_refs == refs_before + 1);
    var memory: wt.Extern = undefined;
    const found = wt.wasmtime_instance_export_get(context, &instance, "memory", "memory".len, &memory);
    assert(found);
    assert(memory.kind == wt.extern_kind_memory);
    return memory;
}

/// Stores Wasmtime's error message (prefixed by `what`) as the last error, frees `err`.
pub fn fail_wasmtime(result: Error, what: []const u8, err: *wt.Error) Error {
    assert(what.len > 0);
    var message: wt.ByteVec = .{ .size = 0, .data = null };
    wt.wasmtime_error_message(err, &message);
    defer wt.wasm_byte_vec_delete(&message);
    wt.wasmtime_error_delete(err);
    const text = if (message.data) |data| data[0..message.size] else "";
    var line_buffer: [errors.message_max_bytes]u8 = undefined;
    const out_of_memory = is_out_of_memory(text);
    const hint = if (std.mem.indexOf(u8, text, "bulk memory support is not enabled") != null)
        bulk_memory_hint
    else if (out_of_memory) out_of_memory_hint else "";
    // The hint must survive fail()'s buffer: the cause chain gives up what does not fit.
    assert(what.len + hint.len + 3 < line_buffer.len);
    const line = one_line(text, line_buffer[0 .. line_buffer.len - 1 - what.len - 2 - hint.len]);
    assert(what.len + 2 + line.len + hint.len < line_buffer.len);
    return fail(if (out_of_memory) error.OutOfMemory else result, "{s}: {s}{s}", .{ what, line, hint });
}

/// Wasmtime reports a failed allocation of code or store memory through its error text only.
fn is_out_of_memory(text: []const u8) bool {
    const markers = [_][]const u8{ "Cannot allocate memory", "os error 12", "out of memory" };
    for (markers) |marker| {
        if (std.mem.indexOf(u8, text, marker) != null) return true;
    }
    return false;
}

const out_of_memory_hint = " (out of memory: or the process reached vm.max_map_count mappings; each region takes about two: unmap regions, close windows, or raise vm.max_map_count)";

test is_out_of_memory {
    try std.testing.expect(is_out_of_memory("failed to mmap code: Cannot allocate memory (os error 12)"));
    try std.testing.expect(!is_out_of_memory("invalid WebAssembly module: magic header not detected"));
}

const bulk_memory_hint = " (vmwindow compiles guests without bulk memory: it rewrites memory.copy / memory.fill into wasm code, but the other bulk-memory and reference-types instructions and segments (table.copy, table.init, elem.drop, passive element segments) would run as host code: build without them, e.g. C and Zig with -mcpu=mvp+simd128+sign_ext+bulk_memory, Rust without +reference-types)";

/// Wasmtime's "A\n\nCaused by:\n    0: B\n    1: C" as "A: B: C", so the cause survives a
/// one-line report. A value Wasmtime prints over several lines (Rust's `{:#?}` of a list:
/// "expected=[\n    0x0,\n    0x61,\n]") stays one piece, "expected=[0x0, 0x61]", and runs of
/// spaces become one. What does not fit in `out` is cut and marked with "...".
fn one_line(text: []const u8, out: []u8) []const u8 {
    var line_out = LineOut{ .out = out };
    var lines = std.mem.splitScalar(u8, text, '\n');
    while (lines.next()) |raw| {
        const trimmed = std.mem.trim(u8, raw, " \t\r");
        if (trimmed.len == 0 or std.mem.eql(u8, trimmed, "Caused by:")) continue;
        if (!line_out.piece(traps.strip_cause_number(trimmed))) break;
    }
    assert(line_out.len <= out.len);
    return out[0..line_out.len];
}

/// one_line's output: pieces joined by ": ", or by nothing/" " inside a bracketed list.
const LineOut = struct {
    out: []u8,
    len: usize = 0,

    /// Appends one trimmed, non-empty line; false (after marking the cut) when it does not fit.
    fn piece(self: *LineOut, line: []const u8) bool {
        assert(line.len > 0);
        assert(self.len <= self.out.len);
        const last: u8 = if (self.len == 0) 0 else self.out[self.len - 1];
        // "...,\n]": the list's last comma goes.
        if (line[0] == ']' and last == ',') self.len -= 1;
        const separator = if (self.len == 0 or last == '[' or line[0] == ']') "" else if (last == ',') " " else ": ";
        if (!self.append(separator)) return false;
        var words = std.mem.tokenizeAny(u8, line, " \t");
        var first = true;
        while (words.next()) |word| : (first = false) {
            if (!first and !self.append(" ")) return false;
            if (!self.append(word)) return false;
        }
        return true;
    }

    fn append(self: *LineOut, bytes: []const u8) bool {
        const ellipsis = "...";
        if (self.len + bytes.len > self.out.len) {
            if (self.out.len >= ellipsis.len) {
                self.len = @min(self.len, self.out.len - ellipsis.len);
                // No separator left dangling before the mark: "abc...", not "abc: ...".
                self.len = std.mem.trimRight(u8, self.out[0..self.len], ":, ").len;
                @memcpy(self.out[self.len..][0..ellipsis.len], ellipsis);
                self.len += ellipsis.len;
            }
            return false;
        }
        @memcpy(self.out[self.len..][0..bytes.len], bytes);
        self.len += bytes.len;
        return true;
    }
};

test "Wasmtime's error chains become one line" {
    var buffer: [256]u8 = undefined;
    const text = "failed to compile: wasm[0]::function[52]\n\nCaused by:\n    0: WebAssembly translation error\n    1: Invalid input WebAssembly code at offset 4221: bulk memory support is not enabled\n";
    try std.testing.expectEqualStrings("failed to compile: wasm[0]::function[52]: WebAssembly translation error: Invalid input WebAssembly code at offset 4221: bulk memory support is not enabled", one_line(text, &buffer));
    try std.testing.expectEqualStrings("plain", one_line("plain", &buffer));
    try std.testing.expectEqualStrings("abc...", one_line("abc\n\nCaused by:\n    0: 0123456789", buffer[0..8]));
    // Wasmtime 49's text for a file that is not wasm, and for a wrong version.
    const magic = "failed to parse WebAssembly module\n\nCaused by:\n    magic header not detected: bad magic number - expected=[\n    0x0,\n    0x61,\n    0x73,\n    0x6d,\n] actual=[\n    0x7b,\n    0x22,\n] (at offset 0x0)";
    try std.testing.expectEqualStrings("failed to parse WebAssembly module: magic header not detected: bad magic number - expected=[0x0, 0x61, 0x73, 0x6d] actual=[0x7b, 0x22] (at offset 0x0)", one_line(magic, &buffer));
    try std.testing.expectEqualStrings("unknown binary version: 0x2 (at offset 0x4)", one_line("unknown binary version:        0x2 (at offset 0x4)", &buffer));
}

test "provider module bytes" {
    var buffer: [64]u8 = undefined;
    const bytes = provider_bytes(&buffer, 32_768);
    // 32768 = 0x8000 -> LEB128 80 80 02
    const expected = [_]u8{ 0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 0x05, 0x08, 0x01, 0x01, 0x80, 0x80, 0x02, 0x80, 0x80, 0x02, 0x07, 0x0a, 0x01, 0x06, 'm', 'e', 'm', 'o', 'r', 'y', 0x02, 0x00 };
    try std.testing.expectEqualSlices(u8, &expected, bytes);
}
