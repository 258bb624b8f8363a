// A window: one reserved address range that is a guest's whole linear memory, with host files
// mapped into it. The public entry point of @vmwindow/bun.
import type { Pointer } from "bun:ffi";
import { ACCESS, LAYOUT, LAYOUT_BYTES, NAME_MAX_BYTES, PAGE_BYTES, REGION, REGION_ANONYMOUS, REGION_BYTES } from "./abi.ts";
import { check, closedError, throwResult, VmwindowError } from "./errors.ts";
import { native, Result, takeHandle, utf8 } from "./ffi.ts";
import { closeSync, constants, fstatSync, ftruncateSync, openSync } from "node:fs";
import { createGuest, validateGuest, type Guest, type GuestOwner } from "./guest.ts";
import type { GuestFunction } from "./callables.ts";
import type { InstantiateOptions } from "./guest-options.ts";
import type { GuestModule } from "./module.ts";
import { Region, type Access, type RegionOwner, type RegionState, type RemapOptions } from "./region.ts";

export { PAGE_BYTES, NAME_MAX_BYTES };
export const DEFAULT_WINDOW_BYTES = 2 ** 31;
export const DEFAULT_GUEST_BYTES = 16 * 2 ** 20;
export const DEFAULT_CAPACITY = 16_384;

export interface WindowOptions {
  /** The guest memory's size: a multiple of 64 KiB, at most 4 GiB. Default 2 GiB. */
  sizeBytes?: number;
  /** The guest's own area (data, stack, heap): a multiple of 64 KiB. Default 16 MiB. */
  guestBytes?: number;
  /** Region table entries (max live regions), 1..32767. Default 16384. */
  capacity?: number;
}

export interface PlaceOptions {
  /** A name published in the region table (at most 24 UTF-8 bytes), for guests to find it by. */
  name?: string;
  /** Window offset to map at (64 KiB aligned, free, in the slot area). Default: first fit (large
   * regions: where the kernel can use 2 MiB pages, see docs/abi.md). */
  at?: number;
}

export interface AnonymousOptions extends PlaceOptions {
  /** A memory file other windows can map too (`window.mapShared(region)`); its size is fixed. */
  shared?: boolean;
}

export interface MapOptions extends PlaceOptions {
  /** "read" (default) or "readwrite" (guest and host writes go to the file). */
  access?: Access;
  /**
   * An output file: with `access: "readwrite"` and a `length`, creates the file if it is missing
   * and extends it with zeros to `offset + length` if it is shorter (never shrinks it).
   */
  create?: boolean;
  /** Byte offset in the file: a multiple of the OS page size (4096). Default 0. */
  offset?: number;
  /** Bytes to map. Default: from `offset` to the end of the file. */
  length?: number;
}

/** Where things are in the window (byte offsets, which are also guest addresses). */
export interface WindowLayout {
  readonly sizeBytes: number;
  readonly tableOffset: number;
  readonly tableBytes: number;
  readonly guestBase: number;
  readonly guestBytes: number;
  readonly slotsBase: number;
  readonly capacity: number;
}

const ACCESS_CODES: Record<Access, number> = { read: ACCESS.READ, readwrite: ACCESS.READ | ACCESS.WRITE };
const LENGTH_TO_END = 0xffff_ffff_ffff_ffffn;

export class Window implements Disposable, RegionOwner, GuestOwner {
  readonly layout: WindowLayout;
  #handle: Pointer | null;
  #base: Pointer;
  // Indexed by region id. Not a Map: in Bun 1.4 a Map of ~16k entries costs ~80 us per
  // set + delete of one key (measured), which made map/unmap O(live regions).
  #regions: (Region | undefined)[] = [];
  #guests = new Set<Guest<object>>();
  #regionOut = new BigUint64Array(REGION_BYTES / 8);
  // The same bytes as 32-bit words: reading a u64 as two words avoids a BigInt per field.
  #regionWords = new Uint32Array(this.#regionOut.buffer);
  // The last path mapped and its UTF-8 bytes: hosts often map the same file again.
  #lastPath: string | null = null;
  #lastPathBytes: Uint8Array = new Uint8Array(0);

