//! Guests: WebAssembly modules instantiated over a window, each in its own Wasmtime store, with
//! exports resolved once and calls through Wasmtime's unchecked fast path.
//!
//! Several guests may share one window. They run one at a time (a window is one address space and
//! every guest's static data sits at the same guest address, `layout.guest_base`), so each guest
//! owns a shared-memory file for its guest area, and a call that enters a different guest than the
//! last one maps that guest's file over `[guest_base, slots_base)` first: one `mmap` per switch.
//! Regions (the slots) and the table are the window's and are seen by every guest.
//!
//! Creating a guest is staged so hosts can add their own imports before instantiation:
//! `compile` -> `define_import`* -> `instantiate`. `create` does compile + instantiate.
//!
//! Host functions every guest may import (host_functions.zig):
//!   env.abort(msg, file, line, column)   AssemblyScript's abort: traps "abort: msg at file:line:col"
//!   env.seed() -> f64                    AssemblyScript's Math.random seed
//!   vmw.log(level, ptr, len)             UTF-8 text; discarded unless the host defines vmw.log
//!   vmw.flush(id) -> i32                 msync a writable region (if the guest's policy allows)
//!   vmw.map(name_ptr, name_len, access) -> i32   host-requested mapping: refused (-1) unless the
//!                                        host defines vmw.map itself (hosts' imports shadow these)

const std = @import("std");
const assert = std.debug.assert;
const posix = std.posix;

const abi = @import("vmwindow_abi");
const wt = @import("wasmtime.zig");
const errors = @import("errors.zig");
const engine = @import("engine.zig");
const faults = @import("faults.zig");
const layout = @import("layout.zig");
const ticker = @import("ticker.zig");
const interrupts = @import("interrupts.zig");
const os = @import("os.zig").impl;
const table_module = @import("table.zig");
const Window = @import("window.zig").Window;
const Error = errors.Error;
const fail = errors.fail;
const traps = @import("traps.zig");
const host_functions = @import("host_functions.zig");
const builtins = host_functions.Bind(Guest);
const module_check = @import("module_check.zig");
const module_mod = @import("module.zig");
const Module = module_mod.Module;
const fail_trap = traps.fail_trap;
const fail_trap_text = traps.fail_trap_text;
const byte_vec_slice = traps.byte_vec_slice;

/// The fuel of a metered guest before the host sets a budget: effectively unlimited.
const fuel_unlimited: u64 = std.math.maxInt(u64) / 2;
/// Fuel for the shadow-stack reset after a failed call (it is a handful of instructions).
const reset_fuel: u64 = 1_000;

/// Arguments and results of one call share this many 16-byte value slots.
pub const values_max = module_mod.values_max;
/// Exports a guest can resolve (functions looked up by name, each once): above what any module
/// has (Wasmtime's parser refuses more than 100,000 exports), so it bounds only a host that
/// resolves the same names again and again.
pub const exports_max = 1 << 20;
/// Host-defined imports per guest.
pub const imports_max = 64;
/// "module.name" of a host-defined import, for messages.
pub const import_label_max_bytes = 64;
/// Guests alive at once in one window.
pub const guests_per_window_max = 64;

/// Policy bits (`vmw_guest_set_policy`), defined with the built-ins they govern.
pub const policy_flush = host_functions.policy_flush;
pub const policy_all = host_functions.policy_all;

/// Results of the `vmw.*` built-in host functions, as the guest sees them.
pub const host_refused = host_functions.host_refused;
pub const host_not_mapped = host_functions.host_not_mapped;
pub const host_failed = host_functions.host_failed;

/// A deadline of "never": far beyond any epoch the ticker reaches, far from u64 overflow.
const deadline_never_ticks: u64 = 1 << 62;

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
    // `resolve_all` resolves every function export of a module at once: always within the bound.
    assert(module_mod.wasm_exports_max <= exports_max);
}

/// `vmw_host_callback_t`: runs a host-defined import. Arguments are in `vmw_guest_host_values`
/// slots 0..param_count-1; it writes results to slots 0..result_count-1 and returns 0, or returns
/// non-zero to make the guest trap.
pub const HostCallback = *const fn (user_data: ?*anyopaque, import_index: u32) callconv(.c) i32;

const Export = struct {
    func: wt.Func,
    values_len: u32,
};

pub const Import = struct {
    guest: *Guest,
    index: u32,
    param_count: u32,
    result_count: u32,
    label_len: u32,
    label: [import_label_max_bytes]u8,
};

/// The guests of one window (found by the window in `sets`: window.zig knows nothing of guests).
const GuestSet = struct {
    /// The window, and the Wasmtime memories its guests' stores hold (engine.zig).
    memory: engine.MemoryOwner,
    head: ?*Guest = null,
    count: u32 = 0,
    /// The guest whose area file is mapped at `[guest_base, slots_base)`, if any.
    active: ?*Guest = null,
    /// A call (or an instantiation) into one of these guests is on the stack: a host function must
    /// not enter another one (that would swap the guest area under the running guest).
    running: bool = false,

    /// The set's invariants between operations (no walk of the list: cheap enough for any change).
    fn assert_invariants(set: *const GuestSet) void {
        assert(set.count >= 1);
        assert(set.count <= guests_per_window_max);
        assert(set.head != null);
        // Each guest's store holds exactly one Wasmtime memory over the window (engine.zig).
        assert(set.memory.memory_refs == set.count);
        if (set.active) |active| assert(active.set == set);
    }

    /// `assert_invariants` and a walk of the list (at most `guests_per_window_max` guests): `count`
    /// guests, each of this set and window, `active` among them. After the list changes.
    fn verify(set: *const GuestSet) void {
        set.assert_invariants();
        var listed: u32 = 0;
        var active_listed = set.active == null;
        var link = set.head;
        while (link) |guest| : (link = guest.next) {
            assert(guest.set == set);
            assert(guest.window == set.memory.window);
            listed += 1;
            assert(listed <= set.count);
            if (set.active == guest) active_listed = true;
        }
        assert(listed == set.count);
        assert(active_listed);
    }
};

/// Every window's guest set, by window (windows of several threads: under `sets_mutex`). Looked up
/// only when guests are made or a window is destroyed; a guest keeps its set's address.
var sets: std.AutoHashMapUnmanaged(*const Window, *GuestSet) = .empty;
var sets_mutex: std.Thread.Mutex = .{};
const sets_allocator = std.heap.c_allocator;

