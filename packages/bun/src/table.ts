// The region table as the host reads it: the window's own bytes at `layout.tableOffset`, the same
// entries guests read (docs/abi.md, "Region table"). The native layer writes them; JS only reads.
//
//   tableOffset -> | header (HEADER_BYTES)                                        |
//                  | entry 1 (ENTRY_BYTES): offset_bytes u64 | length_bytes u64 |  |
//                  |   slot_bytes u64 | id u32 | generation u32 | state u32 |    |
//                  |   access u32 | name u8[24]                                  |
//                  | entry 2 ... entry capacity                                   |
import { ENTRY_BYTES, HEADER_BYTES } from "./abi.ts";

const ENTRY_WORDS = ENTRY_BYTES / 4;
const HEADER_WORDS = HEADER_BYTES / 4;
const transfer = ArrayBuffer.prototype.transfer;

export class TableView {
  #buffer: ArrayBuffer;
  #words: Uint32Array;

  /** `buffer`: the table's bytes in the window (zero-copy). */
  constructor(buffer: ArrayBuffer) {
    this.#buffer = buffer;
    this.#words = new Uint32Array(buffer);
  }

  /** One field of entry `id`: a u32 at byte `field` of the entry (ENTRY.*). */
  u32(id: number, field: number): number {
    const value = this.#words[HEADER_WORDS + (id - 1) * ENTRY_WORDS + field / 4];
    if (value === undefined) throw closedTable(id);
    return value;
  }

  /** One u64 field of entry `id` (below 2^53), at byte `field` of the entry (ENTRY.*). */
  u64(id: number, field: number): number {
    const word = HEADER_WORDS + (id - 1) * ENTRY_WORDS + field / 4;
    const low = this.#words[word];
    if (low === undefined) throw closedTable(id);
    return low + this.#words[word + 1]! * 0x1_0000_0000;
  }

  /** Before the window's memory goes away: from now on every read throws instead of faulting. */
  detach(): void {
    if (!this.#buffer.detached) transfer.call(this.#buffer, 0);
    this.#words = new Uint32Array(0);
  }
}

/** A read that cannot happen (regions keep their last state when their window closes): a bug. */
function closedTable(id: number): Error {
  return new Error(`vmwindow: region table entry ${id} read after its window closed`);
}
