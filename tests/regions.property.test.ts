// Property test: random sequences of map / unmap / remap / resize / flush / close against a simple
// model. After every step it checks, independently of the library's own bookkeeping:
// - the table bytes in the window equal the model (count, and each entry's state/offset/length/
//   access/generation/name);
// - no two regions overlap, and all lie in the slot area;
// - every live region's bytes equal its file's bytes (or the anonymous bytes the model wrote); a
//   range that ends inside an OS page the file continues past has that page as a private copy
//   (the model keeps it: taken at map time, written back - only the bytes the region changed -
//   on flush, resize, remap, unmap and close when read-write);
// - the guest reads zeros past a region's length up to the end of its last OS page: no byte of
//   the file outside the range shows, and writes there never reach the file;
// - a free slot and the unmapped tail of a slot are PROT_NONE: a guest read traps;
// - /proc/self/maps has no mapping in the window that a live region does not explain, every live
//   region is mapped, and /proc/self/fd shows no leaked descriptor.
// Scale with VMW_PROPERTY_SEQUENCES (default 1000 sequences of 12 steps) and VMW_PROPERTY_SEED.
import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { toArrayBuffer } from "bun:ffi";
import { GuestTrap, Window, type Guest, type Region } from "@vmwindow/bun";
import { windowBasePointer } from "../packages/bun/src/window.ts";
import { guests, patternBytes, RESERVATION_BYTES, tempFile } from "./helpers.ts";

const SEQUENCES = Number(process.env.VMW_PROPERTY_SEQUENCES ?? 1000);
const STEPS = 12;
const SEED = Number(process.env.VMW_PROPERTY_SEED ?? 20261124);
const PAGE = 65_536;
const OS_PAGE = 4096;
const WINDOW = { sizeBytes: 32 * 2 ** 20, guestBytes: 2 ** 20, capacity: 24 };

/** mulberry32: small, seedable, good enough to drive a test. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

interface TestFile {
  path: string;
  bytes: Uint8Array;
}

interface ModelRegion {
  region: Region;
  kind: "file" | "anonymous";
  file?: TestFile;
  fileOffset: number;
  length: number;
  access: "read" | "readwrite";
  name: string;
  /** Anonymous regions: what the test wrote (the expected contents). */
  scratch?: Uint8Array;
  /** File regions whose last OS page is a private copy: its bytes in the region (`current`), as
   * last taken from or written to the file (`saved`), and the file offset they start at. */
  tail?: { fileStart: number; current: Uint8Array; saved: Uint8Array };
}

/** The model of a file region's private tail (see the header), or undefined if it has none. */
function takeTail(file: TestFile, fileOffset: number, length: number): ModelRegion["tail"] {
  const end = fileOffset + length;
  if (length % OS_PAGE === 0 || end >= file.bytes.length) return undefined;
  const fileStart = end - (length % OS_PAGE);
  return { fileStart, current: file.bytes.slice(fileStart, end), saved: file.bytes.slice(fileStart, end) };
}

/** A read-write region's tail write-back: the bytes it changed reach the file. */
function writeBack(entry: ModelRegion): void {
  const tail = entry.tail;
  if (!tail || entry.access !== "readwrite") return;
  for (let i = 0; i < tail.current.length; i++) {
    if (tail.current[i] === tail.saved[i]) continue;
    entry.file!.bytes[tail.fileStart + i] = tail.current[i]!;
    tail.saved[i] = tail.current[i]!;
  }
}

/** window.close(): every region's tail write-back, in region id order. */
function writeBackAll(model: Map<number, ModelRegion>): void {
  for (const entry of [...model.values()].sort((a, b) => a.region.id - b.region.id)) writeBack(entry);
}

/** Descriptors regions hold: one per read-write region with a private tail (to write it back). */
function tailFds(model: Map<number, ModelRegion>): number {
  let count = 0;
  for (const entry of model.values()) if (entry.tail && entry.access === "readwrite") count++;
  return count;
}