fn find_set(window: *const Window) ?*GuestSet {
    sets_mutex.lock();
    defer sets_mutex.unlock();
    const set = sets.get(window) orelse return null;
    assert(set.memory.window == window);
    return set;
}

fn guest_set(window: *Window) Error!*GuestSet {
    if (find_set(window)) |set| return set;
    const set = window.allocator.create(GuestSet) catch return fail(error.OutOfMemory, "out of memory allocating the window's guest list", .{});
    errdefer window.allocator.destroy(set);
    set.* = .{ .memory = .{ .window = window } };
    sets_mutex.lock();
    defer sets_mutex.unlock();
    sets.put(sets_allocator, window, set) catch return fail(error.OutOfMemory, "out of memory recording the window's guest list", .{});
    assert(set.memory.window == window);
    assert(set.count == 0 and set.head == null and set.active == null);
    return set;
}

/// Whether a call into (or the instantiation of) a guest of `window` is on the stack: the window
/// and its guests cannot be destroyed then (a host function is running inside that call).
pub fn window_running(window: *const Window) bool {
    const set = find_set(window) orelse return false;
    // A set exists only while it has guests (or one is being made), and only they run.
    assert(!set.running or set.count > 0);
    return set.running;
}

/// Destroys every guest of `window` (for `vmw_window_destroy`); Busy while one of them runs.
pub fn destroy_all(window: *Window) Error!void {
    if (window_running(window)) {
        return fail(error.Busy, "a guest of this window is running: a host function cannot close the window; close it after the call returns", .{});
    }
    while (find_set(window)) |set| {
        assert(!set.running);
        assert(set.count > 0);
        // The last free frees the set and forgets it.
        set.head.?.free();
    }
    assert(!window_running(window));
}

