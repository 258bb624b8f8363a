//! The bench's native contenders, one sample set per process run (so each has its own peak RSS):
//!
//!   vmwbench-native mmap     <newlines|f64> FILE REPS SCAN_REPS COLD
//!       A native Zig SIMD loop over an mmap of FILE (the limit).
//!   vmwbench-native wasmtime <newlines|f64> FILE REPS SCAN_REPS COLD GUEST.wasm
//!       Wasmtime without the window: a normal engine, a memory of its own, FILE read() into it,
//!       then the bench guest's count_newlines_at / sum_f64_at over the copy.
//!
//! REPS time-to-result samples (COLD=1: the file is evicted from the page cache before each), then
//! SCAN_REPS scans of data already in place. Prints one JSON line:
//!   {"ttr_ns":[...],"scan_ns":[...],"result":"...","hwm_kb":N}
//! Time to result = from nothing (file closed; for wasmtime: module compiled, no store) to the result
//! in hand; teardown is not timed.

const std = @import("std");
const wt = @import("wasmtime");
const linux = std.os.linux;
const posix = std.posix;

const Kind = enum { newlines, f64 };

// Wasmtime C API beyond what libvmwindow declares.
extern fn wasm_engine_new() ?*wt.Engine;
extern fn wasm_memorytype_new(limits: *const wt.Limits) ?*wt.MemoryType;
extern fn wasm_memorytype_delete(ty: *wt.MemoryType) void;
extern fn wasmtime_memory_new(cx: *wt.Context, ty: *const wt.MemoryType, ret: *wt.Memory) ?*wt.Error;
extern fn wasmtime_linker_define_unknown_imports_as_traps(linker: *wt.Linker, module: *const wt.Module) ?*wt.Error;
extern fn wasmtime_memory_data(cx: *const wt.Context, memory: *const wt.Memory) [*]u8;

/// Where the wasmtime contender puts the file in its memory: past the guest's static data and stack
/// (the guest is built with --memoryBase 0x210000), 64 KiB aligned.
const copy_base: usize = 4 << 20;

