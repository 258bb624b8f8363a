//! The process-wide budget of regions. Linux caps a process's memory mappings at
//! `vm.max_map_count` (65,530 by default) and each region takes about two (its pages and the
//! PROT_NONE rest of its slot). At the cap every mmap fails, including the ones malloc, thread
//! stacks and Wasmtime's compiler make, and Wasmtime aborts the process when an allocation fails.
//! So vmwindow stops handing out regions `headroom_mappings` short of the cap, with an error that
//! names the limit, and the rest of the process keeps room to run.

const std = @import("std");
const builtin = @import("builtin");
const assert = std.debug.assert;

/// Mappings left to the rest of the process (Bun, malloc, threads, compiled code).
pub const headroom_mappings: u64 = 4096;
/// Mappings one region is counted as (its pages, the PROT_NONE rest of its slot).
pub const mappings_per_region: u64 = 2;
/// Where the cap is unknown (not Linux, or unreadable): no budget beyond the windows' own limits.
const regions_unlimited: u64 = std.math.maxInt(u64);

var live_regions = std.atomic.Value(u64).init(0);
var max_regions_cached = std.atomic.Value(u64).init(0);

/// The most regions this process may have live at once.
pub fn max_regions() u64 {
    const cached = max_regions_cached.load(.acquire);
    if (cached != 0) return cached;
    const computed = regions_for(read_max_map_count() orelse return store(regions_unlimited));
    return store(computed);
}

fn store(value: u64) u64 {
    assert(value > 0);
    max_regions_cached.store(value, .release);
    return value;
}

fn regions_for(max_map_count: u64) u64 {
    if (max_map_count <= headroom_mappings + mappings_per_region) return 1;
    return (max_map_count - headroom_mappings) / mappings_per_region;
}

fn read_max_map_count() ?u64 {
    if (builtin.os.tag != .linux) return null;
    var buffer: [32]u8 = undefined;
    const text = std.fs.cwd().readFile("/proc/sys/vm/max_map_count", &buffer) catch return null;
    return std.fmt.parseInt(u64, std.mem.trim(u8, text, " \n"), 10) catch null;
}

/// Takes one region from the budget; false (nothing taken) when the process is at its limit.
pub fn take() bool {
    const limit = max_regions();
    var current = live_regions.load(.monotonic);
    while (current < limit) {
        current = live_regions.cmpxchgWeak(current, current + 1, .acq_rel, .monotonic) orelse return true;
    }
    return false;
}

pub fn give_back() void {
    const previous = live_regions.fetchSub(1, .acq_rel);
    assert(previous > 0);
}

pub fn live() u64 {
    return live_regions.load(.acquire);
}

test regions_for {
    try std.testing.expectEqual(@as(u64, 30_717), regions_for(65_530));
    try std.testing.expectEqual(@as(u64, 1), regions_for(100));
}
