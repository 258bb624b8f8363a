//! The window's OS layer for Windows (10 1803 or later), with the placeholder API.
//!
//! `MapViewOfFileEx` cannot map into a `VirtualAlloc(MEM_RESERVE)` range, so the window is
//! reserved as a *placeholder* (`VirtualAlloc2(MEM_RESERVE | MEM_RESERVE_PLACEHOLDER)`). Every
//! allocation inside it then fills exactly one placeholder:
//! - split a placeholder with `VirtualFree(MEM_RELEASE | MEM_PRESERVE_PLACEHOLDER)`,
//! - put a file view in one with `MapViewOfFile3(MEM_REPLACE_PLACEHOLDER)`, or private zeroed
//!   memory with `VirtualAlloc2(MEM_REPLACE_PLACEHOLDER)`,
//! - turn a view back into a placeholder with `UnmapViewOfFile2(MEM_PRESERVE_PLACEHOLDER)`, private
//!   memory with `VirtualFree(MEM_RELEASE | MEM_PRESERVE_PLACEHOLDER)`,
//! - merge neighbouring placeholders with `VirtualFree(MEM_RELEASE | MEM_COALESCE_PLACEHOLDERS)`.
//! A placeholder is inaccessible, like PROT_NONE on POSIX; nothing inside the window is ever
//! released to the OS (another allocation of the process could take it) until `release`.
//!
//! The interface is the one of posix.zig (stateless: base and size), so this layer finds what is
//! mapped with `VirtualQuery`. Differences from POSIX, all invisible to window.zig's use:
//! - a view cannot be cut: putting something over part of a view unmaps all of it, so the part
//!   outside the range becomes inaccessible (window.zig only ever does that when it drops that part
//!   right after); private (anonymous) memory outside the range keeps its contents (it is copied
//!   into a new allocation);
//! - replacing a mapping leaves a short hole (unmap, then map) instead of POSIX's atomic MAP_FIXED;
//!   the guest never runs meanwhile (window operations and guest calls are serialised);
//! - `sync` is FlushViewOfFile: it writes the dirty pages but does not wait for the disk's cache.
//!
//! Compiled by CI (`zig build check -Dtarget=x86_64-windows-gnu`); not yet run on Windows.

const std = @import("std");
const builtin = @import("builtin");
const assert = std.debug.assert;
const windows = std.os.windows;
const HANDLE = windows.HANDLE;
const BOOL = windows.BOOL;
const DWORD = windows.DWORD;

comptime {
    assert(builtin.os.tag == .windows);
}

pub const MapError = error{ OutOfMemory, AccessDenied, Unexpected };

/// What posix.zig calls a file descriptor: an open file, or a pagefile-backed section (the
/// anonymous shared memory of `shared_memory_file`).
pub const Handle = struct {
    raw: HANDLE,
    is_section: bool,
};

// Constants from the Windows SDK's winnt.h (MinGW's any-windows-any/winnt.h agrees). Zig 0.15's
// std.os.windows.MEM_PRESERVE_PLACEHOLDER is 0x400, which is wrong: it is 0x2.
const MEM_COMMIT: DWORD = 0x1000;
const MEM_RESERVE: DWORD = 0x2000;
const MEM_RELEASE: DWORD = 0x8000;
const MEM_MAPPED: DWORD = 0x40000;
const MEM_PRIVATE: DWORD = 0x20000;
const MEM_FREE: DWORD = 0x10000;
const MEM_REPLACE_PLACEHOLDER: DWORD = 0x4000;
const MEM_RESERVE_PLACEHOLDER: DWORD = 0x40000;
const MEM_COALESCE_PLACEHOLDERS: DWORD = 0x1;
const MEM_PRESERVE_PLACEHOLDER: DWORD = 0x2;
const PAGE_NOACCESS: DWORD = 0x01;
const PAGE_READONLY: DWORD = 0x02;
const PAGE_READWRITE: DWORD = 0x04;
const FILE_MAP_WRITE: DWORD = 0x2;
const FILE_MAP_READ: DWORD = 0x4;
const FILE_ATTRIBUTE_DIRECTORY: DWORD = 0x10;

