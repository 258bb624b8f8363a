// A window: one reserved address range that is a guest's whole linear memory, with host files
// mapped into it. The public entry point of @vmwindow/bun.
import type { JSCallback, Pointer } from "bun:ffi";
import { NAME_MAX_BYTES, PAGE_BYTES } from "./abi.ts";
import { accessArgument, atArgument, booleanArgument, byteCount, capacityArgument, nameArgument, optionsArgument, pathArgument, type OptionNames } from "./arguments.ts";
import { VmwindowError } from "./errors.ts";
import { lib, type Placement, type WindowLayout } from "./ffi.ts";
import { closeSync, constants, fstatSync, ftruncateSync } from "node:fs";
import { openFile } from "./open-file.ts";
import { guestFriend, validateGuest, type Guest } from "./guest.ts";
import type { GuestFunction } from "./callables.ts";
import type { InstantiateOptions } from "./guest-options.ts";
import type { GuestModule } from "./module.ts";
import { Region, regionFriend, type Access } from "./region.ts";
import { WindowState } from "./window-state.ts";

export { PAGE_BYTES, NAME_MAX_BYTES };
export type { WindowLayout };
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

// The option names each call knows (an unknown one is an error, not ignored).
const WINDOW_OPTIONS: OptionNames<WindowOptions> = { sizeBytes: true, guestBytes: true, capacity: true };
const PLACE_OPTIONS: OptionNames<PlaceOptions> = { name: true, at: true };
const ANONYMOUS_OPTIONS: OptionNames<AnonymousOptions> = { ...PLACE_OPTIONS, shared: true };
const MAP_OPTIONS: OptionNames<MapOptions> = { access: true, create: true, offset: true, length: true, ...PLACE_OPTIONS };


let stateOf: (window: Window) => WindowState;

export class Window implements Disposable {
  readonly layout: WindowLayout;
  readonly #state: WindowState;

