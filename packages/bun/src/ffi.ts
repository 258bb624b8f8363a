// The FFI layer: libvmwindow's C ABI (native/include/vmwindow.h) behind one typed class. Only this
// file calls the library: it owns the out-parameter buffers, decodes the C structs with the offsets
// generated into abi.ts, and turns a failed result into the error it names (errors.ts). Its methods
// throw on failure unless they say they return a result. No policy lives here: window.ts, region.ts,
// guest.ts and module.ts decide what to call, and arguments.ts checks JS types before.
import { CString, dlopen, FFIType, toArrayBuffer, type JSCallback, type Pointer } from "bun:ffi";
import { ABI_VERSION, ACCESS, EXPORT, EXPORT_BYTES, FAULT, FAULT_BYTES, LAYOUT, LAYOUT_BYTES, REGION, REGION_ANONYMOUS, REGION_BYTES, RESULT } from "./abi.ts";
import { errorFor, FAULT_KINDS, type GuestFault } from "./errors.ts";
import { findLibrary, preloadLibrary } from "./library.ts";
import { kinds, VALUE_BYTES, VALUES_MAX, viewsOf, type ValueKind, type Views } from "./values.ts";

const { i32, u32, u64, ptr } = FFIType;
/** C `size_t`: 64 bits on every platform vmwindow supports (bun:ffi's runtime `usize` is the same
 * code as `u64` but is missing from its type definitions). */
const usize = u64;

const symbols = {
  vmw_abi_version: { args: [], returns: u32 },
  vmw_last_error_message: { args: [], returns: ptr },
  vmw_last_fault: { args: [ptr], returns: i32 },
  vmw_window_create: { args: [u64, u64, u32, ptr], returns: i32 },
  vmw_window_destroy: { args: [ptr], returns: i32 },
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
  vmw_guest_compile: { args: [ptr, ptr, usize, u32, ptr], returns: i32 },
  vmw_guest_prepare_module: { args: [ptr, ptr, ptr], returns: i32 },
  vmw_guest_destroy: { args: [ptr], returns: i32 },
  vmw_guest_define_import: { args: [ptr, ptr, usize, ptr, usize, ptr, u32, ptr, u32, ptr], returns: i32 },
  vmw_guest_set_host_callback: { args: [ptr, ptr, ptr], returns: FFIType.void },
  vmw_guest_host_values: { args: [ptr], returns: ptr },
  vmw_guest_set_timeout: { args: [ptr, u32], returns: i32 },
  vmw_guest_set_fuel: { args: [ptr, u64], returns: i32 },
  vmw_guest_set_policy: { args: [ptr, u32], returns: i32 },
  vmw_guest_instantiate: { args: [ptr], returns: i32 },
  vmw_guest_export: { args: [ptr, ptr, usize, ptr], returns: i32 },
  vmw_guest_export_nth: { args: [ptr, u32, ptr, usize, ptr, ptr], returns: i32 },
  vmw_guest_resolve_all: { args: [ptr, ptr], returns: i32 },
  vmw_guest_values: { args: [ptr], returns: ptr },
  vmw_guest_call: { args: [ptr, u32], returns: i32 },
  vmw_guest_interrupt_token: { args: [ptr, ptr], returns: i32 },
  vmw_interrupt: { args: [u64], returns: i32 },
  vmw_module_compile_cached: { args: [ptr, usize, u32, ptr, usize, ptr, ptr], returns: i32 },
  vmw_module_info: { args: [ptr, ptr, ptr], returns: FFIType.void },
  vmw_module_destroy: { args: [ptr], returns: FFIType.void },
  vmw_module_cache_clear: { args: [], returns: u32 },
} as const;

type Symbols = ReturnType<typeof dlopen<typeof symbols>>["symbols"];

export type Access = "read" | "readwrite";
export type RegionKind = "file" | "anonymous";

/** A region's state as the native library reports it (`vmw_region_t`). */
export interface RegionState {
  readonly id: number;
  readonly generation: number;
  readonly offset: number;
  readonly length: number;
  readonly fileOffset: number;
  readonly slotBytes: number;
  readonly access: Access;
  readonly kind: RegionKind;
  /** Part of the region faulted because its file shrank after it was mapped (see `Region.damaged`). */
  readonly damaged: boolean;
}

/** Where things are in a window (byte offsets, which are also guest addresses): `vmw_layout_t`. */
export interface WindowLayout {
  readonly sizeBytes: number;
  readonly tableOffset: number;
  readonly tableBytes: number;
  readonly guestBase: number;
  readonly guestBytes: number;
  readonly slotsBase: number;
  readonly capacity: number;
}