comptime {
    // The ones std agrees on.
    assert(MEM_COMMIT == windows.MEM_COMMIT);
    assert(MEM_RESERVE == windows.MEM_RESERVE);
    assert(MEM_RELEASE == windows.MEM_RELEASE);
    assert(MEM_MAPPED == windows.MEM_MAPPED);
    assert(MEM_PRIVATE == windows.MEM_PRIVATE);
    assert(MEM_FREE == windows.MEM_FREE);
    assert(MEM_RESERVE_PLACEHOLDER == windows.MEM_RESERVE_PLACEHOLDER);
    assert(MEM_COALESCE_PLACEHOLDERS == windows.MEM_COALESCE_PLACEHOLDERS);
    assert(PAGE_NOACCESS == windows.PAGE_NOACCESS);
    assert(PAGE_READONLY == windows.PAGE_READONLY);
    assert(PAGE_READWRITE == windows.PAGE_READWRITE);
    assert(FILE_ATTRIBUTE_DIRECTORY == windows.FILE_ATTRIBUTE_DIRECTORY);
    // Flags that are combined must not overlap.
    assert(MEM_RELEASE & (MEM_PRESERVE_PLACEHOLDER | MEM_COALESCE_PLACEHOLDERS) == 0);
    assert(MEM_PRESERVE_PLACEHOLDER & MEM_COALESCE_PLACEHOLDERS == 0);
    assert((MEM_RESERVE | MEM_COMMIT) & (MEM_REPLACE_PLACEHOLDER | MEM_RESERVE_PLACEHOLDER) == 0);
}

// VirtualAlloc2 and MapViewOfFile3 are exported by kernelbase.dll (Windows 10 1803+) through the
// API set below, which is also what Wasmtime's windows-sys links; kernel32.dll does not have them.
extern "api-ms-win-core-memory-l1-1-6" fn VirtualAlloc2(
    process: ?HANDLE,
    base_address: ?*anyopaque,
    size: usize,
    allocation_type: DWORD,
    page_protection: DWORD,
    extended_parameters: ?*anyopaque,
    parameter_count: DWORD,
) callconv(.winapi) ?*anyopaque;

extern "api-ms-win-core-memory-l1-1-6" fn MapViewOfFile3(
    file_mapping: HANDLE,
    process: ?HANDLE,
    base_address: ?*anyopaque,
    offset: u64,
    view_size: usize,
    allocation_type: DWORD,
    page_protection: DWORD,
    extended_parameters: ?*anyopaque,
    parameter_count: DWORD,
) callconv(.winapi) ?*anyopaque;

extern "api-ms-win-core-memory-l1-1-5" fn UnmapViewOfFile2(process: HANDLE, base_address: *anyopaque, unmap_flags: DWORD) callconv(.winapi) BOOL;

extern "kernel32" fn CreateFileMappingW(
    file: HANDLE,
    attributes: ?*anyopaque,
    protect: DWORD,
    maximum_size_high: DWORD,
    maximum_size_low: DWORD,
    name: ?[*:0]const u16,
) callconv(.winapi) ?HANDLE;
extern "kernel32" fn MapViewOfFile(mapping: HANDLE, desired_access: DWORD, offset_high: DWORD, offset_low: DWORD, bytes: usize) callconv(.winapi) ?*anyopaque;
extern "kernel32" fn UnmapViewOfFile(base_address: *const anyopaque) callconv(.winapi) BOOL;
extern "kernel32" fn VirtualUnlock(address: *anyopaque, bytes: usize) callconv(.winapi) BOOL;
extern "kernel32" fn FlushViewOfFile(base_address: *const anyopaque, bytes: usize) callconv(.winapi) BOOL;
extern "kernel32" fn VirtualProtect(address: *anyopaque, size: usize, new_protect: DWORD, old_protect: *DWORD) callconv(.winapi) BOOL;
extern "kernel32" fn GetFileInformationByHandle(file: HANDLE, info: *windows.BY_HANDLE_FILE_INFORMATION) callconv(.winapi) BOOL;

const ERROR_NOT_ENOUGH_MEMORY = 8;
const ERROR_OUTOFMEMORY = 14;
const ERROR_COMMITMENT_LIMIT = 1455;
const ERROR_ACCESS_DENIED = 5;

