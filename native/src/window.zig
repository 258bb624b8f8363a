//! The window: one reservation of address space that Wasmtime uses as a guest's linear memory, with
//! host files (whole or a byte range) and anonymous scratch memory mapped into 64 KiB-aligned slots
//! of it, and the region table published inside it.
//!
//! Invariants (checked by `verify`): every live region owns one slot range in `slots`; the table
//! mirrors `regions`; everything in the slot area that no live region maps is PROT_NONE.

const std = @import("std");
const builtin = @import("builtin");
const assert = std.debug.assert;
const posix = std.posix;

const errors = @import("errors.zig");
const layout = @import("layout.zig");
const os = @import("os.zig").impl;
const table_module = @import("table.zig");
const Slots = @import("slots.zig").Slots;
const faults = @import("faults.zig");
const map_budget = @import("map_budget.zig");
const Error = errors.Error;
const fail = errors.fail;

pub const Access = enum(u32) {
    read = table_module.access_read,
    read_write = table_module.access_read_write,
};

pub const Kind = enum(u32) { file = 0, anonymous = 1 };

/// `length_bytes` value meaning "from `file_offset_bytes` to the end of the file".
pub const length_to_end: u64 = std.math.maxInt(u64);

/// What the C ABI returns about a region (`vmw_region_t`).
pub const RegionInfo = extern struct {
    offset_bytes: u64,
    length_bytes: u64,
    file_offset_bytes: u64,
    slot_bytes: u64,
    id: u32,
    generation: u32,
    access: u32,
    kind: u32,
};

comptime {
    assert(@sizeOf(RegionInfo) == 48);
}

/// What a guest's memory fault hit (`Window.locate`); `vmw_fault_t.kind` (VMW_FAULT_*).
pub const FaultKind = enum(u32) {
    none = 0,
    null_page = 1,
    table = 2,
    reserved = 3,
    guest_area = 4,
    read_only_region = 5,
    past_region_end = 6,
    free_slot = 7,
    past_window = 8,
    truncated_file = 9,
};

pub const Location = struct {
    kind: FaultKind,
    /// The region the address is in (or past the end of, inside its slot); 0 for none.
    region_id: u32 = 0,
    /// `.past_region_end`: how far past the region's last byte.
    bytes_past_end: u64 = 0,
};

/// Where a region should go: anywhere (first fit; 2 MiB-congruent for large regions, see
/// `large_slot`), or at a fixed window offset.
pub const Placement = union(enum) {
    anywhere,
    at: u64,
};

/// The host's own record of a region; the published table mirrors it.
const Region = struct {
    live: bool = false,
    kind: Kind = .file,
    access: Access = .read,
    offset_bytes: u64 = 0,
    length_bytes: u64 = 0,
    slot_bytes: u64 = 0,
    file_offset_bytes: u64 = 0,
    /// File regions: the path (owned) and identity, to reopen the same file on resize.
    path: ?[:0]u8 = null,
    device: u64 = 0,
    inode: u64 = 0,
    name: [layout.name_max_bytes]u8 = std.mem.zeroes([layout.name_max_bytes]u8),
    name_len: u8 = 0,
    /// Part of it faulted (SIGBUS: the file shrank); see faults.zig.
    damaged: bool = false,
    /// Its last OS page is a private copy (Source.private_tail): release_pages must keep it.
    private_tail: bool = false,
    /// Shared anonymous regions (`map_shareable`, `map_shared`): the memory file behind them, which
    /// other windows can map too (owned: each region its own descriptor).
    shared_fd: ?os.Handle = null,
    /// Read-write regions with a private tail: the file, open, to write the tail back to (owned),
    /// and the tail's bytes as last read from or written to the file (owned, one OS page), so a
    /// write-back writes only the bytes this region changed.
    tail_fd: ?os.Handle = null,
    tail_saved: ?[]u8 = null,

    fn tail_bytes(region: *const Region) u64 {
        assert(region.live and region.private_tail);
        return region.length_bytes % os.os_page_bytes();
    }

    fn mapped_bytes(region: *const Region) u64 {
        assert(region.live);
        assert(region.length_bytes <= region.slot_bytes);
        return std.mem.alignForward(u64, region.length_bytes, os.os_page_bytes());
    }

    fn name_slice(region: *const Region) []const u8 {
        return region.name[0..region.name_len];
    }

    fn table_access(region: *const Region) u32 {
        assert(region.live);
        assert(region.kind == .file or region.access == .read_write);
        const anonymous: u32 = if (region.kind == .anonymous) table_module.access_anonymous else 0;
        const damaged: u32 = if (region.damaged) table_module.access_damaged else 0;
        return @intFromEnum(region.access) | anonymous | damaged;
    }
};

/// An open file ready to be mapped (what `map_source` needs).
const Source = struct {
    fd: os.Handle,
    file_offset_bytes: u64,
    length_bytes: u64,
    /// The whole file's size when it was opened.
    file_bytes: u64,
    writable: bool,

    /// Whether the range ends inside an OS page that the file continues past: mapping that page
    /// would let the guest read (and, read-write, write) file bytes beyond the range, so
    /// `map_source` gives it a private copy of the range's bytes instead, zeros after them. A
    /// read-write region writes that copy's in-range bytes back (`write_back_tail`) on flush,
    /// resize, remap, unmap and close; bytes past the range never reach the file.
    fn private_tail(source: Source) bool {
        const tail_bytes = source.length_bytes % os.os_page_bytes();
        return tail_bytes != 0 and source.file_offset_bytes + source.length_bytes < source.file_bytes;
    }
};

