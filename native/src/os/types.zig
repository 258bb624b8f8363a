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

/// What a path names. Only `regular` files can be mapped; the rest are named in the refusal.
pub const FileKind = enum {
    regular,
    directory,
    fifo,
    socket,
    character_device,
    block_device,
    other,

    /// "a named pipe (FIFO)", ... for messages: "PATH is NAME, not a regular file".
    pub fn description(kind: FileKind) []const u8 {
        return switch (kind) {
            .regular => "a regular file",
            .directory => "a directory",
            .fifo => "a named pipe (FIFO)",
            .socket => "a socket",
            .character_device => "a character device",
            .block_device => "a block device",
            .other => "not a regular file",
        };
    }
};

pub const FileInfo = struct {
    size_bytes: u64,
    kind: FileKind,
    /// Identity, to tell whether a path still names the same file (POSIX: st_dev and st_ino;
    /// Windows: volume serial number and file index).
    device: u64,
    inode: u64,
};

pub const OpenError = error{ NotFound, AccessDenied, IsDirectory, IsSocket, SymLinkLoop, Unexpected, OutOfMemory, NameTooLong };
