// A region of a window: a file (whole or a byte range) or anonymous scratch memory mapped into a
// slot, with a zero-copy view of its bytes and its lifecycle (remap, resize, flush, unmap). Its
// offset, length, generation and access are read from the window's region table, where the native
// layer keeps them (table.ts); a region that is gone keeps the last state it had.
import type { Pointer } from "bun:ffi";
import { ACCESS, ENTRY } from "./abi.ts";
import { accessArgument, byteCount, optionsArgument, pathArgument, type OptionNames } from "./arguments.ts";
import { closedError, VmwindowError } from "./errors.ts";
import { accessName, lib, type Access, type RegionKind, type RegionState } from "./ffi.ts";
import type { WindowState } from "./window-state.ts";

export type { Access, RegionKind, RegionState };

export interface RemapOptions {
  /** Byte offset in the file: a multiple of the OS page size (4096). Default 0. */
  offset?: number;
  /** Bytes to map. Default: to the end of the file. */
  length?: number;
  /** Default: the region's current access for file regions, "read" for anonymous ones. */
  access?: Access;
}

const REMAP_OPTIONS: OptionNames<RemapOptions> = { offset: true, length: true, access: true };

/** What window.ts does to regions, which is no part of a Region's API (index.ts does not export it). */
export interface RegionFriend {
  /** The Region for a region a map call of `window` just made (`state`), now live in it. */
  adopt(window: WindowState, state: RegionState, name: string | undefined, path: string | undefined): Region;
  /** Detaches the region's views (BUSY if an asynchronous operation holds them). */
  detachViews(region: Region): void;
  /** The region's state now, taken before its window's memory goes away. */
  state(region: Region): RegionState;
  /** The native mapping is gone (its window closed): the region keeps `last`. */
  unmapped(region: Region, last: RegionState): void;
  /** The native window and (id, generation) of a live region, for another window's mapShared. */
  source(region: Region): { window: Pointer; id: number; generation: number };
}
export let regionFriend: RegionFriend;

export class Region implements Disposable {
  /** The region's name in the table, if it has one. */
  readonly name: string | undefined;
  readonly #id: number;
  #window: WindowState;
  #fileOffset: number;
  #path: string | undefined;
  #buffer: ArrayBuffer | undefined;
  /** Set once the region is gone: its last state. */
  #last: RegionState | undefined;
  /** Why it is gone, for the CLOSED message. */
  #gone = "";

  private constructor(window: WindowState, state: RegionState, name: string | undefined, path: string | undefined) {
    this.#window = window;
    this.#id = state.id;
    this.#fileOffset = state.fileOffset;
    this.name = name;
    this.#path = path;
  }

