//! Compiled guest modules, shared by every window of the process: compile once, instantiate many.
//!
//! A `Module` is a Wasmtime module compiled by one of the engines (engine.zig `Kind`), plus what
//! vmwindow learned checking it (its imports, the extent of its data segments). It is reference
//! counted: the host's handle holds one reference, every guest made from it another, and the
//! process cache (below) one more, so a module outlives whichever of them goes first.
//!
//! `compile` looks in a bounded in-process cache keyed by the module's content hash (BLAKE3 of its
//! bytes) and engine kind, then, if the caller names a directory, in the on-disk cache
//! (module_cache.zig), and only then compiles. The checks that do not depend on a window (the
//! `env.memory` import, constant data-segment offsets) run on every module however it was
//! obtained, from its original bytes (memory.copy / memory.fill are rewritten into wasm code before
//! compiling, bulk_memory.zig; the engine refuses the rest of bulk memory); the check against a
//! window's guest area runs when a guest is made from it (guest.zig `prepare`).

const std = @import("std");
const assert = std.debug.assert;

const abi = @import("vmwindow_abi");
const wt = @import("wasmtime.zig");
const errors = @import("errors.zig");
const engine = @import("engine.zig");
const module_check = @import("module_check.zig");
const module_cache = @import("module_cache.zig");
const bulk_memory = @import("bulk_memory.zig");
const traps = @import("traps.zig");
const Error = errors.Error;
const fail = errors.fail;
const byte_vec_slice = traps.byte_vec_slice;

/// Modules the in-process cache keeps alive (least recently used goes first): each holds its
/// compiled code (a small AssemblyScript guest ~100 KiB, a 1 MiB module several MiB).
pub const process_cache_entries_max = 32;

/// Exports of one module: Wasmtime's parser (wasmparser's MAX_WASM_EXPORTS) refuses more.
pub const wasm_exports_max = 100_000;

pub const hash_bytes = 32;
pub const Hash = [hash_bytes]u8;

comptime {
    // The hash is a whole BLAKE3 digest, and the disk cache's header holds exactly one.
    assert(hash_bytes == std.crypto.hash.Blake3.digest_length);
    assert(hash_bytes == @typeInfo(@FieldType(module_cache.Header, "module_hash")).array.len);
}

/// Where `compile` found the module (`vmw_module_compile_cached`'s `out_source`).
pub const Source = enum(u32) { compiled = 0, process_cache = 1, disk_cache = 2 };

pub const Module = struct {
    /// One Wasmtime reference, released when `refs` reaches 0.
    wasm_module: *wt.Module,
    engine_kind: engine.Kind,
    hash: Hash,
    refs: std.atomic.Value(u32),
    /// The module imports AssemblyScript's `env.abort`.
    assemblyscript: bool,
    /// It exports the SDK runtime's `__vmw_reset_stack`.
    exports_reset_stack: bool,
    /// Its active data segments, checked against each window's guest area.
    data_extent: module_check.Extent,
    /// Its exported functions whose value types a host can pass (i32/i64/f32/f64, at most
    /// `values_max` each way), in export order: what `Guest.resolve_all` resolves per guest.
    func_exports: []const FuncExport,

    /// What holds from `compile` until the last reference goes (`refs` aside, nothing changes).
    fn assert_invariants(module: *const Module) void {
        assert(module.refs.load(.monotonic) > 0);
        assert(module.func_exports.len <= wasm_exports_max);
        // No active data segment, or a lowest and a highest one (the same when there is one).
        assert((module.data_extent.lowest == null) == (module.data_extent.highest == null));
    }

    pub fn acquire(module: *Module) *Module {
        const before = module.refs.fetchAdd(1, .monotonic);
        assert(before > 0);
        assert(before < std.math.maxInt(u32));
        return module;
    }

    pub fn release(module: *Module) void {
        const before = module.refs.fetchSub(1, .acq_rel);
        assert(before > 0);
        if (before != 1) return;
        // The last reference: no guest, handle or cache entry can reach the module any more.
        assert(module.refs.load(.monotonic) == 0);
        assert(module.func_exports.len <= wasm_exports_max);
        wt.wasmtime_module_delete(module.wasm_module);
        free_func_exports(module.func_exports);
        allocator.destroy(module);
    }
};

const allocator = std.heap.c_allocator;

/// Arguments and results of one call share this many value slots (guest.zig `values_max`).
pub const values_max = 16;

/// An exported function: its position among the module's exports and its value-slot count.
pub const FuncExport = struct {
    /// Owned by the module.
    name: []const u8,
    values_len: u32,
};

const CacheEntry = struct {
    module: *Module,
    last_used: u64,
};