/// One guest. Its lifecycle (checked by `assert_invariants` after every change):
///
///   prepared      `compile` / `prepare`: a store with the window as its memory, and a linker
///                 (`linker != null`, `instantiated == false`, no exports). `define_import` adds
///                 host imports, only in this stage (`import_count` grows to at most `imports_max`).
///   instantiated  `instantiate` succeeded: the linker is gone (`linker == null`), the instance is
///                 live; `find_export` / `resolve_all` grow `exports`, `call` runs them. A failed
///                 `instantiate` (link error, trapping start function) leaves the guest prepared.
///   destroyed     `destroy` (or `destroy_all` for its window): freed; it leaves its set's list,
///                 and the set's last guest frees the set.
///
/// In any stage: `set_timeout` gives it a deadline (`deadline_ticks != 0` iff `timeout_ms != 0`) and
/// `interrupt_token` an interrupt slot, both only in an engine with epoch interruption (not
/// `.plain`); `set_fuel` only for `.metered`. Each deadline and each interrupt slot holds the ticker.
///
/// In its set: `set.head` lists the window's guests through `next`; `set.active` is the guest whose
/// area file is mapped at `[guest_base, slots_base)` (made so by `activate`, before any guest code
/// runs); `set.running` is true exactly while guest code of the set runs (a call, a start function,
/// the shadow-stack reset), which host functions check to refuse re-entering the window.
pub const Guest = struct {
    /// What host_functions.zig's host_import is given (see `Import`).
    pub const ImportRecord = Import;

    window: *Window,
    set: *GuestSet,
    next: ?*Guest,
    store: *wt.Store,
    context: *wt.Context,
    /// One reference to the compiled module (module.zig), shared with other guests and windows.
    module: *Module,
    /// Alive from `compile` until `instantiate`.
    linker: ?*wt.Linker,
    instance: wt.Instance,
    instantiated: bool,
    /// This guest's guest area (static data, stack, heap), mapped into the window while active.
    area_fd: os.Handle,
    /// Resolved exports, indexed by `ExportInfo.index`; grows as `find_export` resolves them.
    exports: std.ArrayListUnmanaged(Export),
    imports: [imports_max]Import,
    import_count: u32,
    host_callback: ?HostCallback,
    host_user_data: ?*anyopaque,
    /// Which engine compiled it: only `.interruptible` and `.metered` guests (epoch interruption)
    /// can have deadlines.
    engine_kind: engine.Kind,
    /// 0: no deadline. Otherwise every call gets this many epoch ticks.
    deadline_ticks: u64,
    /// `.metered` guests: the fuel (about one unit per wasm instruction) each call starts with.
    fuel_per_call: u64,
    timeout_ms: u32,
    /// The ticker's count when the current run of guest code (a call, or instantiation) began,
    /// for the deadline checks outside Wasmtime's own (`host_deadline_passed`, `on_epoch_deadline`).
    run_started_ticks: u64,
    /// The `deadline_ticks` and `timeout_ms` the current run was armed with (`arm_limits`): what
    /// those checks and the run's error use, so a `set_timeout` from a host function during the run
    /// applies from the next run on (run_started_ticks is only read for a run armed with a deadline).
    run_deadline_ticks: u64,
    run_timeout_ms: u32,
    /// The `fuel_per_call` the current run was armed with, for its out-of-fuel error.
    run_fuel: u64,
    /// `set_timeout(0)` during this guest's own run: the deadline's hold on the ticker (and the
    /// store's epoch deadline) go when the run ends, so the running call keeps its deadline.
    ticker_release_pending: bool,
    /// The host import during which the current run's deadline passed, if one did.
    timed_out_in: ?*const Import,
    /// Its slot in interrupts.zig once the host asked for an interrupt token (`interrupt_token`).
    interrupt_slot: ?u32,
    /// Why the epoch-deadline callback stopped the current run, if it did.
    stopped_by: enum { none, deadline, interrupt },
    policy: u32,
    /// Arguments in, results out; the host writes and reads it directly (`vmw_guest_values`).
    values: [values_max]wt.ValRaw align(16),
    /// Arguments and results of a host-defined import while it runs (`vmw_guest_host_values`).
    host_values: [values_max]wt.ValRaw align(16),
    /// The SDK runtime's `__vmw_reset_stack` export, called after a failed call (see runtime/reset.ts).
    reset_stack: ?wt.Func,
    /// An AssemblyScript module (it imports `env.abort`) that does not export the SDK runtime's
    /// `__vmw_reset_stack`: built with asc's stock runtime, which explains some traps (traps.Hints).
    stock_assemblyscript: bool,

    /// The guest's invariants (see the lifecycle above), after each change of its state. A few
    /// loads and compares: not called on the per-call path (`call` checks what it relies on).
    fn assert_invariants(guest: *const Guest) void {
        assert(guest.set.memory.window == guest.window);
        assert(guest.module.engine_kind == guest.engine_kind);
        assert(guest.import_count <= imports_max);
        assert(guest.exports.items.len <= exports_max);
        // The linker lives from `prepare` until `instantiate` succeeds, and only then.
        assert(guest.instantiated == (guest.linker == null));
        assert(guest.instantiated or (guest.exports.items.len == 0 and guest.reset_stack == null));
        assert((guest.deadline_ticks == 0) == (guest.timeout_ms == 0));
        assert(guest.deadline_ticks == 0 or guest.engine_kind != .plain);
        assert((guest.run_deadline_ticks == 0) == (guest.run_timeout_ms == 0));
        assert(guest.run_deadline_ticks == 0 or guest.engine_kind != .plain);
        // A release is pending only while the run it belongs to is on the stack.
        assert(!guest.ticker_release_pending or guest.running());
        assert(guest.interrupt_slot == null or guest.engine_kind != .plain);
        assert(guest.fuel_per_call > 0);
        assert(guest.engine_kind == .metered or guest.fuel_per_call == fuel_unlimited);
        assert(guest.policy & ~policy_all == 0);
    }

    /// Compiles `wasm` (or takes it from the process's module cache) and prepares a store over the
    /// window; the guest is not instantiated yet. Only an `.interruptible` guest accepts a deadline
    /// (set_timeout); a `.plain` one runs faster.
    pub fn compile(window: *Window, wasm: []const u8, engine_kind: engine.Kind) Error!*Guest {
        if (wasm.len == 0) return fail(error.BadModule, "the module is empty (0 bytes)", .{});
        // Refuse before compiling what could not be prepared anyway.
        if (find_set(window)) |set| try check_room(set);
        const compiled = try module_mod.compile(wasm, engine_kind, null, null);
        defer compiled.release();
        assert(compiled.engine_kind == engine_kind);
        const guest = try prepare(window, compiled);
        assert(guest.module == compiled and guest.engine_kind == engine_kind);
        return guest;
    }

    /// Prepares a store over the window for a compiled module (which it keeps a reference to); the
    /// guest is not instantiated yet. No compilation: the engine kind is the module's.
    pub fn prepare(window: *Window, compiled: *Module) Error!*Guest {
        const set = try guest_set(window);
        errdefer if (set.count == 0) free_set(window, set);
        try check_room(set);
        // Data segments are written by host code: they must land in this window's guest area.
        try module_check.check_extent(compiled.data_extent, layout.guest_base, window.layout.slots_base);
        const count_before = set.count;
        assert(count_before < guests_per_window_max);
        const engine_kind = compiled.engine_kind;
        const wasm_engine = try engine.get(engine_kind);

        const guest = window.allocator.create(Guest) catch return fail(error.OutOfMemory, "out of memory allocating a guest", .{});
        errdefer window.allocator.destroy(guest);

        const area_fd = os.shared_memory_file("vmwindow-guest-area", window.layout.guest_bytes) catch |err|
            return fail(error.OutOfMemory, "cannot create the guest's {d}-byte area: {s}", .{ window.layout.guest_bytes, @errorName(err) });
        errdefer os.close(area_fd);

        const store = try new_store(wasm_engine, engine_kind);
        errdefer wt.wasmtime_store_delete(store);
        const context = wt.wasmtime_store_context(store);
        const linker = try new_linker(set, wasm_engine, context, engine_kind);
        errdefer wt.wasmtime_linker_delete(linker);

        guest.* = .{
            .window = window,
            .set = set,
            .next = set.head,
            .store = store,
            .context = context,
            .module = compiled.acquire(),
            .linker = linker,
            .instance = undefined,
            .instantiated = false,
            .area_fd = area_fd,
            .exports = .empty,
            .imports = undefined,
            .import_count = 0,
            .host_callback = null,
            .host_user_data = null,
            .engine_kind = engine_kind,
            .deadline_ticks = 0,
            .fuel_per_call = fuel_unlimited,
            .timeout_ms = 0,
            .run_started_ticks = 0,
            .run_deadline_ticks = 0,
            .run_timeout_ms = 0,
            .run_fuel = fuel_unlimited,
            .ticker_release_pending = false,
            .timed_out_in = null,
            .interrupt_slot = null,
            .stopped_by = .none,
            .policy = 0,
            .values = std.mem.zeroes([values_max]wt.ValRaw),
            .host_values = std.mem.zeroes([values_max]wt.ValRaw),
            .reset_stack = null,
            .stock_assemblyscript = compiled.assemblyscript and !compiled.exports_reset_stack,
        };
        errdefer guest.module.release();
        try builtins.define_builtins(linker, guest);

        set.head = guest;
        set.count += 1;
        assert(set.head == guest);
        assert(set.count == count_before + 1);
        guest.assert_invariants();
        set.verify();
        return guest;
    }

    /// compile + instantiate, for hosts without imports of their own.
    pub fn create(window: *Window, wasm: []const u8) Error!*Guest {
        const guest = try compile(window, wasm, .plain);
        errdefer guest.free();
        try guest.instantiate();
        assert(guest.instantiated);
        return guest;
    }

    /// Defines import `module_name.name` with the given value kinds, run by the host callback;
    /// returns the index the callback receives. Only before `instantiate`.
    pub fn define_import(guest: *Guest, module_name: []const u8, name: []const u8, params: []const u8, results: []const u8) Error!u32 {
        if (guest.instantiated) return fail(error.InvalidArgument, "imports must be defined before the guest is instantiated", .{});
        if (guest.import_count == imports_max) return fail(error.Unsupported, "more than {d} host imports on one guest", .{imports_max});
        if (params.len > values_max or results.len > values_max) {
            return fail(error.Unsupported, "import {s}.{s} has {d} parameters and {d} results; at most {d} each are supported", .{ module_name, name, params.len, results.len, values_max });
        }
        for (params) |kind| _ = try numeric_kind(name, kind);
        for (results) |kind| _ = try numeric_kind(name, kind);
        if (module_name.len == 0 or name.len == 0) return fail(error.InvalidArgument, "an import needs a module and a name", .{});
        assert(guest.linker != null);
        assert(params.len <= values_max and results.len <= values_max);

        const index = guest.import_count;
        assert(index < imports_max);
        const import = &guest.imports[index];
        import.* = .{
            .guest = guest,
            .index = index,
            .param_count = @intCast(params.len),
            .result_count = @intCast(results.len),
            .label_len = 0,
            .label = undefined,
        };
        const label = std.fmt.bufPrint(&import.label, "{s}.{s}", .{ module_name, name }) catch import.label[0..];
        import.label_len = @intCast(label.len);
        try host_functions.define(guest.linker.?, module_name, name, params, results, builtins.host_import, import);
        guest.import_count += 1;
        assert(guest.import_count == index + 1);
        assert(import.label_len <= import_label_max_bytes);
        guest.assert_invariants();
        return index;
    }

    /// Any callback (or none: a host import then traps), from any stage, even from a host function.
    pub fn set_host_callback(guest: *Guest, callback: ?HostCallback, user_data: ?*anyopaque) void {
        guest.assert_invariants();
        guest.host_callback = callback;
        guest.host_user_data = user_data;
    }

    /// Links and instantiates the compiled guest (runs its start function).
    pub fn instantiate(guest: *Guest) Error!void {
        if (guest.instantiated) return fail(error.InvalidArgument, "the guest is already instantiated", .{});
        const set = guest.set;
        if (set.running) return fail(error.Busy, "a guest of this window is running; a host function cannot instantiate a guest", .{});
        guest.assert_invariants();
        // Data segments are written into the guest area: it must be this guest's.
        try guest.activate();
        // The start function runs under the same deadline and fuel as any call.
        try guest.arm_limits();
        const linker = guest.linker.?;
        var trap: ?*wt.Trap = null;
        set.running = true;
        faults.enter_guest(guest.window.fault_slot);
        const err_opt = wt.wasmtime_linker_instantiate(linker, guest.context, guest.module.wasm_module, &guest.instance, &trap);
        faults.leave_guest(guest.window.fault_slot);
        // The start function's host functions can neither enter nor switch to another guest.
        assert(set.running and set.active == guest);
        set.running = false;
        if (guest.ticker_release_pending) guest.release_ticker_after_run();
        if (err_opt != null or trap != null) {
            // The guest stays prepared: its linker is kept (see the lifecycle on `Guest`).
            assert(!guest.instantiated and guest.linker == linker);
            // A truncated file's fault marks its region damaged in the table now, as a call's does.
            _ = guest.window.absorb_faults();
            if (err_opt) |err| {
                if (guest.timed_out_in == null) return engine.fail_wasmtime(error.Link, "cannot instantiate the guest", err);
            }
            return guest.run_error(.start, err_opt, trap);
        }
        wt.wasmtime_linker_delete(linker);
        guest.linker = null;
        guest.instantiated = true;
        var reset: wt.Extern = undefined;
        const reset_name = abi.reset_stack_export;
        if (wt.wasmtime_instance_export_get(guest.context, &guest.instance, reset_name.ptr, reset_name.len, &reset) and reset.kind == wt.extern_kind_func) {
            guest.reset_stack = reset.of.func;
        }
        assert(guest.exports.items.len == 0);
        guest.assert_invariants();
    }

    /// Destroys the guest; Busy while a guest of its window runs (from inside a host function).
    pub fn destroy(guest: *Guest) Error!void {
        if (guest.set.running) {
            return fail(error.Busy, "a guest of this window is running: a host function cannot close a guest of the same window; close it after the call returns", .{});
        }
        guest.free();
    }

    fn free(guest: *Guest) void {
        const window = guest.window;
        const set = guest.set;
        assert(set.memory.window == window);
        assert(!set.running);
        assert(set.count > 0);
        guest.assert_invariants();
        set.verify();
        const count_before = set.count;
        assert(!guest.ticker_release_pending);
        if (guest.deadline_ticks != 0) ticker.release();
        if (guest.interrupt_slot) |slot| {
            interrupts.release(slot);
            ticker.release();
        }
        if (guest.linker) |linker| wt.wasmtime_linker_delete(linker);
        wt.wasmtime_store_delete(guest.store);
        guest.module.release();

        var link: *?*Guest = &set.head;
        while (link.*) |item| : (link = &item.next) {
            if (item == guest) break;
        } else unreachable;
        link.* = guest.next;
        set.count -= 1;

        if (set.active == guest) {
            // Drop this guest's pages from the window; zeros until the next guest is entered.
            os.map_anonymous(window.base() + layout.guest_base, window.layout.guest_bytes) catch {};
            set.active = null;
        }
        os.close(guest.area_fd);
        guest.exports.deinit(window.allocator);
        window.allocator.destroy(guest);
        assert(set.count == count_before - 1);
        assert(set.active != guest);
        if (set.count == 0) free_set(window, set) else set.verify();
    }

    /// Every later call gets `timeout_ms` (0: none) before it traps with `error.Timeout`.
    pub fn set_timeout(guest: *Guest, timeout_ms: u32) Error!void {
        if (timeout_ms > ticker.deadline_max_ms) {
            return fail(error.InvalidArgument, "timeout {d} ms is longer than the maximum {d} ms", .{ timeout_ms, ticker.deadline_max_ms });
        }
        if (guest.engine_kind == .plain) {
            return fail(error.Unsupported, "this guest was instantiated without deadline support: instantiate it with interruptible: true or a timeoutMs (C: compile with VMW_GUEST_INTERRUPTIBLE)", .{});
        }
        const had_deadline = guest.deadline_ticks != 0;
        if (timeout_ms != 0 and !had_deadline) {
            ticker.acquire(try engine.get(guest.engine_kind)) catch return fail(error.OutOfMemory, "cannot start the epoch ticker thread", .{});
        }
        if (timeout_ms == 0 and had_deadline) {
            if (!guest.running()) {
                ticker.release();
                wt.wasmtime_context_set_epoch_deadline(guest.context, deadline_never_ticks);
            } else if (!guest.ticker_release_pending) {
                // From a host function of this guest's own run: that run keeps its deadline, and
                // the deadline's hold on the ticker goes when the run ends.
                guest.ticker_release_pending = true;
            } else {
                // A hold already waits for the run's end and keeps the ticker going: this one goes now.
                ticker.release();
            }
        }
        guest.timeout_ms = timeout_ms;
        guest.deadline_ticks = if (timeout_ms == 0) 0 else ticker.deadline_ticks(timeout_ms);
        // The ticks cover the whole timeout (rounded up, plus the tick under way).
        assert(guest.deadline_ticks == 0 or guest.deadline_ticks * ticker.tick_ms > timeout_ms);
        guest.assert_invariants();
    }

    /// Every later call starts with `fuel` units (about one per wasm instruction) and traps with
    /// `error.Timeout` when they run out. Only guests compiled `.metered`.
    pub fn set_fuel(guest: *Guest, fuel: u64) Error!void {
        if (guest.engine_kind != .metered) {
            return fail(error.Unsupported, "this guest was instantiated without fuel metering: instantiate it with a fuel budget (C: compile with VMW_GUEST_METERED)", .{});
        }
        if (fuel == 0) return fail(error.InvalidArgument, "fuel must be positive", .{});
        guest.fuel_per_call = fuel;
        guest.assert_invariants();
    }

    pub fn set_policy(guest: *Guest, policy: u32) Error!void {
        if (policy & ~policy_all != 0) return fail(error.InvalidArgument, "unknown policy bits 0x{x}", .{policy & ~policy_all});
        guest.policy = policy;
        guest.assert_invariants();
    }

    /// Resolves an exported function once; later calls use `info.index`.
    pub fn find_export(guest: *Guest, name: []const u8) Error!ExportInfo {
        if (!guest.instantiated) return fail(error.InvalidArgument, "the guest is not instantiated yet", .{});
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

        if (guest.exports.items.len == exports_max) {
            return fail(error.Unsupported, "more than {d} exports resolved on one guest (resolve each name once)", .{exports_max});
        }
        info.index = @intCast(guest.exports.items.len);
        guest.exports.append(guest.window.allocator, .{
            .func = item.of.func,
            .values_len = @max(info.param_count, info.result_count),
        }) catch return fail(error.OutOfMemory, "out of memory resolving export \"{s}\"", .{name});
        assert(guest.exports.items.len <= exports_max);
        assert(guest.exports.items.len == info.index + 1);
        assert(guest.exports.items[info.index].values_len <= values_max);
        guest.assert_invariants();
        return info;
    }

    /// Resolves every exported function in export order (as `find_export` each, skipping those
    /// with unsupported value types), so a host that already knows the module's exports (another
    /// guest of the same module) gets the same indices with one call. Returns how many resolved.
    pub fn resolve_all(guest: *Guest) Error!u32 {
        if (!guest.instantiated) return fail(error.InvalidArgument, "the guest is not instantiated yet", .{});
        if (guest.exports.items.len != 0) return fail(error.InvalidArgument, "the guest has resolved exports already ({d})", .{guest.exports.items.len});
        const listed = guest.module.func_exports;
        // Wasmtime refuses modules with more exports than that (module.zig `wasm_exports_max`).
        assert(listed.len <= module_mod.wasm_exports_max);
        guest.exports.ensureTotalCapacity(guest.window.allocator, listed.len) catch return fail(error.OutOfMemory, "out of memory resolving exports", .{});
        for (listed) |entry| {
            // By name: Wasmtime's export_nth walks the exports from the first (O(n) per call).
            var item: wt.Extern = undefined;
            const found = wt.wasmtime_instance_export_get(guest.context, &guest.instance, entry.name.ptr, entry.name.len, &item);
            assert(found);
            assert(item.kind == wt.extern_kind_func);
            assert(entry.values_len <= values_max);
            guest.exports.appendAssumeCapacity(.{ .func = item.of.func, .values_len = entry.values_len });
        }
        assert(guest.exports.items.len == listed.len);
        guest.assert_invariants();
        return @intCast(listed.len);
    }

    /// The name and kind (`wt.extern_kind_*`) of export number `index`, or NotFound past the end.
    pub fn export_nth(guest: *Guest, index: u32) Error!struct { name: []const u8, kind: u8 } {
        if (!guest.instantiated) return fail(error.InvalidArgument, "the guest is not instantiated yet", .{});
        var name_ptr: [*]const u8 = undefined;
        var name_len: usize = 0;
        var item: wt.Extern = undefined;
        if (!wt.wasmtime_instance_export_nth(guest.context, &guest.instance, index, &name_ptr, &name_len, &item)) {
            return fail(error.NotFound, "the guest has no export number {d}", .{index});
        }
        return .{ .name = name_ptr[0..name_len], .kind = item.kind };
    }

    /// Calls export `index` with the arguments in `values`; the results replace them.
    /// The per-call path (~20 ns): its assertions are a few loads and compares.
    pub fn call(guest: *Guest, index: u32) Error!void {
        if (index >= guest.exports.items.len) {
            return fail(error.InvalidArgument, "export index {d} was never resolved ({d} resolved)", .{ index, guest.exports.items.len });
        }
        // Exports are resolved only once instantiated.
        assert(guest.instantiated);
        const set = guest.set;
        if (set.running) return fail(error.Busy, "a guest of this window is already running: a host function cannot call into a guest of the same window", .{});
        if (set.active != guest) try guest.activate();
        try guest.arm_limits();

        const target = &guest.exports.items[index];
        // The unchecked call reads the arguments from, and writes the results to, `values`.
        assert(target.values_len <= values_max);
        var trap: ?*wt.Trap = null;
        set.running = true;
        faults.enter_guest(guest.window.fault_slot);
        const err_opt = wt.wasmtime_func_call_unchecked(guest.context, &target.func, &guest.values, target.values_len, &trap);
        faults.leave_guest(guest.window.fault_slot);
        // Host functions of the call can neither enter nor switch to another guest of the set.
        assert(set.running and set.active == guest);
        set.running = false;
        if (guest.ticker_release_pending) guest.release_ticker_after_run();
        if (err_opt != null or trap != null) return guest.call_failed(err_opt, trap);
    }

    /// Turns a failed call into an error: a timeout, a trap (with the region named when the fault
    /// was a file that shrank under its region), or a host function's trap.
    fn call_failed(guest: *Guest, err_opt: ?*wt.Error, trap: ?*wt.Trap) Error {
        assert(!guest.set.running);
        assert(guest.set.active == guest);
        // Faults first: a trap's description names a region whose file shrank as damaged.
        const damaged_id = guest.window.absorb_faults();
        const result = guest.run_error(.call, err_opt, trap);
        guest.reset_shadow_stack();
        if (damaged_id == 0 or result != error.Trap) return result;
        var original: [errors.message_max_bytes]u8 = undefined;
        const message = errors.last_message_slice();
        const kept = original[0..message.len];
        @memcpy(kept, message);
        const reason = if (std.mem.startsWith(u8, kept, "guest trapped: ")) kept["guest trapped: ".len..] else kept;
        return fail(error.Trap, "guest trapped: region {d}'s file is shorter than when it was mapped (truncated by another process?): {s}", .{ damaged_id, reason });
    }

    /// A trap skipped the epilogues that give AssemblyScript's shadow stack back; no guest frame is
    /// live now, so put its pointer back to the top. Failures are ignored (the call already failed).
    fn reset_shadow_stack(guest: *Guest) void {
        const reset = guest.reset_stack orelse return;
        assert(guest.instantiated and !guest.set.running);
        // It resets the stack pointer in this guest's area, which must be the one mapped.
        assert(guest.set.active == guest);
        var values: [1]wt.ValRaw = undefined;
        var trap: ?*wt.Trap = null;
        // After a timeout the deadline has passed and after running out of fuel none is left:
        // either would stop the reset at its entry.
        if (guest.engine_kind != .plain) wt.wasmtime_context_set_epoch_deadline(guest.context, deadline_never_ticks);
        if (guest.engine_kind == .metered) {
            if (wt.wasmtime_context_set_fuel(guest.context, reset_fuel)) |err| wt.wasmtime_error_delete(err);
        }
        guest.set.running = true;
        defer guest.set.running = false;
        faults.enter_guest(guest.window.fault_slot);
        defer faults.leave_guest(guest.window.fault_slot);
        if (wt.wasmtime_func_call_unchecked(guest.context, &reset, &values, 0, &trap)) |err| wt.wasmtime_error_delete(err);
        if (trap) |t| wt.wasm_trap_delete(t);
    }

    /// A token another thread can pass to `interrupts.request` to stop this guest's running call
    /// (`error.Interrupted`). The first call gives the guest an interrupt slot and an epoch
    /// callback that polls it every `interrupts.poll_ticks` while it runs; the same token after.
    pub fn interrupt_token(guest: *Guest) Error!interrupts.Token {
        if (guest.engine_kind == .plain) {
            return fail(error.Unsupported, "this guest was instantiated without deadline support, which interrupts need: instantiate it with interruptible: true or a timeoutMs (C: compile with VMW_GUEST_INTERRUPTIBLE)", .{});
        }
        if (guest.interrupt_slot) |slot| return interrupts.token(slot);
        // Registering the store's epoch callback needs the store idle.
        if (guest.set.running) return fail(error.Busy, "a guest of this window is running: ask for the interrupt token before the call, not from a host function", .{});
        const slot = interrupts.acquire() orelse
            return fail(error.Unsupported, "more than {d} guests of this process have interrupt tokens", .{interrupts.slots_max});
        errdefer interrupts.release(slot);
        ticker.acquire(try engine.get(guest.engine_kind)) catch return fail(error.OutOfMemory, "cannot start the epoch ticker thread", .{});
        wt.wasmtime_store_epoch_deadline_callback(guest.store, on_epoch_deadline, guest, null);
        guest.interrupt_slot = slot;
        guest.assert_invariants();
        return interrupts.token(slot);
    }

    /// The store's epoch deadline arrived (guests with an interrupt token): stop the run for an
    /// interrupt request or a passed deadline, else check again in at most `poll_ticks`.
    fn on_epoch_deadline(context: *wt.Context, data: ?*anyopaque, delta: *u64, kind: *u8) callconv(.c) ?*wt.Error {
        _ = context;
        const guest: *Guest = @ptrCast(@alignCast(data.?));
        assert(guest.set.running);
        // Registered only by `interrupt_token`, which gives the guest its slot at the same time.
        assert(guest.interrupt_slot != null and guest.engine_kind != .plain);
        if (interrupts.take(guest.interrupt_slot.?)) {
            guest.stopped_by = .interrupt;
            return wt.wasmtime_error_new("vmwindow: interrupted");
        }
        var remaining_ticks: u64 = interrupts.poll_ticks;
        if (guest.run_deadline_ticks != 0) {
            const elapsed_ticks = ticker.now_ticks() - guest.run_started_ticks;
            if (elapsed_ticks >= guest.run_deadline_ticks) {
                guest.stopped_by = .deadline;
                return wt.wasmtime_error_new("vmwindow: deadline");
            }
            remaining_ticks = @min(remaining_ticks, guest.run_deadline_ticks - elapsed_ticks);
        }
        assert(remaining_ticks > 0);
        assert(remaining_ticks <= interrupts.poll_ticks);
        delta.* = remaining_ticks;
        kind.* = wt.update_deadline_continue;
        return null;
    }

    /// Whether this guest's own run (a call, or its start function) is on the stack.
    fn running(guest: *const Guest) bool {
        return guest.set.running and guest.set.active == guest;
    }

    /// The run during which `set_timeout(0)` removed the deadline has ended: let go of the ticker
    /// now, and of the epoch deadline unless a new deadline was set after (arm_limits sets that).
    fn release_ticker_after_run(guest: *Guest) void {
        assert(guest.ticker_release_pending);
        assert(!guest.set.running);
        guest.ticker_release_pending = false;
        ticker.release();
        if (guest.deadline_ticks == 0) wt.wasmtime_context_set_epoch_deadline(guest.context, deadline_never_ticks);
        guest.assert_invariants();
    }

    /// Gives the run of guest code about to start (a call, or the start function) its limits:
    /// the epoch deadline, the fuel, and the start time host functions check the deadline against.
    fn arm_limits(guest: *Guest) Error!void {
        assert(!guest.set.running);
        assert(guest.set.active == guest);
        guest.timed_out_in = null;
        guest.stopped_by = .none;
        assert(!guest.ticker_release_pending);
        guest.run_deadline_ticks = guest.deadline_ticks;
        guest.run_timeout_ms = guest.timeout_ms;
        guest.run_fuel = guest.fuel_per_call;
        // Only guests that hold the ticker (a deadline or an interrupt token) read its count.
        if (guest.deadline_ticks != 0 or guest.interrupt_slot != null) guest.run_started_ticks = ticker.now_ticks();
        if (guest.deadline_ticks != 0) {
            assert(guest.engine_kind != .plain);
            wt.wasmtime_context_set_epoch_deadline(guest.context, guest.deadline_ticks);
        }
        if (guest.interrupt_slot) |slot| {
            // The callback (on_epoch_deadline) polls for interrupts and keeps the deadline.
            interrupts.clear(slot);
            wt.wasmtime_context_set_epoch_deadline(guest.context, @min(guest.deadline_ticks -% 1, interrupts.poll_ticks - 1) + 1);
        }
        if (guest.engine_kind == .metered) {
            if (wt.wasmtime_context_set_fuel(guest.context, guest.fuel_per_call)) |err| return engine.fail_wasmtime(error.Wasmtime, "cannot set the guest's fuel", err);
        }
    }

    /// Whether the current run's deadline has passed (checked when a host function returns: the
    /// epoch check alone would not fire if the guest returns without another loop or call).
    pub fn host_deadline_passed(guest: *Guest) bool {
        assert(guest.set.running);
        if (guest.run_deadline_ticks == 0) return false;
        return ticker.now_ticks() - guest.run_started_ticks >= guest.run_deadline_ticks;
    }

    const Stage = enum { call, start };

    /// The error for a failed run of guest code: a timeout (deadline, fuel, or a deadline that
    /// passed inside a host function), a trap, or a host function's trap.
    fn run_error(guest: *Guest, stage: Stage, err_opt: ?*wt.Error, trap: ?*wt.Trap) Error {
        assert(err_opt != null or trap != null);
        assert(!guest.set.running);
        // A start function runs before the guest is instantiated; a call, after.
        assert(guest.instantiated == (stage == .call));
        const trapped = if (stage == .call) "guest trapped" else "the guest's start function trapped";
        const ran = if (stage == .call) "guest call" else "the guest's start function";
        if (guest.stopped_by != .none) {
            if (err_opt) |err| wt.wasmtime_error_delete(err);
            if (trap) |t| wt.wasm_trap_delete(t);
            if (guest.stopped_by == .interrupt) {
                return fail(error.Interrupted, "{s} was interrupted: another thread asked it to stop (the guest stays usable)", .{ran});
            }
            return fail(error.Timeout, "{s} timed out: it ran past its {d} ms deadline and was interrupted (the guest stays usable)", .{ ran, guest.run_timeout_ms });
        }
        if (guest.timed_out_in) |import| {
            if (err_opt) |err| wt.wasmtime_error_delete(err);
            if (trap) |t| wt.wasm_trap_delete(t);
            return fail(error.Timeout, "{s} timed out: its {d} ms deadline passed while it was in host function {s} (the guest stays usable)", .{ ran, guest.run_timeout_ms, import.label[0..import.label_len] });
        }
        if (err_opt) |err| {
            // A trap raised by a host function (abort) arrives as an error with the trap as its cause.
            var message: wt.ByteVec = .{ .size = 0, .data = null };
            wt.wasmtime_error_message(err, &message);
            defer wt.wasm_byte_vec_delete(&message);
            wt.wasmtime_error_delete(err);
            return fail_trap_text(trapped, byte_vec_slice(&message), .{});
        }
        const t = trap.?;
        var code: u8 = 0;
        if (wt.wasmtime_trap_code(t, &code) and code == wt.trap_code_interrupt) {
            wt.wasm_trap_delete(t);
            return fail(error.Timeout, "{s} timed out: it ran past its {d} ms deadline and was interrupted (the guest stays usable)", .{ ran, guest.run_timeout_ms });
        }
        if (wt.wasmtime_trap_code(t, &code) and code == wt.trap_code_out_of_fuel) {
            wt.wasm_trap_delete(t);
            return fail(error.Timeout, "{s} ran out of fuel: it used all {d} units of its budget and was stopped (the guest stays usable)", .{ ran, guest.run_fuel });
        }
        return fail_trap(trapped, t, .{ .without_sdk_runtime = guest.stock_assemblyscript, .window = guest.window });
    }

    /// Maps this guest's area file over the window's guest area.
    fn activate(guest: *Guest) Error!void {
        const window = guest.window;
        assert(!guest.set.running);
        // The mapping covers the guest area and nothing of the slot area after it.
        assert(window.layout.guest_bytes % layout.page_bytes == 0);
        assert(layout.guest_base + window.layout.guest_bytes <= window.layout.slots_base);
        os.map_file(window.base() + layout.guest_base, window.layout.guest_bytes, guest.area_fd, 0, true) catch |err|
            return fail(error.OutOfMemory, "cannot map the guest's area into the window: {s}", .{@errorName(err)});
        guest.set.active = guest;
        assert(guest.set.active == guest);
    }
};

