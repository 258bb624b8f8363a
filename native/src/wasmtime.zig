//! Hand-written declarations of the part of Wasmtime's C API (v49) that vmwindow uses.
//!
//! The PyPI `wasmtime` wheel ships the library but no headers, so the functions and structs we use
//! are declared here, and the library builds for every target without headers. Test builds check
//! every declaration against Wasmtime's own headers of the pinned version (wasmtime_check.zig:
//! each function's parameters and return, each struct's size, alignment and offsets, each
//! constant), so a wrong declaration fails `zig build test`.

const std = @import("std");

// Opaque handles.
pub const Config = opaque {};
pub const Engine = opaque {};
pub const Store = opaque {};
pub const Context = opaque {};
pub const Module = opaque {};
pub const Linker = opaque {};
pub const Error = opaque {};
pub const Trap = opaque {};
pub const Caller = opaque {};
pub const FuncType = opaque {};
pub const ValType = opaque {};
pub const MemoryType = opaque {};
pub const ImportType = opaque {};
pub const ExportType = opaque {};
pub const ExternType = opaque {};

/// `wasm_byte_vec_t` (also `wasm_name_t`, `wasm_message_t`).
pub const ByteVec = extern struct {
    size: usize,
    data: ?[*]u8,
};

pub const ValTypeVec = extern struct {
    size: usize,
    data: ?[*]?*ValType,
};

pub const ImportTypeVec = extern struct {
    size: usize,
    data: ?[*]?*ImportType,
};
pub const ExportTypeVec = extern struct {
    size: usize,
    data: ?[*]?*ExportType,
};

pub const Limits = extern struct {
    min: u32,
    max: u32,
};

/// `wasmtime_func_t`
pub const Func = extern struct {
    store_id: u64,
    private: ?*anyopaque,
};

/// `wasmtime_memory_t`
pub const Memory = extern struct {
    head: extern struct { store_id: u64, private1: u32 },
    private2: u32,
};

/// `wasmtime_instance_t`
pub const Instance = extern struct {
    store_id: u64,
    private: usize,
};

/// `wasmtime_extern_t`: a kind tag and a 24-byte union (`func`, `global`, `table`, `memory`, ...).
pub const Extern = extern struct {
    kind: u8,
    of: extern union {
        func: Func,
        memory: Memory,
        bytes: [24]u8,
    },
};

pub const extern_kind_func: u8 = 0;
pub const extern_kind_global: u8 = 1;
pub const extern_kind_table: u8 = 2;
pub const extern_kind_memory: u8 = 3;

/// `wasm_externkind_t` values (as returned by `wasm_externtype_kind`).
pub const externkind_func: u8 = 0;
pub const externkind_memory: u8 = 3;

/// `wasmtime_val_raw_t`: 16 bytes, 8-aligned (its v128 member is a byte array).
pub const ValRaw = extern union {
    i32: i32,
    i64: i64,
    f32: u32, // bits: the raw representation stores floats by their bit pattern
    f64: u64,
    v128: [16]u8,
    funcref: ?*anyopaque,
};

/// `wasm_valkind_t` values.
pub const valkind_i32: u8 = 0;
pub const valkind_i64: u8 = 1;
pub const valkind_f32: u8 = 2;
pub const valkind_f64: u8 = 3;
pub const valkind_v128: u8 = 4;

/// `wasmtime_trap_code_t` values this library tells apart.
pub const trap_code_interrupt: u8 = 10; // epoch deadline reached
pub const trap_code_out_of_fuel: u8 = 11;

pub const GetMemoryCallback = *const fn (env: ?*anyopaque, byte_size: *usize, byte_capacity: *usize) callconv(.c) [*]u8;
pub const GrowMemoryCallback = *const fn (env: ?*anyopaque, new_size: usize) callconv(.c) ?*Error;
pub const FinalizerCallback = *const fn (env: ?*anyopaque) callconv(.c) void;

/// `wasmtime_linear_memory_t`
pub const LinearMemory = extern struct {
    env: ?*anyopaque,
    get_memory: GetMemoryCallback,
    grow_memory: GrowMemoryCallback,
    finalizer: ?FinalizerCallback,
};

pub const NewMemoryCallback = *const fn (
    env: ?*anyopaque,
    ty: *const MemoryType,
    minimum_bytes: usize,
    maximum_bytes: usize,
    reserved_size_bytes: usize,
    guard_size_bytes: usize,
    memory_ret: *LinearMemory,
) callconv(.c) ?*Error;

/// `wasmtime_memory_creator_t`
pub const MemoryCreator = extern struct {
    env: ?*anyopaque,
    new_memory: NewMemoryCallback,
    finalizer: ?FinalizerCallback,
};

pub const UncheckedCallback = *const fn (
    env: ?*anyopaque,
    caller: *Caller,
    args_and_results: [*]ValRaw,
    num_args_and_results: usize,
) callconv(.c) ?*Trap;

