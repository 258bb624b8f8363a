// A window: one reserved address range that is a guest's whole linear memory, with host files
// mapped into it. The public entry point of @vmwindow/bun.
import { readFileSync } from "node:fs";
import type { Pointer } from "bun:ffi";
import { closedError, throwResult, VmwindowError } from "./errors.ts";
import { native, Result, takeHandle, utf8 } from "./ffi.ts";
import { Guest, type GuestOwner } from "./guest.ts";
import { Region, type Access, type RegionOwner } from "./region.ts";

export const PAGE_BYTES = 65_536;
export const DEFAULT_WINDOW_BYTES = 2 ** 31;
export const DEFAULT_GUEST_BYTES = 16 * 2 ** 20;
export const DEFAULT_CAPACITY = 16_384;
export const NAME_MAX_BYTES = 24;

export interface WindowOptions {
  /** The guest memory's size: a multiple of 64 KiB, at most 4 GiB. Default 2 GiB. */
  sizeBytes?: number;
  /** The guest's own area (data, stack, heap): a multiple of 64 KiB. Default 16 MiB. */
  guestBytes?: number;
  /** Region table entries (max live regions), 1..32767. Default 16384. */
  capacity?: number;
}

export interface MapOptions {
  /** "read" (default) or "readwrite" (guest and host writes go to the file). */
  access?: Access;
  /** A name published in the region table (at most 24 UTF-8 bytes). */
  name?: string;
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

const ACCESS_CODES: Record<Access, number> = { read: 1, readwrite: 3 };

export class Window implements Disposable, RegionOwner, GuestOwner {
  readonly layout: WindowLayout;
  #handle: Pointer | null;
  #base: Pointer;
  #regions = new Map<number, Region>();
  #guest: Guest | undefined;
  #regionOut = new BigUint64Array(4);

  private constructor(handle: Pointer) {
    this.#handle = handle;
    this.#base = native.vmw_window_base(handle)!;
    const out = new BigUint64Array(7);
    const result = native.vmw_window_layout(handle, out);
    if (result !== Result.OK) throwResult(result);
    this.layout = Object.freeze({
      sizeBytes: Number(out[0]),
      tableOffset: Number(out[1]),
      tableBytes: Number(out[2]),
      guestBase: Number(out[3]),
      guestBytes: Number(out[4]),
      slotsBase: Number(out[5]),
      capacity: Number(out[6]! & 0xffff_ffffn),
    });
  }

  /** Reserves a new window. See WindowOptions for sizes and defaults. */
  static create(options: WindowOptions = {}): Window {
    const sizeBytes = checkSize("sizeBytes", options.sizeBytes ?? DEFAULT_WINDOW_BYTES);
    const guestBytes = checkSize("guestBytes", options.guestBytes ?? DEFAULT_GUEST_BYTES);
    const capacity = options.capacity ?? DEFAULT_CAPACITY;
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > 0xffff_ffff) {
      throw new VmwindowError("INVALID_ARGUMENT", `capacity must be a positive integer, got ${String(capacity)}`);
    }
    const { result, handle } = takeHandle((out) => native.vmw_window_create(sizeBytes, guestBytes, capacity, out));
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

  /** Live regions, by id. */
  get regions(): ReadonlyMap<number, Region> {
    return this.#regions;
  }

  get guest(): Guest | undefined {
    return this.#guest;
  }

  /** Maps a whole regular file into a free slot. Empty files and directories are refused. */
  mapFile(path: string, options: MapOptions = {}): Region {
    const handle = this.#open();
    if (typeof path !== "string" || path.length === 0) {
      throw new VmwindowError("INVALID_ARGUMENT", `path must be a non-empty string, got ${JSON.stringify(path)}`);
    }
    const access = options.access ?? "read";
    const accessCode = ACCESS_CODES[access];
    if (accessCode === undefined) {
      throw new VmwindowError("INVALID_ARGUMENT", `access must be "read" or "readwrite", got ${JSON.stringify(access)}`);
    }
    const name = options.name;
    const nameBytes = name === undefined ? null : utf8(name);
    if (nameBytes && nameBytes.length > NAME_MAX_BYTES) {
      throw new VmwindowError("INVALID_ARGUMENT", `region name ${JSON.stringify(name)} is ${nameBytes.length} bytes; at most ${NAME_MAX_BYTES}`);
    }
    const pathBytes = utf8(path);
    const out = this.#regionOut;
    const result = native.vmw_window_map_file(
      handle,
      pathBytes,
      pathBytes.length,
      accessCode,
      nameBytes && nameBytes.length > 0 ? nameBytes : null,
      nameBytes?.length ?? 0,
      out,
    );
    if (result !== Result.OK) throwResult(result);
    const words = new Uint32Array(out.buffer, 16, 3);
    const region = new Region(this, {
      offset: Number(out[0]),
      length: Number(out[1]),
      id: words[0]!,
      generation: words[1]!,
      access,
      name,
    });
    this.#regions.set(region.id, region);
    return region;
  }

  /** Compiles and instantiates a guest module (bytes, or a path to a .wasm file) over this window. */
  instantiate(wasm: Uint8Array | ArrayBuffer | string): Guest {
    const handle = this.#open();
    let bytes: Uint8Array;
    if (typeof wasm === "string") {
      try {
        bytes = readFileSync(wasm);
      } catch (error) {
        throw new VmwindowError("NOT_FOUND", `cannot read guest module ${wasm}: ${(error as Error).message}`);
      }
    } else if (wasm instanceof Uint8Array) {
      bytes = wasm;
    } else if (wasm instanceof ArrayBuffer) {
      bytes = new Uint8Array(wasm);
    } else {
      throw new VmwindowError("INVALID_ARGUMENT", "instantiate takes a Uint8Array, an ArrayBuffer or a path");
    }
    if (bytes.length === 0) throw new VmwindowError("BAD_MODULE", "the module is empty (0 bytes)");
    const { result, handle: guestHandle } = takeHandle((out) => native.vmw_guest_create(handle, bytes, bytes.length, out));
    if (result !== Result.OK || guestHandle === null) throwResult(result);
    this.#guest = new Guest(this, guestHandle);
    return this.#guest;
  }

  /** Closes the guest, unmaps every region (their views detach) and releases the window. */
  close(): void {
    const handle = this.#handle;
    if (handle === null) return;
    if (this.#guest) this.releaseGuest(this.#guest);
    for (const region of this.#regions.values()) region.detach();
    this.#regions.clear();
    this.#handle = null;
    native.vmw_window_destroy(handle);
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** @internal */
  unmapRegion(region: Region): void {
    const handle = this.#open();
    if (this.#regions.get(region.id) !== region) throw closedError(`region ${region.id}`);
    // Detach host views before the pages go away.
    region.detach();
    this.#regions.delete(region.id);
    const result = native.vmw_window_unmap(handle, region.id, region.generation);
    if (result !== Result.OK) throwResult(result);
  }

  /** @internal */
  releaseGuest(guest: Guest): void {
    if (this.#guest !== guest || guest.handle === null) return;
    native.vmw_guest_destroy(guest.handle);
    guest.detach();
    this.#guest = undefined;
  }

  #open(): Pointer {
    if (this.#handle === null) throw closedError("window");
    return this.#handle;
  }
}

function checkSize(what: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value <= 0) {
    throw new VmwindowError("INVALID_ARGUMENT", `${what} must be a positive integer number of bytes, got ${String(value)}`);
  }
  if (value % PAGE_BYTES !== 0) {
    throw new VmwindowError("INVALID_ARGUMENT", `${what} must be a multiple of 65536 (64 KiB), got ${value}`);
  }
  return value;
}