fn free_set(window: *Window, set: *GuestSet) void {
    assert(set.count == 0);
    assert(set.head == null);
    // Every store of this window's guests is gone, and with them their memories.
    assert(set.memory.memory_refs == 0);
    sets_mutex.lock();
    const removed = sets.remove(window);
    sets_mutex.unlock();
    assert(removed);
    window.allocator.destroy(set);
}

fn numeric_kind(name: []const u8, kind: u8) Error!u8 {
    return switch (kind) {
        wt.valkind_i32, wt.valkind_i64, wt.valkind_f32, wt.valkind_f64 => kind,
        else => fail(error.Unsupported, "\"{s}\" uses a value type (kind {d}) other than i32, i64, f32 or f64", .{ name, kind }),
    };
}

/// A linker for a guest in `context`'s store whose `env.memory` is the window: a Wasmtime memory of
/// the store, counted in `set.memory`, which no guest of the set holds yet.
fn new_linker(set: *GuestSet, wasm_engine: *wt.Engine, context: *wt.Context, kind: engine.Kind) Error!*wt.Linker {
    const memory = try engine.window_memory(&set.memory, context, kind);
    // One memory per store: the set's guests' and this new one's.
    assert(set.memory.memory_refs == set.count + 1);
    const linker = wt.wasmtime_linker_new(wasm_engine) orelse return fail(error.OutOfMemory, "cannot create a Wasmtime linker", .{});
    errdefer wt.wasmtime_linker_delete(linker);
    // Host-defined imports (define_import) replace the built-ins of the same name.
    wt.wasmtime_linker_allow_shadowing(linker, true);
    if (wt.wasmtime_linker_define(linker, context, "env", 3, "memory", 6, &memory)) |err| {
        return engine.fail_wasmtime(error.Link, "cannot define env.memory", err);
    }
    return linker;
}

