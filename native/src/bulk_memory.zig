//! Bulk memory without Wasmtime's bulk-memory library calls: `memory.copy` and `memory.fill` are
//! rewritten, before the module is compiled, into calls of two functions this file appends to the
//! module. They are ordinary wasm code, so a copy or fill that touches a PROT_NONE page of the
//! window (the null page, the table, a free slot, a read-only file, a truncated file's pages) is a
//! guest memory access that Wasmtime turns into a trap, as for any load or store. Wasmtime's own
//! `memory.copy`/`memory.fill` run as host library calls, where the same fault kills the process
//! (engine.zig keeps the bulk-memory feature off; the rewritten module does not need it).
//!
//! The rewrite is a pure function: module bytes in, rewritten bytes out (allocator-owned), or null
//! when the module has nothing to rewrite. It decodes every instruction of every function body (MVP,
//! sign extension, saturating truncation, bulk memory, SIMD with all its immediates, atomics,
//! multi-value block types), so an immediate is never mistaken for an opcode, and refuses with a
//! message what it cannot decode. The injected functions come after every existing function and
//! their type after every existing type, so no index moves; section and body sizes are re-encoded.
//! The name section names them `vmwindow:memory.fill` / `vmwindow:memory.copy` (for backtraces).
//!
//! Semantics of the injected functions, as the spec's: `memory.copy` is a memmove (copies backwards
//! when the destination starts inside the source); a range that leaves the memory traps ("out of
//! bounds memory access") before anything is written; zero-length operations at any in-bounds
//! address (including the memory's end) do nothing. Unlike the spec, an in-bounds copy or fill that
//! reaches a protected page traps there, after writing the bytes before the fault (the window has
//! pages the guest cannot touch; the spec's memories do not).
//!
//! The loops move 16 bytes per v128 load/store when the module already uses SIMD (so the engine
//! and the CPU run it), else 8 per i64, four per iteration, then single bytes: a 64 MiB copy runs
//! near libc's memcpy (bench/bulk-copy.ts). A small copy costs a call, the bounds checks and the
//! overlap test; a metered guest pays fuel per loop instruction (about 0.5 per byte with v128).
//!
//! Refused (with a message): `memory.init` and `data.drop`, and passive data segments, which only
//! they use (compilers emit them for shared-memory threads, which windows do not support); a memory
//! index other than 0; 64-bit memories; types the decoder does not know (GC, function references,
//! exceptions). The data-count section is dropped (only memory.init and data.drop need it).
//! DWARF custom sections keep code offsets of the original bodies (they are not rewritten).

const std = @import("std");
const assert = std.debug.assert;

const errors = @import("errors.zig");
const Error = errors.Error;
const fail = errors.fail;
const wasm_binary = @import("wasm_binary.zig");
const Reader = wasm_binary.Reader;
const append_uleb = wasm_binary.append_uleb;
const encode_uleb = wasm_binary.encode_uleb;

/// Explicit limits, Wasmtime's own (wasmparser's): a larger module is passed on unchanged for
/// Wasmtime to refuse; more types or functions than fit with the two added are refused here.
pub const module_bytes_max: usize = 1 << 30;
pub const functions_max: u32 = 1_000_000;
pub const types_max: u32 = 1_000_000;

const section_type: u8 = 1;
const section_import: u8 = 2;
const section_function: u8 = 3;
const section_code: u8 = 10;
const section_data: u8 = 11;
const section_data_count: u8 = 12;
const section_id_max: u8 = 13;

const prefix_misc: u8 = 0xfc;
const prefix_simd: u8 = 0xfd;
const prefix_atomic: u8 = 0xfe;
const misc_memory_init: u32 = 8;
const misc_data_drop: u32 = 9;
const misc_memory_copy: u32 = 10;
const misc_memory_fill: u32 = 11;

pub const Rewritten = struct {
    /// The rewritten module, owned by the caller (the allocator passed to `rewrite`).
    bytes: []u8,
    copies: u32,
    fills: u32,
    /// The injected functions move 16 bytes per load/store (the module already uses SIMD, so the
    /// engine and CPU run it); otherwise 8.
    simd: bool,
};

/// A section's payload: `wasm[start..end]`.
const Span = struct { start: usize, end: usize };

/// Where the sections the rewrite reads or replaces are.
const Sections = struct {
    types: ?Span = null,
    imports: ?Span = null,
    functions: ?Span = null,
    code: ?Span = null,
    data: ?Span = null,
    data_count: ?Span = null,
};

const DecodeError = error{ Truncated, Overflow, UnknownOpcode, Unsupported };

/// `wasm` with `memory.copy` / `memory.fill` replaced by calls of injected wasm functions, or null
/// when it has none of them, no data-count section, and no `memory.init` / `data.drop` (most
/// modules: they are not copied). A module whose sections do not parse is returned as null too, so
/// that Wasmtime's validator reports what is wrong with it.
pub fn rewrite(allocator: std.mem.Allocator, wasm: []const u8) Error!?Rewritten {
    const sections = find_sections(wasm) orelse return null;
    if (!may_use_bulk_memory(wasm, sections)) return null;
    const code = sections.code orelse return null;
    if (sections.functions == null) return null;
    const counts = try count_index_spaces(wasm, sections);
    // Bodies and declared functions disagree: Wasmtime's validator says so better.
    var code_reader = Reader{ .bytes = wasm[code.start..code.end] };
    const body_count = code_reader.uleb(u32) catch return null;
    if (body_count != counts.functions - counts.imported_functions) return null;
    try check_data_segments(wasm, sections);

    var bodies: std.ArrayListUnmanaged(u8) = .empty;
    defer bodies.deinit(allocator);
    const calls = Calls{ .fill = counts.functions, .copy = counts.functions + 1 };
    const facts = try rewrite_bodies(allocator, wasm[code.start..code.end], calls, &bodies);
    assert(facts.bodies == counts.functions - counts.imported_functions);

    const inject = facts.copies + facts.fills > 0;
    if (!inject and sections.data_count == null) return null; // a look-alike in an immediate
    var out: std.ArrayListUnmanaged(u8) = .empty;
    errdefer out.deinit(allocator);
    out.ensureTotalCapacity(allocator, wasm.len + bodies.items.len - (code.end - code.start) + 1024) catch return out_of_memory();
    try emit_module(allocator, &out, wasm, sections, .{ .types = counts.types, .bodies = bodies.items, .simd = facts.simd, .body_count = facts.bodies, .inject = inject, .calls = calls });
    assert(out.items.len >= 8);
    return .{ .bytes = out.toOwnedSlice(allocator) catch return out_of_memory(), .copies = facts.copies, .fills = facts.fills, .simd = facts.simd };
}