pub fn main() !void {
    var arena_state = std.heap.ArenaAllocator.init(std.heap.page_allocator);
    defer arena_state.deinit();
    const arena = arena_state.allocator();
    const args = try std.process.argsAlloc(arena);
    if (args.len < 7) usage();
    const mode = args[1];
    const kind = std.meta.stringToEnum(Kind, args[2]) orelse usage();
    const path = try arena.dupeZ(u8, args[3]);
    const reps = try std.fmt.parseInt(usize, args[4], 10);
    const scan_reps = try std.fmt.parseInt(usize, args[5], 10);
    const cold = std.mem.eql(u8, args[6], "1");

    const ttr = try arena.alloc(u64, reps);
    const scans = try arena.alloc(u64, scan_reps);
    var result: [64]u8 = undefined;
    var result_text: []const u8 = "";

    if (std.mem.eql(u8, mode, "mmap")) {
        for (0..reps) |i| {
            if (cold) evict(path);
            var timer = try std.time.Timer.start();
            const file = try openRead(path);
            const len = try fileSize(file);
            const map = try posix.mmap(null, len, posix.PROT.READ, .{ .TYPE = .SHARED }, file, 0);
            posix.close(file);
            const value = scan(kind, map.ptr, len);
            ttr[i] = timer.read();
            result_text = format(&result, kind, value);
            posix.munmap(map);
        }
        if (scan_reps > 0) {
            const file = try openRead(path);
            const len = try fileSize(file);
            const map = try posix.mmap(null, len, posix.PROT.READ, .{ .TYPE = .SHARED }, file, 0);
            posix.close(file);
            // Fault the pages in and warm up with as many untimed scans as timed ones (as bench/child.ts does).
            for (0..scans.len) |_| std.mem.doNotOptimizeAway(scan(kind, map.ptr, len));
            for (scans) |*s| {
                var timer = try std.time.Timer.start();
                const value = scan(kind, map.ptr, len);
                s.* = timer.read();
                result_text = format(&result, kind, value);
            }
            posix.munmap(map);
        }
    } else if (std.mem.eql(u8, mode, "wasmtime")) {
        if (args.len < 8) usage();
        const wasm = try std.fs.cwd().readFileAlloc(arena, args[7], 64 << 20);
        // VMWB_EPOCH=1: epoch interruption on, as libvmwindow's engine has it (a diagnostic).
        const epoch = std.posix.getenv("VMWB_EPOCH") != null;
        const engine = if (epoch) blk: {
            const config = wt.wasm_config_new() orelse return error.Engine;
            wt.wasmtime_config_epoch_interruption_set(config, true);
            break :blk wt.wasm_engine_new_with_config(config) orelse return error.Engine;
        } else wasm_engine_new() orelse return error.Engine;
        var module: ?*wt.Module = null;
        if (wt.wasmtime_module_new(engine, wasm.ptr, wasm.len, &module)) |err| return fail(err);
        const export_name: []const u8 = if (kind == .newlines) "count_newlines_at" else "sum_f64_at";
        const len = blk: {
            const file = try openRead(path);
            defer posix.close(file);
            break :blk try fileSize(file);
        };
        for (0..reps + @intFromBool(scan_reps > 0)) |i| {
            const timed = i < reps;
            if (cold and timed) evict(path);
            var timer = try std.time.Timer.start();
            const store = wt.wasmtime_store_new(engine, null, null) orelse return error.Store;
            const cx = wt.wasmtime_store_context(store);
            if (epoch) wt.wasmtime_context_set_epoch_deadline(cx, 1 << 62);
            const instance = try instantiate(engine, cx, module.?, len, export_name);
            const data = wasmtime_memory_data(cx, &instance.memory);
            const file = try openRead(path);
            try readAll(file, data[copy_base..][0..len]);
            posix.close(file);
            var value = try callScan(cx, &instance.func, kind, len);
            if (timed) {
                ttr[i] = timer.read();
            } else {
                for (0..scans.len) |_| value = try callScan(cx, &instance.func, kind, len); // untimed warm-up
                for (scans) |*s| {
                    var scan_timer = try std.time.Timer.start();
                    value = try callScan(cx, &instance.func, kind, len);
                    s.* = scan_timer.read();
                }
            }
            result_text = format(&result, kind, value);
            wt.wasmtime_store_delete(store);
        }
    } else usage();

    var buffer: [8192]u8 = undefined;
    var writer = std.fs.File.stdout().writerStreaming(&buffer);
    const out = &writer.interface;
    try out.writeAll("{\"ttr_ns\":[");
    for (ttr, 0..) |t, i| try out.print("{s}{d}", .{ if (i == 0) "" else ",", t });
    try out.writeAll("],\"scan_ns\":[");
    for (scans, 0..) |t, i| try out.print("{s}{d}", .{ if (i == 0) "" else ",", t });
    try out.print("],\"result\":\"{s}\",\"hwm_kb\":{d}}}\n", .{ result_text, peakRssKb() });
    try out.flush();
}

fn usage() noreturn {
    std.debug.print("usage: vmwbench-native mmap|wasmtime newlines|f64 FILE REPS SCAN_REPS COLD [GUEST.wasm]\n", .{});
    std.process.exit(2);
}

const Value = union(Kind) { newlines: u64, f64: f64 };

fn format(buffer: []u8, kind: Kind, value: Value) []const u8 {
    _ = kind;
    return switch (value) {
        .newlines => |n| std.fmt.bufPrint(buffer, "{d}", .{n}) catch unreachable,
        .f64 => |x| std.fmt.bufPrint(buffer, "{d}", .{x}) catch unreachable,
    };
}