/// A store of `wasm_engine` ready to run a guest compiled by engine `kind`.
fn new_store(wasm_engine: *wt.Engine, kind: engine.Kind) Error!*wt.Store {
    const store = wt.wasmtime_store_new(wasm_engine, null, null) orelse return fail(error.OutOfMemory, "cannot create a Wasmtime store", .{});
    errdefer wt.wasmtime_store_delete(store);
    const context = wt.wasmtime_store_context(store);
    // With epoch interruption on, a store without a deadline would trap at once.
    if (kind != .plain) wt.wasmtime_context_set_epoch_deadline(context, deadline_never_ticks);
    // With fuel on, a store starts with none: give instantiation (the start function) plenty.
    if (kind == .metered) {
        if (wt.wasmtime_context_set_fuel(context, fuel_unlimited)) |err| return engine.fail_wasmtime(error.Wasmtime, "cannot set the guest's fuel", err);
    }
    return store;
}

fn check_room(set: *const GuestSet) Error!void {
    assert(set.count <= guests_per_window_max);
    if (set.running) return fail(error.Busy, "a guest of this window is running; a host function cannot create a guest", .{});
    if (set.count == guests_per_window_max) {
        return fail(error.Busy, "this window already has {d} guests (the most one window holds)", .{guests_per_window_max});
    }
}

