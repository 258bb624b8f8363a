// @vmwindow/bun: zero-copy host files for WebAssembly guests, in Bun.
export { Window, PAGE_BYTES, DEFAULT_WINDOW_BYTES, DEFAULT_GUEST_BYTES, DEFAULT_CAPACITY, NAME_MAX_BYTES } from "./window.ts";
export type { WindowOptions, MapOptions, PlaceOptions, AnonymousOptions, WindowLayout } from "./window.ts";
export { Region } from "./region.ts";
export type { Access, RegionKind, RegionState, RemapOptions } from "./region.ts";
export { Guest, interruptGuest } from "./guest.ts";
export { GuestModule } from "./module.ts";
export type { CompileOptions, ModuleSource } from "./module.ts";
export type { WasmValue, ValueKind } from "./values.ts";
export type { ExportSignature, GuestFunction } from "./callables.ts";
export type { HostFunction, HostImports, InstantiateOptions, MapRequestHandler } from "./guest-options.ts";
export { VmwindowError, GuestTrap, GuestTimeout, GuestInterrupted } from "./errors.ts";
export type { ErrorCode, GuestFault, GuestFaultKind } from "./errors.ts";
export { libraryPath } from "./ffi.ts";
export { allowDirectory } from "./allow.ts";
export type { AllowDirectoryOptions } from "./allow.ts";