fn last_error() MapError {
    return switch (@intFromEnum(windows.kernel32.GetLastError())) {
        ERROR_NOT_ENOUGH_MEMORY, ERROR_OUTOFMEMORY, ERROR_COMMITMENT_LIMIT => error.OutOfMemory,
        ERROR_ACCESS_DENIED => error.AccessDenied,
        else => error.Unexpected,
    };
}

fn process() HANDLE {
    return windows.GetCurrentProcess();
}

/// The page size (4 KiB). Views and placeholders may start on any page once they replace a
/// placeholder; the window's own slots are 64 KiB (the allocation granularity) anyway.
pub const os_page_bytes = types.os_page_bytes;
const check_range = types.check_range;

/// Reserves `size_bytes` of inaccessible address space: one placeholder.
/// (`align_bytes`: a wish, not honoured yet on Windows; window.zig works with any base.)
pub fn reserve(size_bytes: u64, align_bytes: u64) MapError![*]align(std.heap.page_size_min) u8 {
    assert(size_bytes % os_page_bytes() == 0);
    _ = align_bytes;
    const rc = VirtualAlloc2(process(), null, size_bytes, MEM_RESERVE | MEM_RESERVE_PLACEHOLDER, PAGE_NOACCESS, null, 0) orelse
        return last_error();
    return @ptrCast(@alignCast(rc));
}

/// Returns a whole reservation to the OS: every view, private allocation and placeholder in it.
pub fn release(base: [*]align(std.heap.page_size_min) u8, size_bytes: u64) void {
    check_range(base, size_bytes);
    const end = @intFromPtr(base) + size_bytes;
    var address = @intFromPtr(base);
    while (address < end) {
        const allocation = query(address);
        assert(allocation.base >= @intFromPtr(base) and allocation.end <= end);
        const pointer: *anyopaque = @ptrFromInt(allocation.base);
        switch (allocation.kind) {
            .view => assert(UnmapViewOfFile(pointer) != 0),
            .private, .placeholder => assert(windows.kernel32.VirtualFree(pointer, 0, MEM_RELEASE) != 0),
        }
        address = allocation.end;
    }
}

/// Puts inaccessible memory (a placeholder) over `[base, base + size_bytes)`, dropping what was there.
pub fn map_none(base: [*]u8, size_bytes: u64) MapError!void {
    check_range(base, size_bytes);
    try make_placeholder(@intFromPtr(base), @intFromPtr(base) + size_bytes);
}

/// Puts zeroed read-write private memory over `[base, base + size_bytes)`.
pub fn map_anonymous(base: [*]u8, size_bytes: u64) MapError!void {
    check_range(base, size_bytes);
    try make_placeholder(@intFromPtr(base), @intFromPtr(base) + size_bytes);
    try allocate_private(@intFromPtr(base), size_bytes);
}

/// Makes `[base, base + size_bytes)` read-only.
pub fn protect_read_only(base: [*]u8, size_bytes: u64) MapError!void {
    check_range(base, size_bytes);
    var old: DWORD = 0;
    if (VirtualProtect(base, size_bytes, PAGE_READONLY, &old) == 0) return last_error();
}

/// Maps `size_bytes` of `file` from `file_offset_bytes` over `base`, shared with the file.
pub fn map_file(base: [*]u8, size_bytes: u64, file: Handle, file_offset_bytes: u64, writable: bool) MapError!void {
    check_range(base, size_bytes);
    assert(file_offset_bytes % os_page_bytes() == 0);
    const protection = if (writable) PAGE_READWRITE else PAGE_READONLY;
    const section = if (file.is_section) file.raw else try create_section(file.raw, protection);
    defer if (!file.is_section) windows.CloseHandle(section); // The view keeps the section alive.
    // A section cannot be mapped past its end, and a file's section ends with the file: its last
    // view ends inside the last page (the placeholder, like the view, covers whole pages).
    var view_bytes = size_bytes;
    if (!file.is_section) {
        const file_bytes = windows.GetFileSizeEx(file.raw) catch return error.Unexpected;
        if (file_offset_bytes >= file_bytes) return error.Unexpected;
        view_bytes = @min(size_bytes, file_bytes - file_offset_bytes);
    }
    try make_placeholder(@intFromPtr(base), @intFromPtr(base) + size_bytes);
    const rc = MapViewOfFile3(section, process(), base, file_offset_bytes, view_bytes, MEM_REPLACE_PLACEHOLDER, protection, null, 0) orelse
        return last_error();
    assert(@intFromPtr(rc) == @intFromPtr(base));
}