fn out_of_memory() Error {
    return fail(error.OutOfMemory, "out of memory rewriting the module's bulk-memory instructions", .{});
}

/// The sections, or null when the module is not one the rewrite can walk (left to the validator).
fn find_sections(wasm: []const u8) ?Sections {
    const header = wasm_binary.header;
    if (wasm.len < header.len or wasm.len > module_bytes_max) return null;
    if (!std.mem.eql(u8, wasm[0..header.len], &header)) return null;
    var sections: Sections = .{};
    var reader = Reader{ .bytes = wasm, .position = header.len };
    while (reader.position < wasm.len) {
        const id = reader.byte() catch return null;
        const size = reader.uleb(u32) catch return null;
        const start = reader.position;
        reader.skip(size) catch return null;
        const span: Span = .{ .start = start, .end = reader.position };
        switch (id) {
            section_type => sections.types = span,
            section_import => sections.imports = span,
            section_function => sections.functions = span,
            section_code => sections.code = span,
            section_data => sections.data = span,
            section_data_count => sections.data_count = span,
            else => if (id > section_id_max) return null,
        }
    }
    assert(reader.position == wasm.len);
    return sections;
}

/// Whether the code may hold a bulk-memory instruction: a 0xFC byte followed by 8..11 anywhere in
/// it (a superset: immediates can look like that too; the decoder tells them apart), or a
/// data-count section. An instruction it misses (a sub-opcode in an overlong LEB128, which no
/// compiler emits) stays as it is, and the engine, which has bulk memory off, refuses the module:
/// a miss is never a copy in host code.
fn may_use_bulk_memory(wasm: []const u8, sections: Sections) bool {
    if (sections.data_count != null) return true;
    const code = sections.code orelse return false;
    const bytes = wasm[code.start..code.end];
    var position: usize = 0;
    while (std.mem.indexOfScalarPos(u8, bytes, position, prefix_misc)) |found| {
        if (found + 1 < bytes.len and bytes[found + 1] >= misc_memory_init and bytes[found + 1] <= misc_memory_fill) return true;
        position = found + 1;
    }
    return false;
}

const Counts = struct {
    types: u32,
    imported_functions: u32,
    /// Imported and defined: the index of the first injected function.
    functions: u32,
};

fn count_index_spaces(wasm: []const u8, sections: Sections) Error!Counts {
    const types = if (sections.types) |span| try count_types(wasm[span.start..span.end]) else 0;
    const imported = if (sections.imports) |span| try count_imported_functions(wasm[span.start..span.end]) else 0;
    var defined: u32 = 0;
    if (sections.functions) |span| {
        var reader = Reader{ .bytes = wasm[span.start..span.end] };
        defined = reader.uleb(u32) catch return malformed("function");
    }
    if (types > types_max - 1 or imported + @as(u64, defined) > functions_max - 2) {
        return fail(error.BadModule, "the module has too many types or functions to add the bulk-memory functions ({d} types, {d} functions)", .{ types, imported + @as(u64, defined) });
    }
    assert(imported <= imported + defined);
    assert(imported + defined + 2 <= functions_max);
    return .{ .types = types, .imported_functions = imported, .functions = imported + defined };
}

fn malformed(section: []const u8) Error {
    return fail(error.BadModule, "the module's {s} section is malformed (vmwindow reads it to rewrite memory.copy / memory.fill)", .{section});
}

/// The type section's entry count; every entry must be a plain function type of numeric, vector or
/// reference values (so entries and type indices are the same; GC's recursion groups are not).
fn count_types(payload: []const u8) Error!u32 {
    var reader = Reader{ .bytes = payload };
    const count = reader.uleb(u32) catch return malformed("type");
    for (0..count) |index| {
        const form = reader.byte() catch return malformed("type");
        if (form != 0x60) {
            return fail(error.BadModule, "type {d} is not a plain function type (form 0x{x:0>2}: GC types); vmwindow cannot add its bulk-memory functions to this module", .{ index, form });
        }
        for (0..2) |_| {
            const arity = reader.uleb(u32) catch return malformed("type");
            for (0..arity) |_| {
                const value_type = reader.byte() catch return malformed("type");
                if (!is_value_type(value_type)) return fail(error.BadModule, "type {d} has a value type 0x{x:0>2} that vmwindow's bulk-memory rewrite does not decode", .{ index, value_type });
            }
        }
    }
    if (reader.position != payload.len) return malformed("type");
    return count;
}

/// i32, i64, f32, f64, v128, funcref, externref: the one-byte value types.
fn is_value_type(byte: u8) bool {
    return switch (byte) {
        0x7f, 0x7e, 0x7d, 0x7c, 0x7b, 0x70, 0x6f => true,
        else => false,
    };
}

fn count_imported_functions(payload: []const u8) Error!u32 {
    var reader = Reader{ .bytes = payload };
    var functions: u32 = 0;
    const count = reader.uleb(u32) catch return malformed("import");
    for (0..count) |_| {
        for (0..2) |_| {
            const name_bytes = reader.uleb(u32) catch return malformed("import");
            reader.skip(name_bytes) catch return malformed("import");
        }
        const kind = reader.byte() catch return malformed("import");
        switch (kind) {
            0x00 => {
                _ = reader.uleb(u32) catch return malformed("import");
                functions += 1;
            },
            0x01 => {
                const element_type = reader.byte() catch return malformed("import");
                if (!is_value_type(element_type)) return malformed("import");
                _ = skip_limits(&reader) catch return malformed("import");
            },
            0x02 => {
                const memory64 = skip_limits(&reader) catch return malformed("import");
                if (memory64) return fail(error.Link, "the guest imports a 64-bit memory; this window is a 32-bit memory", .{});
            },
            0x03 => {
                const value_type = reader.byte() catch return malformed("import");
                if (!is_value_type(value_type)) return malformed("import");
                _ = reader.byte() catch return malformed("import");
            },
            else => return fail(error.BadModule, "the module imports something of kind 0x{x:0>2}, which vmwindow's bulk-memory rewrite does not decode", .{kind}),
        }
    }
    return functions;
}

