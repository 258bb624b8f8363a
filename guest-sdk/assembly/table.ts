// The region table at TABLE_OFFSET, read in place. `regions` is an unmanaged view of the header;
// `regions.get(id)` returns the entry as a Region. Nothing here allocates.

import {
  MAGIC, ABI_VERSION, TABLE_OFFSET, HEADER_BYTES, ENTRY_BYTES, GUEST_BASE,
  HEADER_MAGIC, HEADER_ABI_VERSION, HEADER_HEADER_BYTES, HEADER_ENTRY_BYTES, HEADER_CAPACITY,
  HEADER_COUNT, HEADER_GENERATION, HEADER_WINDOW_BYTES, HEADER_GUEST_BASE, HEADER_GUEST_BYTES,
  HEADER_SLOTS_BASE, ENTRY_STATE, STATE_LIVE, entryAddress
} from "./abi";
import { Region } from "./region";
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
    if (!this.has(id)) notMapped(id);
    return changetype<Region>(entryAddress(id));
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
