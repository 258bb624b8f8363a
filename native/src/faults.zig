//! SIGBUS inside a window, made survivable (Linux); SIGSEGV inside a window from host code, explained.
//!
//! A MAP_SHARED page past the end of its file raises SIGBUS when touched — which happens when
//! another process truncates a file after we mapped it. Wasmtime does not handle SIGBUS on Linux,
//! so without this the process dies. A process-wide handler, chained to the previous one,
//! recognises faults inside a registered window's slot area and replaces the faulting OS page:
//! - during a guest call on this thread, with PROT_NONE: the access re-executes, faults again as
//!   SIGSEGV inside the linear memory, and Wasmtime turns it into an ordinary trap;
//! - otherwise (host code reading a region), with a private zero page: the host reads zeros.
//! The fault is recorded so the window can mark the region damaged and name it in the error.
//! Faults anywhere else go to the previous handler (Bun's crash reporter, or the default action).
//!
//! A second handler, for SIGSEGV, never handles anything: when host code (not a guest call on
//! this thread) faults inside a window, it writes one line to stderr saying what that usually is
//! (a write through a read-only region's view), then passes the signal on unchanged.
//!
//! The handlers only read atomics, call gettid, mmap and write, and write atomics: async-signal-safe.
//! Known limit: a SIGBUS on one thread racing the destruction of that same window on another
//! thread could read the entry just before it is cleared. Windows are used by one thread at a time
//! (the C ABI's rule), so this needs a host that breaks that rule.

const std = @import("std");
const builtin = @import("builtin");
const assert = std.debug.assert;
const posix = std.posix;

pub const supported = builtin.os.tag == .linux;

/// Windows that can be registered at once in a process.
pub const windows_max = 1024;
/// Fault addresses remembered per window between two `take` calls.
pub const recorded_max = 16;

const Entry = struct {
    /// Window base address; 0 while the entry is free. Published last (release).
    base: std.atomic.Value(usize) = .init(0),
    slots_begin_bytes: std.atomic.Value(u64) = .init(0),
    end_bytes: std.atomic.Value(u64) = .init(0),
    /// The thread running a guest call in this window, or 0.
    guest_thread: std.atomic.Value(i32) = .init(0),
    faults: std.atomic.Value(u32) = .init(0),
    recorded: [recorded_max]std.atomic.Value(u64) = [_]std.atomic.Value(u64){.init(0)} ** recorded_max,
};

var entries: [windows_max]Entry = [_]Entry{.{}} ** windows_max;
var registry_mutex: std.Thread.Mutex = .{};
var installed = false;
var previous: posix.Sigaction = undefined;
var previous_segv: posix.Sigaction = undefined;

pub const RegisterError = error{TooManyWindows};

/// Registers a window's slot area `[base + slots_begin_bytes, base + end_bytes)`; returns its slot.
pub fn register(base: [*]u8, slots_begin_bytes: u64, end_bytes: u64) RegisterError!u32 {
    assert(slots_begin_bytes < end_bytes);
    if (!supported) return 0;
    registry_mutex.lock();
    defer registry_mutex.unlock();
    install();
    for (&entries, 0..) |*entry, index| {
        if (entry.base.load(.acquire) != 0) continue;
        entry.slots_begin_bytes.store(slots_begin_bytes, .release);
        entry.end_bytes.store(end_bytes, .release);
        entry.guest_thread.store(0, .release);
        entry.faults.store(0, .release);
        entry.base.store(@intFromPtr(base), .release);
        return @intCast(index);
    }
    return error.TooManyWindows;
}

pub fn unregister(slot: u32) void {
    if (!supported) return;
    assert(slot < windows_max);
    assert(entries[slot].base.load(.acquire) != 0);
    entries[slot].base.store(0, .release);
}

/// The calling thread's id, cached: gettid is a system call (~100 ns), too slow for every guest
/// call. (The signal handler itself calls gettid: it must not touch thread-local storage.)
threadlocal var thread_id: i32 = 0;

/// Marks the calling thread as running a guest of the window in `slot` (faults become traps).
pub fn enter_guest(slot: u32) void {
    if (!supported) return;
    if (thread_id == 0) thread_id = std.os.linux.gettid();
    entries[slot].guest_thread.store(thread_id, .release);
}

pub fn leave_guest(slot: u32) void {
    if (!supported) return;
    entries[slot].guest_thread.store(0, .release);
}

/// Faults recorded since the last call: how many, and up to `recorded_max` window offsets.
pub const Taken = struct {
    count: u32,
    offsets: [recorded_max]u64,

    pub fn recorded(taken: *const Taken) []const u64 {
        return taken.offsets[0..@min(taken.count, recorded_max)];
    }
};

pub fn take(slot: u32) Taken {
    var taken = Taken{ .count = 0, .offsets = undefined };
    if (!supported) return taken;
    const entry = &entries[slot];
    taken.count = entry.faults.swap(0, .acq_rel);
    const recorded_count = @min(taken.count, recorded_max);
    for (taken.offsets[0..recorded_count], entry.recorded[0..recorded_count]) |*offset, *recorded| offset.* = recorded.load(.acquire);
    return taken;
}