/// Skips table or memory limits; returns whether they are 64-bit.
fn skip_limits(reader: *Reader) DecodeError!bool {
    const flags = try reader.byte();
    if (flags & ~@as(u8, 0x07) != 0) return error.Unsupported;
    _ = try reader.uleb(u64);
    if (flags & 0x01 != 0) _ = try reader.uleb(u64);
    return flags & 0x04 != 0;
}

/// Refuses passive data segments: only memory.init can use them, which is refused.
fn check_data_segments(wasm: []const u8, sections: Sections) Error!void {
    const span = sections.data orelse return;
    var reader = Reader{ .bytes = wasm[span.start..span.end] };
    const count = reader.uleb(u32) catch return malformed("data");
    for (0..count) |index| {
        const flags = reader.uleb(u32) catch return malformed("data");
        switch (flags) {
            0, 2 => {
                if (flags == 2) _ = reader.uleb(u32) catch return malformed("data");
                skip_const_expression(&reader) catch return malformed("data");
            },
            1 => return fail(error.BadModule, "data segment {d} is passive: vmwindow accepts memory.copy and memory.fill (rewritten into wasm code) but not memory.init / data.drop and passive segments (compilers emit them for shared-memory threads, which windows do not have); build without threads so data segments are active", .{index}),
            else => return malformed("data"),
        }
        const length = reader.uleb(u32) catch return malformed("data");
        reader.skip(length) catch return malformed("data");
    }
}

fn skip_const_expression(reader: *Reader) DecodeError!void {
    while (true) {
        const opcode = reader.bytes[reader.position..];
        if (opcode.len == 0) return error.Truncated;
        const was_end = opcode[0] == 0x0b;
        _ = try instruction(reader);
        if (was_end) return;
    }
}

/// Function indices of the injected functions.
const Calls = struct { fill: u32, copy: u32 };

const BodyFacts = struct {
    bodies: u32 = 0,
    copies: u32 = 0,
    fills: u32 = 0,
    simd: bool = false,
};

/// Appends every body of the code section `payload`, rewritten, to `out` (each with its size).
fn rewrite_bodies(allocator: std.mem.Allocator, payload: []const u8, calls: Calls, out: *std.ArrayListUnmanaged(u8)) Error!BodyFacts {
    assert(calls.copy == calls.fill + 1);
    var reader = Reader{ .bytes = payload };
    var facts: BodyFacts = .{};
    const count = reader.uleb(u32) catch return malformed("code");
    var body: std.ArrayListUnmanaged(u8) = .empty;
    defer body.deinit(allocator);
    for (0..count) |index| {
        const size = reader.uleb(u32) catch return malformed("code");
        const start = reader.position;
        reader.skip(size) catch return malformed("code");
        body.clearRetainingCapacity();
        rewrite_body(allocator, payload[start..reader.position], calls, &body, &facts) catch |err| {
            return body_error(err, index, calls.fill - count);
        };
        append_uleb(allocator, out, body.items.len) catch return out_of_memory();
        out.appendSlice(allocator, body.items) catch return out_of_memory();
    }
    if (reader.position != payload.len) return malformed("code");
    facts.bodies = count;
    return facts;
}

/// The message for a body the decoder refused. `first_defined` is the index of the first body's function.
fn body_error(err: BodyError, body_index: usize, first_defined: u32) Error {
    const function = first_defined + body_index;
    return switch (err) {
        error.OutOfMemory => out_of_memory(),
        error.Truncated, error.Overflow => fail(error.BadModule, "function {d}'s body is malformed (vmwindow decodes every body to rewrite memory.copy / memory.fill)", .{function}),
        error.UnknownOpcode => fail(error.BadModule, "function {d} uses an instruction (opcode 0x{x:0>2} 0x{x}) that vmwindow's bulk-memory rewrite does not decode (it knows MVP, sign extension, saturating truncation, bulk memory, SIMD and atomics)", .{ function, last_opcode.prefix, last_opcode.code }),
        error.Unsupported => if (last_opcode.prefix == prefix_misc and (last_opcode.code == misc_memory_init or last_opcode.code == misc_data_drop))
            fail(error.BadModule, "function {d} uses {s}: vmwindow accepts memory.copy and memory.fill (rewritten into wasm code) but not memory.init / data.drop (compilers emit them for shared-memory threads, which windows do not have)", .{ function, if (last_opcode.code == misc_memory_init) "memory.init" else "data.drop" })
        else
            fail(error.BadModule, "function {d} uses opcode 0x{x:0>2} 0x{x} with a memory other than 0 or a block type vmwindow's bulk-memory rewrite does not decode", .{ function, last_opcode.prefix, last_opcode.code }),
    };
}

/// The last opcode the decoder read, for messages (one decoder per thread at a time).
threadlocal var last_opcode: struct { prefix: u8 = 0, code: u32 = 0 } = .{};

const BodyError = DecodeError || error{OutOfMemory};

fn rewrite_body(allocator: std.mem.Allocator, body: []const u8, calls: Calls, out: *std.ArrayListUnmanaged(u8), facts: *BodyFacts) BodyError!void {
    var reader = Reader{ .bytes = body };
    const local_groups = try reader.uleb(u32);
    for (0..local_groups) |_| {
        _ = try reader.uleb(u32);
        if (!is_value_type(try reader.byte())) return error.Unsupported;
    }
    var copied_up_to: usize = 0;
    const out_start = out.items.len;
    while (reader.position < body.len) {
        const start = reader.position;
        const kind = try instruction(&reader);
        const callee = switch (kind) {
            .other => continue,
            .simd => {
                facts.simd = true;
                continue;
            },
            .copy => calls.copy,
            .fill => calls.fill,
        };
        if (kind == .copy) facts.copies += 1 else facts.fills += 1;
        try out.appendSlice(allocator, body[copied_up_to..start]);
        try out.append(allocator, 0x10); // call
        try append_uleb(allocator, out, callee);
        copied_up_to = reader.position;
    }
    assert(reader.position == body.len);
    if (body.len == 0 or body[body.len - 1] != 0x0b) return error.Truncated;
    try out.appendSlice(allocator, body[copied_up_to..]);
    assert(out.items.len > out_start);
    assert(out.items[out.items.len - 1] == 0x0b); // still ends with `end`
}

const Kind = enum { other, simd, copy, fill };