pub const Window = struct {
    allocator: std.mem.Allocator,
    reservation: [*]align(std.heap.page_size_min) u8,
    layout: layout.Layout,
    table_fd: os.Handle,
    /// The host's writable mapping of the table; the window holds a read-only mapping of the same file.
    table_memory: []align(std.heap.page_size_min) u8,
    table: table_module.Table,
    slots: Slots,
    /// Indexed by `id - 1`.
    regions: []Region,
    /// Stack of free ids; the next id handed out is `free_ids[free_id_count - 1]`.
    free_ids: []u32,
    free_id_count: u32,
    /// This window's entry in the SIGBUS registry (faults.zig).
    fault_slot: u32,

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

        // 2 MiB-aligned, so large regions can be placed where the kernel maps huge pages (large_slot).
        const reservation = os.reserve(layout.reservation_bytes, layout.large_page_bytes) catch |err|
            return fail(error.OutOfMemory, "cannot reserve {d} bytes of address space for the window: {s}", .{ layout.reservation_bytes, @errorName(err) });
        errdefer os.release(reservation, layout.reservation_bytes);

        const table_fd = os.shared_memory_file("vmwindow-table", window_layout.table_bytes) catch |err|
            return fail(error.OutOfMemory, "cannot create the region table's memory: {s}", .{@errorName(err)});
        errdefer os.close(table_fd);
        const table_memory = os.map_shared_anywhere(window_layout.table_bytes, table_fd) catch |err|
            return fail(error.OutOfMemory, "cannot map the region table: {s}", .{@errorName(err)});
        errdefer os.unmap_anywhere(table_memory);
        os.map_file(reservation + layout.table_offset, window_layout.table_bytes, table_fd, 0, false) catch |err|
            return fail(error.OutOfMemory, "cannot map the region table into the window: {s}", .{@errorName(err)});
        os.map_anonymous(reservation + layout.guest_base, window_layout.guest_bytes) catch |err|
            return fail(error.OutOfMemory, "cannot map the guest area: {s}", .{@errorName(err)});

        var slots = Slots.init(allocator, window_layout.slots_base, window_layout.window_bytes) catch
            return fail(error.OutOfMemory, "out of memory allocating the slot map", .{});
        errdefer slots.deinit(allocator);
        const regions = allocator.alloc(Region, capacity) catch return fail(error.OutOfMemory, "out of memory allocating regions", .{});
        errdefer allocator.free(regions);
        @memset(regions, .{});
        const free_ids = allocator.alloc(u32, capacity) catch return fail(error.OutOfMemory, "out of memory allocating region ids", .{});
        errdefer allocator.free(free_ids);
        const fault_slot = faults.register(reservation, window_layout.slots_base, window_layout.window_bytes) catch
            return fail(error.OutOfMemory, "more than {d} windows are open in this process: close the windows you no longer need (Bun: window.close(), or `using window = Window.create()`)", .{faults.windows_max});
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
            .fault_slot = fault_slot,
        };
        window.verify();
        return window;
    }

    /// Releases everything. The caller (api/window.zig) has destroyed the window's guests first
    /// (guest.zig keeps them, by window: this file knows nothing of Wasmtime).
    pub fn destroy(window: *Window) void {
        assert(window.free_id_count <= window.layout.capacity);
        const allocator = window.allocator;
        for (window.regions) |*region| {
            if (!region.live) continue;
            // Best effort: closing has no way to report a failed write-back (flush first to know).
            window.write_back_tail(region) catch {};
            window.forget(region);
        }
        faults.unregister(window.fault_slot);
        os.release(window.reservation, layout.reservation_bytes);
        os.unmap_anywhere(window.table_memory);
        os.close(window.table_fd);
        window.slots.deinit(allocator);
        allocator.free(window.regions);
        allocator.free(window.free_ids);
        allocator.destroy(window);
    }

    pub fn base(window: *const Window) [*]u8 {
        assert(@intFromPtr(window.reservation) % layout.large_page_bytes == 0 or builtin.os.tag == .windows);
        return window.reservation;
    }

    /// What every new region starts with: the window consistent, faults absorbed, the name valid,
    /// a free id, and a region taken from the process's budget (the caller gives it back with
    /// `map_budget.give_back()` if the region is not made after all).
    fn begin_region(window: *Window, name: []const u8) Error!void {
        window.verify();
        _ = window.absorb_faults();
        try check_name(name);
        if (window.free_id_count == 0) return fail(error.WindowFull, "the region table is full ({d} regions)", .{window.layout.capacity});
        try take_budget();
        assert(window.free_id_count > 0);
    }

    /// Maps `length_bytes` of the file at `path` from `file_offset_bytes` (a multiple of the OS
    /// page) into a new region. `length_bytes` may be `length_to_end`.
    pub fn map_file(window: *Window, path: [:0]const u8, file_offset_bytes: u64, length_bytes: u64, access: Access, name: []const u8, placement: Placement) Error!RegionInfo {
        try window.begin_region(name);
        errdefer map_budget.give_back();
        const file = try open_range(path, file_offset_bytes, length_bytes, access == .read_write);
        // The mapping keeps its own reference to the file; a read-write private tail keeps the fd.
        var fd_kept = false;
        defer if (!fd_kept) os.close(file.source.fd);
        const tail_saved = try window.alloc_tail(file.source);
        errdefer if (tail_saved) |saved| window.allocator.free(saved);
        const slot = try window.take_slot(file.source.length_bytes, placement, file_offset_bytes);
        errdefer window.slots.release(slot.offset_bytes, slot.slot_bytes);
        try window.map_source(slot.offset_bytes, file.source, path);

        const owned_path = window.allocator.dupeZ(u8, path) catch {
            os.map_none(window.reservation + slot.offset_bytes, slot.slot_bytes) catch {};
            return fail(error.OutOfMemory, "out of memory recording {s}", .{path});
        };
        const mapped = window.record(.{
            .live = true,
            .kind = .file,
            .access = access,
            .offset_bytes = slot.offset_bytes,
            .length_bytes = file.source.length_bytes,
            .slot_bytes = slot.slot_bytes,
            .file_offset_bytes = file_offset_bytes,
            .path = owned_path,
            .device = file.info.device,
            .inode = file.info.inode,
        }, name);
        window.adopt_tail(&window.regions[mapped.id - 1], file.source, tail_saved, &fd_kept);
        assert(mapped.offset_bytes == slot.offset_bytes and mapped.length_bytes == file.source.length_bytes);
        assert(mapped.slot_bytes >= mapped.length_bytes);
        return mapped;
    }

    /// Maps `length_bytes` of zero-filled read-write scratch memory into a new region.
    pub fn map_anonymous(window: *Window, length_bytes: u64, name: []const u8, placement: Placement) Error!RegionInfo {
        if (length_bytes == 0) return fail(error.InvalidArgument, "length must be positive", .{});
        return window.map_memory(null, length_bytes, name, placement);
    }

    /// Maps `length_bytes` of zero-filled read-write memory that other windows can map too
    /// (`map_shared`): a memory file (memfd) rather than private anonymous memory. Its size is
    /// fixed (resize refuses it).
    pub fn map_shareable(window: *Window, length_bytes: u64, name: []const u8, placement: Placement) Error!RegionInfo {
        if (length_bytes == 0) return fail(error.InvalidArgument, "length must be positive", .{});
        const mapped_bytes = std.mem.alignForward(u64, length_bytes, os.os_page_bytes());
        const fd = os.shared_memory_file("vmwindow-shared", mapped_bytes) catch |err|
            return fail(error.OutOfMemory, "cannot create {d} bytes of shared memory: {s}", .{ mapped_bytes, @errorName(err) });
        errdefer os.close(fd);
        return window.map_memory(fd, length_bytes, name, placement);
    }

    /// Maps the memory of `source`'s shared anonymous region `(source_id, source_generation)` (made
    /// with `map_shareable`, in `source` or any window that maps it) into this window: guests of
    /// both windows read and write the same bytes. A file region is shared by mapping its file.
    pub fn map_shared(window: *Window, source: *Window, source_id: u32, source_generation: u32, name: []const u8, placement: Placement) Error!RegionInfo {
        const region = try source.live_region(source_id, source_generation);
        const shared_fd = region.shared_fd orelse return fail(error.Unsupported, "region {d} is not shared memory: only regions made with mapAnonymous(length, {{ shared: true }}) (vmw_window_map_shareable) can be mapped into another window; a file region is shared by mapping its file", .{source_id});
        assert(region.kind == .anonymous);
        const fd = os.duplicate(shared_fd) catch |err| return fail(error.OutOfMemory, "cannot share region {d}: {s}", .{ source_id, @errorName(err) });
        errdefer os.close(fd);
        return window.map_memory(fd, region.length_bytes, name, placement);
    }

    /// A new anonymous region: private zeros (`shared_fd` null), or the memory file `shared_fd`
    /// (owned by the region on success).
    fn map_memory(window: *Window, shared_fd: ?os.Handle, length_bytes: u64, name: []const u8, placement: Placement) Error!RegionInfo {
        assert(length_bytes > 0);
        try window.begin_region(name);
        errdefer map_budget.give_back();
        const slot = try window.take_slot(length_bytes, placement, 0);
        errdefer window.slots.release(slot.offset_bytes, slot.slot_bytes);
        const mapped_bytes = std.mem.alignForward(u64, length_bytes, os.os_page_bytes());
        if (shared_fd) |fd| {
            os.map_file(window.reservation + slot.offset_bytes, mapped_bytes, fd, 0, true) catch |err| {
                os.map_none(window.reservation + slot.offset_bytes, mapped_bytes) catch {};
                return fail(error.OutOfMemory, "cannot map {d} bytes of shared memory: {s} (or the process reached vm.max_map_count mappings)", .{ mapped_bytes, @errorName(err) });
            };
        } else {
            try window.map_zeros(slot.offset_bytes, mapped_bytes);
        }
        assert(slot.slot_bytes >= length_bytes);
        assert(slot.offset_bytes % layout.page_bytes == 0);
        const mapped = window.record(.{
            .live = true,
            .kind = .anonymous,
            .access = .read_write,
            .offset_bytes = slot.offset_bytes,
            .length_bytes = length_bytes,
            .slot_bytes = slot.slot_bytes,
            .shared_fd = shared_fd,
        }, name);
        assert((window.regions[mapped.id - 1].shared_fd != null) == (shared_fd != null));
        return mapped;
    }

    /// Points region `id` at another file or range. It keeps its id and name and stays in its slot
    /// when the new length fits there (or the slot can grow in place); otherwise it moves.
    pub fn remap_file(window: *Window, id: u32, generation: u32, path: [:0]const u8, file_offset_bytes: u64, length_bytes: u64, access: Access) Error!RegionInfo {
        window.verify();
        _ = window.absorb_faults();
        const region = try window.live_region(id, generation);
        const file = try open_range(path, file_offset_bytes, length_bytes, access == .read_write);
        var fd_kept = false;
        defer if (!fd_kept) os.close(file.source.fd);
        const owned_path = window.allocator.dupeZ(u8, path) catch return fail(error.OutOfMemory, "out of memory recording {s}", .{path});
        errdefer window.allocator.free(owned_path);
        const tail_saved = try window.alloc_tail(file.source);
        errdefer if (tail_saved) |saved| window.allocator.free(saved);
        try window.write_back_tail(region);

        try window.reslot(region, file.source.length_bytes, .{ .file = .{ .source = file.source, .what = path } });
        window.drop_backing(region);
        region.kind = .file;
        region.access = access;
        region.damaged = false;
        region.file_offset_bytes = file_offset_bytes;
        region.path = owned_path;
        region.device = file.info.device;
        region.inode = file.info.inode;
        window.adopt_tail(region, file.source, tail_saved, &fd_kept);
        return window.publish(id);
    }

    /// Changes region `id`'s length. File regions stay within their file (reopened by path, and
    /// refused if the path now names another file); anonymous regions keep their contents and
    /// gain zeros. The region moves when it cannot grow in place.
    pub fn resize(window: *Window, id: u32, generation: u32, length_bytes: u64) Error!RegionInfo {
        window.verify();
        _ = window.absorb_faults();
        const region = try window.live_region(id, generation);
        if (length_bytes == 0) return fail(error.InvalidArgument, "length must be positive", .{});
        switch (region.kind) {
            .file => {
                const path = region.path.?;
                const file = try open_range(path, region.file_offset_bytes, length_bytes, region.access == .read_write);
                var fd_kept = false;
                defer if (!fd_kept) os.close(file.source.fd);
                if (file.info.device != region.device or file.info.inode != region.inode) {
                    return fail(error.Stale, "{s} was replaced by another file since region {d} mapped it; remap instead", .{ path, id });
                }
                const tail_saved = try window.alloc_tail(file.source);
                errdefer if (tail_saved) |saved| window.allocator.free(saved);
                try window.write_back_tail(region);
                try window.reslot(region, length_bytes, .{ .file = .{ .source = file.source, .what = path } });
                window.close_tail_fd(region);
                window.adopt_tail(region, file.source, tail_saved, &fd_kept);
            },
            .anonymous => {
                if (region.shared_fd != null) {
                    return fail(error.Unsupported, "region {d} is shared memory, which keeps its size: map a new shared region of the size you need", .{id});
                }
                try window.reslot(region, length_bytes, .anonymous_kept);
            },
        }
        return window.publish(id);
    }

    /// Writes a read-write file region's dirty pages to its file and waits (msync MS_SYNC).
    pub fn flush(window: *Window, id: u32, generation: u32) Error!void {
        const region = try window.live_region(id, generation);
        assert(region.live);
        assert(region.kind == .anonymous or region.path != null);
        if (region.kind == .anonymous or region.access == .read) return;
        try window.write_back_tail(region);
        if (region.tail_fd) |fd| os.sync_file(fd) catch return fail(error.Io, "cannot flush region {d} to {s}", .{ id, region.path.? });
        os.sync(window.reservation + region.offset_bytes, region.mapped_bytes()) catch
            return fail(error.Io, "cannot flush region {d} to {s}", .{ id, region.path.? });
    }

    /// Takes `[offset_bytes, offset_bytes + length_bytes)` of file region `id` out of the process's
    /// resident memory (os.drop_resident): the bytes stay in the file and read the same; the next
    /// access faults the pages back in. A guest streaming through a large region calls this behind
    /// itself to keep peak RSS near one chunk. `offset_bytes` is a multiple of the OS page;
    /// `length_bytes` runs to the region's end at most and is rounded up to whole pages.
    /// Anonymous regions are refused: their pages have no file to come back from.
    pub fn release_pages(window: *Window, id: u32, generation: u32, offset_bytes: u64, length_bytes: u64) Error!void {
        const region = try window.live_region(id, generation);
        if (region.kind == .anonymous) {
            return fail(error.InvalidArgument, "region {d} is anonymous memory: releasing its pages would lose them (only file regions can)", .{id});
        }
        if (offset_bytes % os.os_page_bytes() != 0) {
            return fail(error.Unaligned, "release offset {d} is not a multiple of the OS page size ({d})", .{ offset_bytes, os.os_page_bytes() });
        }
        if (length_bytes == 0) return fail(error.InvalidArgument, "release length must be positive", .{});
        if (offset_bytes >= region.length_bytes or length_bytes > region.length_bytes - offset_bytes) {
            return fail(error.OutOfRange, "release of {d} bytes at {d} is outside region {d} ({d} bytes)", .{ length_bytes, offset_bytes, id, region.length_bytes });
        }
        var released_bytes = std.mem.alignForward(u64, length_bytes, os.os_page_bytes());
        assert(offset_bytes + released_bytes <= region.mapped_bytes());
        // A private tail page has no file behind it: dropping it would turn its bytes into zeros.
        if (region.private_tail and offset_bytes + released_bytes == region.mapped_bytes()) {
            released_bytes -= os.os_page_bytes();
            if (released_bytes == 0) return;
        }
        os.drop_resident(window.reservation + region.offset_bytes + offset_bytes, released_bytes) catch
            return fail(error.Io, "cannot release pages of region {d}", .{id});
    }

    pub fn unmap(window: *Window, id: u32, generation: u32) Error!void {
        window.verify();
        _ = window.absorb_faults();
        const region = try window.live_region(id, generation);
        try window.write_back_tail(region);
        // Only the mapped pages: the slot's tail is PROT_NONE already (every path that shortens a
        // region puts PROT_NONE back over what it drops). Restoring the whole slot would make the
        // kernel split and merge one more mapping: ~1 us of a 4 KiB file's ~10 us map + unmap.
        // (Windows: the whole slot, so its placeholders merge back into one.)
        const none_bytes = if (builtin.os.tag == .windows) region.slot_bytes else region.mapped_bytes();
        os.map_none(window.reservation + region.offset_bytes, none_bytes) catch |err|
            return fail(error.OutOfMemory, "cannot unmap region {d}: {s}", .{ id, @errorName(err) });
        window.forget(region);
        window.table.publish_free(id);
        assert(window.free_id_count < window.layout.capacity);
        window.free_ids[window.free_id_count] = id;
        window.free_id_count += 1;
        assert(!window.regions[id - 1].live and window.table.entry(id).state == table_module.state_free);
        window.verify();
    }

    pub fn region_info(window: *Window, id: u32) Error!RegionInfo {
        _ = window.absorb_faults();
        const region = try window.mapped_region(id);
        assert(region.live);
        const result = window.info(id);
        assert(result.id == id and result.offset_bytes == region.offset_bytes);
        return result;
    }

    /// What is at window address `address`, for a guest's memory fault there: the kind of place,
    /// and the region it is in or past (`vmw_fault_t`, traps.zig).
    pub fn locate(window: *const Window, address: u64) Location {
        const l = window.layout;
        if (address < layout.table_offset) return .{ .kind = .null_page };
        if (address < layout.table_offset + l.table_bytes) return .{ .kind = .table };
        if (address < layout.guest_base) return .{ .kind = .reserved };
        if (address < l.slots_base) return .{ .kind = .guest_area };
        if (address >= l.window_bytes) return .{ .kind = .past_window };
        const id = window.region_at(address) orelse return .{ .kind = .free_slot };
        const region = &window.regions[id - 1];
        if (region.damaged) return .{ .kind = .truncated_file, .region_id = id };
        // Loads of a live region's mapped pages never fault: only stores into read-only ones.
        if (address < region.offset_bytes + region.mapped_bytes()) return .{ .kind = .read_only_region, .region_id = id };
        assert(address >= region.offset_bytes + region.length_bytes);
        return .{ .kind = .past_region_end, .region_id = id, .bytes_past_end = address - (region.offset_bytes + region.length_bytes) };
    }

    /// The live region whose slot holds window address `address` (slots do not overlap), if any.
    fn region_at(window: *const Window, address: u64) ?u32 {
        for (window.regions, 1..) |*region, id| {
            if (!region.live or address < region.offset_bytes or address >= region.offset_bytes + region.slot_bytes) continue;
            return @intCast(id);
        }
        return null;
    }

    /// A fault this close below the guest area is read as a stack overflow: the stack pointer ran
    /// off the bottom of the guest area, a frame at a time.
    const stack_overflow_margin_bytes: u64 = 64 * 1024;

    /// `where` (`locate(address)`) in words ("a store into read-only region 3 \"input\"", "12 bytes
    /// past the end of region 2 (100 bytes long)", "a free slot", ...), written into `out`; cut if
    /// longer.
    pub fn describe_address(window: *const Window, address: u64, where: Location, out: []u8) []const u8 {
        assert(out.len > 0);
        const region: ?*const Region = if (where.region_id == 0) null else &window.regions[where.region_id - 1];
        const name = if (region) |r| r.name_slice() else "";
        const quote = if (name.len > 0) " \"" else "";
        const unquote = if (name.len > 0) "\"" else "";
        return switch (where.kind) {
            .none => unreachable,
            .null_page => print(out, "the null page (addresses below 0x{x} never map)", .{layout.table_offset}),
            .table => print(out, "the region table (read-only to guests)", .{}),
            .reserved => if (address + stack_overflow_margin_bytes >= layout.guest_base)
                print(out, "just below the guest area: most likely a stack overflow (a C or Zig guest's static data lies below its stack and was overwritten on the way: instantiate the guest again)", .{})
            else
                print(out, "the reserved range between the table and the guest area", .{}),
            .guest_area => print(out, "the guest area (its static data, stack and heap)", .{}),
            .past_window => print(out, "past the end of the window ({d} bytes)", .{window.layout.window_bytes}),
            .truncated_file => print(out, "region {d}{s}{s}{s}, whose file was truncated after it was mapped", .{ where.region_id, quote, name, unquote }),
            .read_only_region => print(out, "a store into read-only region {d}{s}{s}{s} (mapped \"read\")", .{ where.region_id, quote, name, unquote }),
            .past_region_end => print(out, "{d} bytes past the end of region {d}{s}{s}{s} ({d} bytes long)", .{ where.bytes_past_end, where.region_id, quote, name, unquote, region.?.length_bytes }),
            .free_slot => print(out, "a free slot (nothing is mapped at window offset 0x{x})", .{address}),
        };
    }

    /// Marks the regions that faulted since the last look (SIGBUS, see faults.zig) as damaged, in
    /// the host record and the table. Returns the first damaged region's id, 0 if none faulted.
    pub fn absorb_faults(window: *Window) u32 {
        const taken = faults.take(window.fault_slot);
        if (taken.count == 0) return 0;
        var first_id: u32 = 0;
        if (taken.count > faults.recorded_max) first_id = window.mark_shrunk_files();
        for (taken.recorded()) |offset_bytes| {
            const id = window.region_at(offset_bytes) orelse continue;
            const region = &window.regions[id - 1];
            if (first_id == 0) first_id = id;
            // A fault during a guest call left the page PROT_NONE so the guest trapped once;
            // from now on it reads zeros, like the host does, and nothing can fault there again.
            const page = window.reservation + offset_bytes;
            os.map_anonymous(page, os.os_page_bytes()) catch {};
            if (region.access == .read) os.protect_read_only(page, os.os_page_bytes()) catch {};
            if (!region.damaged) {
                region.damaged = true;
                window.table.publish_access(id, region.table_access());
            }
        }
        assert(first_id <= window.layout.capacity);
        assert(first_id == 0 or window.regions[first_id - 1].live);
        return first_id;
    }

    /// More faults came than faults.zig records: find the damaged regions by their files' sizes.
    /// Returns the first damaged region's id, 0 if none.
    fn mark_shrunk_files(window: *Window) u32 {
        var first_id: u32 = 0;
        for (window.regions, 1..) |*region, id| {
            if (!region.live or region.kind != .file or region.damaged) continue;
            const fd = os.open_file(region.path.?, false) catch continue;
            defer os.close(fd);
            const file_info = os.stat_file(fd) catch continue;
            if (file_info.size_bytes >= region.file_offset_bytes + region.length_bytes) continue;
            region.damaged = true;
            window.table.publish_access(@intCast(id), region.table_access());
            if (first_id == 0) first_id = @intCast(id);
        }
        assert(first_id <= window.layout.capacity);
        return first_id;
    }

    // Internals ------------------------------------------------------------------------------------

    const Slot = struct { offset_bytes: u64, slot_bytes: u64 };

    /// `length_bytes` rounded up to whole 64 KiB slot pages, or WindowFull if that exceeds the slot area.
    fn slot_bytes_for(window: *const Window, length_bytes: u64) Error!u64 {
        assert(length_bytes > 0);
        // Checked before rounding up, which would overflow near 2^64.
        if (length_bytes <= window.layout.slots_bytes()) {
            const slot_bytes = std.mem.alignForward(u64, length_bytes, layout.page_bytes);
            if (slot_bytes <= window.layout.slots_bytes()) return slot_bytes;
        }
        return fail(error.WindowFull, "{d} bytes do not fit in the window's slot area ({d} bytes)", .{ length_bytes, window.layout.slots_bytes() });
    }

    /// A free slot for `length_bytes`: at `placement`, or anywhere (first fit; a large region where
    /// its address agrees with `file_offset_bytes` modulo 2 MiB when there is room, see
    /// `large_slot`).
    fn take_slot(window: *Window, length_bytes: u64, placement: Placement, file_offset_bytes: u64) Error!Slot {
        const slot_bytes = try window.slot_bytes_for(length_bytes);
        switch (placement) {
            .anywhere => {
                if (window.large_slot(slot_bytes, file_offset_bytes)) |offset_bytes| return .{ .offset_bytes = offset_bytes, .slot_bytes = slot_bytes };
                if (window.slots.acquire(slot_bytes)) |offset_bytes| return .{ .offset_bytes = offset_bytes, .slot_bytes = slot_bytes };
                if (window.slots.free_bytes() < slot_bytes) {
                    return fail(error.WindowFull, "the window is full: {d} bytes needed, {d} free", .{ slot_bytes, window.slots.free_bytes() });
                }
                return fail(error.Fragmented, "the window is fragmented: {d} bytes free but the longest free range is {d}, {d} needed", .{ window.slots.free_bytes(), window.slots.largest_free_bytes(), slot_bytes });
            },
            .at => |offset_bytes| {
                if (offset_bytes % layout.page_bytes != 0) {
                    return fail(error.Unaligned, "window offset {d} is not a multiple of 65536", .{offset_bytes});
                }
                if (offset_bytes < window.layout.slots_base) {
                    return fail(error.Overlap, "window offset {d} is below the slot area (it starts at {d}: the null page, the table and the guest area come first)", .{ offset_bytes, window.layout.slots_base });
                }
                if (offset_bytes > window.layout.window_bytes or slot_bytes > window.layout.window_bytes - offset_bytes) {
                    return fail(error.OutOfRange, "window range [{d}, {d}) ends past the window ({d} bytes)", .{ offset_bytes, offset_bytes +| slot_bytes, window.layout.window_bytes });
                }
                if (!window.slots.acquire_at(offset_bytes, slot_bytes)) {
                    return fail(error.Overlap, "window range [{d}, {d}) overlaps a mapped region", .{ offset_bytes, offset_bytes +| slot_bytes });
                }
                assert(offset_bytes >= window.layout.slots_base and offset_bytes + slot_bytes <= window.layout.window_bytes);
                return .{ .offset_bytes = offset_bytes, .slot_bytes = slot_bytes };
            },
        }
    }

    /// For a slot of 2 MiB or more: a free one whose address is congruent with `file_offset_bytes`
    /// modulo `layout.large_page_bytes` (the kernel maps a 2 MiB page-cache folio, or a transparent
    /// huge page, with one PMD only at such addresses). Null (first fit instead) if none is free,
    /// if the file offset cannot be matched at 64 KiB granularity, or if reaching the aligned start
    /// would skip more than an eighth of the slot: the skipped pages stay free but only smaller
    /// regions fit there, so a window of large regions would fill up well before its size.
    fn large_slot(window: *Window, slot_bytes: u64, file_offset_bytes: u64) ?u64 {
        const large = layout.large_page_bytes;
        if (slot_bytes < large) return null;
        const base_phase = @intFromPtr(window.reservation) % large;
        const phase_bytes = (file_offset_bytes % large + large - base_phase) % large;
        if (phase_bytes % layout.page_bytes != 0) return null;
        const max_skipped_bytes = std.mem.alignBackward(u64, slot_bytes / 8, layout.page_bytes);
        const offset_bytes = window.slots.acquire_aligned(slot_bytes, large, phase_bytes, max_skipped_bytes) orelse return null;
        assert((@intFromPtr(window.reservation) + offset_bytes) % large == file_offset_bytes % large);
        return offset_bytes;
    }

    /// Maps `source` at the start of the slot at `offset_bytes`, up to the OS page holding its last
    /// byte: the rest of the slot stays (or becomes) PROT_NONE, so a guest reading past the end
    /// traps instead of touching a page past end-of-file (SIGBUS). A range that ends inside a page
    /// the file continues past gets that page as a private copy (`Source.private_tail`), so the
    /// guest never sees a file byte outside `[file_offset, file_offset + length)`.
    fn map_source(window: *Window, offset_bytes: u64, source: Source, what: []const u8) Error!void {
        const page_bytes = os.os_page_bytes();
        const mapped_bytes = std.mem.alignForward(u64, source.length_bytes, page_bytes);
        const shared_bytes = if (source.private_tail()) mapped_bytes - page_bytes else mapped_bytes;
        assert(shared_bytes % page_bytes == 0);
        errdefer {
            // A failed MAP_FIXED may already have removed the range's old mapping: put PROT_NONE
            // back, so the window never has a hole another mmap could take.
            os.map_none(window.reservation + offset_bytes, mapped_bytes) catch {};
        }
        if (shared_bytes > 0) {
            os.map_file(window.reservation + offset_bytes, shared_bytes, source.fd, source.file_offset_bytes, source.writable) catch |err| return switch (err) {
                error.AccessDenied => fail(error.AccessDenied, "permission denied mapping {s}", .{what}),
                error.OutOfMemory => fail(error.OutOfMemory, "cannot map {s}: out of memory, or the process reached vm.max_map_count mappings (each region takes about two)", .{what}),
                error.Unexpected => fail(error.Io, "cannot map {s}", .{what}),
            };
        }
        if (shared_bytes < mapped_bytes) try window.map_private_tail(offset_bytes + shared_bytes, source, what);
    }

    /// Fills the page at `page_offset_bytes` with a read-only copy of the source's last bytes,
    /// zeros after them (see `Source.private_tail`).
    fn map_private_tail(window: *Window, page_offset_bytes: u64, source: Source, what: []const u8) Error!void {
        const page_bytes = os.os_page_bytes();
        const tail_bytes = source.length_bytes % page_bytes;
        assert(tail_bytes > 0);
        assert(page_offset_bytes % page_bytes == 0);
        const page = window.reservation + page_offset_bytes;
        os.map_anonymous(page, page_bytes) catch |err|
            return fail(error.OutOfMemory, "cannot map the last page of {s}: {s} (or the process reached vm.max_map_count mappings)", .{ what, @errorName(err) });
        os.read_at(source.fd, page[0..tail_bytes], source.file_offset_bytes + source.length_bytes - tail_bytes) catch
            return fail(error.Io, "cannot read the last {d} bytes of the range of {s}", .{ tail_bytes, what });
        if (source.writable) return;
        os.protect_read_only(page, page_bytes) catch |err|
            return fail(error.OutOfMemory, "cannot protect the last page of {s}: {s}", .{ what, @errorName(err) });
    }

    /// Where a region's contents come from when its slot changes: a file range mapped afresh, or
    /// the region's own anonymous memory, kept (moved with a copy if the region must move).
    const Contents = union(enum) {
        file: struct { source: Source, what: []const u8 },
        anonymous_kept,
    };

    /// Gives `region` a slot for `length_bytes` and fills it: in place when the new length fits its
    /// slot or the slot can grow into the free space after it, else in a new slot (the region
    /// moves). Frees what the region no longer uses; updates offset, length and slot size.
    fn reslot(window: *Window, region: *Region, length_bytes: u64, contents: Contents) Error!void {
        const new_slot_bytes = try window.slot_bytes_for(length_bytes);
        const new_mapped_bytes = std.mem.alignForward(u64, length_bytes, os.os_page_bytes());
        const old_mapped_bytes = region.mapped_bytes();
        const in_place = new_slot_bytes <= region.slot_bytes or
            window.slots.acquire_at(region.offset_bytes + region.slot_bytes, new_slot_bytes - region.slot_bytes);
        if (in_place) {
            const grown = new_slot_bytes > region.slot_bytes;
            errdefer if (grown) window.slots.release(region.offset_bytes + region.slot_bytes, new_slot_bytes - region.slot_bytes);
            switch (contents) {
                // MAP_FIXED replaces the old pages atomically: the guest never sees a hole. Probe
                // first, so a file that cannot be mapped leaves the region as it was.
                .file => |file| {
                    const probe_bytes = std.mem.alignForward(u64, file.source.length_bytes, os.os_page_bytes());
                    os.probe_file_mapping(probe_bytes, file.source.fd, file.source.file_offset_bytes, file.source.writable) catch |err| return switch (err) {
                        error.AccessDenied => fail(error.AccessDenied, "permission denied mapping {s}", .{file.what}),
                        error.OutOfMemory => fail(error.OutOfMemory, "cannot map {s}: out of memory", .{file.what}),
                        error.Unexpected => fail(error.Io, "cannot map {s}", .{file.what}),
                    };
                    try window.map_source(region.offset_bytes, file.source, file.what);
                },
                .anonymous_kept => if (new_mapped_bytes > old_mapped_bytes) {
                    try window.map_zeros(region.offset_bytes + old_mapped_bytes, new_mapped_bytes - old_mapped_bytes);
                } else if (length_bytes < region.length_bytes) {
                    // The dropped bytes in the last kept page must read as zeros if it grows back.
                    const kept_end = @min(region.length_bytes, new_mapped_bytes);
                    @memset(window.reservation[region.offset_bytes + length_bytes .. region.offset_bytes + kept_end], 0);
                },
            }
            if (new_mapped_bytes < old_mapped_bytes) {
                os.map_none(window.reservation + region.offset_bytes + new_mapped_bytes, old_mapped_bytes - new_mapped_bytes) catch
                    return fail(error.OutOfMemory, "cannot release the tail of region {d}", .{region_id(window, region)});
            }
            if (new_slot_bytes < region.slot_bytes) {
                window.slots.release(region.offset_bytes + new_slot_bytes, region.slot_bytes - new_slot_bytes);
            }
        } else {
            const file_offset_bytes = switch (contents) {
                .file => |file| file.source.file_offset_bytes,
                .anonymous_kept => 0,
            };
            const slot = try window.take_slot(length_bytes, .anywhere, file_offset_bytes);
            errdefer window.slots.release(slot.offset_bytes, slot.slot_bytes);
            switch (contents) {
                .file => |file| try window.map_source(slot.offset_bytes, file.source, file.what),
                .anonymous_kept => {
                    // The only copy vmwindow ever makes: anonymous memory that has to move.
                    try window.map_zeros(slot.offset_bytes, new_mapped_bytes);
                    const kept_bytes = @min(old_mapped_bytes, new_mapped_bytes);
                    @memcpy(window.reservation[slot.offset_bytes..][0..kept_bytes], window.reservation[region.offset_bytes..][0..kept_bytes]);
                },
            }
            // A slot goes back to the free list PROT_NONE, so a later region that maps less of it
            // (and unmaps only what it mapped) never leaves these pages readable.
            errdefer os.map_none(window.reservation + slot.offset_bytes, new_mapped_bytes) catch {};
            os.map_none(window.reservation + region.offset_bytes, old_mapped_bytes) catch
                return fail(error.OutOfMemory, "cannot release region {d}'s old slot", .{region_id(window, region)});
            window.slots.release(region.offset_bytes, region.slot_bytes);
            region.offset_bytes = slot.offset_bytes;
        }
        region.length_bytes = length_bytes;
        region.slot_bytes = new_slot_bytes;
        assert(region.slot_bytes == std.mem.alignForward(u64, region.length_bytes, layout.page_bytes));
        assert(window.slots.is_taken(region.offset_bytes, region.slot_bytes));
    }

    fn map_zeros(window: *Window, offset_bytes: u64, size_bytes: u64) Error!void {
        assert(size_bytes > 0 and size_bytes % os.os_page_bytes() == 0);
        assert(offset_bytes >= window.layout.slots_base and offset_bytes + size_bytes <= window.layout.window_bytes);
        os.map_anonymous(window.reservation + offset_bytes, size_bytes) catch |err| {
            os.map_none(window.reservation + offset_bytes, size_bytes) catch {};
            return fail(error.OutOfMemory, "cannot map {d} bytes of anonymous memory: {s} (or the process reached vm.max_map_count mappings; each region takes about two)", .{ size_bytes, @errorName(err) });
        };
    }

    fn record(window: *Window, region_value: Region, name: []const u8) RegionInfo {
        assert(window.free_id_count > 0);
        window.free_id_count -= 1;
        const id = window.free_ids[window.free_id_count];
        const region = &window.regions[id - 1];
        assert(!region.live);
        region.* = region_value;
        @memcpy(region.name[0..name.len], name);
        region.name_len = @intCast(name.len);
        return window.publish(id);
    }

    fn publish(window: *Window, id: u32) RegionInfo {
        const region = &window.regions[id - 1];
        assert(region.live);
        _ = window.table.publish_live(id, region.offset_bytes, region.length_bytes, region.slot_bytes, region.table_access(), region.name_slice());
        window.verify();
        return window.info(id);
    }

    fn info(window: *Window, id: u32) RegionInfo {
        assert(id >= 1 and id <= window.layout.capacity);
        const region = &window.regions[id - 1];
        assert(region.live);
        return .{
            .offset_bytes = region.offset_bytes,
            .length_bytes = region.length_bytes,
            .file_offset_bytes = region.file_offset_bytes,
            .slot_bytes = region.slot_bytes,
            .id = id,
            .generation = window.table.entry(id).generation,
            .access = @intFromEnum(region.access) | (if (region.damaged) table_module.access_damaged else 0),
            .kind = @intFromEnum(region.kind),
        };
    }

    /// Drops the host-side resources of a region whose pages are already gone (or about to be, with
    /// the whole reservation) and returns its slot.
    fn forget(window: *Window, region: *Region) void {
        assert(region.live);
        map_budget.give_back();
        window.slots.release(region.offset_bytes, region.slot_bytes);
        window.drop_backing(region);
        region.* = .{};
    }

    fn drop_backing(window: *Window, region: *Region) void {
        assert(region.live);
        if (region.path) |path| window.allocator.free(path);
        region.path = null;
        window.close_tail_fd(region);
        if (region.shared_fd) |fd| os.close(fd);
        region.shared_fd = null;
        assert(region.tail_fd == null and region.tail_saved == null);
    }

    fn close_tail_fd(window: *const Window, region: *Region) void {
        assert((region.tail_fd == null) == (region.tail_saved == null));
        if (region.tail_fd) |fd| os.close(fd);
        if (region.tail_saved) |saved| window.allocator.free(saved);
        region.tail_fd = null;
        region.tail_saved = null;
    }

    /// The buffer a read-write private tail keeps its saved copy in (`adopt_tail`), allocated
    /// before anything changes so adopting cannot fail; null when `source` needs none.
    fn alloc_tail(window: *Window, source: Source) Error!?[]u8 {
        assert(source.length_bytes > 0);
        if (!source.writable or !source.private_tail()) return null;
        return window.allocator.alloc(u8, os.os_page_bytes()) catch
            return fail(error.OutOfMemory, "out of memory for the last page of a read-write range", .{});
    }

    /// After a file region's mapping changed: records whether it has a private tail; a
    /// read-write one keeps `source`'s fd (`kept` tells the caller not to close it) and, in
    /// `saved` (from `alloc_tail`), a copy of the tail as the file has it.
    fn adopt_tail(window: *Window, region: *Region, source: Source, saved: ?[]u8, kept: *bool) void {
        assert(region.tail_fd == null and region.tail_saved == null);
        assert(!kept.*);
        region.private_tail = source.private_tail();
        const buffer = saved orelse return;
        assert(source.writable and region.private_tail);
        @memcpy(buffer, window.tail_page(region)[0..buffer.len]);
        region.tail_fd = source.fd;
        region.tail_saved = buffer;
        kept.* = true;
    }

    fn tail_page(window: *const Window, region: *const Region) [*]u8 {
        assert(region.private_tail);
        return window.reservation + region.offset_bytes + region.mapped_bytes() - os.os_page_bytes();
    }

    /// Writes the bytes of a read-write region's private tail page (Source.private_tail) that
    /// changed since they were last read from or written to the file back to it: only bytes inside
    /// the region, and only changed ones, so writes to the other bytes through other mappings are
    /// kept. Skipped if the file no longer reaches the region's end (it was truncated: writing
    /// would extend it again).
    fn write_back_tail(window: *Window, region: *const Region) Error!void {
        const fd = region.tail_fd orelse return;
        const saved = region.tail_saved.?;
        assert(region.private_tail and region.access == .read_write);
        const tail_bytes = region.tail_bytes();
        assert(tail_bytes > 0 and tail_bytes < saved.len);
        const end_bytes = region.file_offset_bytes + region.length_bytes;
        const file_info = os.stat_file(fd) catch return fail(error.Io, "cannot stat {s}", .{region.path.?});
        if (file_info.size_bytes < end_bytes) return;
        const page = window.tail_page(region);
        const page_file_offset_bytes = end_bytes - tail_bytes;
        var start: usize = 0;
        while (start < tail_bytes) {
            if (page[start] == saved[start]) {
                start += 1;
                continue;
            }
            var stop = start + 1;
            while (stop < tail_bytes and page[stop] != saved[stop]) stop += 1;
            os.write_at(fd, page[start..stop], page_file_offset_bytes + start) catch
                return fail(error.Io, "cannot write the last {d} bytes of region {d} back to {s}", .{ tail_bytes, region_id(window, region), region.path.? });
            @memcpy(saved[start..stop], page[start..stop]);
            start = stop;
        }
    }

    /// The live region `id`, whatever its generation.
    fn mapped_region(window: *Window, id: u32) Error!*Region {
        if (id == 0 or id > window.layout.capacity) {
            return fail(error.NotFound, "region id {d} does not exist (ids are 1..{d})", .{ id, window.layout.capacity });
        }
        const region = &window.regions[id - 1];
        if (!region.live) return fail(error.NotMapped, "region {d} is not mapped (already unmapped?)", .{id});
        assert(region.slot_bytes > 0 and region.offset_bytes >= window.layout.slots_base);
        return region;
    }

    /// The live region named by the handle `(id, generation)`.
    fn live_region(window: *Window, id: u32, generation: u32) Error!*Region {
        const region = try window.mapped_region(id);
        const current_generation = window.table.entry(id).generation;
        if (current_generation != generation) {
            return fail(error.Stale, "region {d} generation {d} is stale (now {d}): it was unmapped, remapped or resized since", .{ id, generation, current_generation });
        }
        assert(region.live and current_generation == generation);
        return region;
    }

    fn region_id(window: *const Window, region: *const Region) u32 {
        assert(@intFromPtr(region) >= @intFromPtr(window.regions.ptr));
        assert(@intFromPtr(region) < @intFromPtr(window.regions.ptr) + window.regions.len * @sizeOf(Region));
        return @intCast((@intFromPtr(region) - @intFromPtr(window.regions.ptr)) / @sizeOf(Region) + 1);
    }

    /// The cheap invariants, at every state change (ReleaseSafe and Debug); Debug builds also run
    /// `verify_deep`, which is O(capacity).
    fn verify(window: *Window) void {
        if (!std.debug.runtime_safety) return;
        assert(window.free_id_count <= window.layout.capacity);
        assert(window.table.header.count + window.free_id_count == window.layout.capacity);
        assert(window.table.header.generation % 2 == 0);
        if (builtin.mode == .Debug) window.verify_deep();
    }

    /// What the header comment promises: every live region owns one taken slot range in the slot
    /// area, no two overlap, the published table mirrors every region (live and free), the free
    /// ids are exactly the ids of free regions, and slot bytes are conserved (taken + free = all).
    pub fn verify_deep(window: *Window) void {
        var live_count: u32 = 0;
        var taken_bytes: u64 = 0;
        for (window.regions, 1..) |*region, index| {
            const id: u32 = @intCast(index);
            const entry = window.table.entry(id);
            if (!region.live) {
                assert(entry.state == table_module.state_free);
                assert(region.path == null and region.tail_fd == null and region.shared_fd == null);
                continue;
            }
            live_count += 1;
            taken_bytes += region.slot_bytes;
            assert(entry.state == table_module.state_live);
            assert(entry.offset_bytes == region.offset_bytes and entry.length_bytes == region.length_bytes);
            assert(entry.slot_bytes == region.slot_bytes and entry.access == region.table_access());
            assert(region.slot_bytes == std.mem.alignForward(u64, region.length_bytes, layout.page_bytes));
            assert(region.offset_bytes >= window.layout.slots_base);
            assert(region.offset_bytes + region.slot_bytes <= window.layout.window_bytes);
            assert(window.slots.is_taken(region.offset_bytes, region.slot_bytes));
            assert((region.kind == .file) == (region.path != null));
            assert(region.shared_fd == null or region.kind == .anonymous);
            assert((region.tail_fd != null) == (region.private_tail and region.access == .read_write));
        }
        // Taken ranges that add up to the slot area's taken bytes cannot overlap.
        assert(taken_bytes + window.slots.free_bytes() == window.layout.slots_bytes());
        assert(live_count == window.table.header.count);
        for (window.free_ids[0..window.free_id_count]) |id| assert(!window.regions[id - 1].live);
        assert(live_count + window.free_id_count == window.layout.capacity);
    }
};