  static {
    regionFriend = {
      adopt(window, state, name, path) {
        const region = new Region(window, state, name, path);
        window.regions[state.id] = region;
        return region;
      },
      detachViews: (region) => region.#detachViews(),
      state: (region) => region.#state(),
      unmapped(region, last) {
        region.#gone = "its window is closed";
        region.#last = last;
        region.#buffer = undefined;
      },
      source: (region) => ({ window: region.#owned(), id: region.#id, generation: region.generation }),
    };
  }

  /** Table id (1..capacity); guests look the region up by it. Stays the same across remap/resize. */
  get id(): number {
    return this.#id;
  }
  /** Changes on every remap, resize and unmap: (id, generation) names one state of the region. */
  get generation(): number {
    return this.#last?.generation ?? this.#window.table.u32(this.#id, ENTRY.generation);
  }
  /** Byte offset in the window = the guest address of the first byte (64 KiB aligned). */
  get offset(): number {
    return this.#last?.offset ?? this.#window.table.u64(this.#id, ENTRY.offsetBytes);
  }
  /** Length in bytes. */
  get length(): number {
    return this.#last?.length ?? this.#window.table.u64(this.#id, ENTRY.lengthBytes);
  }
  /** Where in the file the region starts (0 for anonymous regions). */
  get fileOffset(): number {
    return this.#last?.fileOffset ?? this.#fileOffset;
  }
  /** The slot the region occupies: its length rounded up to 64 KiB. */
  get slotBytes(): number {
    return this.#last?.slotBytes ?? this.#window.table.u64(this.#id, ENTRY.slotBytes);
  }
  get access(): Access {
    return this.#last?.access ?? accessName(this.#window.table.u32(this.#id, ENTRY.access));
  }
  get kind(): RegionKind {
    return this.#last?.kind ?? kindName(this.#window.table.u32(this.#id, ENTRY.access));
  }
  /**
   * True once part of the region faulted because its file was truncated (by another process)
   * after it was mapped: the guest's first access there trapped, and those pages now read as
   * zeros for guest and host alike. Remap or unmap the region to recover.
   */
  get damaged(): boolean {
    // A native call, not the table alone: a fault host code took (reading `bytes`) is recorded by
    // the signal handler and reaches the table at the window's next native call.
    return lib.windowRegion(this.#owned(), this.#id).damaged;
  }
  /** The file it maps (undefined for anonymous regions). */
  get path(): string | undefined {
    return this.#path;
  }
  get mapped(): boolean {
    return this.#last === undefined;
  }

  /**
   * The region's bytes, zero-copy: the same memory the guest reads and writes. A view is detached
   * (length 0) when the region is unmapped, remapped or resized, or its window closes, so a stale
   * view reads nothing instead of faulting; take a fresh one after a change. Do not write through
   * it when `access` is "read" (the pages are read-only: the process would fault).
   */
  get bytes(): Uint8Array {
    this.#check();
    // A fresh buffer if none yet, or if the caller detached ours (e.g. `bytes.buffer.transfer()`).
    if (this.#buffer === undefined || this.#buffer.detached) {
      this.#buffer = guardTransfer(lib.windowBytes(this.#window.base, this.offset, this.length));
    }
    return new Uint8Array(this.#buffer);
  }

  /** Points the region at another file or byte range; it keeps its id and name. */
  remap(path: string, options: RemapOptions = {}): this {
    const window = this.#owned();
    options = optionsArgument("remap options", options, REMAP_OPTIONS);
    const file = {
      path: pathArgument(path),
      offset: byteCount("offset", options.offset ?? 0, true),
      length: options.length === undefined ? undefined : byteCount("length", options.length, false),
      access: accessArgument(options.access ?? (this.kind === "file" ? this.access : "read")),
    };
    this.#detachViews();
    this.#fileOffset = lib.windowRemapFile(window, this.#id, this.generation, file).fileOffset;
    this.#path = path;
    return this;
  }

  /** Changes the length (files: within the file; anonymous: keeps contents, new bytes are zero). */
  resize(lengthBytes: number): this {
    const window = this.#owned();
    const length = byteCount("lengthBytes", lengthBytes, false);
    this.#detachViews();
    lib.windowResize(window, this.#id, this.generation, length);
    return this;
  }

  /** Writes modified pages of a read-write file region to disk and waits (msync). */
  flush(): void {
    lib.windowFlush(this.#owned(), this.#id, this.generation);
  }

  /**
   * Takes `[offset, offset + length)` of a file region out of the process's resident memory (RSS):
   * the bytes stay in the file and read the same, the next access faults them back in from the
   * page cache. Call it behind a scan of a region much larger than the memory you want to hold.
   * `offset` is a multiple of the OS page size (4096; 16384 on macOS arm64); the range defaults to
   * the rest of the region. Views stay valid.
   * Anonymous regions are refused (their pages would be lost).
   */
  releasePages(offset = 0, length?: number): void {
    const window = this.#owned();
    const from = byteCount("offset", offset, true);
    if (length === undefined && from >= this.length) {
      throw new VmwindowError("OUT_OF_RANGE", `offset ${from} is at or past the end of region ${this.#id} (${this.length} bytes)`);
    }
    const count = length === undefined ? this.length - from : byteCount("length", length, false);
    lib.windowReleasePages(window, this.#id, this.generation, from, count);
  }

  /** Unmaps the region; its slot traps again for the guest. Throws if already unmapped. */
  unmap(): void {
    const window = this.#owned();
    // Detach host views before the pages go away (BUSY if an asynchronous operation holds one).
    this.#detachViews();
    const last = this.#state();
    // Forgotten only once the native side has unmapped it: a failure leaves it live and usable.
    lib.windowUnmap(window, this.#id, last.generation);
    this.#window.regions[this.#id] = undefined;
    this.#gone = "it is unmapped";
    this.#last = last;
  }

  [Symbol.dispose](): void {
    if (this.mapped) this.unmap();
  }

  /**
   * Detaches the region's host views before its pages move or go away. A view that an
   * asynchronous operation still holds (zlib, fs, streams: Bun pins its memory until the operation
   * completes) cannot be detached, and would then read whatever the slot maps next: throws BUSY
   * instead, and nothing changes.
   */
  #detachViews(): void {
    const buffer = this.#buffer;
    if (buffer !== undefined && !buffer.detached) {
      // transfer(0) detaches the external buffer: every view over it now has length 0. For a
      // pinned buffer Bun makes an empty copy and leaves this one attached.
      transfer.call(buffer, 0);
      if (!buffer.detached) {
        throw new VmwindowError(
          "BUSY",
          `region ${this.#id}'s bytes are still in use by an asynchronous operation (zlib, fs, a stream...): await it before unmapping, remapping or resizing the region or closing its window`,
        );
      }
    }
    this.#buffer = undefined;
  }

  /** The region's state now (its last one once it is gone). */
  #state(): RegionState {
    if (this.#last !== undefined) return this.#last;
    const access = this.#window.table.u32(this.#id, ENTRY.access);
    return {
      id: this.#id,
      generation: this.generation,
      offset: this.offset,
      length: this.length,
      fileOffset: this.#fileOffset,
      slotBytes: this.slotBytes,
      access: accessName(access),
      kind: kindName(access),
      damaged: (access & ACCESS.DAMAGED) !== 0,
    };
  }

  /** The native window, while this region is live in it; throws CLOSED otherwise. */
  #owned(): Pointer {
    this.#check();
    return this.#window.owned(this);
  }

  #check(): void {
    if (this.#last !== undefined) throw closedError(`region ${this.#id}`, this.#gone);
  }
}

/** A table entry's access bits as the region's kind. */
function kindName(bits: number): RegionKind {
  return (bits & ACCESS.ANONYMOUS) !== 0 ? "anonymous" : "file";
}

const transfer = ArrayBuffer.prototype.transfer;

/**
 * `buffer.transfer()` would move the window memory into an ArrayBuffer the region does not know
 * about, so unmap could not detach it (a later read would fault). Refuse it on the instance.
 * (`structuredClone(buffer, { transfer })` / `postMessage` cannot be refused: see
 * docs/reliability.md.)
 */
function guardTransfer(buffer: ArrayBuffer): ArrayBuffer {
  const refuse = () => {
    throw new VmwindowError("INVALID_ARGUMENT", "a region's bytes cannot be transferred (the view would outlive the mapping); copy them with slice()");
  };
  Object.defineProperty(buffer, "transfer", { value: refuse });
  Object.defineProperty(buffer, "transferToFixedLength", { value: refuse });
  return buffer;
}
