//! Wasmtime's traps and errors as vmwindow error messages: the reason first ("out of bounds
//! memory access (memory fault at wasm address 0x...)"), Wasmtime's full text with the wasm
//! backtrace after it.

const std = @import("std");

const wt = @import("wasmtime.zig");
const errors = @import("errors.zig");
const Error = errors.Error;
const fail = errors.fail;

pub fn fail_trap(what: []const u8, trap: *wt.Trap) Error {
    var message: wt.ByteVec = .{ .size = 0, .data = null };
    wt.wasm_trap_message(trap, &message);
    defer wt.wasm_byte_vec_delete(&message);
    wt.wasm_trap_delete(trap);
    return fail_trap_text(what, byte_vec_slice(&message));
}

/// Formats a trap as "what: <reason>" on the first line and Wasmtime's full text (with the wasm
/// backtrace) after it. Wasmtime's cause chain reads "0: memory fault at wasm address 0x...",
/// "1: wasm trap: out of bounds memory access"; the reason puts the trap first, its detail after.
pub fn fail_trap_text(what: []const u8, message: []const u8) Error {
    var text = message;
    // wasm_message_t may include the terminating NUL.
    if (text.len > 0 and text[text.len - 1] == 0) text = text[0 .. text.len - 1];
    text = std.mem.trim(u8, text, " \n");

    const caused_by = "Caused by:";
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
    if (first.ptr == last.ptr or first.len == 0) return fail(error.Trap, "{s}: {s}\n{s}", .{ what, last, text });
    return fail(error.Trap, "{s}: {s} ({s})\n{s}", .{ what, last, first, text });
}

/// "12: text" -> "text"
fn strip_cause_number(line: []const u8) []const u8 {
    var digits: usize = 0;
    while (digits < line.len and std.ascii.isDigit(line[digits])) digits += 1;
    if (digits == 0 or !std.mem.startsWith(u8, line[digits..], ": ")) return line;
    return line[digits + 2 ..];
}

pub fn byte_vec_slice(vec: *const wt.ByteVec) []const u8 {
    return if (vec.data) |data| data[0..vec.size] else "";
}