var cache_mutex: std.Thread.Mutex = .{};
var cache_entries: [process_cache_entries_max]?CacheEntry = @splat(null);
var cache_clock: u64 = 0;

pub fn hash_of(wasm: []const u8) Hash {
    var out: Hash = undefined;
    std.crypto.hash.Blake3.hash(wasm, &out, .{});
    return out;
}

fn same_key(module: *const Module, hash: Hash, kind: engine.Kind) bool {
    return module.engine_kind == kind and std.mem.eql(u8, &module.hash, &hash);
}

/// The module for `wasm` compiled by engine `kind`: from the process cache, else from the disk
/// cache in `cache_dir` (if given; a compiled module is written there), else compiled. The caller
/// owns one reference.
pub fn compile(wasm: []const u8, kind: engine.Kind, cache_dir: ?[]const u8, source_out: ?*Source) Error!*Module {
    if (wasm.len == 0) return fail(error.BadModule, "the module is empty (0 bytes)", .{});
    const hash = hash_of(wasm);
    if (cache_lookup(hash, kind)) |cached| {
        assert(same_key(cached, hash, kind));
        // Compiled earlier without a cache directory (or by another): write it there now.
        if (cache_dir) |dir| {
            if (!module_cache.exists(dir, hash, kind)) module_cache.store(dir, hash, kind, cached.wasm_module);
        }
        if (source_out) |out| out.* = .process_cache;
        return cached;
    }
    var source: Source = .compiled;
    const wasm_module = try load_or_compile(wasm, hash, kind, cache_dir, &source);
    assert(source == .compiled or (source == .disk_cache and cache_dir != null));
    errdefer wt.wasmtime_module_delete(wasm_module);
    // The window-independent checks, from the bytes (valid: Wasmtime compiled them, now or when
    // the cache file was written) and the module, however it was obtained.
    const extent = try module_check.data_extent(wasm);
    const facts = try check_imports(wasm_module);
    if (source == .compiled) {
        if (cache_dir) |dir| module_cache.store(dir, hash, kind, wasm_module);
    }

    const func_exports = try callable_exports(wasm_module);
    errdefer free_func_exports(func_exports);
    const module = allocator.create(Module) catch return fail(error.OutOfMemory, "out of memory allocating a module", .{});
    module.* = .{
        .wasm_module = wasm_module,
        .engine_kind = kind,
        .hash = hash,
        .refs = .init(1),
        .assemblyscript = facts.assemblyscript,
        .exports_reset_stack = exports_reset_stack(wasm_module),
        .data_extent = extent,
        .func_exports = func_exports,
    };
    cache_insert(module);
    module.assert_invariants();
    assert(same_key(module, hash, kind));
    if (source_out) |out| out.* = source;
    return module;
}

/// Wasmtime's module for `wasm`: deserialized from the disk cache in `cache_dir` when a valid file
/// is there (`source` = .disk_cache), else compiled (memory.copy / memory.fill rewritten first).
fn load_or_compile(wasm: []const u8, hash: Hash, kind: engine.Kind, cache_dir: ?[]const u8, source: *Source) Error!*wt.Module {
    assert(wasm.len > 0);
    const wasm_engine = try engine.get(kind);
    if (cache_dir) |dir| {
        if (module_cache.load(wasm_engine, dir, hash, kind)) |loaded| {
            source.* = .disk_cache;
            return loaded;
        }
    }
    source.* = .compiled;
    // memory.copy / memory.fill become calls of injected wasm functions (bulk_memory.zig).
    const rewritten = try bulk_memory.rewrite(allocator, wasm);
    defer if (rewritten) |r| allocator.free(r.bytes);
    const final = if (rewritten) |r| r.bytes else wasm;
    var module_opt: ?*wt.Module = null;
    if (wt.wasmtime_module_new(wasm_engine, final.ptr, final.len, &module_opt)) |err| {
        return engine.fail_wasmtime(error.BadModule, "invalid WebAssembly module", err);
    }
    return module_opt.?;
}

fn free_func_exports(func_exports: []const FuncExport) void {
    assert(func_exports.len <= wasm_exports_max);
    for (func_exports) |entry| allocator.free(entry.name);
    allocator.free(func_exports);
}

fn cache_lookup(hash: Hash, kind: engine.Kind) ?*Module {
    cache_mutex.lock();
    defer cache_mutex.unlock();
    for (&cache_entries) |*slot| {
        const entry: *CacheEntry = if (slot.*) |*live| live else continue;
        if (!same_key(entry.module, hash, kind)) continue;
        assert(entry.last_used <= cache_clock);
        cache_clock += 1;
        entry.last_used = cache_clock;
        const module = entry.module.acquire();
        module.assert_invariants();
        // The caller's new reference and the cache's (a `cache_clear` waits for the mutex).
        assert(module.refs.load(.monotonic) >= 2);
        return module;
    }
    return null;
}