/** An exported function's signature and its index for `guestCall` (`vmw_export_t`). */
export interface ExportInfo {
  readonly name: string;
  readonly index: number;
  readonly params: readonly ValueKind[];
  readonly results: readonly ValueKind[];
}

/** Where a compiled module came from (`vmw_module_source_t`). */
export type ModuleSource = "compiled" | "process-cache" | "disk-cache";
const MODULE_SOURCES: readonly ModuleSource[] = ["compiled", "process-cache", "disk-cache"];

/** `vmw_result_t` success, for the results callers handle themselves (`guestCall`, `guestInstantiate`). */
export const RESULT_OK = RESULT.OK;

/** `vmw_guest_compile` / `vmw_module_compile` flags. */
export const GUEST_INTERRUPTIBLE = 1;
export const GUEST_METERED = 2;
const POLICY_FLUSH = 1;
const HASH_BYTES = 32;
const EXPORT_NAME_MAX_BYTES = 4096;
const EXTERN_FUNC = 0;
const ACCESS_CODES: Record<Access, number> = { read: ACCESS.READ, readwrite: ACCESS.READ | ACCESS.WRITE };
/** `length` for "to the end of the file". */
const LENGTH_TO_END = 0xffff_ffff_ffff_ffffn;

/** A region's placement in a map call: its name in the table (UTF-8) and where (0: first fit). */
export interface Placement {
  readonly name: Uint8Array | null;
  readonly at: number;
}

/** A file range to map: `length` undefined maps to the end of the file. */
export interface FileRange {
  readonly path: Uint8Array;
  readonly offset: number;
  readonly length: number | undefined;
  readonly access: Access;
}

/**
 * libvmwindow, typed. One instance per JS thread (`lib`); single-threaded, so its out-parameter
 * buffers are shared by every call.
 */
class NativeLibrary {
  readonly #native: Symbols;
  readonly #handleOut = new BigUint64Array(1);
  readonly #u32Out = new Uint32Array(1);
  readonly #regionOut = new Uint32Array(REGION_BYTES / 4);
  readonly #exportOut = new Uint8Array(EXPORT_BYTES);
  readonly #hashOut = new Uint8Array(HASH_BYTES);
  /**
   * The guest-call fast path, `(guest, exportIndex) => result`: the native function itself, for
   * the generated callables (callables.ts) to call with no wrapper between. Values pass through
   * `guestValues`; a result other than OK goes to `throwResult`.
   */
  readonly guestCall: (guest: Pointer, exportIndex: number) => number;

  constructor(native: Symbols) {
    this.#native = native;
    this.guestCall = native.vmw_guest_call;
  }

