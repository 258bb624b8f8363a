//! Selects the window's OS layer for the target. Every backend has the same interface: `Handle`
//! (an open file or shared memory), reserve/release, map_none/map_anonymous/map_file over part of
//! a reservation, map_shared_anywhere/unmap_anywhere, shared_memory_file, resize_file, sync,
//! protect_read_only, open_file/stat_file/close, os_page_bytes, FileInfo.
const builtin = @import("builtin");

pub const impl = switch (builtin.os.tag) {
    .linux, .macos => @import("os/posix.zig"),
    .windows => @import("os/windows.zig"),
    else => @compileError("vmwindow: no window backend for this OS yet"),
};
