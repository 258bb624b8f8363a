// Heap bounds for the confined runtimes. The guest area is [guest_base, guest_base + guest_bytes)
// per the region-table header; static data and the shadow stack sit at its start (below
// __heap_base), the heap gets the rest. Nothing here may allocate.

import {
  MAGIC, ABI_VERSION, TABLE_OFFSET, GUEST_BASE, HEADER_MAGIC, HEADER_ABI_VERSION,
  HEADER_GUEST_BASE, HEADER_GUEST_BYTES
} from "@vmwindow/guest/assembly/abi";
import { begin, text, number, fail } from "@vmwindow/guest/assembly/panic";

/**
 * Bytes left unused after __heap_base. asc 0.28 points the shadow stack's "stack overflow"
 * abort at message/file strings just past __heap_base that it never emits as data; keeping
 * the heap off them makes that abort arrive as two empty strings instead of heap garbage.
 */
// @ts-ignore: decorator
@inline export const HEAP_BASE_GAP: usize = 256;

/** End of the guest area (exclusive), read from the table header; aborts if there is no table. */
export function heapEnd(): usize {
  if (
    load<u32>(TABLE_OFFSET, HEADER_MAGIC) != MAGIC ||
    load<u32>(TABLE_OFFSET, HEADER_ABI_VERSION) != ABI_VERSION
  ) {
    begin();
    text("vmwindow: cannot allocate: no vmwindow v1 region table at 0x10000 (the host must publish it before instantiating)");
    fail();
  }
  let base = load<u64>(TABLE_OFFSET, HEADER_GUEST_BASE);
  let end = base + load<u64>(TABLE_OFFSET, HEADER_GUEST_BYTES);
  let memEnd = <u64>memory.size() << 16;
  if (base != <u64>GUEST_BASE || end > memEnd || <u64>__heap_base > end) {
    begin();
    text("vmwindow: guest area [");
    number(base);
    text(", ");
    number(end);
    text(") cannot hold this guest (static data and stack end at ");
    number(__heap_base);
    text(", memory ends at ");
    number(memEnd);
    text(")");
    fail();
  }
  return <usize>end;
}

/** Aborts: "vmwindow: guest heap exhausted (N bytes requested): ...how to get more". */
export function exhausted(size: usize): void {
  begin();
  text("vmwindow: guest heap exhausted (");
  number(size);
  text(" bytes requested): give the window a bigger guest area (Window.create({ guestBytes }), vmwindow run --guest-bytes) or allocate less");
  fail();
}