test(`${SEQUENCES} random sequences of ${STEPS} region operations match the model`, () => {
  const next = random(SEED);
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: T[]) => items[int(items.length)]!;

  // Read-write regions write into their files, so each file keeps a mirror of its bytes.
  const files: TestFile[] = [1, 4095, 4097, 65_536, 70_000, 200_000, 3 * 65_536 + 1].map((size, index) => {
    const bytes = patternBytes(size, index + 11);
    return { path: tempFile(bytes), bytes };
  });
  const fdsWithoutWindow = readdirSync("/proc/self/fd").length;
  let window = Window.create(WINDOW);
  let guest = window.instantiate(guests.probe);
  // A window and its guest hold a few descriptors of their own (the table's and the guest area's
  // memory); regions must hold none.
  const fdsBefore = readdirSync("/proc/self/fd").length;
  let model = new Map<number, ModelRegion>();
  let steps = 0;
  let names = 0;

  const randomRange = (file: TestFile) => {
    const pages = Math.ceil(file.bytes.length / OS_PAGE);
    const fileOffset = int(pages) * OS_PAGE;
    const available = file.bytes.length - fileOffset;
    const length = next() < 0.5 ? undefined : 1 + int(available);
    return { fileOffset, length };
  };

  for (let sequence = 0; sequence < SEQUENCES; sequence++) {
    for (let step = 0; step < STEPS; step++) {
      const live = [...model.values()];
      const choice = next();
      if (choice < 0.3 || live.length === 0) {
        if (model.size >= WINDOW.capacity) continue;
        if (next() < 0.75) {
          const file = pick(files);
          const { fileOffset, length } = randomRange(file);
          const access = next() < 0.3 ? "readwrite" : "read";
          const name = next() < 0.5 ? `r${names++ % 1000}` : "";
          const region = window.mapFile(file.path, { offset: fileOffset, length, access, name: name || undefined });
          const fullLength = length ?? file.bytes.length - fileOffset;
          model.set(region.id, { region, kind: "file", file, fileOffset, length: fullLength, access, name, tail: takeTail(file, fileOffset, fullLength) });
        } else {
          const length = 1 + int(150_000);
          const region = window.mapAnonymous(length);
          model.set(region.id, { region, kind: "anonymous", fileOffset: 0, length, access: "readwrite", name: "", scratch: new Uint8Array(length) });
        }
      } else if (choice < 0.5) {
        const entry = pick(live);
        entry.region.unmap();
        writeBack(entry);
        model.delete(entry.region.id);
      } else if (choice < 0.62) {
        const entry = pick(live);
        const file = pick(files);
        const { fileOffset, length } = randomRange(file);
        const access = next() < 0.3 ? "readwrite" : "read";
        entry.region.remap(file.path, { offset: fileOffset, length, access });
        writeBack(entry);
        const fullLength = length ?? file.bytes.length - fileOffset;
        Object.assign(entry, { kind: "file", file, fileOffset, length: fullLength, access, scratch: undefined, tail: takeTail(file, fileOffset, fullLength) });
      } else if (choice < 0.77) {
        const entry = pick(live);
        if (entry.kind === "file") {
          const length = 1 + int(entry.file!.bytes.length - entry.fileOffset);
          entry.region.resize(length);
          writeBack(entry);
          entry.length = length;
          entry.tail = takeTail(entry.file!, entry.fileOffset, length);
        } else {
          const length = 1 + int(150_000);
          entry.region.resize(length);
          const scratch = new Uint8Array(length);
          scratch.set(entry.scratch!.subarray(0, Math.min(length, entry.length)));
          entry.scratch = scratch;
          entry.length = length;
        }
      } else if (choice < 0.92) {
        // Write a byte through the host view (writable regions), as a guest or host app would.
        const entry = pick(live);
        if (entry.access === "readwrite") {
          const index = int(entry.length);
          const value = int(256);
          if (next() < 0.5) entry.region.bytes[index] = value;
          else guest.call("store_u8", entry.region.offset + index, value);
          if (entry.kind === "anonymous") entry.scratch![index] = value;
          else if (entry.tail && entry.fileOffset + index >= entry.tail.fileStart) entry.tail.current[entry.fileOffset + index - entry.tail.fileStart] = value;
          else entry.file!.bytes[entry.fileOffset + index] = value;
          if (next() < 0.3) {
            entry.region.flush();
            writeBack(entry);
          }
        }
      } else if (choice < 0.97) {
        const entry = pick(live);
        entry.region.flush();
        writeBack(entry);
      } else {
        window.close();
        writeBackAll(model);
        for (const entry of live) expect(entry.region.mapped).toBe(false);
        window = Window.create(WINDOW);
        guest = window.instantiate(guests.probe);
        model = new Map();
      }
      steps++;
      checkAll(window, guest, model, int);
      expect(readdirSync("/proc/self/fd").length).toBe(fdsBefore + tailFds(model));
    }
  }
  window.close();
  writeBackAll(model);
  expect(readdirSync("/proc/self/fd").length).toBe(fdsWithoutWindow);
  // Every read-write write reached its file (the oracle is the mirror the test kept).
  for (const file of files) expect(Buffer.from(readFileSync(file.path)).equals(Buffer.from(file.bytes))).toBe(true);
  expect(steps).toBeGreaterThan(SEQUENCES * STEPS * 0.9);
}, 600_000);

