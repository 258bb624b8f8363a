//! The window layout of ABI v1 (see docs/abi.md): where the null page, the region table, the guest
//! area and the slots live, and the checks that a requested window fits.

const std = @import("std");
const assert = std.debug.assert;
/// The ABI's facts, generated from abi/vmwindow-abi.json (native/build.zig).
const abi = @import("vmwindow_abi");

pub const abi_version: u32 = abi.abi_version;

/// Slot alignment and wasm page size.
pub const page_bytes: u64 = abi.page_bytes;
/// Regions of at least this size are placed, when the window has room, where their address and
/// their file offset agree modulo it: the kernel can then map the page cache's 2 MiB folios (and
/// anonymous memory's transparent huge pages) with one page-table entry each (x86-64 and arm64
/// with 4 KiB pages). Measured: first scan of a warm 1 GiB file 12-24% faster (docs/performance.md).
pub const large_page_bytes: u64 = 2 << 20;
pub const null_bytes: u64 = page_bytes;
pub const table_offset: u64 = abi.table_offset;
pub const table_max_bytes: u64 = abi.table_max_bytes;
pub const guest_base: u64 = abi.guest_base;
pub const header_bytes: u64 = abi.header_bytes;
pub const entry_bytes: u64 = abi.entry_bytes;
pub const name_max_bytes: u64 = abi.name_max_bytes;
pub const table_max_capacity: u32 = abi.table_max_capacity;

/// The largest 32-bit linear memory: 65,536 wasm pages.
pub const window_max_bytes: u64 = abi.window_max_bytes;
pub const window_default_bytes: u64 = 1 << 31;
pub const guest_default_bytes: u64 = 16 << 20;
pub const capacity_default: u32 = 16_384;

/// What Wasmtime is told (engine config) and therefore what every window reserves: the compiled
/// code assumes `reservation + guard` bytes past the base are ours, so we reserve all of it.
pub const wasmtime_reservation_bytes: u64 = 1 << 32;
pub const wasmtime_guard_bytes: u64 = 32 << 20;
pub const reservation_bytes: u64 = wasmtime_reservation_bytes + wasmtime_guard_bytes;

comptime {
    // What the definition derives, derived here again: the generated numbers agree with each other.
    assert(guest_base == table_offset + table_max_bytes);
    assert(table_max_capacity == (table_max_bytes - header_bytes) / entry_bytes);
    assert(table_offset == null_bytes);
    assert(guest_base % page_bytes == 0);
    assert(capacity_default <= table_max_capacity);
    assert(window_max_bytes <= wasmtime_reservation_bytes);
}

pub const Layout = struct {
    window_bytes: u64,
    guest_bytes: u64,
    capacity: u32,
    /// Bytes of the table actually backed (header + entries, rounded up to the OS page).
    table_bytes: u64,
    slots_base: u64,

    pub fn slots_bytes(layout: Layout) u64 {
        return layout.window_bytes - layout.slots_base;
    }

    pub fn pages(layout: Layout) u32 {
        return @intCast(layout.window_bytes / page_bytes);
    }
};

pub const LayoutError = error{ WindowSizeInvalid, GuestSizeInvalid, CapacityInvalid, WindowTooSmall };

pub fn compute(window_bytes: u64, guest_bytes: u64, capacity: u32, os_page_bytes: u64) LayoutError!Layout {
    assert(std.math.isPowerOfTwo(os_page_bytes));
    assert(os_page_bytes <= page_bytes);
    if (window_bytes == 0 or window_bytes % page_bytes != 0 or window_bytes > window_max_bytes) {
        return error.WindowSizeInvalid;
    }
    if (guest_bytes == 0 or guest_bytes % page_bytes != 0 or guest_bytes > window_max_bytes) {
        return error.GuestSizeInvalid;
    }
    if (capacity == 0 or capacity > table_max_capacity) return error.CapacityInvalid;

    const slots_base = guest_base + guest_bytes;
    // At least one slot must exist, or the window can hold nothing.
    if (slots_base + page_bytes > window_bytes) return error.WindowTooSmall;

    const table_used_bytes = header_bytes + @as(u64, capacity) * entry_bytes;
    const table_bytes = std.mem.alignForward(u64, table_used_bytes, os_page_bytes);
    assert(table_bytes <= table_max_bytes);

    const layout = Layout{
        .window_bytes = window_bytes,
        .guest_bytes = guest_bytes,
        .capacity = capacity,
        .table_bytes = table_bytes,
        .slots_base = slots_base,
    };
    assert(layout.slots_base % page_bytes == 0);
    assert(layout.slots_bytes() >= page_bytes);
    return layout;
}

test "default layout" {
    const layout = try compute(window_default_bytes, guest_default_bytes, capacity_default, 4096);
    try std.testing.expectEqual(@as(u64, 0x0021_0000 + (16 << 20)), layout.slots_base);
    // 64 + 16,384 * 64 = 1,048,640 bytes, rounded up to the 4 KiB OS page.
    try std.testing.expectEqual(@as(u64, 1_052_672), layout.table_bytes);
    try std.testing.expectEqual(@as(u32, 32_768), layout.pages());
}

test "bad sizes are rejected" {
    try std.testing.expectError(error.WindowSizeInvalid, compute(0, guest_default_bytes, 16, 4096));
    try std.testing.expectError(error.WindowSizeInvalid, compute(page_bytes + 1, guest_default_bytes, 16, 4096));
    try std.testing.expectError(error.WindowSizeInvalid, compute(window_max_bytes + page_bytes, guest_default_bytes, 16, 4096));
    try std.testing.expectError(error.GuestSizeInvalid, compute(window_default_bytes, 100, 16, 4096));
    try std.testing.expectError(error.CapacityInvalid, compute(window_default_bytes, page_bytes, 0, 4096));
    try std.testing.expectError(error.CapacityInvalid, compute(window_default_bytes, page_bytes, table_max_capacity + 1, 4096));
    try std.testing.expectError(error.WindowTooSmall, compute(guest_base + page_bytes, page_bytes, 16, 4096));
    _ = try compute(guest_base + 2 * page_bytes, page_bytes, 16, 4096);
}