/// One region from the process's budget (map_budget.zig), or OutOfMemory naming the limit.
fn take_budget() Error!void {
    if (map_budget.take()) return;
    return fail(error.OutOfMemory, "this process has {d} regions, the most it may have: Linux allows vm.max_map_count mappings per process, each region takes about {d}, and {d} stay for the rest of the process; unmap regions or raise vm.max_map_count", .{ map_budget.live(), map_budget.mappings_per_region, map_budget.headroom_mappings });
}

/// `std.fmt.bufPrint`, cut to `out` when longer.
fn print(out: []u8, comptime fmt: []const u8, args: anytype) []const u8 {
    return std.fmt.bufPrint(out, fmt, args) catch out;
}

fn check_name(name: []const u8) Error!void {
    if (name.len > layout.name_max_bytes) {
        return fail(error.InvalidArgument, "region name is {d} bytes; at most {d} allowed", .{ name.len, layout.name_max_bytes });
    }
    // The table pads names with NUL: "a\x00b" would be found as "a".
    if (std.mem.indexOfScalar(u8, name, 0) != null) {
        return fail(error.InvalidArgument, "region name contains a NUL byte (the table pads names with NUL)", .{});
    }
    assert(name.len <= layout.name_max_bytes);
}

const OpenRange = struct { source: Source, info: os.FileInfo };