fn install() void {
    if (installed) return;
    var action = posix.Sigaction{
        .handler = .{ .sigaction = handle_sigbus },
        .mask = posix.sigemptyset(),
        .flags = posix.SA.SIGINFO | posix.SA.ONSTACK | posix.SA.NODEFER,
    };
    posix.sigaction(posix.SIG.BUS, &action, &previous);
    // SIGSEGV only to explain a host crash inside a window before whoever handled it before us
    // (Wasmtime's trap handler, then Bun's crash reporter) sees it: never handled here.
    var segv_action = action;
    segv_action.handler = .{ .sigaction = handle_sigsegv };
    posix.sigaction(posix.SIG.SEGV, &segv_action, &previous_segv);
    // A forked child has new thread ids: forget the cached one.
    _ = std.c.pthread_atfork(null, null, forget_thread_id);
    installed = true;
}

fn forget_thread_id() callconv(.c) void {
    thread_id = 0;
}

fn handle_sigbus(signal: i32, info: *const posix.siginfo_t, context: ?*anyopaque) callconv(.c) void {
    const address = @intFromPtr(info.fields.sigfault.addr);
    if (window_at(address, .slot_area)) |found| {
        if (replace_page(found.entry, found.base, address)) return;
    }
    chain_to(&previous, signal, info, context);
}

const Found = struct { entry: *Entry, base: usize };

/// The registered window whose slot area (or whole window) holds `address`, if any.
fn window_at(address: usize, part: enum { slot_area, whole }) ?Found {
    for (&entries) |*entry| {
        const base = entry.base.load(.acquire);
        if (base == 0) continue;
        const begin = if (part == .slot_area) base + entry.slots_begin_bytes.load(.acquire) else base;
        if (address < begin or address >= base + entry.end_bytes.load(.acquire)) continue;
        return .{ .entry = entry, .base = base };
    }
    return null;
}

fn replace_page(entry: *Entry, base: usize, address: usize) bool {
    const page_bytes = std.heap.pageSize();
    const page = address & ~(page_bytes - 1);
    const in_guest = entry.guest_thread.load(.acquire) == std.os.linux.gettid();
    const linux = std.os.linux;
    const protection: usize = if (in_guest) linux.PROT.NONE else linux.PROT.READ | linux.PROT.WRITE;
    const flags: linux.MAP = .{ .TYPE = .PRIVATE, .ANONYMOUS = true, .FIXED = true };
    const result = linux.mmap(@ptrFromInt(page), page_bytes, @intCast(protection), flags, -1, 0);
    if (linux.E.init(result) != .SUCCESS) return false;
    const count = entry.faults.fetchAdd(1, .acq_rel);
    entry.recorded[count % recorded_max].store(page - base, .release);
    return true;
}

/// Hands a signal that is not ours to whoever handled it before us (`action`).
fn chain_to(action: *const posix.Sigaction, signal: i32, info: *const posix.siginfo_t, context: ?*anyopaque) void {
    if (action.flags & posix.SA.SIGINFO != 0) {
        if (action.handler.sigaction) |handler| return handler(signal, info, context);
    } else if (action.handler.handler) |handler| {
        const value = @intFromPtr(handler);
        if (value != @intFromPtr(posix.SIG.DFL) and value != @intFromPtr(posix.SIG.IGN)) return handler(signal);
    }
    // Default action: restore it; returning re-executes the access, which faults again and dies.
    var default_action = posix.Sigaction{ .handler = .{ .handler = posix.SIG.DFL }, .mask = posix.sigemptyset(), .flags = 0 };
    posix.sigaction(@intCast(signal), &default_action, null);
}

/// A SIGSEGV at a window address outside a guest call is host code touching a page it may not:
/// say what that usually means on stderr, then pass the signal on unchanged. A guest's own faults
/// (this thread is running its call) go straight on to Wasmtime, which turns them into traps.
fn handle_sigsegv(signal: i32, info: *const posix.siginfo_t, context: ?*anyopaque) callconv(.c) void {
    const address = @intFromPtr(info.fields.sigfault.addr);
    if (window_at(address, .whole)) |found| {
        if (found.entry.guest_thread.load(.acquire) != std.os.linux.gettid()) report_host_fault(address - found.base);
    }
    chain_to(&previous_segv, signal, info, context);
}

/// Writes the explanation with write(2) only (async-signal-safe: no allocation, no locks).
fn report_host_fault(offset_bytes: usize) void {
    var buffer: [512]u8 = undefined;
    var len: usize = 0;
    const parts = [_][]const u8{
        "vmwindow: host code touched a protected page of a window at window offset 0x",
        "",
        ": a write through region.bytes of a region mapped \"read\" (map it { access: \"readwrite\" } or copy with slice()), or a pointer into a region used after unmap. The crash report that follows is this access.\n",
    };
    var hex: [16]u8 = undefined;
    var hex_len: usize = 0;
    var value = offset_bytes;
    while (true) {
        hex[hex.len - 1 - hex_len] = "0123456789abcdef"[value & 0xf];
        hex_len += 1;
        value >>= 4;
        if (value == 0) break;
    }
    for (parts, 0..) |part, index| {
        const text = if (index == 1) hex[hex.len - hex_len ..] else part;
        @memcpy(buffer[len..][0..text.len], text);
        len += text.len;
    }
    _ = std.os.linux.write(2, &buffer, len);
}