test {
    _ = ticker;
    _ = module_mod;
    _ = @import("module_cache.zig");
}

/// The integration tests' window and wat helpers (tests.zig).
const test_support = @import("tests.zig");
const test_window = test_support.create_window;

fn test_destroy_window(window: *Window) void {
    test_support.assert_ok(@import("api/window.zig").vmw_window_destroy(window));
}

/// A compiled guest of `wat` (text format) over `window`, with the one host import `host.limit`
/// running `callback` with the guest as its user data; instantiated.
fn test_guest(window: *Window, comptime wat: []const u8, kind: engine.Kind, callback: HostCallback) !*Guest {
    var wasm = try test_support.compile_wat(wat);
    defer wt.wasm_byte_vec_delete(&wasm);
    const guest = try Guest.compile(window, wasm.data.?[0..wasm.size], kind);
    _ = try guest.define_import("host", "limit", &.{}, &.{});
    guest.set_host_callback(callback, guest);
    try guest.instantiate();
    return guest;
}

/// `run` calls the host import, then counts down from `spin_count` (seconds of work unless a
/// deadline or the fuel stops it).
const test_limit_wat =
    \\(module
    \\  (import "env" "memory" (memory 1))
    \\  (import "host" "limit" (func $limit))
    \\  (func (export "run") (param $spin_count i32)
    \\    (call $limit)
    \\    (loop $l (local.set $spin_count (i32.sub (local.get $spin_count) (i32.const 1))) (br_if $l (local.get $spin_count))))
    \\  (func (export "spin") (loop $forever (br $forever))))
