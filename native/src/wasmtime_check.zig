//! Checks every hand declaration in wasmtime.zig against Wasmtime's own C headers (fetched by
//! tools/bootstrap.sh from the `wasmtime-c-api-impl` crate of the pinned version, with
//! `wasmtime/conf.h` filled in for the wheel's library), at compile time, in test builds:
//!   - every `extern fn` exists in the headers, with as many parameters, each of the same shape
//!     (pointer, integer of the same size and signedness, float, bool) and the same return shape;
//!   - every struct the library reads or writes has the C struct's size, alignment and offsets;
//!   - the numeric constants (value kinds, extern kinds, trap codes) equal the headers' macros.
//! A drift in any declaration fails `zig build test`. The library itself is built without the
//! headers (so any target compiles without them), from the declarations checked here.

const std = @import("std");
const wt = @import("wasmtime.zig");

const c = @cImport({
    @cInclude("wasmtime.h");
});

/// How a parameter or return type is passed, which is what must agree across the two
/// declarations (opaque handle types differ by name only).
const Shape = union(enum) {
    void,
    bool,
    int: struct { bits: u16, signed: bool },
    float: u16,
    pointer,
    aggregate: struct { bytes: usize, alignment: usize },
};

fn shape_of(comptime T: type) Shape {
    return switch (@typeInfo(T)) {
        .void => .void,
        .bool => .bool,
        .int => |int| .{ .int = .{ .bits = int.bits, .signed = int.signedness == .signed } },
        .float => |float| .{ .float = float.bits },
        .pointer => .pointer,
        .optional => |optional| switch (@typeInfo(optional.child)) {
            .pointer, .@"fn" => .pointer,
            else => @compileError("optional non-pointer in a C signature: " ++ @typeName(T)),
        },
        .@"struct", .@"union", .array => .{ .aggregate = .{ .bytes = @sizeOf(T), .alignment = @alignOf(T) } },
        .@"enum" => |e| shape_of(e.tag_type),
        else => @compileError("unexpected type in a C signature: " ++ @typeName(T)),
    };
}

fn same_shape(comptime a: Shape, comptime b: Shape) bool {
    return std.meta.eql(a, b);
}

fn check_function(comptime name: []const u8) void {
    if (!@hasDecl(c, name)) @compileError("wasmtime.zig declares " ++ name ++ ", which Wasmtime's headers do not have");
    const ours = @typeInfo(@TypeOf(@field(wt, name))).@"fn";
    const theirs = @typeInfo(@TypeOf(@field(c, name))).@"fn";
    if (ours.params.len != theirs.params.len) @compileError(name ++ ": the headers have another parameter count");
    for (ours.params, theirs.params, 0..) |mine, header, index| {
        if (!same_shape(shape_of(mine.type.?), shape_of(header.type.?))) {
            @compileError(std.fmt.comptimePrint("{s}: parameter {d} is {s} here, {s} in the headers", .{ name, index, @typeName(mine.type.?), @typeName(header.type.?) }));
        }
    }
    if (!same_shape(shape_of(ours.return_type.?), shape_of(theirs.return_type.?))) {
        @compileError(name ++ ": the return type differs from the headers' " ++ @typeName(theirs.return_type.?));
    }
}

/// Our struct, its C counterpart, and the fields whose offsets must agree (ours, theirs).
fn check_struct(comptime Ours: type, comptime Theirs: type, comptime fields: []const [2][]const u8) void {
    if (@sizeOf(Ours) != @sizeOf(Theirs)) @compileError(@typeName(Ours) ++ " has another size than " ++ @typeName(Theirs));
    if (@alignOf(Ours) != @alignOf(Theirs)) @compileError(@typeName(Ours) ++ " has another alignment than " ++ @typeName(Theirs));
    for (fields) |pair| {
        if (@offsetOf(Ours, pair[0]) != @offsetOf(Theirs, pair[1])) {
            @compileError(@typeName(Ours) ++ "." ++ pair[0] ++ " is not at " ++ @typeName(Theirs) ++ "." ++ pair[1] ++ "'s offset");
        }
    }
}

