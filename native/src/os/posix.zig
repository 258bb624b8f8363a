//! The window's OS layer for Linux and macOS: reserve address space, map files and anonymous memory
//! over parts of it with MAP_FIXED, and put PROT_NONE back. Nothing here ever calls munmap on part of
//! a window: a freed range could be taken by any other mmap in the process.

const std = @import("std");
const builtin = @import("builtin");
const assert = std.debug.assert;
const c = std.c;
const posix = std.posix;

pub const MapError = error{ OutOfMemory, AccessDenied, Unexpected };

/// An open file or shared memory (windows.zig has a handle instead of a descriptor).
pub const Handle = posix.fd_t;

pub const os_page_bytes = types.os_page_bytes;
const check_range = types.check_range;

fn errno() posix.E {
    return @enumFromInt(c._errno().*);
}

fn map_error(err: posix.E) MapError {
    return switch (err) {
        .NOMEM, .AGAIN, .MFILE, .NFILE => error.OutOfMemory,
        .ACCES, .PERM, .TXTBSY => error.AccessDenied,
        else => error.Unexpected,
    };
}

const prot_none: c_uint = c.PROT.NONE;
const prot_read: c_uint = c.PROT.READ;
const prot_read_write: c_uint = c.PROT.READ | c.PROT.WRITE;

fn anonymous_flags(fixed: bool) c.MAP {
    var flags: c.MAP = .{ .TYPE = .PRIVATE, .ANONYMOUS = true, .FIXED = fixed };
    if (@hasField(c.MAP, "NORESERVE")) flags.NORESERVE = true;
    return flags;
}

/// Reserves `size_bytes` of inaccessible address space starting at a multiple of `align_bytes`:
/// `align_bytes` more are reserved and the ends trimmed (before anything uses the range).
pub fn reserve(size_bytes: u64, align_bytes: u64) MapError![*]align(std.heap.page_size_min) u8 {
    assert(size_bytes % os_page_bytes() == 0);
    assert(align_bytes % os_page_bytes() == 0 and std.math.isPowerOfTwo(align_bytes));
    const rc = c.mmap(null, size_bytes + align_bytes, prot_none, anonymous_flags(false), -1, 0);
    if (rc == c.MAP_FAILED) return map_error(errno());
    const start = @intFromPtr(rc);
    const base = std.mem.alignForward(usize, start, align_bytes);
    const end = start + size_bytes + align_bytes;
    if (base > start) assert(c.munmap(@ptrFromInt(start), base - start) == 0);
    if (end > base + size_bytes) assert(c.munmap(@ptrFromInt(base + size_bytes), end - base - size_bytes) == 0);
    return @ptrFromInt(base);
}

/// Returns a whole reservation to the OS. Only for the window's own teardown.
pub fn release(base: [*]align(std.heap.page_size_min) u8, size_bytes: u64) void {
    check_range(base, size_bytes);
    const rc = c.munmap(base, size_bytes);
    assert(rc == 0);
}

/// Puts inaccessible anonymous memory over `[base, base + size_bytes)`, dropping what was there.
pub fn map_none(base: [*]u8, size_bytes: u64) MapError!void {
    check_range(base, size_bytes);
    const rc = c.mmap(@ptrCast(@alignCast(base)), size_bytes, prot_none, anonymous_flags(true), -1, 0);
    if (rc == c.MAP_FAILED) return map_error(errno());
    assert(@intFromPtr(rc) == @intFromPtr(base));
}

/// Puts zeroed read-write anonymous memory over `[base, base + size_bytes)`.
pub fn map_anonymous(base: [*]u8, size_bytes: u64) MapError!void {
    check_range(base, size_bytes);
    var flags = anonymous_flags(true);
    if (@hasField(c.MAP, "NORESERVE")) flags.NORESERVE = false;
    const rc = c.mmap(@ptrCast(@alignCast(base)), size_bytes, prot_read_write, flags, -1, 0);
    if (rc == c.MAP_FAILED) return map_error(errno());
    assert(@intFromPtr(rc) == @intFromPtr(base));
}

/// Makes `[base, base + size_bytes)` read-only.
pub fn protect_read_only(base: [*]u8, size_bytes: u64) MapError!void {
    check_range(base, size_bytes);
    if (c.mprotect(@ptrCast(@alignCast(base)), size_bytes, prot_read) != 0) return map_error(errno());
}

