// The region lifecycle from Bun: byte ranges, anonymous scratch memory, placement, remap, resize,
// flush, and the distinct error of every bad input. Oracles: the files' bytes, a guest's reads.
import { describe, expect, test } from "bun:test";
import { closeSync, openSync, readFileSync, writeSync } from "node:fs";
import { Window, VmwindowError, GuestTrap } from "@vmwindow/bun";
import { windowBasePointer } from "../packages/bun/src/window.ts";
import { guests, mappingRssKiB, patternBytes, smallWindow, tempFile, thrown } from "./helpers.ts";

const codeOf = (run: () => unknown): string => thrown(VmwindowError, run).code;

const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

describe("kinds of region", () => {
  test("a byte range of a file: the guest and the host see exactly that range", () => {
    const contents = patternBytes(400_000, 3);
    const path = tempFile(contents);
    using window = Window.create(smallWindow);
    using guest = window.instantiate(guests.probe);
    using region = window.mapFile(path, { offset: 8192, length: 100_000 });
    expect(region.fileOffset).toBe(8192);
    expect(region.length).toBe(100_000);
    expect(same(region.bytes, contents.subarray(8192, 108_192))).toBe(true);
    expect(guest.call("load_u8", region.offset + 5)).toBe(contents[8192 + 5]!);
    let sum = 0n;
    for (const byte of contents.subarray(8192, 108_192)) sum += BigInt(byte);
    expect(guest.call("region_sum_u8", region.id)).toBe(sum);
    using tail = window.mapFile(path, { offset: 397_312 });
    expect(same(tail.bytes, contents.subarray(397_312))).toBe(true);
  });

  test("anonymous scratch memory is zeroed, shared with the guest, and keeps its bytes across resize", () => {
    using window = Window.create(smallWindow);
    using guest = window.instantiate(guests.probe);
    using scratch = window.mapAnonymous(1000, { name: "scratch" });
    expect(scratch.kind).toBe("anonymous");
    expect(scratch.access).toBe("readwrite");
    expect(scratch.bytes.every((byte) => byte === 0)).toBe(true);
    guest.call("store_u8", scratch.offset + 10, 99);
    expect(scratch.bytes[10]).toBe(99);
    const blocker = window.mapAnonymous(1, { at: scratch.offset + 65_536 });
    const oldOffset = scratch.offset;
    const oldView = scratch.bytes;
    scratch.resize(200_000); // cannot grow in place: moves, with its contents
    expect(scratch.offset).not.toBe(oldOffset);
    expect(oldView.length).toBe(0); // views of the old state are detached
    expect(scratch.bytes[10]).toBe(99);
    expect(scratch.bytes[199_999]).toBe(0);
    expect(guest.call("load_u8", scratch.offset + 10)).toBe(99);
    expect(() => guest.call("load_u8", oldOffset)).toThrow(GuestTrap);
    blocker.unmap();
  });

  test("remap keeps the id, stays in place when it fits, and the guest reads the new file", () => {
    const first = patternBytes(10_000, 1);
    const second = patternBytes(9_000, 2);
    const large = patternBytes(200_000, 4);
    using window = Window.create(smallWindow);
    using guest = window.instantiate(guests.probe);
    using region = window.mapFile(tempFile(first), { name: "input" });
    const { id, offset, generation } = region;
    region.remap(tempFile(second));
    expect([region.id, region.offset]).toEqual([id, offset]);
    expect(region.generation).not.toBe(generation);
    expect(guest.call("region_length", id)).toBe(9_000);
    expect(same(region.bytes, second)).toBe(true);
    window.mapAnonymous(1, { at: offset + 65_536 });
    region.remap(tempFile(large), { access: "readwrite" });
    expect(region.offset).not.toBe(offset);
    expect(region.access).toBe("readwrite");
    expect(guest.call("load_u8", region.offset + 150_000)).toBe(large[150_000]!);
  });

  test("resize of a file region within its file; flush makes writes durable", () => {
    const contents = patternBytes(300_000, 5);
    const path = tempFile(contents);
    using window = Window.create(smallWindow);
    using region = window.mapFile(path, { length: 1000, access: "readwrite" });
    region.resize(250_000);
    expect(same(region.bytes, contents.subarray(0, 250_000))).toBe(true);
    expect(codeOf(() => region.resize(300_001))).toBe("OUT_OF_RANGE");
    region.bytes[200_000] = 0xee;
    region.flush();
    expect(readFileSync(path)[200_000]).toBe(0xee);
  });

  test("a 50 GiB (sparse) file viewed piece by piece through a 64 MiB window", () => {
    const path = tempFile("");
    const fd = openSync(path, "r+");
    const GiB = 2 ** 30;
    writeSync(fd, Buffer.from("piece at 49 GiB"), 0, 15, 49 * GiB + 5);
    writeSync(fd, Buffer.from("end"), 0, 3, 50 * GiB - 3);
    closeSync(fd);
    using window = Window.create(smallWindow);
    using guest = window.instantiate(guests.probe);
    using piece = window.mapFile(path, { offset: 49 * GiB, length: 2 ** 20 });
    expect(new TextDecoder().decode(piece.bytes.subarray(5, 20))).toBe("piece at 49 GiB");
    expect(guest.call("load_u8", piece.offset + 5)).toBe("p".charCodeAt(0));
    piece.remap(path, { offset: 50 * GiB - 4096 });
    expect(piece.length).toBe(4096);
    expect(new TextDecoder().decode(piece.bytes.subarray(4093))).toBe("end");
  });

  test("releasePages drops a file region's pages from RSS; bytes and unflushed writes stay", () => {
    const size = 4 * 2 ** 20;
    const contents = patternBytes(size, 11);
    const path = tempFile(contents);
    using window = Window.create(smallWindow);
    using region = window.mapFile(path, { access: "readwrite" });
    const address = Number(windowBasePointer(window)) + region.offset;
    const bytes = region.bytes;
    expect(same(bytes, contents)).toBe(true); // faults every page in
    expect(mappingRssKiB(address)).toBeGreaterThanOrEqual(size / 1024);
    bytes[123] = contents[123]! ^ 0xff; // dirty, not flushed
    region.releasePages(size / 2, size / 2 - 10); // rounded up to the page: the whole second half
    expect(mappingRssKiB(address)).toBeLessThanOrEqual(size / 2 / 1024 + 64);
    expect(mappingRssKiB(address)).toBeGreaterThanOrEqual(size / 2 / 1024); // the first half stays
    region.releasePages();
    expect(mappingRssKiB(address)).toBeLessThanOrEqual(64);
    expect(bytes[123]).toBe(contents[123]! ^ 0xff); // the same view, faulted back in
    expect(readFileSync(path)[123]).toBe(contents[123]! ^ 0xff); // in the page cache, so in the file
    bytes[123] = contents[123]!;
    expect(same(bytes, contents)).toBe(true);

    expect(codeOf(() => region.releasePages(100))).toBe("UNALIGNED");
    expect(codeOf(() => region.releasePages(0, size + 1))).toBe("OUT_OF_RANGE");
    expect(codeOf(() => region.releasePages(size))).toBe("OUT_OF_RANGE"); // nothing left to release
    expect(codeOf(() => region.releasePages(0, 0))).toBe("INVALID_ARGUMENT");
    expect(codeOf(() => region.releasePages(Symbol() as never))).toBe("INVALID_ARGUMENT");
    expect(codeOf(() => region.releasePages(-4096))).toBe("INVALID_ARGUMENT");
    using scratch = window.mapAnonymous(4096);
    expect(codeOf(() => scratch.releasePages())).toBe("INVALID_ARGUMENT");
    region.unmap();
    expect(codeOf(() => region.releasePages())).toBe("CLOSED");
  });

  test("placement at a chosen offset", () => {
    using window = Window.create(smallWindow);
    const at = window.layout.slotsBase + 7 * 65_536;
    using region = window.mapAnonymous(10, { at });
    expect(region.offset).toBe(at);
  });
});