/// Maps `size_bytes` of `file` anywhere, shared and read-write (the host's view of the table).
pub fn map_shared_anywhere(size_bytes: u64, file: Handle) MapError![]align(std.heap.page_size_min) u8 {
    assert(size_bytes % os_page_bytes() == 0);
    const section = if (file.is_section) file.raw else try create_section(file.raw, PAGE_READWRITE);
    defer if (!file.is_section) windows.CloseHandle(section);
    const rc = MapViewOfFile(section, FILE_MAP_READ | FILE_MAP_WRITE, 0, 0, size_bytes) orelse return last_error();
    const ptr: [*]align(std.heap.page_size_min) u8 = @ptrCast(@alignCast(rc));
    return ptr[0..size_bytes];
}

pub fn unmap_anywhere(memory: []align(std.heap.page_size_min) u8) void {
    assert(UnmapViewOfFile(memory.ptr) != 0);
}

/// Anonymous shared memory of `size_bytes` zero bytes: a pagefile-backed section.
pub fn shared_memory_file(name: [*:0]const u8, size_bytes: u64) MapError!Handle {
    _ = name; // Unnamed: nothing else can open it.
    const rc = CreateFileMappingW(windows.INVALID_HANDLE_VALUE, null, PAGE_READWRITE, @truncate(size_bytes >> 32), @truncate(size_bytes), null) orelse
        return last_error();
    return .{ .raw = rc, .is_section = true };
}

/// A pagefile-backed section has a fixed size; only files can be resized.
pub fn resize_file(file: Handle, size_bytes: u64) MapError!void {
    if (file.is_section) return error.Unexpected;
    const fs_file: std.fs.File = .{ .handle = file.raw };
    fs_file.setEndPos(size_bytes) catch |err| return switch (err) {
        error.AccessDenied => error.AccessDenied,
        else => error.Unexpected,
    };
}

/// Writes dirty pages of a file view back to the file.
pub fn sync(base: [*]u8, size_bytes: u64) error{Unexpected}!void {
    check_range(base, size_bytes);
    if (FlushViewOfFile(base, size_bytes) == 0) return error.Unexpected;
}

/// Takes `[base, base + size_bytes)` of a file view out of the process's working set: unlocking
/// pages that are not locked removes them from it (documented for VirtualUnlock); the contents stay
/// in the file and the next access faults them back in.
pub fn drop_resident(base: [*]u8, size_bytes: u64) error{Unexpected}!void {
    check_range(base, size_bytes);
    // On pages that are not locked it "fails" with ERROR_NOT_LOCKED after doing its work.
    if (VirtualUnlock(base, size_bytes) == 0 and windows.GetLastError() != .NOT_LOCKED) return error.Unexpected;
}

const types = @import("types.zig");
pub const FileKind = types.FileKind;
pub const FileInfo = types.FileInfo;
pub const OpenError = types.OpenError;

pub fn open_file(path: [*:0]const u8, writable: bool) OpenError!Handle {
    const file = std.fs.cwd().openFileZ(path, .{ .mode = if (writable) .read_write else .read_only }) catch |err| return switch (err) {
        error.FileNotFound, error.NoDevice, error.NetworkNotFound, error.BadPathName, error.InvalidWtf8 => error.NotFound,
        error.AccessDenied, error.PermissionDenied, error.SharingViolation => error.AccessDenied,
        error.IsDir => error.IsDirectory,
        error.NameTooLong => error.NameTooLong,
        error.SystemResources, error.ProcessFdQuotaExceeded, error.SystemFdQuotaExceeded => error.OutOfMemory,
        else => error.Unexpected,
    };
    return .{ .raw = file.handle, .is_section = false };
}

/// Reads exactly `buffer.len` bytes of `file` at `file_offset_bytes` (a short file is an error).
pub fn read_at(file: Handle, buffer: []u8, file_offset_bytes: u64) error{Unexpected}!void {
    assert(!file.is_section);
    var done_bytes: usize = 0;
    while (done_bytes < buffer.len) {
        const n = windows.ReadFile(file.raw, buffer[done_bytes..], file_offset_bytes + done_bytes) catch return error.Unexpected;
        if (n == 0) return error.Unexpected;
        done_bytes += n;
    }
}

