// The thin bun:ffi layer: libvmwindow's C ABI (native/include/vmwindow.h) as JS functions, plus
// helpers for its out-parameters and errors. No policy lives here; see window.ts, guest.ts, callables.ts, host-imports.ts.
import { CString, dlopen, FFIType, type Pointer } from "bun:ffi";
import { ABI_VERSION, RESULT } from "./abi.ts";
import { findLibrary, preloadLibrary } from "./library.ts";

const { i32, u32, u64, ptr } = FFIType;
/** C `size_t`: 64 bits on every platform vmwindow supports (bun:ffi's runtime `usize` is the same
 * code as `u64` but is missing from its type definitions). */
const usize = u64;

const symbols = {
  vmw_abi_version: { args: [], returns: u32 },
  vmw_last_error_message: { args: [], returns: ptr },
  vmw_window_create: { args: [u64, u64, u32, ptr], returns: i32 },
  vmw_window_destroy: { args: [ptr], returns: FFIType.i32 },
  vmw_window_base: { args: [ptr], returns: ptr },
  vmw_window_layout: { args: [ptr, ptr], returns: i32 },
  vmw_window_map_file: { args: [ptr, ptr, usize, u64, u64, u32, ptr, usize, u64, ptr], returns: i32 },
  vmw_window_map_anonymous: { args: [ptr, u64, ptr, usize, u64, ptr], returns: i32 },
  vmw_window_map_shareable: { args: [ptr, u64, ptr, usize, u64, ptr], returns: i32 },
  vmw_window_map_shared: { args: [ptr, ptr, u32, u32, ptr, usize, u64, ptr], returns: i32 },
  vmw_window_remap_file: { args: [ptr, u32, u32, ptr, usize, u64, u64, u32, ptr], returns: i32 },
  vmw_window_resize: { args: [ptr, u32, u32, u64, ptr], returns: i32 },
  vmw_window_flush: { args: [ptr, u32, u32], returns: i32 },
  vmw_window_unmap: { args: [ptr, u32, u32], returns: i32 },
  vmw_window_release_pages: { args: [ptr, u32, u32, u64, u64], returns: i32 },
  vmw_window_region: { args: [ptr, u32, ptr], returns: i32 },
  vmw_guest_create: { args: [ptr, ptr, usize, ptr], returns: i32 },
  vmw_guest_destroy: { args: [ptr], returns: FFIType.i32 },
  vmw_guest_export: { args: [ptr, ptr, usize, ptr], returns: i32 },
  vmw_guest_values: { args: [ptr], returns: ptr },
  vmw_guest_call: { args: [ptr, u32], returns: i32 },
  vmw_guest_compile: { args: [ptr, ptr, usize, u32, ptr], returns: i32 },
  vmw_guest_define_import: { args: [ptr, ptr, usize, ptr, usize, ptr, u32, ptr, u32, ptr], returns: i32 },
  vmw_guest_set_host_callback: { args: [ptr, ptr, ptr], returns: FFIType.void },
  vmw_guest_host_values: { args: [ptr], returns: ptr },
  vmw_guest_instantiate: { args: [ptr], returns: i32 },
  vmw_guest_set_fuel: { args: [ptr, u64], returns: i32 },
  vmw_guest_set_timeout: { args: [ptr, u32], returns: i32 },
  vmw_guest_interrupt_token: { args: [ptr, ptr], returns: i32 },
  vmw_interrupt: { args: [u64], returns: i32 },
  vmw_last_fault: { args: [ptr], returns: i32 },
  vmw_guest_set_policy: { args: [ptr, u32], returns: i32 },
  vmw_guest_export_nth: { args: [ptr, u32, ptr, usize, ptr, ptr], returns: i32 },
  vmw_module_compile_cached: { args: [ptr, usize, u32, ptr, usize, ptr, ptr], returns: i32 },
  vmw_module_destroy: { args: [ptr], returns: FFIType.void },
  vmw_module_info: { args: [ptr, ptr, ptr], returns: FFIType.void },
  vmw_module_cache_clear: { args: [], returns: u32 },
  vmw_guest_prepare_module: { args: [ptr, ptr, ptr], returns: i32 },
  vmw_guest_resolve_all: { args: [ptr, ptr], returns: i32 },
} as const;

const library = findLibrary();
for (const path of library.preload) preloadLibrary(path);
export const libraryPath = library.path;
export const native = dlopen(libraryPath, symbols).symbols;

export { ABI_VERSION };
if (native.vmw_abi_version() !== ABI_VERSION) {
  throw new Error(`vmwindow: ${libraryPath} implements ABI v${native.vmw_abi_version()}, this package needs v${ABI_VERSION}`);
}

/** `vmw_result_t` values (generated from abi/vmwindow-abi.json into abi.ts). */
export const Result = RESULT;

export type ResultName = keyof typeof Result;
const resultNames = Object.fromEntries(Object.entries(Result).map(([name, value]) => [value, name])) as Record<number, ResultName>;

export function resultName(result: number): ResultName {
  return resultNames[result] ?? "WASMTIME";
}

export function lastErrorMessage(): string {
  const message = native.vmw_last_error_message();
  return message ? new CString(message).toString() : "";
}

/** One reusable 8-byte out-parameter for handle-returning calls (single JS thread). */
const handleOut = new BigUint64Array(1);

export function takeHandle(call: (out: BigUint64Array) => number): { result: number; handle: Pointer | null } {
  handleOut[0] = 0n;
  const result = call(handleOut);
  const handle = handleOut[0] === 0n ? null : (Number(handleOut[0]) as Pointer);
  return { result, handle };
}

const encoder = new TextEncoder();
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}
