//! Interrupting a guest call from another thread. A guest that asks for it gets a slot here and
//! hands out its token (slot and generation); any thread may then `request` with the token, which
//! only sets an atomic flag. The guest's own thread sees the flag from its epoch-deadline callback
//! (guest.zig `on_epoch_deadline`), which runs every `poll_ticks` while such a guest runs, and
//! stops the call there. A token of a guest since destroyed names a slot whose generation moved
//! on: `request` refuses it, so no token reaches another guest.

const std = @import("std");
const assert = std.debug.assert;

/// Guests with an interrupt token alive at once, in the whole process.
pub const slots_max = 4096;
/// How often (in epoch ticks, ticker.tick_ms each) a guest with a token checks its flag.
pub const poll_ticks: u64 = 10;

const Slot = struct {
    generation: std.atomic.Value(u32) = .init(0),
    requested: std.atomic.Value(bool) = .init(false),
    in_use: bool = false,
};

var mutex: std.Thread.Mutex = .{};
var slots: [slots_max]Slot = [_]Slot{.{}} ** slots_max;

/// `slot | generation << 12`: below 2^44, so it is exact as a JavaScript number.
pub const Token = u64;

comptime {
    assert(slots_max == 1 << 12);
}

/// A free slot for a guest, or null when `slots_max` guests already have one.
pub fn acquire() ?u32 {
    mutex.lock();
    defer mutex.unlock();
    for (&slots, 0..) |*slot, index| {
        if (slot.in_use) continue;
        slot.in_use = true;
        slot.requested.store(false, .release);
        return @intCast(index);
    }
    return null;
}

/// Frees `index`; tokens made for it stop working.
pub fn release(index: u32) void {
    mutex.lock();
    defer mutex.unlock();
    const slot = &slots[index];
    assert(slot.in_use);
    slot.in_use = false;
    _ = slot.generation.fetchAdd(1, .acq_rel);
    slot.requested.store(false, .release);
}

pub fn token(index: u32) Token {
    assert(index < slots_max);
    assert(slots[index].in_use);
    return @as(u64, index) | (@as(u64, slots[index].generation.load(.acquire)) << 12);
}

/// Asks the guest behind `value` to stop its running call. Any thread. False for a token that
/// names no live guest (destroyed, or never made).
pub fn request(value: Token) bool {
    const index: usize = @intCast(value & (slots_max - 1));
    const generation = value >> 12;
    if (generation > std.math.maxInt(u32)) return false;
    mutex.lock();
    defer mutex.unlock();
    const slot = &slots[index];
    if (!slot.in_use or slot.generation.load(.acquire) != generation) return false;
    slot.requested.store(true, .release);
    return true;
}

/// Takes the request for `index` (the guest's thread, from its epoch callback).
pub fn take(index: u32) bool {
    return slots[index].requested.swap(false, .acq_rel);
}

/// Drops a request made while no call ran (a call only stops for requests made while it runs).
pub fn clear(index: u32) void {
    slots[index].requested.store(false, .release);
}

test "tokens name one guest's slot, and die with it" {
    const index = acquire().?;
    const first = token(index);
    try std.testing.expect(request(first));
    try std.testing.expect(take(index));
    try std.testing.expect(!take(index));
    release(index);
    try std.testing.expect(!request(first));
    const again = acquire().?;
    try std.testing.expectEqual(index, again);
    try std.testing.expect(token(again) != first);
    try std.testing.expect(!request(first));
    release(again);
}
