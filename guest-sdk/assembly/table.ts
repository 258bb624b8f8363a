// The region table at TABLE_OFFSET, read in place. `regions` is an unmanaged view of the header;
// `regions.get(id)` returns the entry as a Region. Nothing here allocates.

import {
  MAGIC, ABI_VERSION, TABLE_OFFSET, HEADER_BYTES, ENTRY_BYTES, GUEST_BASE,
  HEADER_MAGIC, HEADER_ABI_VERSION, HEADER_HEADER_BYTES, HEADER_ENTRY_BYTES, HEADER_CAPACITY,
  HEADER_COUNT, HEADER_GENERATION, HEADER_WINDOW_BYTES, HEADER_GUEST_BASE, HEADER_GUEST_BYTES,
  HEADER_SLOTS_BASE, ENTRY_STATE, ENTRY_NAME, STATE_LIVE, entryAddress
} from "./abi";
import { Region, nameMatches } from "./region";
import { requestMapping } from "./host";
import { begin, text, number, hex, fail } from "./panic";

// @ts-ignore: decorator
@lazy let checked = false;

@unmanaged
export class RegionTable {
  /** Magic, version and sizes, checked on first use (aborts with a clear message if wrong). */
  // @ts-ignore: decorator
  @inline check(): void {
    if (!checked) checkHeader();
  }
  /** Number of entries: valid ids are 1..=capacity. */
  // @ts-ignore: decorator
  @inline get capacity(): u32 {
    this.check();
    return load<u32>(TABLE_OFFSET, HEADER_CAPACITY);
  }
  /** Number of live regions. */
  // @ts-ignore: decorator
  @inline get count(): u32 {
    this.check();
    return load<u32>(TABLE_OFFSET, HEADER_COUNT);
  }
  /** Table change counter (odd while the host is writing). */
  // @ts-ignore: decorator
  @inline get generation(): u32 {
    return load<u32>(TABLE_OFFSET, HEADER_GENERATION);
  }
  // @ts-ignore: decorator
  @inline get windowBytes(): u64 {
    return load<u64>(TABLE_OFFSET, HEADER_WINDOW_BYTES);
  }
  // @ts-ignore: decorator
  @inline get guestBase(): usize {
    return <usize>load<u64>(TABLE_OFFSET, HEADER_GUEST_BASE);
  }
  // @ts-ignore: decorator
  @inline get guestBytes(): usize {
    return <usize>load<u64>(TABLE_OFFSET, HEADER_GUEST_BYTES);
  }
  // @ts-ignore: decorator
  @inline get slotsBase(): usize {
    return <usize>load<u64>(TABLE_OFFSET, HEADER_SLOTS_BASE);
  }

  /** Whether `id` names a live region. */
  // @ts-ignore: decorator
  @inline has(id: u32): bool {
    return id - 1 < this.capacity && load<u32>(entryAddress(id), ENTRY_STATE) == STATE_LIVE;
  }

  /** The live region `id`; aborts with "vmwindow: region <id> is not mapped" otherwise. */
  // @ts-ignore: decorator
  @inline get(id: u32): Region {
    if (!this.has(id)) {
      notMapped(id);
      unreachable();
    }
    return changetype<Region>(entryAddress(id));
  }

  /** The live region named `name`, or null. A linear scan of the table (cache the id). */
  find(name: string): Region | null {
    let capacity = this.capacity;
    for (let id: u32 = 1; id <= capacity; ++id) {
      let entry = entryAddress(id);
      if (load<u32>(entry, ENTRY_STATE) == STATE_LIVE && nameMatches(entry + ENTRY_NAME, name)) {
        return changetype<Region>(entry);
      }
    }
    return null;
  }