fn check_constant(comptime name: []const u8, comptime ours: anytype, comptime theirs: anytype) void {
    if (ours != theirs) @compileError(std.fmt.comptimePrint("{s} is {d} here, {d} in the headers", .{ name, ours, theirs }));
}

comptime {
    @setEvalBranchQuota(1_000_000);
    var functions: usize = 0;
    for (@typeInfo(wt).@"struct".decls) |decl| {
        const value = @field(wt, decl.name);
        if (@typeInfo(@TypeOf(value)) != .@"fn") continue;
        check_function(decl.name);
        functions += 1;
    }
    if (functions < 60) @compileError("fewer extern functions than expected: is wasmtime.zig still the declarations file?");

    check_struct(wt.ByteVec, c.wasm_byte_vec_t, &.{ .{ "size", "size" }, .{ "data", "data" } });
    check_struct(wt.ValTypeVec, c.wasm_valtype_vec_t, &.{ .{ "size", "size" }, .{ "data", "data" } });
    check_struct(wt.ImportTypeVec, c.wasm_importtype_vec_t, &.{ .{ "size", "size" }, .{ "data", "data" } });
    check_struct(wt.ExportTypeVec, c.wasm_exporttype_vec_t, &.{ .{ "size", "size" }, .{ "data", "data" } });
    check_struct(wt.Limits, c.wasm_limits_t, &.{ .{ "min", "min" }, .{ "max", "max" } });
    check_struct(wt.Func, c.wasmtime_func_t, &.{.{ "store_id", "store_id" }});
    check_struct(wt.Memory, c.wasmtime_memory_t, &.{});
    check_struct(wt.Instance, c.wasmtime_instance_t, &.{.{ "store_id", "store_id" }});
    check_struct(wt.Extern, c.wasmtime_extern_t, &.{ .{ "kind", "kind" }, .{ "of", "of" } });
    check_struct(wt.ValRaw, c.wasmtime_val_raw_t, &.{});
    check_struct(wt.LinearMemory, c.wasmtime_linear_memory_t, &.{ .{ "env", "env" }, .{ "get_memory", "get_memory" }, .{ "grow_memory", "grow_memory" }, .{ "finalizer", "finalizer" } });
    check_struct(wt.MemoryCreator, c.wasmtime_memory_creator_t, &.{ .{ "env", "env" }, .{ "new_memory", "new_memory" }, .{ "finalizer", "finalizer" } });

    check_constant("extern_kind_func", wt.extern_kind_func, c.WASMTIME_EXTERN_FUNC);
    check_constant("extern_kind_global", wt.extern_kind_global, c.WASMTIME_EXTERN_GLOBAL);
    check_constant("extern_kind_table", wt.extern_kind_table, c.WASMTIME_EXTERN_TABLE);
    check_constant("extern_kind_memory", wt.extern_kind_memory, c.WASMTIME_EXTERN_MEMORY);
    check_constant("externkind_func", wt.externkind_func, c.WASM_EXTERN_FUNC);
    check_constant("externkind_memory", wt.externkind_memory, c.WASM_EXTERN_MEMORY);
    check_constant("valkind_i32", wt.valkind_i32, c.WASM_I32);
    check_constant("valkind_i64", wt.valkind_i64, c.WASM_I64);
    check_constant("valkind_f32", wt.valkind_f32, c.WASM_F32);
    check_constant("valkind_f64", wt.valkind_f64, c.WASM_F64);
    check_constant("valkind_v128", wt.valkind_v128, c.WASMTIME_V128);
    check_constant("trap_code_interrupt", wt.trap_code_interrupt, c.WASMTIME_TRAP_CODE_INTERRUPT);
    check_constant("trap_code_out_of_fuel", wt.trap_code_out_of_fuel, c.WASMTIME_TRAP_CODE_OUT_OF_FUEL);
    check_constant("update_deadline_continue", wt.update_deadline_continue, c.WASMTIME_UPDATE_DEADLINE_CONTINUE);
}

test "wasmtime.zig agrees with Wasmtime's C headers (checked at compile time)" {
    try std.testing.expect(@hasDecl(c, "wasmtime_func_call_unchecked"));
}