/// Decodes one instruction (opcode and immediates); says whether it is one the rewrite replaces.
fn instruction(reader: *Reader) DecodeError!Kind {
    const opcode = try reader.byte();
    last_opcode = .{ .prefix = opcode, .code = 0 };
    switch (opcode) {
        // unreachable nop else end return drop select; numeric; sign extension; ref.is_null
        0x00, 0x01, 0x05, 0x0b, 0x0f, 0x1a, 0x1b, 0x45...0xc4, 0xd1 => {},
        0x02, 0x03, 0x04 => try block_type(reader),
        // br br_if call return_call local.* global.* table.get table.set memory.size memory.grow ref.func
        0x0c, 0x0d, 0x10, 0x12, 0x20...0x26, 0x3f, 0x40, 0xd2 => _ = try reader.uleb(u32),
        0x0e => {
            const targets = try reader.uleb(u32);
            for (0..targets + @as(u64, 1)) |_| _ = try reader.uleb(u32);
        },
        0x11, 0x13 => {
            _ = try reader.uleb(u32);
            _ = try reader.uleb(u32);
        },
        0x1c => {
            const types = try reader.uleb(u32);
            for (0..types) |_| if (!is_value_type(try reader.byte())) return error.Unsupported;
        },
        0x28...0x3e => try memarg(reader),
        0x41 => _ = try reader.sleb(32),
        0x42 => _ = try reader.sleb(64),
        0x43 => try reader.skip(4),
        0x44 => try reader.skip(8),
        0xd0 => if (!is_value_type(try reader.byte())) return error.Unsupported,
        prefix_misc => return misc_instruction(reader),
        prefix_simd => {
            try simd_instruction(reader);
            return .simd;
        },
        prefix_atomic => try atomic_instruction(reader),
        else => return error.UnknownOpcode,
    }
    return .other;
}

/// Empty, one value type, or a type index (multi-value).
fn block_type(reader: *Reader) DecodeError!void {
    const value = try reader.sleb(33);
    if (value >= 0) return;
    const byte: u8 = @intCast(value & 0x7f);
    if (byte != 0x40 and !is_value_type(byte)) return error.Unsupported;
}

/// Alignment (bit 6: a memory index follows, multi-memory) and offset.
fn memarg(reader: *Reader) DecodeError!void {
    const flags = try reader.uleb(u32);
    if (flags & 0x40 != 0) _ = try reader.uleb(u32);
    _ = try reader.uleb(u64);
}

fn memory_zero(reader: *Reader) DecodeError!void {
    if (try reader.uleb(u32) != 0) return error.Unsupported;
}

fn misc_instruction(reader: *Reader) DecodeError!Kind {
    const code = try reader.uleb(u32);
    last_opcode = .{ .prefix = prefix_misc, .code = code };
    switch (code) {
        0...7 => {}, // saturating truncation
        misc_memory_init, misc_data_drop => return error.Unsupported,
        misc_memory_copy => {
            try memory_zero(reader);
            try memory_zero(reader);
            return .copy;
        },
        misc_memory_fill => {
            try memory_zero(reader);
            return .fill;
        },
        12, 14 => { // table.init elem table, table.copy table table
            _ = try reader.uleb(u32);
            _ = try reader.uleb(u32);
        },
        13, 15, 16, 17 => _ = try reader.uleb(u32), // elem.drop, table.grow / size / fill
        else => return error.UnknownOpcode,
    }
    return .other;
}

fn simd_instruction(reader: *Reader) DecodeError!void {
    const code = try reader.uleb(u32);
    last_opcode = .{ .prefix = prefix_simd, .code = code };
    switch (code) {
        0x00...0x0b, 0x5c, 0x5d => try memarg(reader), // loads, v128.store, load32/64_zero
        0x0c, 0x0d => try reader.skip(16), // v128.const, i8x16.shuffle
        0x15...0x22 => try reader.skip(1), // extract_lane / replace_lane
        0x54...0x5b => { // load / store lane
            try memarg(reader);
            try reader.skip(1);
        },
        0x0e...0x14, 0x23...0x53, 0x5e...0xff, 0x100...0x113 => {}, // the rest, relaxed SIMD
        else => return error.UnknownOpcode,
    }
}

fn atomic_instruction(reader: *Reader) DecodeError!void {
    const code = try reader.uleb(u32);
    last_opcode = .{ .prefix = prefix_atomic, .code = code };
    switch (code) {
        0x03 => try reader.skip(1), // atomic.fence
        0x00...0x02, 0x10...0x4e => try memarg(reader),
        else => return error.UnknownOpcode,
    }
}

const Emit = struct {
    types: u32,
    bodies: []const u8,
    body_count: u32,
    simd: bool,
    /// Whether any instruction was replaced (else only the data-count section goes).
    inject: bool,
    calls: Calls,
};

/// The injected functions' names in the name section (backtraces show them).
const fill_name = "vmwindow:memory.fill";
const copy_name = "vmwindow:memory.copy";

/// The module again, section by section: type, function and code sections extended, the data-count
/// section dropped, everything else copied.
fn emit_module(allocator: std.mem.Allocator, out: *std.ArrayListUnmanaged(u8), wasm: []const u8, sections: Sections, emit: Emit) Error!void {
    assert(sections.code != null);
    out.appendSlice(allocator, wasm[0..8]) catch return out_of_memory();
    var reader = Reader{ .bytes = wasm, .position = 8 };
    var section: std.ArrayListUnmanaged(u8) = .empty;
    defer section.deinit(allocator);
    const new_type = [_]u8{ 0x60, 3, 0x7f, 0x7f, 0x7f, 0 }; // (i32 i32 i32) -> ()
    if (sections.types == null and emit.inject) try emit_section(allocator, out, section_type, &([_]u8{1} ++ new_type));
    var named = false;
    while (reader.position < wasm.len) {
        const id = reader.byte() catch unreachable; // find_sections walked them
        const size = reader.uleb(u32) catch unreachable;
        const payload = wasm[reader.position..][0..size];
        reader.position += size;
        section.clearRetainingCapacity();
        if (!emit.inject and id != section_data_count) {
            try emit_section(allocator, out, id, payload);
            continue;
        }
        switch (id) {
            section_data_count => continue,
            section_type => try extend_vector(allocator, &section, payload, 1, &new_type),
            section_function => {
                var type_index: [wasm_binary.uleb_max_bytes]u8 = undefined;
                const len = encode_uleb(&type_index, emit.types);
                var entries: [20]u8 = undefined;
                @memcpy(entries[0..len], type_index[0..len]);
                @memcpy(entries[len..][0..len], type_index[0..len]);
                try extend_vector(allocator, &section, payload, 2, entries[0 .. 2 * len]);
            },
            section_code => try code_section(allocator, &section, emit),
            0 => if (is_name_section(payload)) {
                try name_section(allocator, &section, payload, emit.calls);
                named = true;
            } else {
                try emit_section(allocator, out, id, payload);
                continue;
            },
            else => {
                try emit_section(allocator, out, id, payload);
                continue;
            },
        }
        try emit_section(allocator, out, id, section.items);
    }
    assert(reader.position == wasm.len);
    if (emit.inject and !named) {
        section.clearRetainingCapacity();
        const name = "name";
        section.appendSlice(allocator, &([_]u8{name.len} ++ name.*)) catch return out_of_memory();
        try function_names(allocator, &section, &.{}, emit.calls);
        try emit_section(allocator, out, 0, section.items);
    }
}

