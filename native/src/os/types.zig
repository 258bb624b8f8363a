//! What every OS backend of the window shares (posix.zig, windows.zig).

const std = @import("std");
const assert = std.debug.assert;

/// The OS page: the unit of protection and of file-mapping offsets.
pub fn os_page_bytes() u64 {
    return std.heap.pageSize();
}

/// Asserts `[base, base + size_bytes)` is a non-empty run of whole OS pages.
pub fn check_range(base: [*]u8, size_bytes: u64) void {
    assert(@intFromPtr(base) % os_page_bytes() == 0);
    assert(size_bytes > 0);
    assert(size_bytes % os_page_bytes() == 0);
}

pub const FileKind = enum { regular, directory, other };

pub const FileInfo = struct {
    size_bytes: u64,
    kind: FileKind,
    /// Identity, to tell whether a path still names the same file (POSIX: st_dev and st_ino;
    /// Windows: volume serial number and file index).
    device: u64,
    inode: u64,
};

pub const OpenError = error{ NotFound, AccessDenied, IsDirectory, Unexpected, OutOfMemory, NameTooLong };
