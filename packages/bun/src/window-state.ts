// What a window's `Window`, `Region`s and `Guest`s share: the native handle (null once closed), the
// memory's first byte and layout, the region table's bytes, the live regions by id and the guests.
// Regions and guests hold this, not the Window, so none of them needs the others' methods; a
// window is released when this becomes unreachable without close() (window.ts).
import type { JSCallback, Pointer } from "bun:ffi";
import { closedError } from "./errors.ts";
import { lib, type WindowLayout } from "./ffi.ts";
import type { Guest } from "./guest.ts";
import type { Region } from "./region.ts";
import { TableView } from "./table.ts";

export class WindowState {
  handle: Pointer | null;
  readonly base: Pointer;
  readonly layout: WindowLayout;
  readonly table: TableView;
  // Indexed by region id. Not a Map: in Bun 1.4 a Map of ~16k entries costs ~80 us per
  // set + delete of one key (measured), which made map/unmap O(live regions).
  regions: (Region | undefined)[] = [];
  readonly guests = new Set<Guest<object>>();
  /** Its guests' host-import callbacks: closed with their guests, or when the window is released
   * without close() (window.ts; the set does not hold the state, so it outlives it). */
  readonly callbacks = new Set<JSCallback>();

  constructor(handle: Pointer) {
    this.handle = handle;
    const { base, layout } = lib.windowLayout(handle);
    this.base = base;
    this.layout = layout;
    this.table = new TableView(lib.windowBytes(base, layout.tableOffset, layout.tableBytes));
  }

  /** The native window; throws CLOSED once it is closed. */
  open(): Pointer {
    if (this.handle === null) throw closedError("window");
    return this.handle;
  }

  /** The native window, if `region` is one of its live regions; throws CLOSED otherwise. */
  owned(region: Region): Pointer {
    const handle = this.open();
    if (this.regions[region.id] !== region) throw closedError(`region ${region.id}`);
    return handle;
  }

  /** Whether `region` is a live region of this window (for `map` handlers' results). */
  ownsRegion(region: unknown): boolean {
    const id = (region as Region | null)?.id;
    return this.handle !== null && typeof id === "number" && id > 0 && this.regions[id] === region;
  }

  /** Guest-area bytes `[address, address + length)`, or null if outside the guest area. */
  guestBytes(address: number, length: number): Uint8Array | null {
    const { guestBase, guestBytes } = this.layout;
    if (address < guestBase || length < 0 || address + length > guestBase + guestBytes) return null;
    if (length === 0) return new Uint8Array(0);
    this.open();
    return new Uint8Array(lib.windowBytes(this.base, address, length));
  }
}