fn scan(kind: Kind, ptr: [*]const u8, len: usize) Value {
    return switch (kind) {
        .newlines => .{ .newlines = countNewlines(ptr, len) },
        .f64 => .{ .f64 = sumF64(ptr, len) },
    };
}

/// Newlines with the widest vectors the CPU has (AVX-512 here: 64 bytes), four accumulators of
/// byte counters flushed before they can overflow: the same algorithm as the guest, at native width.
fn countNewlines(ptr: [*]const u8, len: usize) u64 {
    const V = std.simd.suggestVectorLength(u8) orelse 16;
    const Vec = @Vector(V, u8);
    const step = 4 * V;
    const newline: Vec = @splat('\n');
    const one: Vec = @splat(1);
    const zero: Vec = @splat(0);
    var total: u64 = 0;
    var i: usize = 0;
    const end_step = len - len % step;
    while (i < end_step) {
        const block_end = @min(end_step, i + 255 * step);
        var a0 = zero;
        var a1 = zero;
        var a2 = zero;
        var a3 = zero;
        while (i < block_end) : (i += step) {
            a0 += @select(u8, @as(Vec, ptr[i..][0..V].*) == newline, one, zero);
            a1 += @select(u8, @as(Vec, ptr[i + V ..][0..V].*) == newline, one, zero);
            a2 += @select(u8, @as(Vec, ptr[i + 2 * V ..][0..V].*) == newline, one, zero);
            a3 += @select(u8, @as(Vec, ptr[i + 3 * V ..][0..V].*) == newline, one, zero);
        }
        const W = @Vector(V, u16);
        total += @reduce(.Add, @as(W, a0) + @as(W, a1) + @as(W, a2) + @as(W, a3));
    }
    while (i < len) : (i += 1) total += @intFromBool(ptr[i] == '\n');
    return total;
}

fn sumF64(ptr: [*]const u8, len: usize) f64 {
    const V = std.simd.suggestVectorLength(f64) orelse 2;
    const Vec = @Vector(V, f64);
    const values: [*]align(1) const f64 = @ptrCast(ptr);
    const n = len / 8;
    const step = 4 * V;
    var a: [4]Vec = .{ @splat(0), @splat(0), @splat(0), @splat(0) };
    var i: usize = 0;
    while (i + step <= n) : (i += step) {
        inline for (0..4) |k| a[k] += @as(Vec, values[i + k * V ..][0..V].*);
    }
    var total = @reduce(.Add, (a[0] + a[1]) + (a[2] + a[3]));
    while (i < n) : (i += 1) total += values[i];
    return total;
}

const Instance = struct { memory: wt.Memory, func: wt.Func };

fn instantiate(engine: *wt.Engine, cx: *wt.Context, module: *wt.Module, len: usize, name: []const u8) !Instance {
    const pages: u32 = @intCast((copy_base + len + 65535) / 65536);
    const ty = wasm_memorytype_new(&.{ .min = pages, .max = pages }) orelse return error.MemoryType;
    defer wasm_memorytype_delete(ty);
    var memory: wt.Memory = undefined;
    if (wasmtime_memory_new(cx, ty, &memory)) |err| return fail(err);
    const linker = wt.wasmtime_linker_new(engine) orelse return error.Linker;
    defer wt.wasmtime_linker_delete(linker);
    const memory_extern: wt.Extern = .{ .kind = wt.extern_kind_memory, .of = .{ .memory = memory } };
    if (wt.wasmtime_linker_define(linker, cx, "env", 3, "memory", 6, &memory_extern)) |err| return fail(err);
    // env.abort(i32, i32, i32, i32)
    var params_data: [4]?*wt.ValType = undefined;
    for (&params_data) |*p| p.* = wt.wasm_valtype_new(wt.valkind_i32);
    var params: wt.ValTypeVec = undefined;
    var results: wt.ValTypeVec = undefined;
    wt.wasm_valtype_vec_new(&params, 4, &params_data);
    wt.wasm_valtype_vec_new_empty(&results);
    const abort_type = wt.wasm_functype_new(&params, &results) orelse return error.FuncType;
    defer wt.wasm_functype_delete(abort_type);
    if (wt.wasmtime_linker_define_func_unchecked(linker, "env", 3, "abort", 5, abort_type, abortCallback, null, null)) |err| return fail(err);
    // The guest's vmwindow-only imports (vmw.release, used by the *_releasing scans): never called here.
    if (wasmtime_linker_define_unknown_imports_as_traps(linker, module)) |err| return fail(err);
    var instance: wt.Instance = undefined;
    var trap: ?*wt.Trap = null;
    if (wt.wasmtime_linker_instantiate(linker, cx, module, &instance, &trap)) |err| return fail(err);
    if (trap != null) return error.Trap;
    var func: wt.Extern = undefined;
    if (!wt.wasmtime_instance_export_get(cx, &instance, name.ptr, name.len, &func)) return error.NoExport;
    if (func.kind != wt.extern_kind_func) return error.NoExport;
    return .{ .memory = memory, .func = func.of.func };
}