/// Maps `size_bytes` of `fd` from `file_offset_bytes` over `base`, shared with the file.
pub fn map_file(base: [*]u8, size_bytes: u64, fd: Handle, file_offset_bytes: u64, writable: bool) MapError!void {
    check_range(base, size_bytes);
    assert(file_offset_bytes % os_page_bytes() == 0);
    const prot = if (writable) prot_read_write else prot_read;
    const flags: c.MAP = .{ .TYPE = .SHARED, .FIXED = true };
    const rc = c.mmap(@ptrCast(@alignCast(base)), size_bytes, prot, flags, fd, @intCast(file_offset_bytes));
    if (rc == c.MAP_FAILED) return map_error(errno());
    assert(@intFromPtr(rc) == @intFromPtr(base));
}

/// Checks that `fd` can be mapped as `map_file` would map it, without touching the window: maps it
/// anywhere and unmaps it. (A MAP_FIXED mapping that fails may already have removed what was
/// there, so a mapping that replaces live contents is probed first.)
pub fn probe_file_mapping(size_bytes: u64, fd: Handle, file_offset_bytes: u64, writable: bool) MapError!void {
    assert(size_bytes % os_page_bytes() == 0);
    const prot = if (writable) prot_read_write else prot_read;
    const rc = c.mmap(null, size_bytes, prot, .{ .TYPE = .SHARED }, fd, @intCast(file_offset_bytes));
    if (rc == c.MAP_FAILED) return map_error(errno());
    assert(c.munmap(@alignCast(rc), size_bytes) == 0);
}

/// Maps `size_bytes` of `fd` anywhere, shared and read-write (the host's view of the table).
pub fn map_shared_anywhere(size_bytes: u64, fd: Handle) MapError![]align(std.heap.page_size_min) u8 {
    assert(size_bytes % os_page_bytes() == 0);
    const flags: c.MAP = .{ .TYPE = .SHARED };
    const rc = c.mmap(null, size_bytes, prot_read_write, flags, fd, 0);
    if (rc == c.MAP_FAILED) return map_error(errno());
    const ptr: [*]align(std.heap.page_size_min) u8 = @ptrCast(@alignCast(rc));
    return ptr[0..size_bytes];
}

pub fn unmap_anywhere(memory: []align(std.heap.page_size_min) u8) void {
    const rc = c.munmap(memory.ptr, memory.len);
    assert(rc == 0);
}

var shm_counter: std.atomic.Value(u32) = .init(0);

/// An anonymous shared-memory file of `size_bytes` zero bytes (memfd on Linux, shm elsewhere).
pub fn shared_memory_file(name: [*:0]const u8, size_bytes: u64) MapError!Handle {
    const fd: Handle = switch (builtin.os.tag) {
        .linux => blk: {
            const rc = c.memfd_create(name, 0x0001); // MFD_CLOEXEC
            if (rc < 0) return map_error(errno());
            break :blk rc;
        },
        else => blk: {
            // macOS allows 31 bytes (PSHMNAMLEN): "/vmw.<pid>.<counter>.<time>" in hex, cut short.
            var name_buffer: [64]u8 = undefined;
            const count = shm_counter.fetchAdd(1, .monotonic);
            const time: u64 = @truncate(@as(u128, @bitCast(std.time.nanoTimestamp())));
            const full_name = std.fmt.bufPrint(&name_buffer, "/vmw.{x}.{x}.{x}", .{ c.getpid(), count, time }) catch unreachable;
            const name_len = @min(full_name.len, 31);
            name_buffer[name_len] = 0;
            const unique_name: [*:0]const u8 = name_buffer[0..name_len :0];
            const rc = c.shm_open(unique_name, @bitCast(posix.O{ .ACCMODE = .RDWR, .CREAT = true, .EXCL = true, .CLOEXEC = true }), 0o600);
            if (rc < 0) return map_error(errno());
            _ = c.shm_unlink(unique_name);
            break :blk rc;
        },
    };
    resize_file(fd, size_bytes) catch |err| {
        posix.close(fd);
        return err;
    };
    return fd;
}

pub fn resize_file(fd: Handle, size_bytes: u64) MapError!void {
    if (c.ftruncate(fd, @intCast(size_bytes)) != 0) return map_error(errno());
}

/// Writes dirty pages of a shared file mapping back to the file and waits for the write.
pub fn sync(base: [*]u8, size_bytes: u64) error{Unexpected}!void {
    check_range(base, size_bytes);
    if (c.msync(@ptrCast(@alignCast(base)), size_bytes, c.MSF.SYNC) != 0) return error.Unexpected;
}