/// Keeps a reference to `module` in the process cache, evicting the least recently used entry
/// when it is full (guests and handles of an evicted module keep theirs).
fn cache_insert(module: *Module) void {
    assert(module.refs.load(.monotonic) >= 1);
    var evicted: ?*Module = null;
    {
        cache_mutex.lock();
        defer cache_mutex.unlock();
        var victim: usize = 0;
        for (&cache_entries, 0..) |*slot, index| {
            const entry = slot.* orelse {
                victim = index;
                break;
            };
            // Another thread compiled the same module meanwhile: keep the first.
            if (same_key(entry.module, module.hash, module.engine_kind)) return;
            if (entry.last_used < cache_entries[victim].?.last_used) victim = index;
        }
        assert(victim < process_cache_entries_max);
        if (cache_entries[victim]) |old| {
            // Evicted only from a full cache, the least recently used entry.
            for (cache_entries) |entry| assert(entry.?.last_used >= old.last_used);
            evicted = old.module;
        }
        cache_clock += 1;
        cache_entries[victim] = .{ .module = module.acquire(), .last_used = cache_clock };
        // The caller's reference and the cache's (a `cache_clear` waits for the mutex).
        assert(module.refs.load(.monotonic) >= 2);
    }
    assert(evicted != module);
    if (evicted) |old| old.release();
}

/// Empties the process cache (modules still referenced elsewhere live on); returns how many
/// entries it held.
pub fn cache_clear() u32 {
    var taken: [process_cache_entries_max]?*Module = @splat(null);
    var count: u32 = 0;
    {
        cache_mutex.lock();
        defer cache_mutex.unlock();
        for (&cache_entries, 0..) |*slot, index| {
            if (slot.*) |entry| {
                taken[index] = entry.module;
                count += 1;
            }
            slot.* = null;
        }
        for (cache_entries) |slot| assert(slot == null);
    }
    for (taken) |module_opt| if (module_opt) |module| module.release();
    assert(count <= process_cache_entries_max);
    return count;
}

/// AssemblyScript's `abort(message, file, line, column)`: (i32, i32, i32, i32) -> ().
fn is_assemblyscript_abort(ty: *const wt.ExternType) bool {
    const func_type = wt.wasm_externtype_as_functype_const(ty) orelse return false;
    const params = wt.wasm_functype_params(func_type);
    if (params.size != 4 or wt.wasm_functype_results(func_type).size != 0) return false;
    assert(params.data != null);
    for (0..params.size) |i| {
        if (wt.wasm_valtype_kind(params.data.?[i].?) != wt.valkind_i32) return false;
    }
    return true;
}

/// Whether the module exports the SDK runtime's `__vmw_reset_stack` (runtime/reset.ts).
fn exports_reset_stack(module: *wt.Module) bool {
    var exports: wt.ExportTypeVec = .{ .size = 0, .data = null };
    wt.wasmtime_module_exports(module, &exports);
    defer wt.wasm_exporttype_vec_delete(&exports);
    assert(exports.size <= wasm_exports_max);
    for (0..exports.size) |i| {
        if (std.mem.eql(u8, byte_vec_slice(wt.wasm_exporttype_name(exports.data.?[i].?)), abi.reset_stack_export)) return true;
    }
    return false;
}

/// The module's exported functions a host can call (numeric value types, at most `values_max` each
/// way), in export order.
fn callable_exports(module: *wt.Module) Error![]const FuncExport {
    var exports: wt.ExportTypeVec = .{ .size = 0, .data = null };
    wt.wasmtime_module_exports(module, &exports);
    defer wt.wasm_exporttype_vec_delete(&exports);
    assert(exports.size <= wasm_exports_max);
    var list: std.ArrayListUnmanaged(FuncExport) = .empty;
    errdefer {
        for (list.items) |entry| allocator.free(entry.name);
        list.deinit(allocator);
    }
    for (0..exports.size) |i| {
        const ty = wt.wasm_exporttype_type(exports.data.?[i].?);
        const func_type = wt.wasm_externtype_as_functype_const(ty) orelse continue;
        const params = wt.wasm_functype_params(func_type);
        const results = wt.wasm_functype_results(func_type);
        if (params.size > values_max or results.size > values_max) continue;
        if (!all_numeric(params) or !all_numeric(results)) continue;
        const name = allocator.dupe(u8, byte_vec_slice(wt.wasm_exporttype_name(exports.data.?[i].?))) catch
            return fail(error.OutOfMemory, "out of memory listing the module's exports", .{});
        list.append(allocator, .{ .name = name, .values_len = @intCast(@max(params.size, results.size)) }) catch {
            allocator.free(name);
            return fail(error.OutOfMemory, "out of memory listing the module's exports", .{});
        };
        assert(list.items[list.items.len - 1].values_len <= values_max);
    }
    assert(list.items.len <= exports.size);
    return list.toOwnedSlice(allocator) catch fail(error.OutOfMemory, "out of memory listing the module's exports", .{});
}