  /** Throws the error for `result` (not OK), with this thread's last native message and fault. */
  throwResult(result: number): never {
    throw errorFor(result, this.#lastErrorMessage(), result === RESULT.TRAP ? this.#lastFault() : undefined);
  }

  // Windows ----------------------------------------------------------------------------------

  /** A new window; `retryable`: null instead of OUT_OF_MEMORY (out of windows or address space). */
  windowCreate(sizeBytes: number, guestBytes: number, capacity: number, mode: { retryable: boolean }): Pointer | null {
    const result = this.#native.vmw_window_create(sizeBytes, guestBytes, capacity, this.#handleOut);
    if (result === RESULT.OUT_OF_MEMORY && mode.retryable) return null;
    return this.#takeHandle(result);
  }

  /** Destroys a window and its guests; BUSY while one of its guests runs (nothing destroyed). */
  windowDestroy(window: Pointer): void {
    this.#check(this.#native.vmw_window_destroy(window));
  }

  /** Destroys a window that nothing can use any more (a dropped one): a failure is ignored. */
  windowRelease(window: Pointer): void {
    this.#native.vmw_window_destroy(window);
  }

  /** The window's first byte and its layout. */
  windowLayout(window: Pointer): { base: Pointer; layout: WindowLayout } {
    const bytes = new Uint8Array(LAYOUT_BYTES);
    this.#check(this.#native.vmw_window_layout(window, bytes));
    const fields = new DataView(bytes.buffer);
    const u64 = (offset: number) => Number(fields.getBigUint64(offset, true));
    const layout: WindowLayout = Object.freeze({
      sizeBytes: u64(LAYOUT.windowBytes),
      tableOffset: u64(LAYOUT.tableOffset),
      tableBytes: u64(LAYOUT.tableBytes),
      guestBase: u64(LAYOUT.guestBase),
      guestBytes: u64(LAYOUT.guestBytes),
      slotsBase: u64(LAYOUT.slotsBase),
      capacity: fields.getUint32(LAYOUT.capacity, true),
    });
    return { base: this.#native.vmw_window_base(window) as Pointer, layout };
  }

  /**
   * `lengthBytes` of the window's memory from `offset`, zero-copy. The caller detaches the buffer
   * before those pages go away: a view that outlives them would fault.
   */
  windowBytes(base: Pointer, offset: number, lengthBytes: number): ArrayBuffer {
    return toArrayBuffer(base, offset, lengthBytes);
  }

  windowMapFile(window: Pointer, file: FileRange, place: Placement): RegionState {
    const { path, offset, access } = file;
    const { name, at } = place;
    const length = file.length ?? LENGTH_TO_END;
    return this.#region(this.#native.vmw_window_map_file(window, path, path.length, offset, length, ACCESS_CODES[access], name, name?.length ?? 0, at, this.#regionOut));
  }

  /** Zero-filled memory; `shareable`: a memory file other windows can map (`windowMapShared`). */
  windowMapAnonymous(window: Pointer, lengthBytes: number, shareable: boolean, place: Placement): RegionState {
    const map = shareable ? this.#native.vmw_window_map_shareable : this.#native.vmw_window_map_anonymous;
    return this.#region(map(window, lengthBytes, place.name, place.name?.length ?? 0, place.at, this.#regionOut));
  }

  /** Region `id` (at `generation`) of window `source`, a shareable one, mapped into `window` too. */
  windowMapShared(window: Pointer, source: Pointer, id: number, generation: number, place: Placement): RegionState {
    const { name, at } = place;
    return this.#region(this.#native.vmw_window_map_shared(window, source, id, generation, name, name?.length ?? 0, at, this.#regionOut));
  }

  windowRemapFile(window: Pointer, id: number, generation: number, file: FileRange): RegionState {
    const length = file.length ?? LENGTH_TO_END;
    const native = this.#native;
    return this.#region(native.vmw_window_remap_file(window, id, generation, file.path, file.path.length, file.offset, length, ACCESS_CODES[file.access], this.#regionOut));
  }

  windowResize(window: Pointer, id: number, generation: number, lengthBytes: number): RegionState {
    return this.#region(this.#native.vmw_window_resize(window, id, generation, lengthBytes, this.#regionOut));
  }

  windowFlush(window: Pointer, id: number, generation: number): void {
    this.#check(this.#native.vmw_window_flush(window, id, generation));
  }

  windowUnmap(window: Pointer, id: number, generation: number): void {
    this.#check(this.#native.vmw_window_unmap(window, id, generation));
  }

  /** Region `id`'s state, after marking the regions whose pages faulted in host code as damaged. */
  windowRegion(window: Pointer, id: number): RegionState {
    return this.#region(this.#native.vmw_window_region(window, id, this.#regionOut));
  }

  windowReleasePages(window: Pointer, id: number, generation: number, offset: number, lengthBytes: number): void {
    this.#check(this.#native.vmw_window_release_pages(window, id, generation, offset, lengthBytes));
  }

  // Modules -----------------------------------------------------------------------------------

  /** Compiles `bytes` (or takes them from the process cache or `cacheDir`). */
  moduleCompile(bytes: Uint8Array, flags: number, cacheDir: Uint8Array | null): { module: Pointer; source: ModuleSource } {
    const result = this.#native.vmw_module_compile_cached(bytes, bytes.length, flags, cacheDir, cacheDir?.length ?? 0, this.#handleOut, this.#u32Out);
    const module = this.#takeHandle(result);
    return { module, source: MODULE_SOURCES[this.#u32Out[0]!] ?? "compiled" };
  }

  /** The module's BLAKE3 hash (hex) and the flags it was compiled with. */
  moduleInfo(module: Pointer): { hash: string; flags: number } {
    this.#native.vmw_module_info(module, this.#hashOut, this.#u32Out);
    return { hash: Buffer.from(this.#hashOut).toString("hex"), flags: this.#u32Out[0]! };
  }

  moduleDestroy(module: Pointer): void {
    this.#native.vmw_module_destroy(module);
  }

  /** Empties the process's module cache; how many modules it held. */
  moduleCacheClear(): number {
    return this.#native.vmw_module_cache_clear();
  }

  // Guests ------------------------------------------------------------------------------------

  /** A compiled guest of `window` (not instantiated), checked as `instantiate` checks it. */
  guestCompile(window: Pointer, bytes: Uint8Array, flags: number): Pointer {
    return this.#takeHandle(this.#native.vmw_guest_compile(window, bytes, bytes.length, flags, this.#handleOut));
  }

  /** A guest of `window` prepared from a compiled module, without compiling. */
  guestPrepareModule(window: Pointer, module: Pointer): Pointer {
    return this.#takeHandle(this.#native.vmw_guest_prepare_module(window, module, this.#handleOut));
  }

  /** BUSY while a guest of its window runs (nothing destroyed). */
  guestDestroy(guest: Pointer): void {
    this.#check(this.#native.vmw_guest_destroy(guest));
  }

  /** Defines host import `module`.`name` (before instantiation); the index the callback receives. */
  guestDefineImport(guest: Pointer, module: Uint8Array, name: Uint8Array, params: readonly number[], results: readonly number[]): number {
    const p = params.length > 0 ? Uint8Array.from(params) : null;
    const r = results.length > 0 ? Uint8Array.from(results) : null;
    this.#check(this.#native.vmw_guest_define_import(guest, module, module.length, name, name.length, p, params.length, r, results.length, this.#u32Out));
    return this.#u32Out[0]!;
  }

  /** Installs the JS function that runs the guest's host imports: `callback(null, importIndex)`. */
  guestSetHostCallback(guest: Pointer, callback: JSCallback): void {
    this.#native.vmw_guest_set_host_callback(guest, callback.ptr, null);
  }

  /**
   * Installs a C function as the guest's host callback, `function(hostValues, importIndex)`: it
   * gets the host value slots as its user data (native host functions; the benchmarks' baseline).
   */
  guestSetNativeHostCallback(guest: Pointer, callback: Pointer): void {
    this.#native.vmw_guest_set_host_callback(guest, callback, this.#native.vmw_guest_host_values(guest));
  }

  /** The value slots host imports read their arguments from and write their results to. */
  guestHostValues(guest: Pointer): Views {
    return this.#values(this.#native.vmw_guest_host_values(guest) as Pointer | null);
  }

  /** The value slots guest calls take their arguments from and leave their results in. */
  guestValues(guest: Pointer): Views {
    return this.#values(this.#native.vmw_guest_values(guest) as Pointer | null);
  }

  guestSetTimeout(guest: Pointer, timeoutMs: number): void {
    this.#check(this.#native.vmw_guest_set_timeout(guest, timeoutMs));
  }

  guestSetFuel(guest: Pointer, fuel: bigint): void {
    this.#check(this.#native.vmw_guest_set_fuel(guest, fuel));
  }

  guestAllowFlush(guest: Pointer): void {
    this.#check(this.#native.vmw_guest_set_policy(guest, POLICY_FLUSH));
  }

  /** Links and runs the start function. Returns the result: a host import's exception comes first. */
  guestInstantiate(guest: Pointer): number {
    return this.#native.vmw_guest_instantiate(guest);
  }

  /** Looks up exported function `name` (UTF-8 `nameBytes`). */
  guestExport(guest: Pointer, name: string, nameBytes: Uint8Array): ExportInfo {
    const info = this.#exportOut;
    this.#check(this.#native.vmw_guest_export(guest, nameBytes, nameBytes.length, info));
    const fields = new DataView(info.buffer);
    const paramCount = fields.getUint32(EXPORT.paramCount, true);
    const resultCount = fields.getUint32(EXPORT.resultCount, true);
    return {
      name,
      index: fields.getUint32(EXPORT.index, true),
      params: Object.freeze(Array.from(info.subarray(EXPORT.params, EXPORT.params + paramCount), (kind) => kinds[kind]!)),
      results: Object.freeze(Array.from(info.subarray(EXPORT.results, EXPORT.results + resultCount), (kind) => kinds[kind]!)),
    };
  }

  /** The names of the guest's exported functions, in export order. */
  guestExportedFunctionNames(guest: Pointer): string[] {
    const nameBuffer = new Uint8Array(EXPORT_NAME_MAX_BYTES);
    const lengthOut = new BigUint64Array(1);
    const names: string[] = [];
    for (let index = 0; ; index++) {
      const result = this.#native.vmw_guest_export_nth(guest, index, nameBuffer, nameBuffer.length, lengthOut, this.#u32Out);
      if (result === RESULT.NOT_FOUND) return names;
      this.#check(result);
      if (this.#u32Out[0] === EXTERN_FUNC) names.push(decoder.decode(nameBuffer.subarray(0, Number(lengthOut[0]))));
    }
  }

  /** Resolves every exported function natively, in export order; how many. */
  guestResolveAll(guest: Pointer): number {
    this.#check(this.#native.vmw_guest_resolve_all(guest, this.#u32Out));
    return this.#u32Out[0]!;
  }

  guestInterruptToken(guest: Pointer): number {
    this.#check(this.#native.vmw_guest_interrupt_token(guest, this.#handleOut));
    return Number(this.#handleOut[0]!);
  }

  /** Interrupts the running call of the guest `token` names; false if that guest is gone. */
  interrupt(token: number): boolean {
    const result = this.#native.vmw_interrupt(BigInt(token));
    if (result === RESULT.NOT_FOUND) return false;
    this.#check(result);
    return true;
  }

  // Internals ---------------------------------------------------------------------------------

  #check(result: number): void {
    if (result !== RESULT.OK) this.throwResult(result);
  }

  /** The handle a call just wrote to `#handleOut`, or its error. */
  #takeHandle(result: number): Pointer {
    const handle = this.#handleOut[0]!;
    this.#handleOut[0] = 0n;
    if (result !== RESULT.OK) this.throwResult(result);
    if (handle === 0n) throw new Error(`vmwindow: a native call returned OK without a handle`);
    return Number(handle) as Pointer;
  }

  #values(slots: Pointer | null): Views {
    if (slots === null) throw new Error("vmwindow: a guest without value slots");
    return viewsOf(toArrayBuffer(slots, 0, VALUES_MAX * VALUE_BYTES));
  }

  /** The `vmw_region_t` a map call just wrote to `#regionOut`, or its error. */
  #region(result: number): RegionState {
    this.#check(result);
    // Read as 32-bit words (no BigInt per field): its u64 fields are below 2^53.
    const words = this.#regionOut;
    const access = words[REGION.access / 4]!;
    return {
      offset: u64Word(words, REGION.offsetBytes),
      length: u64Word(words, REGION.lengthBytes),
      fileOffset: u64Word(words, REGION.fileOffsetBytes),
      slotBytes: u64Word(words, REGION.slotBytes),
      id: words[REGION.id / 4]!,
      generation: words[REGION.generation / 4]!,
      access: accessName(access),
      kind: words[REGION.kind / 4] === REGION_ANONYMOUS ? "anonymous" : "file",
      damaged: (access & ACCESS.DAMAGED) !== 0,
    };
  }

  #lastErrorMessage(): string {
    const message = this.#native.vmw_last_error_message();
    return message ? new CString(message).toString() : "";
  }

  /** The last trap's memory fault on this thread, if it was one. */
  #lastFault(): GuestFault | undefined {
    const bytes = new Uint8Array(FAULT_BYTES);
    if (this.#native.vmw_last_fault(bytes) !== RESULT.OK) return undefined;
    const fields = new DataView(bytes.buffer);
    const kind = FAULT_KINDS[fields.getUint32(FAULT.kind, true)];
    if (kind === undefined) return undefined;
    const regionId = fields.getUint32(FAULT.regionId, true);
    return Object.freeze({
      address: Number(fields.getBigUint64(FAULT.address, true)),
      kind,
      regionId: regionId === 0 ? undefined : regionId,
      bytesPastEnd: Number(fields.getBigUint64(FAULT.bytesPastEnd, true)),
    });
  }
}

const decoder = new TextDecoder();

/** The u64 at byte `offset` of little-endian 32-bit `words`, as a number (below 2^53). */
function u64Word(words: Uint32Array, offset: number): number {
  return words[offset / 4]! + words[offset / 4 + 1]! * 0x1_0000_0000;
}

/** Access bits (`ACCESS_*`) as the name the API uses. */
export function accessName(bits: number): Access {
  return (bits & ACCESS_CODES.readwrite) === ACCESS_CODES.readwrite ? "readwrite" : "read";
}

function open(): NativeLibrary {
  const library = findLibrary();
  for (const path of library.preload) preloadLibrary(path);
  const native = dlopen(library.path, symbols).symbols;
  const version = native.vmw_abi_version();
  if (version !== ABI_VERSION) throw new Error(`vmwindow: ${library.path} implements ABI v${version}, this package needs v${ABI_VERSION}`);
  libraryPath = library.path;
  return new NativeLibrary(native);
}

/** Where libvmwindow was loaded from. */
export let libraryPath = "";
/** libvmwindow for this JS thread. */
export const lib: NativeLibrary = open();