comptime {
    std.debug.assert(@sizeOf(ByteVec) == 16);
    std.debug.assert(@sizeOf(Limits) == 8);
    std.debug.assert(@sizeOf(Func) == 16);
    std.debug.assert(@sizeOf(Memory) == 16 + 8); // {u64, u32} padded to 16, then u32, padded to 24
    std.debug.assert(@sizeOf(Instance) == 16);
    std.debug.assert(@sizeOf(Extern) == 32);
    std.debug.assert(@offsetOf(Extern, "of") == 8);
    std.debug.assert(@sizeOf(ValRaw) == 16);
    std.debug.assert(@sizeOf(LinearMemory) == 32);
    std.debug.assert(@sizeOf(MemoryCreator) == 24);
}

// Config and engine.
pub extern fn wasm_config_new() ?*Config;
pub extern fn wasm_engine_new_with_config(config: *Config) ?*Engine;
pub extern fn wasm_engine_delete(engine: *Engine) void;
pub extern fn wasmtime_config_memory_reservation_set(config: *Config, bytes: u64) void;
pub extern fn wasmtime_config_memory_guard_size_set(config: *Config, bytes: u64) void;
pub extern fn wasmtime_config_memory_reservation_for_growth_set(config: *Config, bytes: u64) void;
pub extern fn wasmtime_config_memory_may_move_set(config: *Config, enable: bool) void;
pub extern fn wasmtime_config_memory_init_cow_set(config: *Config, enable: bool) void;
pub extern fn wasmtime_config_signals_based_traps_set(config: *Config, enable: bool) void;
pub extern fn wasmtime_config_wasm_multi_memory_set(config: *Config, enable: bool) void;
pub extern fn wasmtime_config_macos_use_mach_ports_set(config: *Config, enable: bool) void;
pub extern fn wasmtime_config_wasm_bulk_memory_set(config: *Config, enable: bool) void;
pub extern fn wasmtime_config_wasm_reference_types_set(config: *Config, enable: bool) void;
pub extern fn wasmtime_config_wasm_function_references_set(config: *Config, enable: bool) void;
pub extern fn wasmtime_config_wasm_gc_set(config: *Config, enable: bool) void;
pub extern fn wasmtime_config_wasm_exceptions_set(config: *Config, enable: bool) void;
pub extern fn wasmtime_config_wasm_stack_switching_set(config: *Config, enable: bool) void;
pub extern fn wasmtime_config_wasm_component_model_set(config: *Config, enable: bool) void;
pub extern fn wasmtime_config_wasm_component_model_async_set(config: *Config, enable: bool) void;
pub extern fn wasmtime_config_consume_fuel_set(config: *Config, enable: bool) void;
pub extern fn wasmtime_context_set_fuel(cx: *Context, fuel: u64) ?*Error;
pub extern fn wasmtime_config_host_memory_creator_set(config: *Config, creator: *const MemoryCreator) void;
pub extern fn wasmtime_config_epoch_interruption_set(config: *Config, enable: bool) void;
pub extern fn wasmtime_engine_increment_epoch(engine: *Engine) void;

// Stores.
pub extern fn wasmtime_store_new(engine: *Engine, data: ?*anyopaque, finalizer: ?FinalizerCallback) ?*Store;
pub extern fn wasmtime_store_delete(store: *Store) void;
pub extern fn wasmtime_store_context(store: *Store) *Context;
/// The next trap fires once the engine's epoch reaches `current + ticks_beyond_current`.
pub extern fn wasmtime_context_set_epoch_deadline(cx: *Context, ticks_beyond_current: u64) void;
/// `wasmtime_update_deadline_kind_t`: what the epoch-deadline callback asks for after returning.
pub const update_deadline_continue: u8 = 0;
/// Called instead of trapping when the epoch reaches the store's deadline: returns an error to
/// trap with it, or null after setting the next deadline (`delta` ticks) and `kind`.
pub const EpochDeadlineCallback = *const fn (cx: *Context, data: ?*anyopaque, delta: *u64, kind: *u8) callconv(.c) ?*Error;
pub extern fn wasmtime_store_epoch_deadline_callback(store: *Store, func: ?EpochDeadlineCallback, data: ?*anyopaque, finalizer: ?*const fn (?*anyopaque) callconv(.c) void) void;

