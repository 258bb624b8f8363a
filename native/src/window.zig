//! The window: one reservation of address space that Wasmtime uses as a guest's linear memory, with
//! host files mapped into 64 KiB-aligned slots of it and the region table published inside it.

const std = @import("std");
const assert = std.debug.assert;
const posix = std.posix;

const errors = @import("errors.zig");
const layout = @import("layout.zig");
const os = @import("os.zig").impl;
const table_module = @import("table.zig");
const Slots = @import("slots.zig").Slots;
const Error = errors.Error;
const fail = errors.fail;

pub const Access = enum(u32) {
    read = table_module.access_read,
    read_write = table_module.access_read_write,
};

/// What the C ABI returns about a region (`vmw_region_t`).
pub const RegionInfo = extern struct {
    offset_bytes: u64,
    length_bytes: u64,
    id: u32,
    generation: u32,
    access: u32,
    reserved0: u32 = 0,
};

comptime {
    assert(@sizeOf(RegionInfo) == 32);
}

/// The host's own record of a region; the published table mirrors it.
const Region = struct {
    live: bool = false,
    offset_bytes: u64 = 0,
    length_bytes: u64 = 0,
    slot_bytes: u64 = 0,
    access: Access = .read,
};

pub const Window = struct {
    allocator: std.mem.Allocator,
    reservation: [*]align(std.heap.page_size_min) u8,
    layout: layout.Layout,
    table_fd: posix.fd_t,
    /// The host's writable mapping of the table; the window holds a read-only mapping of the same file.
    table_memory: []align(std.heap.page_size_min) u8,
    table: table_module.Table,
    slots: Slots,
    /// Indexed by `id - 1`.
    regions: []Region,
    /// Stack of free ids; the next id handed out is `free_ids[free_id_count - 1]`.
    free_ids: []u32,
    free_id_count: u32,
    /// Wasmtime memories (one per guest store) currently backed by this window.
    memory_refs: u32 = 0,
    /// Opaque to this file: owned by the Wasmtime glue (`engine.zig`, `guest.zig`).
    provider_module: ?*anyopaque = null,
    guest: ?*anyopaque = null,

    pub fn create(allocator: std.mem.Allocator, window_bytes: u64, guest_bytes: u64, capacity: u32) Error!*Window {
        const window_layout = layout.compute(window_bytes, guest_bytes, capacity, os.os_page_bytes()) catch |err| {
            return switch (err) {
                error.WindowSizeInvalid => fail(error.InvalidArgument, "window size {d} bytes is not a positive multiple of 65536 of at most 4 GiB", .{window_bytes}),
                error.GuestSizeInvalid => fail(error.InvalidArgument, "guest area size {d} bytes is not a positive multiple of 65536", .{guest_bytes}),
                error.CapacityInvalid => fail(error.InvalidArgument, "region capacity {d} is not in 1..{d}", .{ capacity, layout.table_max_capacity }),
                error.WindowTooSmall => fail(error.InvalidArgument, "window of {d} bytes leaves no slot after the table and a {d}-byte guest area (need at least {d} bytes)", .{ window_bytes, guest_bytes, layout.guest_base + guest_bytes + layout.page_bytes }),
            };
        };

        const window = allocator.create(Window) catch return fail(error.OutOfMemory, "out of memory allocating a window", .{});
        errdefer allocator.destroy(window);

        const reservation = os.reserve(layout.reservation_bytes) catch |err|
            return fail(error.OutOfMemory, "cannot reserve {d} bytes of address space for the window: {s}", .{ layout.reservation_bytes, @errorName(err) });
        errdefer os.release(reservation, layout.reservation_bytes);

        const table_fd = os.shared_memory_file(window_layout.table_bytes) catch |err|
            return fail(error.OutOfMemory, "cannot create the region table's memory: {s}", .{@errorName(err)});
        errdefer os.close(table_fd);
        const table_memory = os.map_shared_anywhere(window_layout.table_bytes, table_fd) catch |err|
            return fail(error.OutOfMemory, "cannot map the region table: {s}", .{@errorName(err)});
        errdefer os.unmap_anywhere(table_memory);
        os.map_file(reservation + layout.table_offset, window_layout.table_bytes, table_fd, 0, false) catch |err|
            return fail(error.OutOfMemory, "cannot map the region table into the window: {s}", .{@errorName(err)});
        os.map_anonymous(reservation + layout.guest_base, window_layout.guest_bytes) catch |err|
            return fail(error.OutOfMemory, "cannot map the guest area: {s}", .{@errorName(err)});

        var slots = Slots.init(allocator, window_layout.slots_base, window_layout.window_bytes, capacity) catch
            return fail(error.OutOfMemory, "out of memory allocating the slot map", .{});
        errdefer slots.deinit(allocator);
        const regions = allocator.alloc(Region, capacity) catch return fail(error.OutOfMemory, "out of memory allocating regions", .{});
        errdefer allocator.free(regions);
        @memset(regions, .{});
        const free_ids = allocator.alloc(u32, capacity) catch return fail(error.OutOfMemory, "out of memory allocating region ids", .{});
        // Lowest id on top of the stack, so ids are handed out 1, 2, 3, ...
        for (free_ids, 0..) |*id, index| id.* = capacity - @as(u32, @intCast(index));

        window.* = .{
            .allocator = allocator,
            .reservation = reservation,
            .layout = window_layout,
            .table_fd = table_fd,
            .table_memory = table_memory,
            .table = table_module.Table.init(table_memory, window_layout),
            .slots = slots,
            .regions = regions,
            .free_ids = free_ids,
            .free_id_count = capacity,
        };
        window.verify();
        return window;
    }

    /// Releases everything. The caller (lib.zig) has destroyed the window's guests first.
    pub fn destroy(window: *Window) void {
        assert(window.guest == null);
        assert(window.memory_refs == 0);
        assert(window.provider_module == null);
        const allocator = window.allocator;
        os.release(window.reservation, layout.reservation_bytes);
        os.unmap_anywhere(window.table_memory);
        os.close(window.table_fd);
        window.slots.deinit(allocator);
        allocator.free(window.regions);
        allocator.free(window.free_ids);
        allocator.destroy(window);
    }

    pub fn base(window: *const Window) [*]u8 {
        return window.reservation;
    }

    pub fn map_file(window: *Window, path: [*:0]const u8, access: Access, name: []const u8) Error!RegionInfo {
        window.verify();
        if (name.len > layout.name_max_bytes) {
            return fail(error.InvalidArgument, "region name is {d} bytes; at most {d} allowed", .{ name.len, layout.name_max_bytes });
        }
        const writable = access == .read_write;
        const fd = os.open_file(path, writable) catch |err| return switch (err) {
            error.NotFound => fail(error.NotFound, "no such file: {s}", .{path}),
            error.AccessDenied => fail(error.AccessDenied, "permission denied opening {s} for {s}", .{ path, if (writable) "read-write" else "read" }),
            error.IsDirectory => fail(error.InvalidArgument, "{s} is a directory, not a file", .{path}),
            error.NameTooLong => fail(error.InvalidArgument, "path is too long: {s}", .{path}),
            error.OutOfMemory => fail(error.OutOfMemory, "out of file descriptors opening {s}", .{path}),
            error.Unexpected => fail(error.Io, "cannot open {s}", .{path}),
        };
        // The mapping keeps its own reference to the file.
        defer os.close(fd);

        const info = os.stat_file(fd) catch return fail(error.Io, "cannot stat {s}", .{path});
        switch (info.kind) {
            .regular => {},
            .directory => return fail(error.InvalidArgument, "{s} is a directory, not a file", .{path}),
            .other => return fail(error.InvalidArgument, "{s} is not a regular file", .{path}),
        }
        if (info.size_bytes == 0) {
            return fail(error.InvalidArgument, "{s} is empty: an empty file cannot be mapped", .{path});
        }
        if (info.size_bytes > window.layout.slots_bytes()) {
            return fail(error.WindowFull, "{s} is {d} bytes; the window's slot area holds at most {d}", .{ path, info.size_bytes, window.layout.slots_bytes() });
        }
        if (window.free_id_count == 0) {
            return fail(error.WindowFull, "the region table is full ({d} regions)", .{window.layout.capacity});
        }
        const slot_bytes = std.mem.alignForward(u64, info.size_bytes, layout.page_bytes);
        const offset_bytes = window.slots.acquire(slot_bytes) orelse {
            return fail(error.WindowFull, "no free slot of {d} bytes for {s} ({d} bytes free in total)", .{ slot_bytes, path, window.slots.free_bytes() });
        };
        errdefer window.slots.release(offset_bytes, slot_bytes);

        // Map only up to the OS page holding the last byte: the rest of the slot stays PROT_NONE, so
        // a guest reading past the end traps instead of touching a page past end-of-file (SIGBUS).
        const mapped_bytes = std.mem.alignForward(u64, info.size_bytes, os.os_page_bytes());
        os.map_file(window.reservation + offset_bytes, mapped_bytes, fd, 0, writable) catch |err| {
            return switch (err) {
                error.AccessDenied => fail(error.AccessDenied, "permission denied mapping {s}", .{path}),
                error.OutOfMemory => fail(error.OutOfMemory, "out of memory mapping {s}", .{path}),
                error.Unexpected => fail(error.Io, "cannot map {s}", .{path}),
            };
        };

        window.free_id_count -= 1;
        const id = window.free_ids[window.free_id_count];
        const region = &window.regions[id - 1];
        assert(!region.live);
        region.* = .{
            .live = true,
            .offset_bytes = offset_bytes,
            .length_bytes = info.size_bytes,
            .slot_bytes = slot_bytes,
            .access = access,
        };
        const generation = window.table.publish_live(id, offset_bytes, info.size_bytes, slot_bytes, @intFromEnum(access), name);
        window.verify();
        return .{
            .offset_bytes = offset_bytes,
            .length_bytes = info.size_bytes,
            .id = id,
            .generation = generation,
            .access = @intFromEnum(access),
        };
    }

    pub fn unmap(window: *Window, id: u32, generation: u32) Error!void {
        window.verify();
        const region = try window.live_region(id, generation);
        os.map_none(window.reservation + region.offset_bytes, region.slot_bytes) catch |err|
            return fail(error.OutOfMemory, "cannot unmap region {d}: {s}", .{ id, @errorName(err) });
        window.slots.release(region.offset_bytes, region.slot_bytes);
        region.* = .{};
        window.table.publish_free(id);
        window.free_ids[window.free_id_count] = id;
        window.free_id_count += 1;
        window.verify();
    }

    fn live_region(window: *Window, id: u32, generation: u32) Error!*Region {
        if (id == 0 or id > window.layout.capacity) {
            return fail(error.NotFound, "region id {d} does not exist (ids are 1..{d})", .{ id, window.layout.capacity });
        }
        const region = &window.regions[id - 1];
        const current_generation = window.table.entry(id).generation;
        if (!region.live) {
            return fail(error.Stale, "region {d} is not mapped (already unmapped?)", .{id});
        }
        if (current_generation != generation) {
            return fail(error.Stale, "region {d} generation {d} is stale (now {d}): it was unmapped and the id reused", .{ id, generation, current_generation });
        }
        return region;
    }

    fn verify(window: *const Window) void {
        if (!std.debug.runtime_safety) return;
        assert(window.free_id_count <= window.layout.capacity);
        assert(window.table.header.count + window.free_id_count == window.layout.capacity);
        assert(window.table.header.generation % 2 == 0);
    }
};
