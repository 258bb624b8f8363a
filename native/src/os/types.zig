//! Types every OS backend of the window shares (posix.zig, windows.zig).

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
