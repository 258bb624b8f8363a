//! The region table that the host publishes inside the window (layout: docs/abi.md).
//!
//! The host keeps the truth in its own structures (`window.zig`); this file only writes the
//! published copy, following the seqlock rule: the header generation is odd while a change is in
//! progress and even when the table is stable.

const std = @import("std");
const builtin = @import("builtin");
const assert = std.debug.assert;
const layout = @import("layout.zig");

/// The ABI's facts, generated from abi/vmwindow-abi.json (native/build.zig): the header and entry
/// layouts (with their offsets checked at compile time there), the magic, the access and state codes.
const abi = @import("vmwindow_abi");

pub const magic: u32 = abi.table_magic; // "VMWT" in little-endian byte order

pub const access_read: u32 = abi.access_read;
pub const access_write: u32 = abi.access_write;
pub const access_read_write: u32 = access_read | access_write;
/// Set for anonymous (zero-filled scratch) regions, which are always read-write.
pub const access_anonymous: u32 = abi.access_anonymous;
/// Set once part of the region faulted (its file shrank under it): those pages trap or read zeros.
pub const access_damaged: u32 = abi.access_damaged;

pub const state_free: u32 = abi.state_free;
pub const state_live: u32 = abi.state_live;

pub const Header = abi.TableHeader;
pub const Entry = abi.TableEntry;

comptime {
    assert(@sizeOf(Header) == layout.header_bytes);
    assert(@sizeOf(Entry) == layout.entry_bytes);
    assert(@sizeOf(@FieldType(Entry, "name")) == layout.name_max_bytes);
}

/// A writable view of the published table (the host's mapping of it, not the guest's).
pub const Table = struct {
    header: *Header,
    entries: []Entry,

    /// `memory` is the host's writable mapping of the table, at least `table_bytes` long and zeroed.
    pub fn init(memory: []align(8) u8, window_layout: layout.Layout) Table {
        assert(memory.len >= window_layout.table_bytes);
        assert(window_layout.capacity <= layout.table_max_capacity);
        const header: *Header = @ptrCast(memory.ptr);
        const entries_ptr: [*]Entry = @ptrCast(@alignCast(memory.ptr + layout.header_bytes));
        const table = Table{ .header = header, .entries = entries_ptr[0..window_layout.capacity] };
        header.* = .{
            .magic = magic,
            .abi_version = layout.abi_version,
            .header_bytes = layout.header_bytes,
            .entry_bytes = layout.entry_bytes,
            .capacity = window_layout.capacity,
            .count = 0,
            .generation = 0,
            .reserved0 = 0,
            .window_bytes = window_layout.window_bytes,
            .guest_base = layout.guest_base,
            .guest_bytes = window_layout.guest_bytes,
            .slots_base = window_layout.slots_base,
        };
        for (table.entries, 1..) |*e, id| {
            e.* = std.mem.zeroes(Entry);
            e.id = @intCast(id);
        }
        return table;
    }

    pub fn entry(table: Table, id: u32) *Entry {
        assert(id >= 1);
        assert(id <= table.entries.len);
        return &table.entries[id - 1];
    }

    fn begin_change(table: Table) void {
        const generation = @atomicRmw(u32, &table.header.generation, .Add, 1, .acq_rel);
        assert(generation % 2 == 0);
        // The entry writes that follow must not become visible before the odd generation. The
        // read-modify-write does not promise that by itself: its acquire half orders later accesses
        // after its load, its release half orders earlier ones before its store, and on AArch64
        // (LDAXR/STLXR) a later plain store may be observed before the STLXR's store.
        store_store_barrier();
    }

    /// The seqlock writer's store-store barrier (Linux's smp_wmb in write_seqcount_begin): every
    /// store before it is visible to other threads before any store after it. x86-64 keeps stores
    /// in program order, so only the compiler must not move them; AArch64 needs `dmb ishst`.
    fn store_store_barrier() void {
        switch (builtin.cpu.arch) {
            .x86_64 => asm volatile ("" ::: .{ .memory = true }),
            .aarch64 => asm volatile ("dmb ishst" ::: .{ .memory = true }),
            else => @compileError("table.zig: add this CPU's store-store barrier (x86-64 and aarch64 are the supported ones)"),
        }
    }

    fn end_change(table: Table) void {
        const generation = table.header.generation;
        assert(generation % 2 == 1);
        @atomicStore(u32, &table.header.generation, generation +% 1, .release);
    }

    /// Publishes a region that is newly mapped (`id` was free) or changed in place (remapped,
    /// resized, moved); returns the entry's new generation.
    pub fn publish_live(table: Table, id: u32, offset_bytes: u64, length_bytes: u64, slot_bytes: u64, access: u32, name: []const u8) u32 {
        const e = table.entry(id);
        assert(offset_bytes % layout.page_bytes == 0);
        assert(slot_bytes % layout.page_bytes == 0);
        assert(length_bytes > 0);
        assert(length_bytes <= slot_bytes);
        assert(access & access_read != 0);
        assert(access & ~@as(u32, access_read | access_write | access_anonymous | access_damaged) == 0);
        assert(name.len <= layout.name_max_bytes);
        const was_live = e.state == state_live;

        table.begin_change();
        e.offset_bytes = offset_bytes;
        e.length_bytes = length_bytes;
        e.slot_bytes = slot_bytes;
        e.generation +%= 1;
        e.access = access;
        e.name = std.mem.zeroes([layout.name_max_bytes]u8);
        @memcpy(e.name[0..name.len], name);
        e.state = state_live;
        if (!was_live) table.header.count += 1;
        assert(table.header.count <= table.header.capacity);
        table.end_change();
        return e.generation;
    }

    /// Changes a live entry's access bits (e.g. marks it damaged) without changing its generation:
    /// the region is the same mapping, so handles to it stay valid.
    pub fn publish_access(table: Table, id: u32, access: u32) void {
        const e = table.entry(id);
        assert(e.state == state_live);
        assert(access & access_read != 0);
        table.begin_change();
        e.access = access;
        table.end_change();
    }

    pub fn publish_free(table: Table, id: u32) void {
        const e = table.entry(id);
        assert(e.state == state_live);
        assert(table.header.count > 0);

        table.begin_change();
        const generation = e.generation +% 1;
        e.* = std.mem.zeroes(Entry);
        e.id = id;
        e.generation = generation;
        table.header.count -= 1;
        table.end_change();
    }
};