  private constructor(handle: Pointer) {
    this.#state = new WindowState(handle);
    this.layout = this.#state.layout;
    track(this.#state, handle);
  }

  static {
    stateOf = (window) => window.#state;
  }

  /** Reserves a new window. See WindowOptions for sizes and defaults. */
  static create(options: WindowOptions = {}): Window {
    options = optionsArgument("Window.create options", options, WINDOW_OPTIONS);
    // Their rules (64 KiB multiples, at most 4 GiB) are the native layer's, with its message.
    const sizeBytes = byteCount("sizeBytes", options.sizeBytes ?? DEFAULT_WINDOW_BYTES, false);
    const guestBytes = byteCount("guestBytes", options.guestBytes ?? DEFAULT_GUEST_BYTES, false);
    const capacity = capacityArgument(options.capacity ?? DEFAULT_CAPACITY);
    // Out of windows or address space: windows dropped without close() may be what holds them.
    const handle = lib.windowCreate(sizeBytes, guestBytes, capacity, { retryable: true }) ?? (reclaimDropped(), lib.windowCreate(sizeBytes, guestBytes, capacity, { retryable: false }));
    return new Window(handle!);
  }

  get closed(): boolean {
    return this.#state.handle === null;
  }

  get sizeBytes(): number {
    return this.layout.sizeBytes;
  }

  /** Live regions by id (a snapshot, in id order). */
  get regions(): ReadonlyMap<number, Region> {
    const live = new Map<number, Region>();
    for (const region of this.#state.regions) if (region) live.set(region.id, region);
    return live;
  }

  /** The live region with table id `id`, if any. */
  region(id: number): Region | undefined {
    // Not `regions[id]` for any id: "length" or "__proto__" would reach the array itself.
    return Number.isSafeInteger(id) && id > 0 ? this.#state.regions[id] : undefined;
  }

  /** The guests instantiated over this window and not closed yet (a snapshot; several may share a window). */
  get guests(): ReadonlySet<Guest<object>> {
    // A copy: a caller that cleared the window's own set (ReadonlySet is only a type) would leave
    // guests that close() does not detach, whose calls then reach freed native guests.
    return new Set(this.#state.guests);
  }

  /**
   * Maps a regular file — whole, or `length` bytes from `offset` — into a slot. Empty files and
   * directories are refused; see MapOptions.
   */
  mapFile(path: string, options: MapOptions = {}): Region {
    const handle = this.#state.open();
    options = optionsArgument("mapFile options", options, MAP_OPTIONS);
    const file = {
      path: pathArgument(path),
      offset: byteCount("offset", options.offset ?? 0, true),
      length: options.length === undefined ? undefined : byteCount("length", options.length, false),
      access: accessArgument(options.access ?? "read"),
    };
    const place = placement(options);
    if (booleanArgument("create", options.create)) createOutputFile(path, options, file.offset, file.length);
    return regionFriend.adopt(this.#state, lib.windowMapFile(handle, file, place), options.name, path);
  }

  /**
   * Maps `lengthBytes` of zero-filled read-write scratch memory (not backed by a file). With
   * `shared: true` it is a memory file that other windows can map too (`mapShared`), so guests
   * that each have a window of their own share it; its size is then fixed.
   */
  mapAnonymous(lengthBytes: number, options: AnonymousOptions = {}): Region {
    const handle = this.#state.open();
    options = optionsArgument("mapAnonymous options", options, ANONYMOUS_OPTIONS);
    const length = byteCount("lengthBytes", lengthBytes, false);
    const place = placement(options);
    const shared = booleanArgument("shared", options.shared);
    return regionFriend.adopt(this.#state, lib.windowMapAnonymous(handle, length, shared, place), options.name, undefined);
  }

  /**
   * Maps the memory of `region` — a region made with `mapAnonymous(length, { shared: true })`, of
   * this or another window — into this window as a new region: guests and host see the same bytes
   * through both, and each stays valid when the other is unmapped. The way guests in windows of
   * their own (no guest-area swap between their calls) pass data. Share a file by mapping the file.
   */
  mapShared(region: Region, options: PlaceOptions = {}): Region {
    const handle = this.#state.open();
    options = optionsArgument("mapShared options", options, PLACE_OPTIONS);
    if (!(region instanceof Region) || !region.mapped) {
      throw new VmwindowError("INVALID_ARGUMENT", "mapShared takes a mapped Region (made with mapAnonymous(length, { shared: true }))");
    }
    const source = regionFriend.source(region);
    const state = lib.windowMapShared(handle, source.window, source.id, source.generation, placement(options));
    return regionFriend.adopt(this.#state, state, options.name, undefined);
  }

  /**
   * Compiles and instantiates a guest module (bytes, or a path to a .wasm file) over this window,
   * with its own guest area; a `GuestModule` (compiled once, for any window) is not compiled again,
   * and bytes compiled earlier in this process are taken from its module cache. Options: host
   * imports, a per-call deadline, logging, mapping and flushing policy (see InstantiateOptions in
   * guest-options.ts). `E` types `guest.exports`: the interface `vmwindow inspect --dts` writes.
   */
  instantiate<E extends object = Record<string, GuestFunction>>(wasm: Uint8Array | ArrayBuffer | string | GuestModule, options?: InstantiateOptions): Guest<E> {
    return guestFriend.create(this.#state, wasm, options) as unknown as Guest<E>;
  }

  /**
   * Compiles a module (bytes, or a path to a .wasm file) with the engine and the checks
   * `instantiate` uses (no bulk memory, env.memory imported, data segments inside the guest area),
   * without linking or running it: throws what `instantiate` would (`NOT_FOUND`, `BAD_MODULE`,
   * `LINK`), short of missing host imports. For checking a plugin before running it.
   */
  validate(wasm: Uint8Array | ArrayBuffer | string): void {
    validateGuest(this.#state.open(), wasm);
  }

  /**
   * Closes every guest, unmaps every region (their views detach) and releases the window.
   * Throws BUSY, closing nothing, from inside a host function of one of its guests (close it
   * after the call returns) or while an asynchronous operation still holds a region's `bytes`.
   */
  close(): void {
    const state = this.#state;
    const handle = state.handle;
    if (handle === null) return;
    const regions = state.regions.filter((region) => region !== undefined);
    // Views first: their pages go away with the window. Each region keeps its last state.
    for (const region of regions) regionFriend.detachViews(region);
    const last = regions.map((region) => regionFriend.state(region));
    lib.windowDestroy(handle);
    untrack(state, handle);
    state.handle = null;
    state.table.detach();
    for (const guest of state.guests) guestFriend.detach(guest);
    state.guests.clear();
    regions.forEach((region, i) => regionFriend.unmapped(region, last[i]!));
    state.regions = [];
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** Where a map call places its region: its name and `at`, checked. */
function placement(options: PlaceOptions): Placement {
  return { name: nameArgument(options.name), at: atArgument(options.at) };
}

/**
 * The window's first byte, for tests and benchmarks that check the window's memory directly (not
 * part of the package's API: index.ts does not export it).
 */
export function windowBasePointer(window: Window): Pointer {
  return stateOf(window).base;
}

/**
 * `create: true`: makes `path` exist with at least `offset + length` bytes (zeros appended; an
 * existing longer file is left as it is). Whether the result can be mapped is for mapFile to say.
 */
function createOutputFile(path: string, options: MapOptions, offset: number, length: number | undefined): void {
  if (options.access !== "readwrite") throw new VmwindowError("INVALID_ARGUMENT", `create: true makes an output file: it needs access: "readwrite"`);
  if (typeof length !== "number") throw new VmwindowError("INVALID_ARGUMENT", `create: true needs a length (the file's size from offset), e.g. { access: "readwrite", create: true, length: 1 << 20 }`);
  // Non-blocking: a FIFO at `path` must not hang here (mapFile refuses it by type).
  const fd = openFile(path, constants.O_RDWR | constants.O_CREAT | constants.O_NONBLOCK, 0o644, "cannot create");
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

/** An open window's native handle, its state while that is reachable, and its guests' callbacks. */
interface Tracked {
  readonly handle: Pointer;
  readonly state: WeakRef<WindowState>;
  readonly callbacks: Set<JSCallback>;
}

// By handle, the open windows. The finalizer gets the window's own entry, not its handle: a window
// `reclaimDropped` released has a finalizer still to run, and by then a new window may have the
// same handle (the native allocator reuses it), which that finalizer must not release.
const tracked = new Map<Pointer, Tracked>();
const dropped = new FinalizationRegistry<Tracked>((entry) => release(entry));
let warned = false;

/** Regions and guests hold the window's state, not the Window: it is dropped when they all are. */
function track(state: WindowState, handle: Pointer): void {
  const entry = { handle, state: new WeakRef(state), callbacks: state.callbacks };
  tracked.set(handle, entry);
  dropped.register(state, entry, state);
}

function untrack(state: WindowState, handle: Pointer): void {
  tracked.delete(handle);
  dropped.unregister(state);
}

/** Destroys the native window of a Window that was garbage-collected without close(), once. */
function release(entry: Tracked): void {
  if (tracked.get(entry.handle) !== entry) return;
  tracked.delete(entry.handle);
  if (!warned) {
    warned = true;
    console.warn("vmwindow: a Window was garbage-collected without close(): released now. Close windows when done (window.close(), or `using window = Window.create()`).");
  }
  lib.windowRelease(entry.handle);
  // The native guests are gone: nothing calls their host imports any more.
  for (const callback of entry.callbacks) callback.close();
  entry.callbacks.clear();
}

/** Collects garbage and releases every dropped window now. */
function reclaimDropped(): void {
  Bun.gc(true);
  for (const entry of [...tracked.values()]) if (entry.state.deref() === undefined) release(entry);
}