  /**
   * The first live region id after `id` (0 when there is none): iterate with
   * `for (let id = regions.next(0); id != 0; id = regions.next(id)) { let r = regions.get(id); ... }`.
   */
  next(id: u32): u32 {
    let capacity = this.capacity;
    for (let k = id + 1; k <= capacity && k != 0; ++k) {
      if (load<u32>(entryAddress(k), ENTRY_STATE) == STATE_LIVE) return k;
    }
    return 0;
  }

  /**
   * Whether the table changed since `generation` (a value read earlier from `generation`): any
   * map or unmap bumps it. Keep region lookups cached while this stays false.
   */
  // @ts-ignore: decorator
  @inline changedSince(generation: u32): bool {
    return load<u32>(TABLE_OFFSET, HEADER_GENERATION) != generation;
  }

  /** Whether the host is writing the table right now (odd generation; only with host threads). */
  // @ts-ignore: decorator
  @inline get changing(): bool {
    return (load<u32>(TABLE_OFFSET, HEADER_GENERATION) & 1) != 0;
  }

  /**
   * Asks the host to map `name` (the host decides what the name means, and may refuse). Returns
   * the new region, or null if the host refused or failed.
   */
  request(name: string, writable: bool = false): Region | null {
    let id = requestMapping(name, writable);
    if (id <= 0 || !this.has(<u32>id)) return null;
    return changetype<Region>(entryAddress(<u32>id));
  }

  /**
   * The region named by `handle` (`region.handle`, saved earlier): aborts with "vmwindow: region
   * <id> changed since its handle was taken (generation <g>, now <h>)" if the host unmapped,
   * remapped or resized it since (or reused the id for another file), and with "region <id> is not
   * mapped" if it is gone.
   */
  // @ts-ignore: decorator
  @inline resolve(handle: u64): Region {
    let region = this.get(<u32>handle);
    if (region.generation != <u32>(handle >>> 32)) {
      staleHandle(handle, region.generation);
      unreachable();
    }
    return region;
  }

  /** Whether `handle` still names the current mapping of a live region. */
  // @ts-ignore: decorator
  @inline isCurrent(handle: u64): bool {
    let id = <u32>handle;
    return this.has(id) && this.getUnchecked(id).generation == <u32>(handle >>> 32);
  }

  /** Entry `id` whatever its state (no checks at all). */
  // @ts-ignore: decorator
  @inline getUnchecked(id: u32): Region {
    return changetype<Region>(entryAddress(id));
  }
}

/** The region table of this guest's window. */
export const regions = changetype<RegionTable>(TABLE_OFFSET);

function checkHeader(): void {
  let magic = load<u32>(TABLE_OFFSET, HEADER_MAGIC);
  if (magic != MAGIC) {
    begin();
    text("vmwindow: no region table at 0x10000 (magic ");
    hex(magic);
    text(", expected 0x54574d56); is this guest running in a vmwindow window?");
    fail();
  }
  let version = load<u32>(TABLE_OFFSET, HEADER_ABI_VERSION);
  if (version != ABI_VERSION) {
    begin();
    text("vmwindow: region table has ABI version ");
    number(version);
    text(", this guest was built for version 1");
    fail();
  }
  if (
    load<u32>(TABLE_OFFSET, HEADER_HEADER_BYTES) != <u32>HEADER_BYTES ||
    load<u32>(TABLE_OFFSET, HEADER_ENTRY_BYTES) != <u32>ENTRY_BYTES ||
    load<u64>(TABLE_OFFSET, HEADER_GUEST_BASE) != <u64>GUEST_BASE
  ) {
    begin();
    text("vmwindow: region table header has unexpected sizes (header/entry bytes or guest base)");
    fail();
  }
  checked = true;
}

function notMapped(id: u32): void {
  begin();
  text("vmwindow: region ");
  number(id);
  text(" is not mapped");
  fail();
}

function staleHandle(handle: u64, now: u32): void {
  begin();
  text("vmwindow: region ");
  number(<u32>handle);
  text(" changed since its handle was taken (generation ");
  number(handle >>> 32);
  text(", now ");
  number(now);
  text(")");
  fail();
}