test "publish and free keep the seqlock even and bump entry generations" {
    const window_layout = try layout.compute(layout.window_default_bytes, layout.guest_default_bytes, 4, 4096);
    var memory: [4096]u8 align(8) = undefined;
    @memset(&memory, 0xAA);
    const table = Table.init(&memory, window_layout);
    try std.testing.expectEqual(magic, std.mem.readInt(u32, memory[0..4], .little));
    try std.testing.expectEqual(@as(u32, 4), table.header.capacity);
    try std.testing.expectEqual(@as(u32, 3), table.entry(3).id);

    const generation = table.publish_live(2, window_layout.slots_base, 100, layout.page_bytes, access_read, "data");
    try std.testing.expectEqual(@as(u32, 1), generation);
    try std.testing.expectEqual(@as(u32, 2), table.header.generation);
    try std.testing.expectEqual(@as(u32, 1), table.header.count);
    const raw_entry = memory[64 + 64 .. 64 + 128];
    try std.testing.expectEqual(window_layout.slots_base, std.mem.readInt(u64, raw_entry[0..8], .little));
    try std.testing.expectEqualStrings("data", raw_entry[40..44]);
    try std.testing.expectEqual(@as(u8, 0), raw_entry[44]);

    table.publish_free(2);
    try std.testing.expectEqual(@as(u32, 4), table.header.generation);
    try std.testing.expectEqual(@as(u32, 0), table.header.count);
    try std.testing.expectEqual(@as(u32, 2), table.entry(2).generation);
    try std.testing.expectEqual(@as(u64, 0), table.entry(2).offset_bytes);
}