/// Opens `path` and checks `[file_offset_bytes, + length_bytes)` lies inside it.
fn open_range(path: [:0]const u8, file_offset_bytes: u64, length_bytes: u64, writable: bool) Error!OpenRange {
    if (length_bytes == 0) return fail(error.InvalidArgument, "length must be positive", .{});
    if (file_offset_bytes % os.os_page_bytes() != 0) {
        return fail(error.Unaligned, "file offset {d} is not a multiple of the OS page size ({d})", .{ file_offset_bytes, os.os_page_bytes() });
    }
    const fd = os.open_file(path, writable) catch |err| return switch (err) {
        error.NotFound => if (writable)
            fail(error.NotFound, "no such file: {s} (a read-write region maps an existing file: create it at its size first; Bun: mapFile(path, {{ access: \"readwrite\", create: true, length }}), CLI: --map NAME=PATH:rw:SIZE)", .{path})
        else
            fail(error.NotFound, "no such file: {s}", .{path}),
        error.AccessDenied => fail(error.AccessDenied, "permission denied opening {s} for {s}", .{ path, if (writable) "read-write" else "read" }),
        error.IsDirectory => fail(error.InvalidArgument, "{s} is a directory, not a regular file", .{path}),
        error.IsSocket => fail(error.InvalidArgument, "{s} is a socket, not a regular file", .{path}),
        error.SymLinkLoop => fail(error.NotFound, "{s}: too many levels of symbolic links (a symlink loop?)", .{path}),
        error.NameTooLong => fail(error.InvalidArgument, "path is too long: {s}", .{path}),
        error.OutOfMemory => fail(error.OutOfMemory, "out of file descriptors opening {s}", .{path}),
        error.Unexpected => fail(error.Io, "cannot open {s}", .{path}),
    };
    errdefer os.close(fd);
    const info = os.stat_file(fd) catch return fail(error.Io, "cannot stat {s}", .{path});
    if (info.kind != .regular) {
        return fail(error.InvalidArgument, "{s} is {s}, not a regular file: only regular files can be mapped", .{ path, info.kind.description() });
    }
    if (info.size_bytes == 0) {
        if (writable) return fail(error.InvalidArgument, "{s} is empty: an empty file cannot be mapped (for an output file, give it its size first; Bun: mapFile(path, {{ access: \"readwrite\", create: true, length }}), CLI: --map NAME=PATH:rw:SIZE)", .{path});
        return fail(error.InvalidArgument, "{s} is empty: an empty file cannot be mapped", .{path});
    }
    if (file_offset_bytes >= info.size_bytes) {
        return fail(error.OutOfRange, "file offset {d} is past the end of {s} ({d} bytes)", .{ file_offset_bytes, path, info.size_bytes });
    }
    const available_bytes = info.size_bytes - file_offset_bytes;
    const range_bytes = if (length_bytes == length_to_end) available_bytes else length_bytes;
    if (range_bytes > available_bytes) {
        return fail(error.OutOfRange, "range [{d}, {d}) ends past the end of {s} ({d} bytes)", .{ file_offset_bytes, file_offset_bytes +| range_bytes, path, info.size_bytes });
    }
    const source: Source = .{ .fd = fd, .file_offset_bytes = file_offset_bytes, .length_bytes = range_bytes, .file_bytes = info.size_bytes, .writable = writable };
    assert(source.length_bytes > 0 and source.file_offset_bytes + source.length_bytes <= source.file_bytes);
    return .{ .source = source, .info = info };
}
