// A region of a window: a file (whole or a byte range) or anonymous scratch memory mapped into a
// slot, with a zero-copy view of its bytes and its lifecycle (remap, resize, flush, unmap).
import { toArrayBuffer, type Pointer } from "bun:ffi";
import { closedError, VmwindowError } from "./errors.ts";

export type Access = "read" | "readwrite";
export type RegionKind = "file" | "anonymous";

/** The state of a region as the native library reports it. */
export interface RegionState {
  readonly id: number;
  readonly generation: number;
  readonly offset: number;
  readonly length: number;
  readonly fileOffset: number;
  readonly slotBytes: number;
  readonly access: Access;
  readonly kind: RegionKind;
  /** Part of the region faulted because its file shrank after it was mapped (see `damaged`). */
  readonly damaged: boolean;
}

export interface RemapOptions {
  /** Byte offset in the file: a multiple of the OS page size (4096). Default 0. */
  offset?: number;
  /** Bytes to map. Default: to the end of the file. */
  length?: number;
  /** Default: the region's current access for file regions, "read" for anonymous ones. */
  access?: Access;
}

/** What a region needs from its window (kept minimal so the two modules stay decoupled). */
export interface RegionOwner {
  readonly basePointer: Pointer;
  readonly handleForSharing: Pointer;
  unmapRegion(region: Region): void;
  remapRegion(region: Region, path: string, options: RemapOptions): RegionState;
  resizeRegion(region: Region, lengthBytes: number): RegionState;
  flushRegion(region: Region): void;
  /** `lengthBytes` undefined: to the region's end. */
  releaseRegionPages(region: Region, offsetBytes: number, lengthBytes: number | undefined): void;
  regionState(region: Region): RegionState;
}

export class Region implements Disposable {
  /** The region's name in the table, if it has one. */
  readonly name: string | undefined;
  #owner: RegionOwner;
  #state: RegionState;
  #path: string | undefined;
  #buffer: ArrayBuffer | undefined;
  #mapped = true;

  /** @internal Windows create regions; use `Window.mapFile` or `Window.mapAnonymous`. */
  constructor(owner: RegionOwner, state: RegionState, name: string | undefined, path: string | undefined) {
    this.#owner = owner;
    this.#state = state;
    this.name = name;
    this.#path = path;
  }

  /** Table id (1..capacity); guests look the region up by it. Stays the same across remap/resize. */
  get id(): number {
    return this.#state.id;
  }
  /** Changes on every remap, resize and unmap: (id, generation) names one state of the region. */
  get generation(): number {
    return this.#state.generation;
  }
  /** Byte offset in the window = the guest address of the first byte (64 KiB aligned). */
  get offset(): number {
    return this.#state.offset;
  }
  /** Length in bytes. */
  get length(): number {
    return this.#state.length;
  }
  /** Where in the file the region starts (0 for anonymous regions). */
  get fileOffset(): number {
    return this.#state.fileOffset;
  }
  /** The slot the region occupies: its length rounded up to 64 KiB. */
  get slotBytes(): number {
    return this.#state.slotBytes;
  }
  get access(): Access {
    return this.#state.access;
  }
  get kind(): RegionKind {
    return this.#state.kind;
  }
  /**
   * True once part of the region faulted because its file was truncated (by another process)
   * after it was mapped: the guest's first access there trapped, and those pages now read as
   * zeros for guest and host alike. Remap or unmap the region to recover.
   */
  get damaged(): boolean {
    this.#check();
    return this.#owner.regionState(this).damaged;
  }
  /** The file it maps (undefined for anonymous regions). */
  get path(): string | undefined {
    return this.#path;
  }
  get mapped(): boolean {
    return this.#mapped;
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
      this.#buffer = guardTransfer(toArrayBuffer(this.#owner.basePointer, this.#state.offset, this.#state.length));
    }
    return new Uint8Array(this.#buffer);
  }

  /** Points the region at another file or byte range; it keeps its id and name. */
  remap(path: string, options: RemapOptions = {}): this {
    this.#check();
    this._detachViews();
    this.#state = this.#owner.remapRegion(this, path, options);
    this.#path = path;
    return this;
  }

  /** Changes the length (files: within the file; anonymous: keeps contents, new bytes are zero). */
  resize(lengthBytes: number): this {
    this.#check();
    this._detachViews();
    this.#state = this.#owner.resizeRegion(this, lengthBytes);
    return this;
  }

  /** Writes modified pages of a read-write file region to disk and waits (msync). */
  flush(): void {
    this.#check();
    this.#owner.flushRegion(this);
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
    this.#check();
    this.#owner.releaseRegionPages(this, offset, length);
  }

  /** @internal The native window that holds this region (for `mapShared` in another window). */
  ownerHandle(): Pointer {
    this.#check();
    return this.#owner.handleForSharing;
  }

  /** Unmaps the region; its slot traps again for the guest. Throws if already unmapped. */
  unmap(): void {
    this.#check();
    this.#owner.unmapRegion(this);
  }

  [Symbol.dispose](): void {
    if (this.#mapped) this.unmap();
  }

  /**
   * @internal Detaches the region's host views before its pages move or go away. A view that an
   * asynchronous operation still holds (zlib, fs, streams: Bun pins its memory until the operation
   * completes) cannot be detached, and would then read whatever the slot maps next: throws BUSY
   * instead, and nothing changes.
   */
  _detachViews(): void {
    const buffer = this.#buffer;
    if (buffer !== undefined && !buffer.detached) {
      // transfer(0) detaches the external buffer: every view over it now has length 0. For a
      // pinned buffer Bun makes an empty copy and leaves this one attached.
      transfer.call(buffer, 0);
      if (!buffer.detached) {
        throw new VmwindowError(
          "BUSY",
          `region ${this.#state.id}'s bytes are still in use by an asynchronous operation (zlib, fs, a stream...): await it before unmapping, remapping or resizing the region or closing its window`,
        );
      }
    }
    this.#buffer = undefined;
  }

  /** @internal Called by the window once the native mapping is gone (views already detached). */
  _unmapped(): void {
    this.#mapped = false;
    this.#buffer = undefined;
  }

  #check(): void {
    if (!this.#mapped) throw closedError(`region ${this.#state.id}`);
  }
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