/// Writes all of `bytes` to `file` at `file_offset_bytes`.
pub fn write_at(file: Handle, bytes: []const u8, file_offset_bytes: u64) error{Unexpected}!void {
    assert(!file.is_section);
    var done_bytes: usize = 0;
    while (done_bytes < bytes.len) {
        const n = windows.WriteFile(file.raw, bytes[done_bytes..], file_offset_bytes + done_bytes) catch return error.Unexpected;
        if (n == 0) return error.Unexpected;
        done_bytes += n;
    }
}

/// Waits until what was written to `file` is on disk (FlushFileBuffers).
pub fn sync_file(file: Handle) error{Unexpected}!void {
    assert(!file.is_section);
    if (FlushFileBuffers(file.raw) == 0) return error.Unexpected;
}

extern "kernel32" fn FlushFileBuffers(file: HANDLE) callconv(.winapi) BOOL;

pub fn stat_file(file: Handle) error{Unexpected}!FileInfo {
    if (file.is_section) return error.Unexpected;
    var info: windows.BY_HANDLE_FILE_INFORMATION = undefined;
    if (GetFileInformationByHandle(file.raw, &info) == 0) return error.Unexpected;
    const kind: FileKind = if (info.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY != 0) .directory else .regular;
    return .{
        .size_bytes = (@as(u64, info.nFileSizeHigh) << 32) | info.nFileSizeLow,
        .kind = kind,
        .device = info.dwVolumeSerialNumber,
        .inode = (@as(u64, info.nFileIndexHigh) << 32) | info.nFileIndexLow,
    };
}

/// Another handle of the same file or section (its own reference: close both).
pub fn duplicate(file: Handle) MapError!Handle {
    var copy: HANDLE = undefined;
    if (DuplicateHandle(process(), file.raw, process(), &copy, 0, 0, DUPLICATE_SAME_ACCESS) == 0) return last_error();
    return .{ .raw = copy, .is_section = file.is_section };
}

extern "kernel32" fn DuplicateHandle(source_process: HANDLE, source: HANDLE, target_process: HANDLE, target: *HANDLE, access: DWORD, inherit: BOOL, options: DWORD) callconv(.winapi) BOOL;
const DUPLICATE_SAME_ACCESS: DWORD = 2;

pub fn close(file: Handle) void {
    windows.CloseHandle(file.raw);
}

// Placeholders -------------------------------------------------------------------------------------

const AllocationKind = enum { placeholder, view, private };

/// One allocation (placeholder, view or private memory) of the window: `[base, end)`.
const Allocation = struct { base: usize, end: usize, kind: AllocationKind };

/// The allocation holding `address`. An allocation can span several VirtualQuery regions (parts
/// with different protections), all with the same AllocationBase.
fn query(address: usize) Allocation {
    var info: windows.MEMORY_BASIC_INFORMATION = undefined;
    assert(windows.kernel32.VirtualQuery(@ptrFromInt(address), &info, @sizeOf(windows.MEMORY_BASIC_INFORMATION)) != 0);
    assert(info.State != MEM_FREE); // Inside the window there is always a placeholder at least.
    const allocation_base = @intFromPtr(info.AllocationBase);
    var kind: AllocationKind = if (info.Type == MEM_MAPPED) .view else .placeholder;
    var end = allocation_base;
    while (true) {
        var next: windows.MEMORY_BASIC_INFORMATION = undefined;
        if (windows.kernel32.VirtualQuery(@ptrFromInt(end), &next, @sizeOf(windows.MEMORY_BASIC_INFORMATION)) == 0) break;
        if (next.State == MEM_FREE or @intFromPtr(next.AllocationBase) != allocation_base) break;
        // A placeholder is reserved and never committed; private memory here is always committed.
        if (kind == .placeholder and next.State == MEM_COMMIT) kind = .private;
        end = @intFromPtr(next.BaseAddress) + next.RegionSize;
    }
    assert(end > address);
    return .{ .base = allocation_base, .end = end, .kind = kind };
}