;

fn test_host_callback(comptime change: fn (guest: *Guest) Error!void) HostCallback {
    return struct {
        fn callback(user_data: ?*anyopaque, import_index: u32) callconv(.c) i32 {
            assert(import_index == 0);
            change(@ptrCast(@alignCast(user_data.?))) catch return 1;
            return 0;
        }
    }.callback;
}

test "a timeout set from a host function applies from the next call, not to the call running it" {
    const window = try test_window();
    defer test_destroy_window(window);
    const set_1ms = struct {
        fn change(guest: *Guest) Error!void {
            return guest.set_timeout(1);
        }
    }.change;
    const guest = try test_guest(window, test_limit_wat, .interruptible, test_host_callback(set_1ms));
    const run = (try guest.find_export("run")).index;
    const spin = (try guest.find_export("spin")).index;

    // The tick count is past the 2 ticks of a 1 ms deadline (another guest's deadline runs the
    // ticker), though this guest has never run with a deadline.
    const other = try test_guest(window, test_limit_wat, .interruptible, test_host_callback(set_1ms));
    try other.set_timeout(60_000);
    const ticks_before = ticker.now_ticks();
    while (ticker.now_ticks() < ticks_before + 3) std.Thread.sleep(std.time.ns_per_ms);

    // The call began without a deadline: it returns, its host function took microseconds.
    guest.values[0] = .{ .i32 = 1 };
    try guest.call(run);
    try std.testing.expectEqual(@as(u32, 1), guest.timeout_ms);
    // The next call has the deadline.
    try std.testing.expectError(error.Timeout, guest.call(spin));
    try std.testing.expect(std.mem.indexOf(u8, errors.last_message_slice(), "its 1 ms deadline") != null);
}

