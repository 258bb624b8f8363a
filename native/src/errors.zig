//! Result codes and the per-thread last-error message of the C ABI.
//!
//! Every fallible exported function returns a `Result`; on failure it has first stored a message
//! with `fail`. Nothing is ever printed.

const std = @import("std");
const assert = std.debug.assert;

/// Mirrors `vmw_result_t` in `include/vmwindow.h`. Values are ABI: never renumber.
pub const Result = enum(i32) {
    ok = 0,
    invalid_argument = 1,
    not_found = 2,
    io = 3,
    access_denied = 4,
    window_full = 5,
    closed = 6,
    busy = 7,
    out_of_memory = 8,
    bad_module = 9,
    link = 10,
    trap = 11,
    wasmtime = 12,
    stale = 13,
    type_mismatch = 14,
    unsupported = 15,
    unaligned = 16,
    overlap = 17,
    out_of_range = 18,
    not_mapped = 19,
    fragmented = 20,
    /// A guest call ran past its deadline (epoch interruption); the guest stays usable.
    timeout = 21,
    /// Another thread interrupted the guest call (vmw_interrupt); the guest stays usable.
    interrupted = 22,
};

/// Zig error set used inside the library; `lib.zig` converts it to a `Result`.
pub const Error = error{
    InvalidArgument,
    NotFound,
    Io,
    AccessDenied,
    WindowFull,
    Closed,
    Busy,
    OutOfMemory,
    BadModule,
    Link,
    Trap,
    Wasmtime,
    Stale,
    TypeMismatch,
    Unsupported,
    Unaligned,
    Overlap,
    OutOfRange,
    NotMapped,
    Fragmented,
    Timeout,
    Interrupted,
};

pub fn result_from_error(err: Error) Result {
    return switch (err) {
        error.InvalidArgument => .invalid_argument,
        error.NotFound => .not_found,
        error.Io => .io,
        error.AccessDenied => .access_denied,
        error.WindowFull => .window_full,
        error.Closed => .closed,
        error.Busy => .busy,
        error.OutOfMemory => .out_of_memory,
        error.BadModule => .bad_module,
        error.Link => .link,
        error.Trap => .trap,
        error.Wasmtime => .wasmtime,
        error.Stale => .stale,
        error.TypeMismatch => .type_mismatch,
        error.Unsupported => .unsupported,
        error.Timeout => .timeout,
        error.Interrupted => .interrupted,
        error.Unaligned => .unaligned,
        error.Overlap => .overlap,
        error.OutOfRange => .out_of_range,
        error.NotMapped => .not_mapped,
        error.Fragmented => .fragmented,
    };
}

pub const message_max_bytes = 4096;

threadlocal var message_buffer: [message_max_bytes]u8 = undefined;
threadlocal var message_len_bytes: usize = 0;

/// Formats the thread's last-error message and returns `err`, so callers write
/// `return errors.fail(error.NotFound, "no such file: {s}", .{path});`.
pub fn fail(err: Error, comptime fmt: []const u8, args: anytype) Error {
    const written = std.fmt.bufPrint(message_buffer[0 .. message_max_bytes - 1], fmt, args) catch blk: {
        // Truncated: keep what fits and mark it.
        const ellipsis = "...";
        @memcpy(message_buffer[message_max_bytes - 1 - ellipsis.len .. message_max_bytes - 1], ellipsis);
        break :blk message_buffer[0 .. message_max_bytes - 1];
    };
    message_len_bytes = written.len;
    message_buffer[message_len_bytes] = 0;
    return err;
}

pub fn clear() void {
    message_len_bytes = 0;
    message_buffer[0] = 0;
}

/// The calling thread's last message, NUL-terminated. Valid until the thread's next vmwindow call.
pub fn last_message() [*:0]const u8 {
    assert(message_len_bytes < message_max_bytes);
    message_buffer[message_len_bytes] = 0;
    return @ptrCast(&message_buffer);
}

pub fn last_message_slice() []const u8 {
    return message_buffer[0..message_len_bytes];
}

test "fail formats and truncates" {
    const err = fail(error.NotFound, "no such file: {s}", .{"/x"});
    try std.testing.expectEqual(error.NotFound, err);
    try std.testing.expectEqualStrings("no such file: /x", last_message_slice());

    const long = "y" ** (message_max_bytes * 2);
    try std.testing.expectEqual(error.Io, fail(error.Io, "{s}", .{long}));
    try std.testing.expectEqual(message_max_bytes - 1, last_message_slice().len);
    try std.testing.expect(std.mem.endsWith(u8, last_message_slice(), "..."));
}