fn all_numeric(types: *const wt.ValTypeVec) bool {
    // The callers check the count first: at most `values_max` types are looked at.
    assert(types.size <= values_max);
    for (0..types.size) |i| {
        switch (wt.wasm_valtype_kind(types.data.?[i].?)) {
            wt.valkind_i32, wt.valkind_i64, wt.valkind_f32, wt.valkind_f64 => {},
            else => return false,
        }
    }
    return true;
}

/// What a module's imports say about it, besides passing the checks.
const ImportFacts = struct {
    /// It imports `env.abort`: an AssemblyScript module.
    assemblyscript: bool,
};

/// Refuses modules that do not take the window as `env.memory`.
fn check_imports(module: *wt.Module) Error!ImportFacts {
    var imports: wt.ImportTypeVec = .{ .size = 0, .data = null };
    wt.wasmtime_module_imports(module, &imports);
    defer wt.wasm_importtype_vec_delete(&imports);
    assert(imports.size == 0 or imports.data != null);
    var imports_memory = false;
    var facts: ImportFacts = .{ .assemblyscript = false };
    for (0..imports.size) |i| {
        const import = imports.data.?[i].?;
        const ty = wt.wasm_importtype_type(import);
        const module_name = byte_vec_slice(wt.wasm_importtype_module(import));
        const name = byte_vec_slice(wt.wasm_importtype_name(import));
        if (std.mem.eql(u8, module_name, "env") and std.mem.eql(u8, name, "abort") and is_assemblyscript_abort(ty)) facts.assemblyscript = true;
        if (wt.wasm_externtype_kind(ty) != wt.externkind_memory) continue;
        if (!std.mem.eql(u8, module_name, "env") or !std.mem.eql(u8, name, "memory")) {
            return fail(error.Link, "the guest imports a memory as {s}.{s}; it must import env.memory (build it with the SDK preset: asc guest.ts --config node_modules/@vmwindow/guest/asconfig.json)", .{ module_name, name });
        }
        const memory_type = wt.wasm_externtype_as_memorytype_const(ty).?;
        if (wt.wasmtime_memorytype_is64(memory_type)) {
            return fail(error.Link, "the guest imports a 64-bit memory; this window is a 32-bit memory", .{});
        }
        if (wt.wasmtime_memorytype_isshared(memory_type)) {
            return fail(error.Link, "the guest imports a shared memory; the window is not shared", .{});
        }
        // Multi-memory is off in every engine: a second memory import cannot have compiled.
        assert(!imports_memory);
        imports_memory = true;
    }
    if (!imports_memory) {
        return fail(error.Link, "the guest does not import env.memory, so it cannot see the window (build it with the SDK preset: asc guest.ts --config node_modules/@vmwindow/guest/asconfig.json)", .{});
    }
    return facts;
}

test "a module compiled twice is the same module from the process cache; references outlive the cache" {
    // (module (import "env" "memory" (memory 1)))
    const wasm = [_]u8{ 0, 'a', 's', 'm', 1, 0, 0, 0, 2, 15, 1, 3, 'e', 'n', 'v', 6, 'm', 'e', 'm', 'o', 'r', 'y', 2, 0, 1 };
    _ = cache_clear();
    var source: Source = undefined;
    const first = try compile(&wasm, .plain, null, &source);
    try std.testing.expectEqual(Source.compiled, source);
    const second = try compile(&wasm, .plain, null, &source);
    try std.testing.expectEqual(Source.process_cache, source);
    try std.testing.expectEqual(first, second);
    const other_kind = try compile(&wasm, .interruptible, null, &source);
    try std.testing.expectEqual(Source.compiled, source);
    try std.testing.expect(other_kind != first);
    try std.testing.expectEqual(@as(u32, 2), cache_clear());
    // The cache's references are gone; the callers' remain.
    try std.testing.expectEqual(@as(u32, 2), first.refs.load(.monotonic));
    second.release();
    first.release();
    other_kind.release();
    try std.testing.expectError(error.Link, compile(&[_]u8{ 0, 'a', 's', 'm', 1, 0, 0, 0 }, .plain, null, null));
    try std.testing.expectError(error.BadModule, compile(&[_]u8{ 1, 2, 3 }, .plain, null, null));
}
