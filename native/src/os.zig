//! Selects the window's OS layer for the target.
const builtin = @import("builtin");

pub const impl = switch (builtin.os.tag) {
    .linux, .macos => @import("os/posix.zig"),
    else => @compileError("vmwindow: no window backend for this OS yet"),
};
