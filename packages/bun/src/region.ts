// A file mapped into a window: its place in the window and a zero-copy view of its bytes.
import { toArrayBuffer, type Pointer } from "bun:ffi";
import { closedError } from "./errors.ts";

export type Access = "read" | "readwrite";

/** What a region needs from its window (kept minimal so the two modules stay decoupled). */
export interface RegionOwner {
  readonly basePointer: Pointer;
  unmapRegion(region: Region): void;
}

export interface RegionInfo {
  id: number;
  generation: number;
  offset: number;
  length: number;
  access: Access;
  name: string | undefined;
}

export class Region implements Disposable {
  /** Table id (1..capacity); guests look the region up by it. */
  readonly id: number;
  /** Bumped each time the id is reused; (id, generation) names this mapping only. */
  readonly generation: number;
  /** Byte offset in the window = the guest address of the first byte. */
  readonly offset: number;
  /** Length in bytes (the file's size when mapped). */
  readonly length: number;
  readonly access: Access;
  readonly name: string | undefined;

  #owner: RegionOwner;
  #buffer: ArrayBuffer | undefined;
  #mapped = true;

  /** @internal Windows create regions; use `Window.mapFile`. */
  constructor(owner: RegionOwner, info: RegionInfo) {
    this.#owner = owner;
    this.id = info.id;
    this.generation = info.generation;
    this.offset = info.offset;
    this.length = info.length;
    this.access = info.access;
    this.name = info.name;
  }

  get mapped(): boolean {
    return this.#mapped;
  }

  /**
   * The region's bytes, zero-copy: the same memory the guest reads and writes. Views obtained here
   * are detached (length 0) when the region is unmapped or its window closes, so a stale view reads
   * nothing instead of faulting. Do not write through it when `access` is "read".
   */
  get bytes(): Uint8Array {
    if (!this.#mapped) throw closedError(`region ${this.id}`);
    this.#buffer ??= toArrayBuffer(this.#owner.basePointer, this.offset, this.length);
    return new Uint8Array(this.#buffer);
  }

  /** Unmaps the region; its slot traps again for the guest. Throws if already unmapped. */
  unmap(): void {
    if (!this.#mapped) throw closedError(`region ${this.id}`);
    this.#owner.unmapRegion(this);
  }

  [Symbol.dispose](): void {
    if (this.#mapped) this.unmap();
  }

  /** @internal Called by the window once the native mapping is gone. */
  detach(): void {
    this.#mapped = false;
    // transfer(0) detaches the external buffer: every view over it now has length 0.
    this.#buffer?.transfer(0);
    this.#buffer = undefined;
  }
}