/// A custom section named "name" (its length in one byte, as every producer writes it).
fn is_name_section(payload: []const u8) bool {
    return payload.len >= 5 and payload[0] == 4 and std.mem.eql(u8, payload[1..5], "name");
}

/// The name section with the injected functions named at the end of its function-names
/// subsection (made if missing, in subsection order). A malformed one is copied unchanged: names
/// are optional.
fn name_section(allocator: std.mem.Allocator, out: *std.ArrayListUnmanaged(u8), payload: []const u8, calls: Calls) Error!void {
    assert(is_name_section(payload));
    assert(out.items.len == 0);
    var reader = Reader{ .bytes = payload, .position = 5 };
    out.appendSlice(allocator, payload[0..5]) catch return out_of_memory();
    var added = false;
    while (reader.position < payload.len) {
        const id = reader.byte() catch break;
        const size = reader.uleb(u32) catch break;
        const start = reader.position;
        reader.skip(size) catch break;
        const subsection = payload[start..reader.position];
        if (!added and id >= 1) {
            try function_names(allocator, out, if (id == 1) subsection else &.{}, calls);
            added = true;
            if (id == 1) continue;
        }
        out.append(allocator, id) catch return out_of_memory();
        append_uleb(allocator, out, size) catch return out_of_memory();
        out.appendSlice(allocator, subsection) catch return out_of_memory();
    } else {
        if (!added) try function_names(allocator, out, &.{}, calls);
        return;
    }
    // Malformed: the original bytes.
    out.clearRetainingCapacity();
    out.appendSlice(allocator, payload) catch return out_of_memory();
}

/// A function-names subsection: `existing` (its payload, or empty) with the injected functions
/// appended (their indices are the highest, so the map stays sorted).
fn function_names(allocator: std.mem.Allocator, out: *std.ArrayListUnmanaged(u8), existing: []const u8, calls: Calls) Error!void {
    var body: std.ArrayListUnmanaged(u8) = .empty;
    defer body.deinit(allocator);
    var reader = Reader{ .bytes = existing };
    const count: u64 = if (existing.len == 0) 0 else reader.uleb(u32) catch 0;
    append_uleb(allocator, &body, count + 2) catch return out_of_memory();
    body.appendSlice(allocator, existing[reader.position..]) catch return out_of_memory();
    inline for (.{ .{ calls.fill, fill_name }, .{ calls.copy, copy_name } }) |entry| {
        append_uleb(allocator, &body, entry[0]) catch return out_of_memory();
        body.appendSlice(allocator, &([_]u8{entry[1].len} ++ entry[1].*)) catch return out_of_memory();
    }
    out.append(allocator, 1) catch return out_of_memory();
    append_uleb(allocator, out, body.items.len) catch return out_of_memory();
    out.appendSlice(allocator, body.items) catch return out_of_memory();
}

fn emit_section(allocator: std.mem.Allocator, out: *std.ArrayListUnmanaged(u8), id: u8, payload: []const u8) Error!void {
    assert(id <= section_id_max);
    out.append(allocator, id) catch return out_of_memory();
    append_uleb(allocator, out, payload.len) catch return out_of_memory();
    out.appendSlice(allocator, payload) catch return out_of_memory();
}

/// A vector section's payload with `added` more entries (their bytes `tail`) at its end.
fn extend_vector(allocator: std.mem.Allocator, out: *std.ArrayListUnmanaged(u8), payload: []const u8, added: u32, tail: []const u8) Error!void {
    var reader = Reader{ .bytes = payload };
    const count = reader.uleb(u32) catch return malformed("vector");
    assert(added > 0);
    append_uleb(allocator, out, @as(u64, count) + added) catch return out_of_memory();
    out.appendSlice(allocator, payload[reader.position..]) catch return out_of_memory();
    out.appendSlice(allocator, tail) catch return out_of_memory();
}

fn code_section(allocator: std.mem.Allocator, out: *std.ArrayListUnmanaged(u8), emit: Emit) Error!void {
    const fill = if (emit.simd) injected.fill_v128 else injected.fill_i64;
    const copy = if (emit.simd) injected.copy_v128 else injected.copy_i64;
    append_uleb(allocator, out, @as(u64, emit.body_count) + 2) catch return out_of_memory();
    out.appendSlice(allocator, emit.bodies) catch return out_of_memory();
    for ([_][]const u8{ fill, copy }) |body| {
        append_uleb(allocator, out, body.len) catch return out_of_memory();
        out.appendSlice(allocator, body) catch return out_of_memory();
    }
}