  private constructor(handle: Pointer) {
    this.#handle = handle;
    track(this, handle);
    this.#base = native.vmw_window_base(handle) as Pointer;
    const bytes = new Uint8Array(LAYOUT_BYTES);
    const result = native.vmw_window_layout(handle, bytes);
    const out = new DataView(bytes.buffer);
    if (result !== Result.OK) throwResult(result);
    const u64 = (offset: number) => Number(out.getBigUint64(offset, true));
    this.layout = Object.freeze({
      sizeBytes: u64(LAYOUT.windowBytes),
      tableOffset: u64(LAYOUT.tableOffset),
      tableBytes: u64(LAYOUT.tableBytes),
      guestBase: u64(LAYOUT.guestBase),
      guestBytes: u64(LAYOUT.guestBytes),
      slotsBase: u64(LAYOUT.slotsBase),
      capacity: out.getUint32(LAYOUT.capacity, true),
    });
  }

  /** Reserves a new window. See WindowOptions for sizes and defaults. */
  static create(options: WindowOptions = {}): Window {
    options = optionsArgument("Window.create options", options);
    const sizeBytes = checkSize("sizeBytes", options.sizeBytes ?? DEFAULT_WINDOW_BYTES);
    const guestBytes = checkSize("guestBytes", options.guestBytes ?? DEFAULT_GUEST_BYTES);
    const capacity = options.capacity ?? DEFAULT_CAPACITY;
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > 0xffff_ffff) {
      throw new VmwindowError("INVALID_ARGUMENT", `capacity must be a positive integer, got ${String(capacity)}`);
    }
    let { result, handle } = takeHandle((out) => native.vmw_window_create(sizeBytes, guestBytes, capacity, out));
    // Out of windows or address space: windows dropped without close() may be what holds them.
    if (result === Result.OUT_OF_MEMORY && reclaimDropped() > 0) {
      ({ result, handle } = takeHandle((out) => native.vmw_window_create(sizeBytes, guestBytes, capacity, out)));
    }
    if (result !== Result.OK || handle === null) throwResult(result);
    return new Window(handle);
  }

  get closed(): boolean {
    return this.#handle === null;
  }

  get sizeBytes(): number {
    return this.layout.sizeBytes;
  }

  /** @internal The window's first byte, for regions' zero-copy views. */
  get basePointer(): Pointer {
    return this.#base;
  }

  /** Live regions by id (a snapshot, in id order). */
  get regions(): ReadonlyMap<number, Region> {
    const live = new Map<number, Region>();
    for (const region of this.#regions) if (region) live.set(region.id, region);
    return live;
  }

  /** The live region with table id `id`, if any. */
  region(id: number): Region | undefined {
    // Not `this.#regions[id]` for any id: "length" or "__proto__" would reach the array itself.
    return Number.isSafeInteger(id) && id > 0 ? this.#regions[id] : undefined;
  }

  /** The guests instantiated over this window and not closed yet (several may share a window). */
  get guests(): ReadonlySet<Guest<object>> {
    return this.#guests;
  }

  /**
   * Maps a regular file — whole, or `length` bytes from `offset` — into a slot. Empty files and
   * directories are refused; see MapOptions.
   */
  mapFile(path: string, options: MapOptions = {}): Region {
    const handle = this.#open();
    options = optionsArgument("mapFile options", options);
    const pathBytes = this.#pathBytes(path);
    const access = accessCode(options.access ?? "read");
    const fileOffset = byteCount("offset", options.offset ?? 0, true);
    const length = options.length === undefined ? LENGTH_TO_END : byteCount("length", options.length, false);
    const name = nameArgument(options.name);
    const at = atArgument(options.at);
    if (options.create !== undefined && options.create !== false) createOutputFile(path, options, fileOffset, length);
    const result = native.vmw_window_map_file(handle, pathBytes, pathBytes.length, fileOffset, length, access, name, name?.length ?? 0, at, this.#regionOut);
    return this.#mapped(result, options.name, path);
  }

  /**
   * Maps `lengthBytes` of zero-filled read-write scratch memory (not backed by a file). With
   * `shared: true` it is a memory file that other windows can map too (`mapShared`), so guests
   * that each have a window of their own share it; its size is then fixed.
   */
  mapAnonymous(lengthBytes: number, options: AnonymousOptions = {}): Region {
    const handle = this.#open();
    options = optionsArgument("mapAnonymous options", options);
    const length = byteCount("lengthBytes", lengthBytes, false);
    const name = nameArgument(options.name);
    const at = atArgument(options.at);
    if (options.shared !== undefined && typeof options.shared !== "boolean") {
      throw new VmwindowError("INVALID_ARGUMENT", `shared must be true or false, got ${String(options.shared)}`);
    }
    const map = options.shared ? native.vmw_window_map_shareable : native.vmw_window_map_anonymous;
    const result = map(handle, length, name, name?.length ?? 0, at, this.#regionOut);
    return this.#mapped(result, options.name, undefined);
  }

  /**
   * Maps the memory of `region` — a region made with `mapAnonymous(length, { shared: true })`, of
   * this or another window — into this window as a new region: guests and host see the same bytes
   * through both, and each stays valid when the other is unmapped. The way guests in windows of
   * their own (no guest-area swap between their calls) pass data. Share a file by mapping the file.
   */
  mapShared(region: Region, options: PlaceOptions = {}): Region {
    const handle = this.#open();
    options = optionsArgument("mapShared options", options);
    if (!(region instanceof Region) || !region.mapped) {
      throw new VmwindowError("INVALID_ARGUMENT", "mapShared takes a mapped Region (made with mapAnonymous(length, { shared: true }))");
    }
    const source = region.ownerHandle();
    const name = nameArgument(options.name);
    const at = atArgument(options.at);
    const result = native.vmw_window_map_shared(handle, source, region.id, region.generation, name, name?.length ?? 0, at, this.#regionOut);
    return this.#mapped(result, options.name, undefined);
  }

  /**
   * Compiles and instantiates a guest module (bytes, or a path to a .wasm file) over this window,
   * with its own guest area; a `GuestModule` (compiled once, for any window) is not compiled again,
   * and bytes compiled earlier in this process are taken from its module cache. Options: host
   * imports, a per-call deadline, logging, mapping and flushing policy (see InstantiateOptions in
   * guest-options.ts). `E` types `guest.exports`: the interface `vmwindow inspect --dts` writes.
   */
  instantiate<E extends object = Record<string, GuestFunction>>(wasm: Uint8Array | ArrayBuffer | string | GuestModule, options?: InstantiateOptions): Guest<E> {
    const guest = createGuest(this, this.#open(), wasm, options) as unknown as Guest<E>;
    this.#guests.add(guest);
    return guest;
  }

  /**
   * Compiles a module (bytes, or a path to a .wasm file) with the engine and the checks
   * `instantiate` uses (no bulk memory, env.memory imported, data segments inside the guest area),
   * without linking or running it: throws what `instantiate` would (`NOT_FOUND`, `BAD_MODULE`,
   * `LINK`), short of missing host imports. For checking a plugin before running it.
   */
  validate(wasm: Uint8Array | ArrayBuffer | string): void {
    validateGuest(this.#open(), wasm);
  }

  /**
   * Closes every guest, unmaps every region (their views detach) and releases the window.
   * Throws BUSY, closing nothing, from inside a host function of one of its guests (close it
   * after the call returns) or while an asynchronous operation still holds a region's `bytes`.
   */
  close(): void {
    const handle = this.#handle;
    if (handle === null) return;
    // Views first: their pages go away with the window.
    for (const region of this.#regions) region?._detachViews();
    check(native.vmw_window_destroy(handle));
    untrack(this, handle);
    this.#handle = null;
    for (const guest of this.#guests) guest.detach();
    this.#guests.clear();
    for (const region of this.#regions) region?._unmapped();
    this.#regions = [];
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** @internal */
  unmapRegion(region: Region): void {
    const handle = this.#owned(region);
    // Detach host views before the pages go away (BUSY if an asynchronous operation holds one).
    region._detachViews();
    // Forgotten only once the native side has unmapped it: a failure leaves it live and usable.
    const result = native.vmw_window_unmap(handle, region.id, region.generation);
    if (result !== Result.OK) throwResult(result);
    this.#regions[region.id] = undefined;
    region._unmapped();
  }

  /** @internal */
  remapRegion(region: Region, path: string, options: RemapOptions): RegionState {
    const handle = this.#owned(region);
    options = optionsArgument("remap options", options);
    const pathBytes = this.#pathBytes(path);
    const access = accessCode(options.access ?? (region.kind === "file" ? region.access : "read"));
    const fileOffset = byteCount("offset", options.offset ?? 0, true);
    const length = options.length === undefined ? LENGTH_TO_END : byteCount("length", options.length, false);
    const result = native.vmw_window_remap_file(handle, region.id, region.generation, pathBytes, pathBytes.length, fileOffset, length, access, this.#regionOut);
    if (result !== Result.OK) throwResult(result);
    return this.#readState();
  }

  /** @internal */
  resizeRegion(region: Region, lengthBytes: number): RegionState {
    const handle = this.#owned(region);
    const length = byteCount("lengthBytes", lengthBytes, false);
    const result = native.vmw_window_resize(handle, region.id, region.generation, length, this.#regionOut);
    if (result !== Result.OK) throwResult(result);
    return this.#readState();
  }

  /** @internal */
  regionState(region: Region): RegionState {
    const handle = this.#owned(region);
    const result = native.vmw_window_region(handle, region.id, this.#regionOut);
    if (result !== Result.OK) throwResult(result);
    return this.#readState();
  }

  /** @internal */
  flushRegion(region: Region): void {
    const handle = this.#owned(region);
    const result = native.vmw_window_flush(handle, region.id, region.generation);
    if (result !== Result.OK) throwResult(result);
  }

  /** @internal */
  releaseRegionPages(region: Region, offsetBytes: number, lengthBytes: number | undefined): void {
    const handle = this.#owned(region);
    const offset = byteCount("offset", offsetBytes, true);
    if (lengthBytes === undefined && offset >= region.length) {
      throw new VmwindowError("OUT_OF_RANGE", `offset ${offset} is at or past the end of region ${region.id} (${region.length} bytes)`);
    }
    const length = lengthBytes === undefined ? region.length - offset : byteCount("length", lengthBytes, false);
    const result = native.vmw_window_release_pages(handle, region.id, region.generation, offset, length);
    if (result !== Result.OK) throwResult(result);
  }

  /** @internal Throws BUSY, closing nothing, from inside a host function of this window's guests. */
  releaseGuest(guest: Guest<object>): void {
    if (guest.handle === null) return;
    check(native.vmw_guest_destroy(guest.handle));
    guest.detach();
    this.#guests.delete(guest);
  }

  /** @internal The native window, for another window's `mapShared` of one of its regions. */
  get handleForSharing(): Pointer {
    return this.#open();
  }

  /** @internal Whether `region` is a live region of this window (for `map` handlers' results). */
  ownsRegion(region: unknown): boolean {
    return region instanceof Region && this.#handle !== null && this.#regions[region.id] === region;
  }

  #open(): Pointer {
    if (this.#handle === null) throw closedError("window");
    return this.#handle;
  }

  #owned(region: Region): Pointer {
    const handle = this.#open();
    if (this.#regions[region.id] !== region) throw closedError(`region ${region.id}`);
    return handle;
  }

  /** `path` checked and encoded as UTF-8, reusing the last encoding when the path repeats. */
  #pathBytes(path: unknown): Uint8Array {
    if (typeof path === "string" && path === this.#lastPath) return this.#lastPathBytes;
    const bytes = pathArgument(path);
    this.#lastPath = path as string;
    this.#lastPathBytes = bytes;
    return bytes;
  }

  /** The region a map call just wrote to `#regionOut` (now this window's), or its error. */
  #mapped(result: number, name: string | undefined, path: string | undefined): Region {
    if (result !== Result.OK) throwResult(result);
    const region = new Region(this, this.#readState(), name, path);
    this.#regions[region.id] = region;
    return region;
  }

  #readState(): RegionState {
    // vmw_region_t, read as 32-bit words (no BigInt per field): its u64 fields are below 2^53.
    const words = this.#regionWords;
    const access = words[REGION.access / 4]!;
    return {
      offset: u64Word(words, REGION.offsetBytes),
      length: u64Word(words, REGION.lengthBytes),
      fileOffset: u64Word(words, REGION.fileOffsetBytes),
      slotBytes: u64Word(words, REGION.slotBytes),
      id: words[REGION.id / 4]!,
      generation: words[REGION.generation / 4]!,
      access: (access & ACCESS_CODES.readwrite) === ACCESS_CODES.readwrite ? "readwrite" : "read",
      kind: words[REGION.kind / 4] === REGION_ANONYMOUS ? "anonymous" : "file",
      damaged: (access & ACCESS.DAMAGED) !== 0,
    };
  }
}

/** The u64 at byte `offset` of little-endian 32-bit `words`, as a number (below 2^53). */
function u64Word(words: Uint32Array, offset: number): number {
  return words[offset / 4]! + words[offset / 4 + 1]! * 0x1_0000_0000;
}

/**
 * `create: true`: makes `path` exist with at least `offset + length` bytes (zeros appended; an
 * existing longer file is left as it is). Whether the result can be mapped is for mapFile to say.
 */
function createOutputFile(path: string, options: MapOptions, offset: number, length: number | bigint): void {
  if (options.create !== true) throw new VmwindowError("INVALID_ARGUMENT", `create must be true or false, got ${String(options.create)}`);
  if (options.access !== "readwrite") throw new VmwindowError("INVALID_ARGUMENT", `create: true makes an output file: it needs access: "readwrite"`);
  if (typeof length !== "number") throw new VmwindowError("INVALID_ARGUMENT", `create: true needs a length (the file's size from offset), e.g. { access: "readwrite", create: true, length: 1 << 20 }`);
  let fd: number;
  try {
    // Non-blocking: a FIFO at `path` must not hang here (mapFile refuses it by type).
    fd = openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_NONBLOCK, 0o644);
  } catch (error) {
    throw new VmwindowError("NOT_FOUND", `cannot create ${path}: ${(error as Error).message}`);
  }
  try {
    const stat = fstatSync(fd);
    if (stat.isFile() && stat.size < offset + length) ftruncateSync(fd, offset + length);
  } finally {
    closeSync(fd);
  }
}

// Windows dropped without close() -------------------------------------------------------------
// A window holds ~4 GiB of address space, a table and its guests until it is closed. One that
// becomes unreachable without close() is released when the garbage collector finds it (warned
// about once), and `Window.create` collects and releases them when it runs out of windows.

const tracked = new Map<Pointer, WeakRef<Window>>();
const dropped = new FinalizationRegistry<Pointer>((handle) => release(handle));
let warned = false;

function track(window: Window, handle: Pointer): void {
  tracked.set(handle, new WeakRef(window));
  dropped.register(window, handle, window);
}

function untrack(window: Window, handle: Pointer): void {
  tracked.delete(handle);
  dropped.unregister(window);
}

/** Destroys the native window of a Window that was garbage-collected without close(). */
function release(handle: Pointer): void {
  if (!tracked.delete(handle)) return;
  if (!warned) {
    warned = true;
    console.warn("vmwindow: a Window was garbage-collected without close(): released now. Close windows when done (window.close(), or `using window = Window.create()`).");
  }
  native.vmw_window_destroy(handle);
}

/** Collects garbage and releases every dropped window now; how many there were. */
function reclaimDropped(): number {
  Bun.gc(true);
  let released = 0;
  for (const [handle, ref] of [...tracked]) {
    if (ref.deref() !== undefined) continue;
    release(handle);
    released++;
  }
  return released;
}

/** An options argument: undefined (defaults) or a plain object. */
export function optionsArgument<T>(what: string, value: T | undefined): T {
  if (value === undefined) return {} as T;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new VmwindowError("INVALID_ARGUMENT", `${what} must be an object, got ${value === null ? "null" : Array.isArray(value) ? "an array" : typeof value}`);
  }
  return value;
}

function pathArgument(path: unknown): Uint8Array {
  if (typeof path !== "string" || path.length === 0) {
    throw new VmwindowError("INVALID_ARGUMENT", `path must be a non-empty string, got ${JSON.stringify(path)}`);
  }
  return utf8(path);
}

function accessCode(access: unknown): number {
  const code = ACCESS_CODES[access as Access];
  if (code === undefined) throw new VmwindowError("INVALID_ARGUMENT", `access must be "read" or "readwrite", got ${JSON.stringify(access)}`);
  return code;
}

function nameArgument(name: unknown): Uint8Array | null {
  if (name === undefined) return null;
  if (typeof name !== "string") throw new VmwindowError("INVALID_ARGUMENT", `name must be a string, got ${typeof name}`);
  // UTF-8 has no encoding for a lone surrogate: it would be stored as U+FFFD, another name.
  if (!name.isWellFormed()) throw new VmwindowError("INVALID_ARGUMENT", `region name ${JSON.stringify(name)} has a lone surrogate (not valid Unicode)`);
  // Its length (at most NAME_MAX_BYTES) is the native layer's rule and message.
  const bytes = utf8(name);
  return bytes.length > 0 ? bytes : null;
}

/** A byte count or offset: a safe non-negative integer (positive unless `zeroAllowed`). */
function byteCount(what: string, value: unknown, zeroAllowed: boolean): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0 || (value === 0 && !zeroAllowed)) {
    const expected = zeroAllowed ? "a non-negative" : "a positive";
    throw new VmwindowError("INVALID_ARGUMENT", `${what} must be ${expected} integer number of bytes, got ${String(value)}`);
  }
  return value;
}

function atArgument(at: unknown): number {
  if (at === undefined) return 0;
  return byteCount("at", at, false);
}

/** A size as the C call takes it (a positive safe integer); its rules (64 KiB multiples, at most
 * 4 GiB) are the native layer's, with its message. */
function checkSize(what: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value <= 0) {
    throw new VmwindowError("INVALID_ARGUMENT", `${what} must be a positive integer number of bytes, got ${String(value)}`);
  }
  return value;
}
