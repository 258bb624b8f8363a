// The checksum example's guest computes CRC-32 over mapped files; the oracle is zlib's CRC-32 of
// the same bytes read from disk.
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { crc32 } from "node:zlib";
import { Window } from "@vmwindow/bun";
import { guests, patternBytes, tempFile } from "./helpers.ts";

const sizes = [1, 7, 65_535, 65_536, 65_537, 3 * 2 ** 20 + 5, 16 * 2 ** 20];

test.each(sizes)("guest CRC-32 equals zlib's for a %d-byte file", (size) => {
  const path = tempFile(patternBytes(size, size));
  using window = Window.create({ sizeBytes: 256 * 2 ** 20 });
  using guest = window.instantiate(guests.checksum);
  using region = window.mapFile(path);
  const fromGuest = (guest.call("crc32", region.id) as number) >>> 0;
  expect(fromGuest).toBe(crc32(readFileSync(path)) >>> 0);
});

test("many files through one guest, mapped and unmapped in turn", () => {
  using window = Window.create({ sizeBytes: 256 * 2 ** 20 });
  using guest = window.instantiate(guests.checksum);
  for (let i = 0; i < 50; i++) {
    const bytes = patternBytes(1 + i * 4099, i + 1);
    using region = window.mapFile(tempFile(bytes));
    expect((guest.call("crc32", region.id) as number) >>> 0).toBe(crc32(bytes) >>> 0);
  }
});