/// The injected functions' bodies, assembled at compile time. Both take (i32, i32, i32) and return
/// nothing: fill(dst, value, len) and copy(dst, src, len), locals 0-2.
const injected = struct {
    const dst = 0;
    const src = 1;
    const value = 1;
    const len = 2;
    // copy's locals: the index counting down (backward copy) and the two addresses at it.
    const index = 3;
    const at_dst = 4;
    const at_src = 5;
    // fill's local: the value repeated over 8 or 16 bytes.
    const pattern = 3;

    const end = [_]u8{0x0b};
    const i32_add = [_]u8{0x6a};
    const i32_sub = [_]u8{0x6b};
    const i32_lt_u = [_]u8{0x49};
    const i32_ge_u = [_]u8{0x4f};

    fn get(comptime local: u8) [2]u8 {
        return .{ 0x20, local };
    }
    fn set(comptime local: u8) [2]u8 {
        return .{ 0x21, local };
    }
    fn tee(comptime local: u8) [2]u8 {
        return .{ 0x22, local };
    }
    /// i32.const of a small non-negative value (one-byte or two-byte signed LEB128).
    fn constant(comptime v: u8) [if (v < 64) 2 else 3]u8 {
        return if (v < 64) .{ 0x41, v } else .{ 0x41, 0x80 | (v & 0x7f), v >> 7 };
    }
    fn i64_const(comptime v: i64) []const u8 {
        var out: []const u8 = &.{0x42};
        var remaining = v;
        while (true) {
            const b: u8 = @intCast(remaining & 0x7f);
            remaining >>= 7;
            const done = (remaining == 0 and b & 0x40 == 0) or (remaining == -1 and b & 0x40 != 0);
            out = out ++ [_]u8{if (done) b else b | 0x80};
            if (done) return out;
        }
    }
    fn br_if(comptime depth: u8) [2]u8 {
        return .{ 0x0d, depth };
    }
    const block = [_]u8{ 0x02, 0x40 };
    const loop = [_]u8{ 0x03, 0x40 };

    /// Traps with "out of bounds memory access" when `[local a, a + len)` leaves the memory: a
    /// load at 0xFFFFFFFF + 0xFFFFFFFF, outside every 32-bit memory.
    fn bounds_check(comptime a: u8) [28]u8 {
        return get(a) ++ [_]u8{0xad} ++ get(len) ++ [_]u8{ 0xad, 0x7c } ++ // a + len, as i64
            [_]u8{ 0x3f, 0x00, 0xad, 0x42, 0x10, 0x86 } ++ // memory.size << 16
            [_]u8{ 0x56, 0x04, 0x40 } ++ // i64.gt_u, if
            [_]u8{ 0x41, 0x7f, 0x29, 0x00, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x1a } ++ // i64.load offset=0xFFFFFFFF (i32.const -1), drop
            [_]u8{ 0x00, 0x0b }; // unreachable (never reached), end
    }

    /// `op` (a load or store opcode, with its prefix) with alignment hint 1 and `offset`.
    fn access(comptime op: []const u8, comptime offset: u8) [op.len + 2]u8 {
        assert(offset < 128);
        return op[0..op.len].* ++ [_]u8{ 0x00, offset };
    }
    const v128_load = [_]u8{ 0xfd, 0x00 };
    const v128_store = [_]u8{ 0xfd, 0x0b };
    const i64_load = [_]u8{0x29};
    const i64_store = [_]u8{0x37};
    const byte_load = [_]u8{0x2d};
    const byte_store = [_]u8{0x3a};

    /// Moves `count` chunks of `width` bytes, from `[s + offset]` to `[d + offset]`, ascending or
    /// descending offsets. Each chunk is loaded then stored before the next is loaded.
    fn moves(comptime d: u8, comptime s: u8, comptime load: []const u8, comptime store: []const u8, comptime width: u8, comptime count: u8, comptime descending: bool) []const u8 {
        var out: []const u8 = &.{};
        for (0..count) |i| {
            const offset: u8 = width * @as(u8, @intCast(if (descending) count - 1 - i else i));
            out = out ++ get(d) ++ get(s) ++ access(load, offset) ++ access(store, offset);
        }
        return out;
    }

    /// Stores `count` chunks of `width` bytes of local `v` at `[dst + offset]`.
    fn stores(comptime v: u8, comptime store: []const u8, comptime width: u8, comptime count: u8) []const u8 {
        var out: []const u8 = &.{};
        for (0..count) |i| out = out ++ get(dst) ++ get(v) ++ access(store, width * @as(u8, @intCast(i)));
        return out;
    }

    /// while (len >= step) { work; dst += step; src += step (copy); len -= step }
    fn forward(comptime step: u8, comptime work: []const u8, comptime with_src: bool) []const u8 {
        const advance_src = if (with_src) get(src) ++ constant(step) ++ i32_add ++ set(src) else [_]u8{};
        return block ++ get(len) ++ constant(step) ++ i32_lt_u ++ br_if(0) ++
            loop ++ work ++
            get(dst) ++ constant(step) ++ i32_add ++ set(dst) ++ advance_src ++
            get(len) ++ constant(step) ++ i32_sub ++ tee(len) ++ constant(step) ++ i32_ge_u ++ br_if(0) ++
            end ++ end;
    }

    /// while (index >= step) { index -= step; at = base + index; work (highest chunk first) }
    fn backward(comptime step: u8, comptime work: []const u8) []const u8 {
        return block ++ get(index) ++ constant(step) ++ i32_lt_u ++ br_if(0) ++
            loop ++ get(index) ++ constant(step) ++ i32_sub ++ set(index) ++
            get(dst) ++ get(index) ++ i32_add ++ set(at_dst) ++ get(src) ++ get(index) ++ i32_add ++ set(at_src) ++
            work ++ get(index) ++ constant(step) ++ i32_ge_u ++ br_if(0) ++
            end ++ end;
    }

    fn fill_body(comptime simd: bool) []const u8 {
        const locals = [_]u8{ 1, 1, if (simd) 0x7b else 0x7e };
        const splat = if (simd)
            get(value) ++ [_]u8{ 0xfd, 0x0f } // i8x16.splat
        else
            get(value) ++ [_]u8{ 0xad, 0x42, 0xff, 0x01, 0x83 } ++ // i64.extend_i32_u, i64.const 255, i64.and
                i64_const(0x0101010101010101) ++ [_]u8{0x7e}; // i64.mul
        const wide = if (simd) v128_store else i64_store;
        const width: u8 = if (simd) 16 else 8;
        return locals ++ bounds_check(dst) ++ splat ++ set(pattern) ++
            forward(4 * width, stores(pattern, &wide, width, 4), false) ++
            forward(width, stores(pattern, &wide, width, 1), false) ++
            forward(1, &(get(dst) ++ get(value) ++ access(&byte_store, 0)), false) ++ end;
    }

    fn copy_body(comptime simd: bool) []const u8 {
        const locals = [_]u8{ 1, 3, 0x7f };
        const load = if (simd) v128_load else i64_load;
        const store = if (simd) v128_store else i64_store;
        const width: u8 = if (simd) 16 else 8;
        // Backward when dst is inside (src, src + len): (dst - src) mod 2^32 < len, given both
        // ranges are inside the memory.
        const overlap_test = get(dst) ++ get(src) ++ i32_sub ++ get(len) ++ i32_lt_u ++ [_]u8{ 0x04, 0x40 };
        const backwards = get(len) ++ set(index) ++
            backward(4 * width, moves(at_dst, at_src, &load, &store, width, 4, true)) ++
            backward(width, moves(at_dst, at_src, &load, &store, width, 1, true)) ++
            backward(1, moves(at_dst, at_src, &byte_load, &byte_store, 1, 1, true)) ++
            [_]u8{0x0f} ++ end; // return
        return locals ++ bounds_check(dst) ++ bounds_check(src) ++ overlap_test ++ backwards ++
            forward(4 * width, moves(dst, src, &load, &store, width, 4, false), true) ++
            forward(width, moves(dst, src, &load, &store, width, 1, false), true) ++
            forward(1, moves(dst, src, &byte_load, &byte_store, 1, 1, false), true) ++ end;
    }

    const fill_v128: []const u8 = fill_body(true);
    const fill_i64: []const u8 = fill_body(false);
    const copy_v128: []const u8 = copy_body(true);
    const copy_i64: []const u8 = copy_body(false);
};