/// Drops this process's page-table entries for `[base, base + size_bytes)` of a shared file mapping
/// (MADV_DONTNEED): the pages leave the process's resident set, their contents stay in the file and
/// the page cache (dirty pages are kept for writeback), and the next access faults them back in.
/// On macOS the advice is a hint the kernel may act on later. Never for private anonymous memory,
/// where Linux would replace the bytes with zeros.
pub fn drop_resident(base: [*]u8, size_bytes: u64) error{Unexpected}!void {
    check_range(base, size_bytes);
    if (c.madvise(@ptrCast(@alignCast(base)), size_bytes, c.MADV.DONTNEED) != 0) return error.Unexpected;
}

const types = @import("types.zig");
pub const FileKind = types.FileKind;
pub const FileInfo = types.FileInfo;
pub const OpenError = types.OpenError;

/// Opens `path` without blocking: O_NONBLOCK, so a FIFO (which would wait for a writer) or a
/// device opens at once and `stat_file` can refuse it by type before anything reads or maps it.
/// (O_NONBLOCK has no effect on a regular file's reads or on mmap.)
pub fn open_file(path: [*:0]const u8, writable: bool) OpenError!Handle {
    const flags: posix.O = .{ .ACCMODE = if (writable) .RDWR else .RDONLY, .CLOEXEC = true, .NONBLOCK = true, .NOCTTY = true };
    return posix.openZ(path, flags, 0) catch |err| switch (err) {
        error.FileNotFound => error.NotFound,
        error.AccessDenied, error.PermissionDenied => error.AccessDenied,
        error.NotDir => error.NotFound,
        error.IsDir => error.IsDirectory,
        error.NameTooLong => error.NameTooLong,
        error.SymLinkLoop => error.SymLinkLoop,
        // ENXIO / ENODEV: a UNIX socket, or a device special file without a device behind it.
        error.SystemResources, error.ProcessFdQuotaExceeded, error.SystemFdQuotaExceeded => error.OutOfMemory,
        // ENXIO: a UNIX socket (also ENODEV, or other errors, for odd files): say what it is.
        else => if (path_is_socket(path)) error.IsSocket else error.Unexpected,
    };
}

fn path_is_socket(path: [*:0]const u8) bool {
    const st = posix.fstatatZ(posix.AT.FDCWD, path, 0) catch return false;
    return st.mode & posix.S.IFMT == posix.S.IFSOCK;
}

/// Reads exactly `buffer.len` bytes of `fd` at `file_offset_bytes` (a short file is an error).
pub fn read_at(fd: Handle, buffer: []u8, file_offset_bytes: u64) error{Unexpected}!void {
    var done_bytes: usize = 0;
    while (done_bytes < buffer.len) {
        const n = posix.pread(fd, buffer[done_bytes..], file_offset_bytes + done_bytes) catch return error.Unexpected;
        if (n == 0) return error.Unexpected;
        done_bytes += n;
    }
    assert(done_bytes == buffer.len);
}

/// Writes all of `bytes` to `fd` at `file_offset_bytes`.
pub fn write_at(fd: Handle, bytes: []const u8, file_offset_bytes: u64) error{Unexpected}!void {
    var done_bytes: usize = 0;
    while (done_bytes < bytes.len) {
        const n = posix.pwrite(fd, bytes[done_bytes..], file_offset_bytes + done_bytes) catch return error.Unexpected;
        if (n == 0) return error.Unexpected;
        done_bytes += n;
    }
    assert(done_bytes == bytes.len);
}

/// Waits until what was written to `fd` is on disk (fdatasync).
pub fn sync_file(fd: Handle) error{Unexpected}!void {
    posix.fdatasync(fd) catch return error.Unexpected;
}

pub fn stat_file(fd: Handle) error{Unexpected}!FileInfo {
    const st = posix.fstat(fd) catch return error.Unexpected;
    const kind: FileKind = switch (st.mode & posix.S.IFMT) {
        posix.S.IFREG => .regular,
        posix.S.IFDIR => .directory,
        posix.S.IFIFO => .fifo,
        posix.S.IFSOCK => .socket,
        posix.S.IFCHR => .character_device,
        posix.S.IFBLK => .block_device,
        else => .other,
    };
    return .{ .size_bytes = @intCast(st.size), .kind = kind, .device = @intCast(st.dev), .inode = @intCast(st.ino) };
}

/// Another descriptor of the same open file (its own reference: close both).
pub fn duplicate(fd: Handle) MapError!Handle {
    const copy = posix.dup(fd) catch return error.OutOfMemory;
    errdefer posix.close(copy);
    _ = posix.fcntl(copy, posix.F.SETFD, posix.FD_CLOEXEC) catch return error.Unexpected;
    assert(copy != fd);
    return copy;
}

pub fn close(fd: Handle) void {
    posix.close(fd);
}