function checkAll(window: Window, guest: Guest, model: Map<number, ModelRegion>, int: (n: number) => number): void {
  const layout = window.layout;
  const table = new DataView(toArrayBuffer(windowBasePointer(window), layout.tableOffset, layout.tableBytes));

  // 1. The published table equals the model.
  expect(table.getUint32(20, true)).toBe(model.size);
  for (let id = 1; id <= layout.capacity; id++) {
    const entry = 64 + (id - 1) * 64;
    const expected = model.get(id);
    const state = table.getUint32(entry + 32, true);
    if (!expected) {
      if (state !== 0) throw new Error(`table entry ${id} is live but the model has no region ${id}`);
      continue;
    }
    const { region } = expected;
    const accessBits = expected.kind === "anonymous" ? 7 : expected.access === "readwrite" ? 3 : 1;
    const actual = {
      state,
      offset: Number(table.getBigUint64(entry, true)),
      length: Number(table.getBigUint64(entry + 8, true)),
      access: table.getUint32(entry + 36, true),
      generation: table.getUint32(entry + 28, true),
      name: new TextDecoder().decode(new Uint8Array(table.buffer, entry + 40, 24)).replace(/\0+$/, ""),
    };
    expect(actual).toEqual({ state: 1, offset: region.offset, length: expected.length, access: accessBits, generation: region.generation, name: expected.name });
  }

  // 2. No overlap; all inside the slot area.
  const sorted = [...model.values()].map((m) => m.region).sort((a, b) => a.offset - b.offset);
  let end = layout.slotsBase;
  for (const region of sorted) {
    expect(region.offset).toBeGreaterThanOrEqual(end);
    expect(region.offset % PAGE).toBe(0);
    expect(region.slotBytes).toBe(Math.ceil(region.length / PAGE) * PAGE);
    end = region.offset + region.slotBytes;
  }
  expect(end).toBeLessThanOrEqual(layout.sizeBytes);

  // 3. Every live region reads its bytes.
  for (const entry of model.values()) {
    let expected = entry.kind === "anonymous" ? entry.scratch! : entry.file!.bytes.subarray(entry.fileOffset, entry.fileOffset + entry.length);
    if (entry.tail) {
      expected = expected.slice();
      expected.set(entry.tail.current, entry.tail.fileStart - entry.fileOffset);
    }
    if (!Buffer.from(entry.region.bytes).equals(Buffer.from(expected))) {
      throw new Error(`region ${entry.region.id} (${entry.kind}) does not read its expected bytes`);
    }
  }

  // 4. Past a region's length, up to the end of its last OS page, the guest reads zeros: no file
  //    byte outside the range (the page's other bytes are the file's, or a private copy's zeros).
  for (const entry of model.values()) {
    const mappedEnd = Math.ceil(entry.length / OS_PAGE) * OS_PAGE;
    if (mappedEnd === entry.length) continue;
    const index = entry.length + int(mappedEnd - entry.length);
    if (guest.call("load_u8", entry.region.offset + index) !== 0) throw new Error(`region ${entry.region.id} shows a nonzero byte ${index - entry.length} bytes past its end`);
  }

  // 5. A free page and a slot's unmapped tail trap for the guest.
  const free: number[] = [];
  let cursor = layout.slotsBase;
  for (const region of sorted) {
    if (region.offset > cursor) free.push(cursor + int((region.offset - cursor) / PAGE) * PAGE);
    const mappedEnd = region.offset + Math.ceil(region.length / OS_PAGE) * OS_PAGE;
    if (mappedEnd < region.offset + region.slotBytes) free.push(mappedEnd + int((region.offset + region.slotBytes - mappedEnd) / OS_PAGE) * OS_PAGE);
    cursor = region.offset + region.slotBytes;
  }
  if (cursor < layout.sizeBytes) free.push(cursor + int((layout.sizeBytes - cursor) / PAGE) * PAGE);
  for (const address of free.length > 2 ? [free[int(free.length)]!, free[int(free.length)]!] : free) {
    expect(() => guest.call("load_u8", address)).toThrow(GuestTrap);
  }

  // 6. /proc/self/maps: in the slot area, every file or read-write mapping is explained by a live
  //    region of that kind (and file), and every live region's pages are mapped.
  checkMaps(window, model);
}