// ---------------------------------------------------------------------------------------------
// Tests. Modules are hand-assembled here (exact bytes) or written in WAT and assembled by
// Wasmtime's wat2wasm; the execution tests check every result against Zig's own memmove / memset
// over a copy of the guest area.

const testing = std.testing;

const test_header = [_]u8{ 0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00 };

fn test_section(comptime id: u8, comptime payload: []const u8) []const u8 {
    comptime assert(payload.len < 128);
    return &([_]u8{ id, payload.len } ++ payload[0..payload.len].*);
}

/// Imports env.memory and env.f (type 0), defines one function of type 0 with `body` (no locals).
fn test_module(comptime body: []const u8, comptime extra: []const u8) []const u8 {
    const imports = [_]u8{ 2, 3, 'e', 'n', 'v', 6, 'm', 'e', 'm', 'o', 'r', 'y', 2, 0, 1, 3, 'e', 'n', 'v', 1, 'f', 0, 0 };
    const code_body = [_]u8{0} ++ body[0..body.len].* ++ [_]u8{0x0b};
    return &(test_header ++ test_section(1, &.{ 1, 0x60, 0, 0 })[0..6].* ++ test_section(2, &imports)[0 .. imports.len + 2].* ++
        test_section(3, &.{ 1, 0 })[0..4].* ++ extra[0..extra.len].* ++
        test_section(10, &([_]u8{ 1, code_body.len } ++ code_body))[0 .. code_body.len + 4].*);
}

const zero3 = [_]u8{ 0x41, 0, 0x41, 0, 0x41, 0 };

test "memory.fill and memory.copy become calls of two functions appended after all others" {
    const fill = zero3 ++ [_]u8{ 0xfc, 0x0b, 0x00 };
    const copy = zero3 ++ [_]u8{ 0xfc, 0x0a, 0x00, 0x00 };
    const wasm = comptime test_module(&(fill ++ copy), test_section(12, &.{0}));
    const out = (try rewrite(testing.allocator, wasm)).?;
    defer testing.allocator.free(out.bytes);
    try testing.expectEqual(@as(u32, 1), out.copies);
    try testing.expectEqual(@as(u32, 1), out.fills);
    try testing.expect(!out.simd);
    // Function 0 is the import, 1 the body, 2 fill, 3 copy; type 1 is (i32 i32 i32) -> ().
    const body = [_]u8{0} ++ zero3 ++ [_]u8{ 0x10, 2 } ++ zero3 ++ [_]u8{ 0x10, 3, 0x0b };
    const expected_head = test_header ++ test_section(1, &.{ 2, 0x60, 0, 0, 0x60, 3, 0x7f, 0x7f, 0x7f, 0 })[0..12].* ++
        wasm[14..][0..25].* ++ // the import section, unchanged
        test_section(3, &.{ 3, 0, 1, 1 })[0..6].* ++ [_]u8{ 10, 0 } ++ [_]u8{ 3, body.len } ++ body;
    try testing.expectEqualSlices(u8, expected_head[0 .. expected_head.len - body.len - 4], out.bytes[0 .. expected_head.len - body.len - 4]);
    // The data-count section is gone; the code section holds the body, then fill, then copy.
    const sections = find_sections(out.bytes).?;
    try testing.expectEqual(@as(?Span, null), sections.data_count);
    const code = out.bytes[sections.code.?.start..sections.code.?.end];
    try testing.expectEqual(@as(u8, 10), out.bytes[expected_head.len - body.len - 4]); // right after the function section
    var reader = Reader{ .bytes = code };
    try testing.expectEqual(@as(u32, 3), try reader.uleb(u32));
    try testing.expectEqual(@as(u32, body.len), try reader.uleb(u32));
    try testing.expectEqualSlices(u8, &body, code[reader.position..][0..body.len]);
    reader.position += body.len;
    try testing.expectEqual(@as(u32, @intCast(injected.fill_i64.len)), try reader.uleb(u32));
    try testing.expectEqualSlices(u8, injected.fill_i64, code[reader.position..][0..injected.fill_i64.len]);
    reader.position += injected.fill_i64.len;
    try testing.expectEqual(@as(u32, @intCast(injected.copy_i64.len)), try reader.uleb(u32));
    try testing.expectEqualSlices(u8, injected.copy_i64, code[reader.position..]);
    // A name section (the module had none) names them, for backtraces.
    const names = [_]u8{ 0, 5 + 2 + 1 + 2 * (2 + fill_name.len), 4, 'n', 'a', 'm', 'e', 1, 1 + 2 * (2 + fill_name.len), 2, 2, fill_name.len } ++ fill_name.* ++ [_]u8{ 3, copy_name.len } ++ copy_name.*;
    try testing.expectEqualSlices(u8, &names, out.bytes[sections.code.?.end..]);
}

test "an existing name section gets the injected functions' names in its function-names subsection" {
    const fill = zero3 ++ [_]u8{ 0xfc, 0x0b, 0x00 };
    // module name "m" (subsection 0), function 1 named "f" (subsection 1), no locals subsection.
    const name_payload = [_]u8{ 4, 'n', 'a', 'm', 'e', 0, 2, 1, 'm', 1, 4, 1, 1, 1, 'f' };
    const wasm = comptime test_module(&fill, "") ++ test_section(0, &name_payload)[0 .. name_payload.len + 2].*;
    const out = (try rewrite(testing.allocator, wasm)).?;
    defer testing.allocator.free(out.bytes);
    const sections = find_sections(out.bytes).?;
    const tail = out.bytes[sections.code.?.end..];
    const functions = [_]u8{ 3, 1, 1, 'f', 2, fill_name.len } ++ fill_name.* ++ [_]u8{ 3, copy_name.len } ++ copy_name.*;
    const expected = [_]u8{ 4, 'n', 'a', 'm', 'e', 0, 2, 1, 'm', 1, functions.len } ++ functions;
    try testing.expectEqualSlices(u8, &([_]u8{ 0, expected.len } ++ expected), tail);
}