test "a timeout removed from a host function still stops the call running it; the next call has none" {
    const window = try test_window();
    defer test_destroy_window(window);
    const remove = struct {
        fn change(guest: *Guest) Error!void {
            return guest.set_timeout(0);
        }
    }.change;
    const guest = try test_guest(window, test_limit_wat, .interruptible, test_host_callback(remove));
    const run = (try guest.find_export("run")).index;
    try guest.set_timeout(20);
    // Seconds of work: the running call's 20 ms deadline stops it.
    guest.values[0] = .{ .i32 = 2_000_000_000 };
    try std.testing.expectError(error.Timeout, guest.call(run));
    try std.testing.expect(std.mem.indexOf(u8, errors.last_message_slice(), "its 20 ms deadline") != null);
    try std.testing.expectEqual(@as(u32, 0), guest.timeout_ms);
    try std.testing.expect(!guest.ticker_release_pending);
    // No deadline now: a call longer than 20 ms runs to its end.
    guest.values[0] = .{ .i32 = 200_000_000 };
    try guest.call(run);
}

test "fuel changed from a host function applies from the next call; the out-of-fuel error names the run's budget" {
    const window = try test_window();
    defer test_destroy_window(window);
    const raise = struct {
        fn change(guest: *Guest) Error!void {
            return guest.set_fuel(5_000_000);
        }
    }.change;
    const guest = try test_guest(window, test_limit_wat, .metered, test_host_callback(raise));
    const run = (try guest.find_export("run")).index;
    try guest.set_fuel(1_000);
    guest.values[0] = .{ .i32 = 1_000_000 };
    try std.testing.expectError(error.Timeout, guest.call(run));
    try std.testing.expect(std.mem.indexOf(u8, errors.last_message_slice(), "all 1000 units") != null);
    try std.testing.expectEqual(@as(u64, 5_000_000), guest.fuel_per_call);
}
