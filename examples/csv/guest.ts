// CSV group-by guest: sum and count of one numeric column per value of a key column, over a file the
// host maps range by range (the file can be larger than the window). Rows that straddle two ranges
// are not lost: each call consumes whole lines only and tells the host where the next range has to
// start. Written with the SDK's scanning primitives: Tokens (SIMD delimiter search), parseDecimal
// (= JS parseFloat), hashBytes, bytesEqual, copyBytes. Nothing allocates per row.
//
//   region of one range:   |skip| line | line | ... | line |partial line|
//                          ^     ^ first whole line          ^ consumed (returned): the host maps
//                          offset                              the next range from here
import { regions, Tokens, parseDecimal, hashBytes, bytesEqual, copyBytes, indexOfByte, lastIndexOfByte } from "@vmwindow/guest";

// Group table: open addressing, GROUP_SLOTS records of RECORD bytes in static memory:
//   [0..4) key length u32 | [4..36) key bytes | [40..48) count u64 | [48..56) sum f64
// @ts-ignore: decorator
@inline const GROUP_SLOTS: usize = 4096;
// @ts-ignore: decorator
@inline const RECORD: usize = 56;
// @ts-ignore: decorator
@inline const KEY_MAX: usize = 32;
// @ts-ignore: decorator
@lazy const table: usize = memory.data(<i32>(GROUP_SLOTS * RECORD), 16);
let groups: u32 = 0;
let skipped: u64 = 0;
let keyColumn: u32 = 1;
let valueColumn: u32 = 2;
let tokens: Tokens | null = null;

/** Starts a new aggregation: group by column `key`, sum column `value` (0-based). */
export function reset(key: u32, value: u32): void {
  for (let i: usize = 0; i < GROUP_SLOTS * RECORD; i += 8) store<u64>(table + i, 0);
  groups = 0;
  skipped = 0;
  keyColumn = key;
  valueColumn = value;
}

/**
 * Aggregates the whole lines of region `id` from byte `skip` on (the bytes before it belong to the
 * previous range). With `last` false, stops at the last newline: returns the region-relative offset
 * just past it (the host continues there). With `last` true, the final line counts even without a
 * newline. `header` true: the first line is a header and is skipped.
 */
export function add_range(id: u32, skip: usize, last: bool, header: bool): usize {
  const region = regions.get(id);
  let start = region.offset + skip;
  let length = region.length - skip;
  if (header) {
    let nl = indexOfByte(start, length, 0x0a);
    if (nl < 0) return region.length;
    start += <usize>nl + 1;
    length -= <usize>nl + 1;
  }
  if (!last) {
    let nl = lastIndexOfByte(start, length, 0x0a);
    if (nl < 0) return skip; // no whole line in this range: the host must map a longer one
    length = <usize>nl + 1;
  }
  if (tokens === null) tokens = new Tokens();
  let t = tokens!.reset(start, length, 0x2c, 0x0a);
  let need = <u32>max(keyColumn, valueColumn);
  let fields: u32;
  while ((fields = t.nextRecord()) != 0) { // one record (line) per call: its fields' positions
    if (fields > need && need < Tokens.MAX_FIELDS) {
      add(t.fieldStart(keyColumn), t.fieldLength(keyColumn), parseDecimal(t.fieldStart(valueColumn), t.fieldLength(valueColumn)));
    } else if (fields > 1 || t.fieldLength(0) > 0) {
      skipped++; // a short row (an empty line is not a row)
    }
  }
  return start + length - region.offset;
}

function add(key: usize, keyLength: usize, value: f64): void {
  if (keyLength > KEY_MAX) {
    skipped++;
    return;
  }
  let slot = <usize>hashBytes(key, keyLength) & (GROUP_SLOTS - 1);
  while (true) {
    let record = table + slot * RECORD;
    let length = <usize>load<u32>(record);
    if (length == 0) {
      if (groups >= <u32>(GROUP_SLOTS / 2)) abort("csv example: more than 2048 groups");
      store<u32>(record, <u32>keyLength + 1); // + 1: an empty key is a group too
      copyBytes(record + 4, key, keyLength);
      groups++;
      length = keyLength + 1;
    }
    if (length == keyLength + 1 && bytesEqual(record + 4, key, keyLength)) {
      store<u64>(record, load<u64>(record, 40) + 1, 40);
      store<f64>(record, load<f64>(record, 48) + value, 48);
      return;
    }
    slot = (slot + 1) & (GROUP_SLOTS - 1);
  }
}

/** Rows without the key or value column (or with a key longer than 32 bytes), so far. */
export function skipped_rows(): u64 {
  return skipped;
}

/**
 * Writes the groups into region `outId` (read-write): one RECORD-byte record each, key length (+1)
 * first, as in the table. Returns how many.
 */
export function write_groups(outId: u32): u32 {
  const out = regions.get(outId);
  if (<usize>groups * RECORD > out.length) abort("csv example: output region too small");
  let at = out.offset;
  for (let slot: usize = 0; slot < GROUP_SLOTS; slot++) {
    let record = table + slot * RECORD;
    if (load<u32>(record) == 0) continue;
    copyBytes(at, record, RECORD);
    at += RECORD;
  }
  return groups;
}
