//! Wasmtime's traps and errors as vmwindow error messages: the reason first ("out of bounds
//! memory access (memory fault at wasm address 0x...)"), Wasmtime's full text with the wasm
//! backtrace after it.

const std = @import("std");

const wt = @import("wasmtime.zig");
const errors = @import("errors.zig");
const Window = @import("window.zig").Window;
const Error = errors.Error;
const fail = errors.fail;

pub fn fail_trap(what: []const u8, trap: *wt.Trap, hints: Hints) Error {
    var message: wt.ByteVec = .{ .size = 0, .data = null };
    wt.wasm_trap_message(trap, &message);
    defer wt.wasm_byte_vec_delete(&message);
    wt.wasm_trap_delete(trap);
    return fail_trap_text(what, byte_vec_slice(&message), hints);
}

/// What the caller knows that can explain a trap.
pub const Hints = struct {
    /// The guest is AssemblyScript without the SDK runtime (no `__vmw_reset_stack` export).
    without_sdk_runtime: bool = false,
    /// The window the guest ran in: a memory fault's address is described by what is there.
    window: ?*const Window = null,
};

/// AssemblyScript's stock runtimes grow the memory for their heap; a window's memory cannot grow
/// (memory.grow gives -1), and the allocator then computes addresses near 4 GiB.
const stock_runtime_hint = " [the guest was built without the SDK runtime: AssemblyScript's stock runtime could not grow the window for its heap; build it with the SDK preset, asc --config node_modules/@vmwindow/guest/asconfig.json]";

/// Formats a trap as "what: <reason>" on the first line and Wasmtime's full text (with the wasm
/// backtrace) after it. Wasmtime's cause chain reads "0: memory fault at wasm address 0x...",
/// "1: wasm trap: out of bounds memory access"; the reason puts the trap first, its detail after.
pub fn fail_trap_text(what: []const u8, message: []const u8, hints: Hints) Error {
    last_fault = std.mem.zeroes(FaultInfo);
    var text = message;
    // wasm_message_t may include the terminating NUL.
    if (text.len > 0 and text[text.len - 1] == 0) text = text[0 .. text.len - 1];
    text = std.mem.trim(u8, text, " \n");

    // At a line's start only: a guest's own text (an abort message, vmw.fail) is one line and
    // may contain these words (host_functions.zig one_line).
    const caused_by = "\nCaused by:";
    const index = std.mem.lastIndexOf(u8, text, caused_by) orelse {
        const end = std.mem.indexOfScalar(u8, text, '\n') orelse text.len;
        if (end == text.len) return fail(error.Trap, "{s}: {s}", .{ what, text });
        return fail(error.Trap, "{s}: {s}\n{s}", .{ what, text[0..end], text });
    };
    var first: []const u8 = "";
    var last: []const u8 = "";
    var lines = std.mem.tokenizeScalar(u8, text[index + caused_by.len ..], '\n');
    while (lines.next()) |raw_line| {
        const line = strip_cause_number(std.mem.trim(u8, raw_line, " \t"));
        if (line.len == 0) continue;
        if (first.len == 0) first = line;
        last = line;
    }
    const wasm_trap = "wasm trap: ";
    if (std.mem.startsWith(u8, last, wasm_trap)) last = last[wasm_trap.len..];
    const hint = if (hints.without_sdk_runtime and faults_in_last_page(first)) stock_runtime_hint else "";
    var where_buffer: [256]u8 = undefined;
    const where = describe_fault(hints.window, first, &where_buffer);
    if (first.ptr == last.ptr or first.len == 0) return fail(error.Trap, "{s}: {s}{s}{s}\n{s}", .{ what, last, where, hint, text });
    return fail(error.Trap, "{s}: {s} ({s}){s}{s}\n{s}", .{ what, last, first, where, hint, text });
}

/// `vmw_fault_t`: where the last trap's memory fault was, for `vmw_last_fault`.
pub const FaultInfo = extern struct {
    address: u64,
    bytes_past_end: u64,
    kind: u32,
    region_id: u32,
    reserved0: u32 = 0,
    reserved1: u32 = 0,
};

comptime {
    std.debug.assert(@sizeOf(FaultInfo) == 32);
}

/// The last trap's fault on this thread (kind `none` when it was not a memory fault in a window).
threadlocal var last_fault: FaultInfo = std.mem.zeroes(FaultInfo);

pub fn last_fault_info() FaultInfo {
    return last_fault;
}

/// ": a store into read-only region 3 \"input\"" and the like for a memory fault in `window`;
/// empty when the detail has no address or there is no window. Records the fault (`last_fault_info`).
fn describe_fault(window_opt: ?*const Window, detail: []const u8, buffer: *[256]u8) []const u8 {
    // `fail_trap_text` cleared `last_fault`: it stays clear unless the detail has an address.
    const window = window_opt orelse return "";
    const address = hex_after(detail, "wasm address 0x") orelse return "";
    const where = window.locate(address);
    last_fault = .{ .address = address, .bytes_past_end = where.bytes_past_end, .kind = @intFromEnum(where.kind), .region_id = where.region_id };
    const separator = ": ";
    @memcpy(buffer[0..separator.len], separator);
    const described = window.describe_address(address, where, buffer[separator.len..]);
    return buffer[0 .. separator.len + described.len];
}

/// Whether "memory fault at wasm address 0xA in linear memory of size 0xS" has S - 64 KiB <= A < S:
/// where an allocator that could not grow the memory ends up.
fn faults_in_last_page(detail: []const u8) bool {
    const address = hex_after(detail, "wasm address 0x") orelse return false;
    const size = hex_after(detail, "of size 0x") orelse return false;
    return address < size and size - address <= 64 * 1024;
}

fn hex_after(text: []const u8, prefix: []const u8) ?u64 {
    const start = (std.mem.indexOf(u8, text, prefix) orelse return null) + prefix.len;
    var end = start;
    while (end < text.len and std.ascii.isHex(text[end])) end += 1;
    return std.fmt.parseInt(u64, text[start..end], 16) catch null;
}

test "a fault in the memory's last page is recognised" {
    try std.testing.expect(faults_in_last_page("memory fault at wasm address 0x3fffffc in linear memory of size 0x4000000"));
    try std.testing.expect(!faults_in_last_page("memory fault at wasm address 0x250000 in linear memory of size 0x4000000"));
    try std.testing.expect(!faults_in_last_page("memory fault at wasm address 0x4000004 in linear memory of size 0x4000000"));
    try std.testing.expect(!faults_in_last_page("something else"));
}

/// "12: text" -> "text"
pub fn strip_cause_number(line: []const u8) []const u8 {
    var digits: usize = 0;
    while (digits < line.len and std.ascii.isDigit(line[digits])) digits += 1;
    if (digits == 0 or !std.mem.startsWith(u8, line[digits..], ": ")) return line;
    return line[digits + 2 ..];
}

pub fn byte_vec_slice(vec: *const wt.ByteVec) []const u8 {
    return if (vec.data) |data| data[0..vec.size] else "";
}