describe("every bad input has its own error", () => {
  test.each([
    ["file offset not page-aligned", { offset: 100 }, "UNALIGNED"],
    ["file offset past end of file", { offset: 1 << 20 }, "OUT_OF_RANGE"],
    ["range past end of file", { offset: 4096, length: 10_000 }, "OUT_OF_RANGE"],
    ["length 0", { length: 0 }, "INVALID_ARGUMENT"],
    ["negative offset", { offset: -4096 }, "INVALID_ARGUMENT"],
    ["NaN length", { length: Number.NaN }, "INVALID_ARGUMENT"],
    ["fractional length", { length: 1.5 }, "INVALID_ARGUMENT"],
    ["huge length", { length: 2 ** 60 }, "INVALID_ARGUMENT"],
    ["window offset not 64 KiB-aligned", { at: 3 * 2 ** 20 + 4096 }, "UNALIGNED"],
    ["window offset in the guest area", { at: 0x210000 }, "OVERLAP"],
    ["window offset past the window", { at: 64 * 2 ** 20 }, "OUT_OF_RANGE"],
    ["window offset 0", { at: 0 }, "INVALID_ARGUMENT"],
  ])("%s", (_label, options, code) => {
    using window = Window.create(smallWindow);
    const path = tempFile(patternBytes(10_000));
    expect(codeOf(() => window.mapFile(path, options))).toBe(code);
    expect(window.regions.size).toBe(0);
  });

  test("overlapping placement, stale handles, double unmap", () => {
    using window = Window.create(smallWindow);
    const at = window.layout.slotsBase;
    const region = window.mapAnonymous(100_000, { at });
    expect(codeOf(() => window.mapAnonymous(1, { at: at + 65_536 }))).toBe("OVERLAP");
    region.unmap();
    expect(codeOf(() => region.unmap())).toBe("CLOSED");
    expect(codeOf(() => region.resize(10))).toBe("CLOSED");
    expect(codeOf(() => region.remap(tempFile("x")))).toBe("CLOSED");
  });

  test("window full, fragmented and table full are told apart", () => {
    using window = Window.create({ ...smallWindow, capacity: 40 });
    const slotPages = (window.layout.sizeBytes - window.layout.slotsBase) / 65_536;
    const regions = [];
    for (let page = 0; page < slotPages && regions.length < 40; page += 2) {
      regions.push(window.mapAnonymous(1, { at: window.layout.slotsBase + page * 65_536 }));
    }
    expect(codeOf(() => window.mapAnonymous(1))).toBe("WINDOW_FULL"); // all 40 ids in use
    for (const region of regions.filter((_, index) => index % 2 === 1)) region.unmap();
    expect(codeOf(() => window.mapAnonymous(window.layout.sizeBytes - window.layout.slotsBase))).toBe("WINDOW_FULL");
    // 20 one-page regions left at pages 0, 4, ..., 76: 3-page holes between them, and the longest
    // free run is the tail after page 76. Asking for 2 pages more than that tail is fragmentation.
    const tailPages = slotPages - 77;
    expect(codeOf(() => window.mapAnonymous((tailPages + 2) * 65_536))).toBe("FRAGMENTED");
    expect(window.mapAnonymous(tailPages * 65_536).offset).toBe(window.layout.slotsBase + 77 * 65_536);
  });
});