test "immediates that look like bulk-memory opcodes are left alone; modules without them are not copied" {
    // i32.const 1404 is 41 FC 0A; v128.const with FC 0B 00 in its bytes; a memarg offset of 0x57C.
    const look_alikes = [_]u8{ 0x41, 0xfc, 0x0a, 0x1a } ++
        [_]u8{ 0xfd, 0x0c, 0xfc, 0x0b, 0x00, 0xfc, 0x0a, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x1a } ++
        [_]u8{ 0x41, 0, 0x28, 2, 0xfc, 0x0a, 0x1a };
    try testing.expectEqual(@as(?Rewritten, null), try rewrite(testing.allocator, comptime test_module(&look_alikes, "")));
    // A real fill after them is found, and SIMD elsewhere in the module selects the v128 functions.
    const out = (try rewrite(testing.allocator, comptime test_module(&(look_alikes ++ zero3 ++ [_]u8{ 0xfc, 0x0b, 0x00 }), ""))).?;
    defer testing.allocator.free(out.bytes);
    try testing.expectEqual(@as(u32, 0), out.copies);
    try testing.expectEqual(@as(u32, 1), out.fills);
    try testing.expect(out.simd);
    const code = find_sections(out.bytes).?.code.?;
    try testing.expect(std.mem.endsWith(u8, out.bytes[code.start..code.end], injected.copy_v128));
    // Not a module, or sections that do not parse: left to Wasmtime's validator.
    try testing.expectEqual(@as(?Rewritten, null), try rewrite(testing.allocator, "not wasm"));
    try testing.expectEqual(@as(?Rewritten, null), try rewrite(testing.allocator, &(test_header ++ [_]u8{ 10, 50, 1 })));
}

test "memory.init, data.drop, passive segments, other memories and unknown opcodes are refused with a message" {
    const cases = comptime [_]struct { body: []const u8, extra: []const u8, message: []const u8 }{
        .{ .body = &(zero3 ++ [_]u8{ 0xfc, 0x08, 0x00, 0x00 }), .extra = "", .message = "uses memory.init" },
        .{ .body = &[_]u8{ 0xfc, 0x09, 0x00 }, .extra = "", .message = "uses data.drop" },
        .{ .body = &(zero3 ++ [_]u8{ 0xfc, 0x0a, 0x01, 0x00 }), .extra = "", .message = "memory other than 0" },
        .{ .body = &(zero3 ++ [_]u8{ 0x06, 0x40, 0xfc, 0x0b, 0x00 }), .extra = "", .message = "opcode 0x06" },
        .{ .body = &(zero3 ++ [_]u8{ 0xfc, 0x0b, 0x00 }), .extra = test_section(11, &.{ 1, 1, 2, 'h', 'i' }), .message = "data segment 0 is passive" },
    };
    inline for (cases) |case| {
        // The data section goes after the code section.
        const wasm = try std.mem.concat(testing.allocator, u8, &.{ comptime test_module(case.body, ""), case.extra });
        defer testing.allocator.free(wasm);
        try testing.expectError(error.BadModule, rewrite(testing.allocator, wasm));
        if (std.mem.indexOf(u8, errors.last_message_slice(), case.message) == null) {
            std.debug.print("message: {s}\n", .{errors.last_message_slice()});
            return error.TestUnexpectedResult;
        }
    }
}

test "the injected functions fit their declared limits" {
    inline for (.{ injected.fill_i64, injected.fill_v128, injected.copy_i64, injected.copy_v128 }) |body| {
        try testing.expect(body.len < 512);
        try testing.expectEqual(@as(u8, 0x0b), body[body.len - 1]);
    }
}

test "mutated and truncated modules never crash the rewrite: refused, passed on, or rewritten into walkable sections" {
    const fill = zero3 ++ [_]u8{ 0xfc, 0x0b, 0x00 };
    const copy = zero3 ++ [_]u8{ 0xfc, 0x0a, 0x00, 0x00 };
    const simd = [_]u8{ 0xfd, 0x0c } ++ [_]u8{0} ** 16 ++ [_]u8{ 0xfd, 0x15, 3, 0x1a };
    const name_payload = [_]u8{ 4, 'n', 'a', 'm', 'e', 1, 4, 1, 1, 1, 'f' };
    const seeds = [_][]const u8{
        comptime test_module(&(fill ++ copy), test_section(12, &.{0})),
        comptime test_module(&(simd ++ copy ++ [_]u8{ 0x02, 0x40, 0x0e, 1, 0, 0, 0x0b }), "") ++ test_section(0, &name_payload)[0 .. name_payload.len + 2].*,
        comptime test_module(&(fill ++ [_]u8{ 0x41, 0xfc, 0x0a, 0x1a, 0x28, 2, 0x80, 0x80, 0x80, 0x80, 0x00, 0x1a }), test_section(11, &.{ 1, 0, 0x41, 0x80, 0x80, 0x04, 0x0b, 1, 'x' })),
    };
    var prng = std.Random.DefaultPrng.init(0x5eed_b01c);
    const random = prng.random();
    var buffer: [256]u8 = undefined;
    var rewritten: u32 = 0;
    for (0..30_000) |_| {
        const seed = seeds[random.uintLessThan(usize, seeds.len)];
        var len = seed.len;
        @memcpy(buffer[0..len], seed);
        for (0..random.uintAtMost(u32, 3)) |_| {
            if (len == 0) break;
            switch (random.uintLessThan(u32, 3)) {
                0 => buffer[random.uintLessThan(usize, len)] = random.int(u8),
                1 => buffer[random.uintLessThan(usize, len)] ^= @as(u8, 1) << random.int(u3),
                else => len = random.uintAtMost(usize, len),
            }
        }
        const out = rewrite(testing.allocator, buffer[0..len]) catch continue;
        const result = out orelse continue;
        defer testing.allocator.free(result.bytes);
        try testing.expect(find_sections(result.bytes) != null);
        rewritten += 1;
    }
    try testing.expect(rewritten > 1000);
}