fn abortCallback(env: ?*anyopaque, caller: *wt.Caller, args: [*]wt.ValRaw, n: usize) callconv(.c) ?*wt.Trap {
    _ = .{ env, caller, args, n };
    return wt.wasmtime_trap_new("abort", 5);
}

fn callScan(cx: *wt.Context, func: *const wt.Func, kind: Kind, len: usize) !Value {
    var values: [2]wt.ValRaw = undefined;
    values[0] = .{ .i32 = @intCast(copy_base) };
    values[1] = .{ .i32 = @bitCast(@as(u32, @intCast(len))) };
    var trap: ?*wt.Trap = null;
    if (wt.wasmtime_func_call_unchecked(cx, func, &values, 2, &trap)) |err| return fail(err);
    if (trap != null) return error.Trap;
    return switch (kind) {
        .newlines => .{ .newlines = @bitCast(values[0].i64) },
        .f64 => .{ .f64 = @bitCast(values[0].f64) },
    };
}

fn fail(err: *wt.Error) error{Wasmtime} {
    var message: wt.ByteVec = .{ .size = 0, .data = null };
    wt.wasmtime_error_message(err, &message);
    std.debug.print("wasmtime: {s}\n", .{if (message.data) |d| d[0..message.size] else ""});
    return error.Wasmtime;
}

fn openRead(path: [:0]const u8) !posix.fd_t {
    return posix.openZ(path, .{ .ACCMODE = .RDONLY, .CLOEXEC = true }, 0);
}

fn fileSize(fd: posix.fd_t) !usize {
    const st = try posix.fstat(fd);
    return @intCast(st.size);
}

fn readAll(fd: posix.fd_t, out: []u8) !void {
    var done: usize = 0;
    while (done < out.len) {
        const n = try posix.read(fd, out[done..]);
        if (n == 0) return error.ShortRead;
        done += n;
    }
}

/// Drops the file's pages from the page cache (they must be clean and unmapped).
fn evict(path: [:0]const u8) void {
    const fd = openRead(path) catch return;
    defer posix.close(fd);
    _ = linux.fadvise(fd, 0, 0, linux.POSIX_FADV.DONTNEED);
}

/// VmHWM from /proc/self/status, in KiB.
fn peakRssKb() u64 {
    var buffer: [4096]u8 = undefined;
    const status = std.fs.cwd().readFile("/proc/self/status", &buffer) catch return 0;
    var lines = std.mem.splitScalar(u8, status, '\n');
    while (lines.next()) |line| {
        if (std.mem.startsWith(u8, line, "VmHWM:")) {
            var fields = std.mem.tokenizeAny(u8, line[6..], " \tkB");
            return std.fmt.parseInt(u64, fields.next() orelse "0", 10) catch 0;
        }
    }
    return 0;
}
