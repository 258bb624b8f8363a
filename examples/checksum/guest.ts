// Checksum guest: CRC-32 (IEEE 802.3: reflected, poly 0xEDB88320, init/xorout 0xFFFFFFFF; the
// same as zlib.crc32 and Bun.hash.crc32) over a whole mapped region, read in place (`crc32`), or
// over part of one, continuing a running CRC (`crc32_update`). It imports nothing but env.memory
// and env.abort, so it runs in any wasm host (tests/checksum.test.ts runs it in Bun's own).
// Slicing-by-8: 8 tables of 256 u32 in static memory, built once; 8 bytes per step.
import { regions } from "@vmwindow/guest";

// @ts-ignore: decorator
@lazy const TABLES: usize = memory.data(8 * 256 * 4, 64);
// @ts-ignore: decorator
@lazy let ready = false;

function buildTables(): void {
  for (let n: u32 = 0; n < 256; ++n) {
    let c = n;
    for (let k = 0; k < 8; ++k) c = c & 1 ? 0xEDB88320 ^ (c >>> 1) : c >>> 1;
    store<u32>(TABLES + (<usize>n << 2), c);
  }
  for (let n: usize = 0; n < 256; ++n) {
    let c = load<u32>(TABLES + (n << 2));
    for (let t: usize = 1; t < 8; ++t) {
      c = load<u32>(TABLES + ((c & 0xFF) << 2)) ^ (c >>> 8);
      store<u32>(TABLES + (t << 10) + (n << 2), c);
    }
  }
  ready = true;
}

// @ts-ignore: decorator
@inline function T(t: usize, byte: u32): u32 {
  return load<u32>(TABLES + (t << 10) + (<usize>byte << 2));
}

/** CRC-32 of `length` bytes at `ptr`, continuing from `crc` (0 to start). */
export function crc32_update(crc: u32, ptr: usize, length: usize): u32 {
  if (!ready) buildTables();
  let c = ~crc;
  let end = ptr + length;
  // Bytewise up to 8-byte alignment (regions are 64 KiB aligned, so only for sub-ranges).
  while (ptr < end && (ptr & 7)) {
    c = T(0, (c ^ <u32>load<u8>(ptr)) & 0xFF) ^ (c >>> 8);
    ++ptr;
  }
  let end8 = ptr + ((end - ptr) & ~<usize>7);
  while (ptr < end8) {
    let w = load<u64>(ptr);
    let lo = <u32>w ^ c;
    let hi = <u32>(w >>> 32);
    c = T(7, lo & 0xFF) ^ T(6, (lo >>> 8) & 0xFF) ^ T(5, (lo >>> 16) & 0xFF) ^ T(4, lo >>> 24) ^
        T(3, hi & 0xFF) ^ T(2, (hi >>> 8) & 0xFF) ^ T(1, (hi >>> 16) & 0xFF) ^ T(0, hi >>> 24);
    ptr += 8;
  }
  while (ptr < end) {
    c = T(0, (c ^ <u32>load<u8>(ptr)) & 0xFF) ^ (c >>> 8);
    ++ptr;
  }
  return ~c;
}

/** CRC-32 of the whole region `id` (aborts if `id` is not mapped). */
export function crc32(id: u32): u32 {
  let region = regions.get(id);
  return crc32_update(0, region.offset, region.length);
}
