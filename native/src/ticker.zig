//! The epoch ticker: one native thread that advances the epoch of every engine with epoch
//! interruption (engine.zig: interruptible and metered) every `tick_ms`
//! while at least one guest has a call deadline. Guest calls with a deadline set
//! `wasmtime_context_set_epoch_deadline(ticks)` and trap with `Interrupt` when the epoch passes it.
//!
//! The thread never calls into JavaScript or touches a store: it only increments an atomic
//! counter inside the engine (`wasmtime_engine_increment_epoch` is documented as thread-safe).
//! With no deadline in use it sleeps on a condition variable and costs nothing.

const std = @import("std");
const assert = std.debug.assert;

const wt = @import("wasmtime.zig");

/// Granularity of deadlines.
pub const tick_ms: u32 = 1;
/// The longest deadline accepted (about 24.8 days): ticks stay far from u64 overflow.
pub const deadline_max_ms: u32 = std.math.maxInt(i32);

var mutex: std.Thread.Mutex = .{};
var condition: std.Thread.Condition = .{};
/// Guests that currently have a deadline; the thread ticks while this is > 0.
var users: u32 = 0;
var thread: ?std.Thread = null;
/// Every engine with epoch interruption that a deadline was set in (interruptible, metered).
const engines_max = 4;
var engines: [engines_max]?*wt.Engine = .{null} ** engines_max;
/// The ticker thread's stack. At least glibc's PTHREAD_STACK_MIN on every target: 128 KiB on
/// aarch64 Linux (64 KiB there made pthread_attr_setstacksize fail with EINVAL, which Zig's spawn
/// asserts against: the first deadline aborted the process), 16 KiB elsewhere; and a whole number
/// of pages up to 64 KiB pages (arm64 Linux kernels with 16 or 64 KiB pages, macOS's 16 KiB).
const stack_bytes: usize = 256 * 1024;

comptime {
    assert(stack_bytes >= 128 * 1024);
    assert(stack_bytes % (64 * 1024) == 0);
}

/// Ticks to pass to `wasmtime_context_set_epoch_deadline` for a deadline of `timeout_ms`: one more
/// than `timeout_ms / tick_ms`, rounded up, because the current tick may be almost over.
pub fn deadline_ticks(timeout_ms: u32) u64 {
    assert(timeout_ms > 0);
    assert(timeout_ms <= deadline_max_ms);
    return @as(u64, std.math.divCeil(u32, timeout_ms, tick_ms) catch unreachable) + 1;
}

/// Registers one more deadline user, starting the thread on first use.
pub fn acquire(wasm_engine: *wt.Engine) error{ThreadSpawn}!void {
    mutex.lock();
    defer mutex.unlock();
    for (&engines) |*slot| {
        if (slot.* == wasm_engine) break;
        if (slot.* == null) {
            slot.* = wasm_engine;
            break;
        }
    } else unreachable; // More engine kinds than engines_max.
    if (thread == null) {
        thread = std.Thread.spawn(.{ .stack_size = stack_bytes }, run, .{}) catch return error.ThreadSpawn;
        // The thread lives for the rest of the process, like the engine it ticks.
        thread.?.detach();
    }
    users += 1;
    condition.signal();
}

pub fn release() void {
    mutex.lock();
    defer mutex.unlock();
    assert(users > 0);
    users -= 1;
}

/// Ticks since the process started ticking: advanced with every engine's epoch, so a run's start
/// and its deadline can be compared in the same units as Wasmtime's epoch checks, with one atomic
/// load instead of a clock read per call.
var ticks = std.atomic.Value(u64).init(0);

/// The ticker's count now; it advances only while some guest holds the ticker (`acquire`).
pub fn now_ticks() u64 {
    return ticks.load(.acquire);
}

fn run() void {
    while (true) {
        mutex.lock();
        while (users == 0) condition.wait(&mutex);
        const ticked = engines;
        mutex.unlock();
        std.Thread.sleep(@as(u64, tick_ms) * std.time.ns_per_ms);
        for (ticked) |wasm_engine| if (wasm_engine) |e| wt.wasmtime_engine_increment_epoch(e);
        _ = ticks.fetchAdd(1, .acq_rel);
    }
}

test "deadline ticks round up and add one" {
    try std.testing.expectEqual(@as(u64, 2), deadline_ticks(1));
    try std.testing.expectEqual(@as(u64, 51), deadline_ticks(50));
}