function checkMaps(window: Window, model: Map<number, ModelRegion>): void {
  const base = Number(windowBasePointer(window));
  const slotsStart = base + window.layout.slotsBase;
  const slotsEnd = base + window.layout.sizeBytes;
  const covered: [number, number, string][] = []; // [start, end, what]
  for (const entry of model.values()) {
    const start = base + entry.region.offset;
    const end = start + Math.ceil(entry.length / OS_PAGE) * OS_PAGE;
    // A private tail is anonymous memory in the region's last page.
    const fileEnd = entry.tail ? end - OS_PAGE : end;
    if (fileEnd > start) covered.push([start, fileEnd, entry.kind === "anonymous" ? "" : entry.file!.path]);
    if (fileEnd < end) covered.push([fileEnd, end, ""]);
  }
  let mappedBytes = 0;
  for (const line of readFileSync("/proc/self/maps", "utf8").split("\n")) {
    if (!line) continue;
    const [range, perms, , , inode, ...rest] = line.split(/\s+/);
    const [startHex, endHex] = range!.split("-");
    let start = parseInt(startHex!, 16);
    let end = parseInt(endHex!, 16);
    if (end <= slotsStart || start >= slotsEnd) continue;
    if (perms!.startsWith("---")) continue; // PROT_NONE: free, or a slot's tail
    start = Math.max(start, slotsStart);
    end = Math.min(end, slotsEnd);
    const path = inode === "0" ? "" : rest.join(" ");
    // The mapping must lie inside live regions' mapped ranges of the same backing.
    let position = start;
    for (const [coveredStart, coveredEnd, what] of covered.sort((a, b) => a[0] - b[0])) {
      if (coveredEnd <= position || coveredStart > position) continue;
      if (what !== path) throw new Error(`mapping ${line} is in region space of ${what || "anonymous memory"}`);
      position = coveredEnd;
      if (position >= end) break;
    }
    if (position < end) throw new Error(`leaked mapping in the window: ${line}`);
    mappedBytes += end - start;
  }
  const expectedBytes = covered.reduce((sum, [start, end]) => sum + (end - start), 0);
  expect(mappedBytes).toBe(expectedBytes);
  expect(base % PAGE).toBe(0);
  expect(window.layout.sizeBytes).toBeLessThan(RESERVATION_BYTES);
}