/// Makes `[begin, end)` exactly one placeholder: views and private memory overlapping it go back to
/// placeholders (private memory outside the range is kept, see the file comment), then the
/// placeholders are split at `begin` and `end` and merged in between.
fn make_placeholder(begin: usize, end: usize) MapError!void {
    var address = begin;
    while (address < end) {
        const allocation = query(address);
        switch (allocation.kind) {
            .placeholder => {},
            .view => if (UnmapViewOfFile2(process(), @ptrFromInt(allocation.base), MEM_PRESERVE_PLACEHOLDER) == 0) return last_error(),
            .private => try free_private(allocation, begin, end),
        }
        address = allocation.end;
    }
    // Now [begin, end) is covered by placeholders, the first and last possibly sticking out.
    const first = query(begin);
    assert(first.kind == .placeholder);
    if (first.base < begin) try split(first.base, begin - first.base);
    const last = query(end - 1);
    assert(last.kind == .placeholder);
    if (last.end > end) try split(last.base, end - last.base);
    if (query(begin).end < end) {
        const rc = windows.kernel32.VirtualFree(@ptrFromInt(begin), end - begin, MEM_RELEASE | MEM_COALESCE_PLACEHOLDERS);
        if (rc == 0) return last_error();
    }
    const merged = query(begin);
    assert(merged.kind == .placeholder and merged.base == begin and merged.end == end);
}

/// Splits the placeholder at `base` into `[base, base + size_bytes)` and the rest.
fn split(base: usize, size_bytes: usize) MapError!void {
    if (windows.kernel32.VirtualFree(@ptrFromInt(base), size_bytes, MEM_RELEASE | MEM_PRESERVE_PLACEHOLDER) == 0) return last_error();
}

/// Replaces the placeholder `[base, base + size_bytes)` with zeroed read-write private memory.
fn allocate_private(base: usize, size_bytes: usize) MapError!void {
    const rc = VirtualAlloc2(process(), @ptrFromInt(base), size_bytes, MEM_RESERVE | MEM_COMMIT | MEM_REPLACE_PLACEHOLDER, PAGE_READWRITE, null, 0) orelse
        return last_error();
    assert(@intFromPtr(rc) == base);
}

/// Turns a private allocation back into a placeholder; the parts of it outside `[begin, end)` are
/// re-allocated with their contents (private memory cannot be split).
fn free_private(allocation: Allocation, begin: usize, end: usize) MapError!void {
    const head_bytes = if (allocation.base < begin) begin - allocation.base else 0;
    const tail_bytes = if (allocation.end > end) allocation.end - end else 0;
    const saved = std.heap.page_allocator.alloc(u8, head_bytes + tail_bytes) catch return error.OutOfMemory;
    defer std.heap.page_allocator.free(saved);
    const memory: [*]const u8 = @ptrFromInt(allocation.base);
    @memcpy(saved[0..head_bytes], memory[0..head_bytes]);
    @memcpy(saved[head_bytes..], memory[allocation.end - allocation.base - tail_bytes ..][0..tail_bytes]);

    if (windows.kernel32.VirtualFree(@ptrFromInt(allocation.base), 0, MEM_RELEASE | MEM_PRESERVE_PLACEHOLDER) == 0) return last_error();
    if (head_bytes > 0) {
        try split(allocation.base, head_bytes);
        try allocate_private(allocation.base, head_bytes);
        @memcpy(@as([*]u8, @ptrFromInt(allocation.base))[0..head_bytes], saved[0..head_bytes]);
    }
    if (tail_bytes > 0) {
        const middle = allocation.base + head_bytes;
        try split(middle, end - middle);
        try allocate_private(end, tail_bytes);
        @memcpy(@as([*]u8, @ptrFromInt(end))[0..tail_bytes], saved[head_bytes..]);
    }
}

fn create_section(file: HANDLE, protection: DWORD) MapError!HANDLE {
    // Size 0: the section is the file's current size.
    return CreateFileMappingW(file, null, protection, 0, 0, null) orelse last_error();
}

/// Windows replaces a placeholder only when the view can be created, so there is nothing to probe.
pub fn probe_file_mapping(size_bytes: u64, handle: Handle, file_offset_bytes: u64, writable: bool) MapError!void {
    _ = size_bytes;
    _ = handle;
    _ = file_offset_bytes;
    _ = writable;
}