// Modules.
pub extern fn wasmtime_module_new(engine: *Engine, wasm: [*]const u8, wasm_len: usize, ret: *?*Module) ?*Error;
pub extern fn wasmtime_module_delete(module: *Module) void;
/// Another reference to the same compiled module (Wasmtime counts them).
pub extern fn wasmtime_module_clone(module: *const Module) *Module;
/// The module's compiled code as bytes for `wasmtime_module_deserialize`; `ret` is the caller's.
pub extern fn wasmtime_module_serialize(module: *const Module, ret: *ByteVec) ?*Error;
/// Loads serialized code. Unsafe for untrusted bytes: it runs whatever code they hold.
pub extern fn wasmtime_module_deserialize(engine: *Engine, bytes: [*]const u8, bytes_len: usize, ret: *?*Module) ?*Error;
pub extern fn wasmtime_module_imports(module: *const Module, out: *ImportTypeVec) void;
pub extern fn wasm_importtype_vec_delete(vec: *ImportTypeVec) void;
pub extern fn wasm_importtype_module(ty: *const ImportType) *const ByteVec;
pub extern fn wasm_importtype_name(ty: *const ImportType) *const ByteVec;
pub extern fn wasm_importtype_type(ty: *const ImportType) *const ExternType;
pub extern fn wasmtime_module_exports(module: *const Module, out: *ExportTypeVec) void;
pub extern fn wasm_exporttype_vec_delete(vec: *ExportTypeVec) void;
pub extern fn wasm_exporttype_name(ty: *const ExportType) *const ByteVec;
pub extern fn wasm_exporttype_type(ty: *const ExportType) *const ExternType;
pub extern fn wasm_externtype_kind(ty: *const ExternType) u8;
pub extern fn wasm_externtype_as_memorytype_const(ty: *const ExternType) ?*const MemoryType;
pub extern fn wasm_externtype_as_functype_const(ty: *const ExternType) ?*const FuncType;
pub extern fn wasmtime_memorytype_is64(ty: *const MemoryType) bool;
pub extern fn wasmtime_memorytype_isshared(ty: *const MemoryType) bool;

// Instances and linking.
pub extern fn wasmtime_instance_new(cx: *Context, module: *const Module, imports: ?[*]const Extern, imports_len: usize, instance: *Instance, trap: *?*Trap) ?*Error;
pub extern fn wasmtime_instance_export_get(cx: *Context, instance: *const Instance, name: [*]const u8, name_len: usize, item: *Extern) bool;
pub extern fn wasmtime_linker_new(engine: *Engine) ?*Linker;
pub extern fn wasmtime_linker_delete(linker: *Linker) void;
pub extern fn wasmtime_linker_define(linker: *Linker, cx: *Context, module: [*]const u8, module_len: usize, name: [*]const u8, name_len: usize, item: *const Extern) ?*Error;
pub extern fn wasmtime_linker_define_func_unchecked(linker: *Linker, module: [*]const u8, module_len: usize, name: [*]const u8, name_len: usize, ty: *const FuncType, cb: UncheckedCallback, data: ?*anyopaque, finalizer: ?FinalizerCallback) ?*Error;
pub extern fn wasmtime_linker_allow_shadowing(linker: *Linker, allow: bool) void;
pub extern fn wasmtime_instance_export_nth(cx: *Context, instance: *const Instance, index: usize, name: *[*]const u8, name_len: *usize, item: *Extern) bool;
pub extern fn wasmtime_linker_instantiate(linker: *const Linker, cx: *Context, module: *const Module, instance: *Instance, trap: *?*Trap) ?*Error;

// Functions and types.
pub extern fn wasmtime_func_type(cx: *const Context, func: *const Func) *FuncType;
pub extern fn wasmtime_func_call_unchecked(cx: *Context, func: *const Func, args_and_results: [*]ValRaw, args_and_results_len: usize, trap: *?*Trap) ?*Error;
pub extern fn wasm_functype_new(params: *ValTypeVec, results: *ValTypeVec) ?*FuncType;
pub extern fn wasm_functype_delete(ty: *FuncType) void;
pub extern fn wasm_functype_params(ty: *const FuncType) *const ValTypeVec;
pub extern fn wasm_functype_results(ty: *const FuncType) *const ValTypeVec;
pub extern fn wasm_valtype_new(kind: u8) ?*ValType;
pub extern fn wasm_valtype_kind(ty: *const ValType) u8;
pub extern fn wasm_valtype_vec_new(out: *ValTypeVec, size: usize, data: [*]const ?*ValType) void;
pub extern fn wasm_valtype_vec_new_empty(out: *ValTypeVec) void;

// Errors and traps.
pub extern fn wasmtime_error_new(message: [*:0]const u8) ?*Error;
pub extern fn wasmtime_error_message(err: *const Error, message: *ByteVec) void;
pub extern fn wasmtime_error_delete(err: *Error) void;
pub extern fn wasmtime_trap_new(message: [*]const u8, message_len: usize) ?*Trap;
pub extern fn wasm_trap_message(trap: *const Trap, message: *ByteVec) void;
pub extern fn wasmtime_trap_code(trap: *const Trap, code: *u8) bool;
pub extern fn wasm_trap_delete(trap: *Trap) void;
pub extern fn wasm_byte_vec_delete(vec: *ByteVec) void;

// Host-function callers.
pub extern fn wasmtime_caller_context(caller: *Caller) *Context;
