// Bulk memory (memory.copy / memory.fill) in a window: libvmwindow rewrites them into calls of wasm
// functions it appends to the module (native/src/bulk_memory.zig), so a copy or fill that touches a
// protected page traps like any other guest access instead of faulting in Wasmtime's host code.
// Oracles: Uint8Array.copyWithin (memmove) and fill (memset) on a copy of the bytes, the file's
// bytes on disk, and the table's magic.
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync, truncateSync, writeFileSync } from "node:fs";
import { crc32 } from "node:zlib";
import { join } from "node:path";
import { GuestTrap, VmwindowError, Window } from "@vmwindow/bun";
import { patternBytes, smallWindow, tempDir, tempFile, thrown, xorshift32 } from "./helpers.ts";
import { buildModule, envMemory, I32, op, type Func } from "./wasm-builder.ts";
import { findRustc } from "../tools/build-guest-examples.ts";
import { GUEST_BASE } from "../packages/bun/src/abi.ts";

const PAGE = 65536;
const OS_PAGE = 4096;
const TABLE = 0x10000;

const args3 = [...op.localGet(0), ...op.localGet(1), ...op.localGet(2)];

/** copy(dst, src, len), fill(dst, value, len), load8(address); with `simd`, a function using
 * v128.const too (the rewrite then copies 16 bytes per load/store, else 8). */
function bulkModule(simd: boolean): Uint8Array {
  const functions: Func[] = [
    { params: [I32, I32, I32], results: [], body: [...args3, ...op.memoryCopy], export: "copy" },
    { params: [I32, I32, I32], results: [], body: [...args3, ...op.memoryFill], export: "fill" },
    { params: [I32], results: [I32], body: [...op.localGet(0), ...op.i32Load8U()], export: "load8" },
  ];
  // v128.const 1..16, i8x16.extract_lane_u 3 -> 4
  const lanes = Array.from({ length: 16 }, (_, i) => i + 1);
  if (simd) functions.push({ params: [], results: [I32], body: [0xfd, 0x0c, ...lanes, 0xfd, 0x16, 3], export: "simd" });
  return buildModule({ imports: [envMemory], functions });
}

function trapOf(run: () => unknown): GuestTrap {
  return thrown(GuestTrap, run);
}

for (const simd of [false, true]) {
  describe(`memory.copy / memory.fill, ${simd ? "v128" : "i64"} copy loop`, () => {
    test("compute what memmove and memset compute: random ranges, overlaps both ways, every length 0..300", () => {
      using window = Window.create(smallWindow);
      using guest = window.instantiate(bulkModule(simd));
      if (simd) expect(guest.call("simd")).toBe(4);
      const scratchBytes = 256 * 1024;
      using scratch = window.mapAnonymous(scratchBytes, { name: "scratch" });
      const view = scratch.bytes;
      view.set(patternBytes(scratchBytes, 5));
      const oracle = Uint8Array.from(view);
      const next = xorshift32(simd ? 17 : 23);
      const check = (what: string) => {
        if (!Buffer.from(view).equals(Buffer.from(oracle))) throw new Error(`differs from the oracle after ${what}`);
      };
      // Every length 0..300 at unaligned offsets, forward overlap, backward overlap and apart.
      for (let len = 0; len <= 300; len++) {
        for (const delta of [-(len >> 1) - 1, 0, (len >> 1) + 1, 7, -7, 1000]) {
          const src = 4096 + (next() % 61);
          const dst = src + delta;
          guest.call("copy", scratch.offset + dst, scratch.offset + src, len);
          oracle.copyWithin(dst, src, src + len);
        }
        check(`copies of ${len} bytes`);
        const at = next() % (scratchBytes - len);
        const value = next() & 0x1ff; // memory.fill stores the low byte
        guest.call("fill", scratch.offset + at, value, len);
        oracle.fill(value & 0xff, at, at + len);
        check(`a fill of ${len} bytes`);
      }
      // Random large ranges, overlapping either way.
      for (let i = 0; i < 200; i++) {
        const len = next() % 70_000;
        const src = next() % (scratchBytes - len);
        const dst = i % 3 === 0 ? next() % (scratchBytes - len) : Math.min(scratchBytes - len, Math.max(0, src + (next() % 2001) - 1000));
        guest.call("copy", scratch.offset + dst, scratch.offset + src, len);
        oracle.copyWithin(dst, src, src + len);
      }
      check("large copies");
      // Between the guest area and a region, both ways.
      const saved = oracle.slice(5, 5005);
      guest.call("copy", GUEST_BASE + 100, scratch.offset + 5, 5000);
      guest.call("fill", scratch.offset, 0, 6000);
      oracle.fill(0, 0, 6000);
      guest.call("copy", scratch.offset + 3, GUEST_BASE + 100, 5000);
      oracle.set(saved, 3);
      check("copies through the guest area");
    });

    test("a range that leaves the memory traps before writing anything; zero lengths follow the spec", () => {
      using window = Window.create(smallWindow);
      using guest = window.instantiate(bulkModule(simd));
      using scratch = window.mapAnonymous(PAGE);
      const size = window.sizeBytes;
      scratch.bytes.set(patternBytes(PAGE, 3));
      const before = Uint8Array.from(scratch.bytes);
      // Destination starts in writable memory, source runs past the end: nothing is written.
      const copyOut = trapOf(() => guest.call("copy", scratch.offset, size - 10, 11));
      expect(copyOut.reason).toContain("out of bounds memory access");
      // Destination range runs past the end (its start is writable): nothing is written.
      trapOf(() => guest.call("fill", scratch.offset, 0xee, size - scratch.offset + 1));
      trapOf(() => guest.call("copy", scratch.offset + 16, scratch.offset, size - scratch.offset - 15));
      // A forward copy whose source runs one byte past the end: without the check up front it would
      // write the whole region before reaching a protected page.
      trapOf(() => guest.call("copy", scratch.offset, scratch.offset + 1000, size - scratch.offset - 999));
      // 32-bit wrap-around is out of bounds too, not a copy from low memory.
      trapOf(() => guest.call("copy", scratch.offset, 0xfffffff0 | 0, 0x20));
      trapOf(() => guest.call("fill", scratch.offset, 1, -1));
      expect(Buffer.from(scratch.bytes).equals(Buffer.from(before))).toBe(true);
      // Zero-length operations at the memory's end are in bounds; one past it is not.
      guest.call("fill", size, 1, 0);
      guest.call("copy", size, size, 0);
      guest.call("copy", scratch.offset, size, 0);
      trapOf(() => guest.call("fill", size + 1, 1, 0));
      trapOf(() => guest.call("copy", scratch.offset, size + 1, 0));
      // Zero length anywhere in bounds does nothing, even on a protected page (the null page).
      guest.call("fill", 0, 1, 0);
      guest.call("copy", 0, TABLE, 0);
      expect(Buffer.from(scratch.bytes).equals(Buffer.from(before))).toBe(true);
      guest.call("copy", scratch.offset, scratch.offset + 1, 1);
      expect(scratch.bytes[0]).toBe(before[1]!);
    });

    test("a 4 GiB window: ranges ending exactly at 2^32 work (no 32-bit wrap-around), one byte more traps", () => {
      using window = Window.create({ sizeBytes: 2 ** 32, guestBytes: 2 ** 20 });
      using guest = window.instantiate(bulkModule(simd));
      using last = window.mapAnonymous(PAGE, { at: 2 ** 32 - PAGE });
      expect(last.offset).toBe(2 ** 32 - PAGE);
      const top = 2 ** 32;
      guest.call("fill", (top - 300) | 0, 0x33, 300);
      guest.call("fill", (top - 100) | 0, 0x44, 100);
      guest.call("copy", (top - 1000) | 0, (top - 300) | 0, 300); // forward, ends 700 below the top
      guest.call("copy", (top - 250) | 0, (top - 400) | 0, 250); // backward, ends at the top
      const oracle = new Uint8Array(PAGE);
      oracle.fill(0x33, PAGE - 300, PAGE - 100).fill(0x44, PAGE - 100);
      oracle.copyWithin(PAGE - 1000, PAGE - 300, PAGE);
      oracle.copyWithin(PAGE - 250, PAGE - 400, PAGE - 150);
      expect(Buffer.from(last.bytes).equals(Buffer.from(oracle))).toBe(true);
      trapOf(() => guest.call("fill", (top - 100) | 0, 1, 101));
      trapOf(() => guest.call("copy", (top - 1000) | 0, (top - 100) | 0, 101));
      expect(Buffer.from(last.bytes).equals(Buffer.from(oracle))).toBe(true);
    });

    test("every protected page traps with the process alive, and the guest works after", () => {
      using window = Window.create(smallWindow);
      using guest = window.instantiate(bulkModule(simd));
      using scratch = window.mapAnonymous(PAGE);
      const contents = patternBytes(3 * PAGE, 7);
      const path = tempFile(contents);
      using readOnly = window.mapFile(path, { name: "ro" });
      const free = readOnly.offset + 8 * PAGE; // nothing mapped there
      expect(free + PAGE).toBeLessThan(window.sizeBytes);
      const works = () => {
        guest.call("fill", scratch.offset, 0x5a, 100);
        guest.call("copy", scratch.offset + 200, scratch.offset, 100);
        expect(scratch.bytes[299]).toBe(0x5a);
        guest.call("fill", scratch.offset, 0, 300);
      };
      const cases: [string, () => unknown][] = [
        ["a copy from a free slot", () => guest.call("copy", scratch.offset, free, 64)],
        ["a copy into a free slot", () => guest.call("copy", free + 100, scratch.offset, 5000)],
        ["a fill of a free slot", () => guest.call("fill", free, 1, PAGE)],
        ["a copy running from a region into the free slot after it", () => guest.call("copy", scratch.offset, readOnly.offset + 3 * PAGE - 100, 1000)],
        ["a fill of the table", () => guest.call("fill", TABLE, 0, 64)],
        ["a copy into the table", () => guest.call("copy", TABLE + 20, scratch.offset, 4)],
        ["a copy from the null page", () => guest.call("copy", scratch.offset, 0, 16)],
        ["a fill of the null page", () => guest.call("fill", 100, 0, 1)],
        ["a copy into a read-only file", () => guest.call("copy", readOnly.offset + 5, scratch.offset, 10_000)],
        ["a fill of a read-only file", () => guest.call("fill", readOnly.offset, 0, 3 * PAGE)],
        ["a copy past the window's end", () => guest.call("copy", window.sizeBytes - 8, scratch.offset, 16)],
        ["a fill from the guest area into the table's unbacked part", () => guest.call("fill", GUEST_BASE - 64, 0, 128)],
      ];
      for (const [label, run] of cases) {
        const trap = trapOf(run);
        if (!/out of bounds memory access/.test(trap.reason)) throw new Error(`${label}: ${trap.reason}`);
        // The backtrace names the injected function (the rewrite adds it to the name section).
        if (!/!vmwindow:memory\.(copy|fill)\n/.test(trap.details)) throw new Error(`${label}: ${trap.details}`);
        works();
      }
      // Reading the table is allowed (it is read-only, not hidden): a copy out of it sees the magic.
      guest.call("copy", scratch.offset, TABLE, 4);
      expect(new DataView(scratch.bytes.buffer, scratch.bytes.byteOffset).getUint32(0, true)).toBe(0x54574d56);
      // Nothing reached the file or the table.
      expect(Buffer.from(readFileSync(path)).equals(Buffer.from(contents))).toBe(true);
      expect(guest.call("load8", TABLE)).toBe(0x56);
      // A copy out of the read-only file works.
      guest.call("copy", scratch.offset, readOnly.offset + 1000, 2000);
      expect(Buffer.from(scratch.bytes.subarray(0, 2000)).equals(Buffer.from(contents.subarray(1000, 3000)))).toBe(true);
    });

    test("a copy from a file truncated under its region traps, names the region, and the guest goes on", () => {
      using window = Window.create(smallWindow);
      using guest = window.instantiate(bulkModule(simd));
      using scratch = window.mapAnonymous(PAGE);
      const contents = patternBytes(8 * OS_PAGE, 13);
      const path = tempFile(contents);
      using region = window.mapFile(path);
      guest.call("copy", scratch.offset, region.offset, 8 * OS_PAGE);
      expect(Buffer.from(scratch.bytes.subarray(0, 8 * OS_PAGE)).equals(Buffer.from(contents))).toBe(true);
      truncateSync(path, OS_PAGE + 10);
      const trap = trapOf(() => guest.call("copy", scratch.offset, region.offset, 8 * OS_PAGE));
      expect(trap.reason).toContain(`region ${region.id}'s file is shorter than when it was mapped`);
      expect(region.damaged).toBe(true);
      // The guest goes on; what is left of the file still copies.
      guest.call("copy", scratch.offset + 1, region.offset, 100);
      expect(Buffer.from(scratch.bytes.subarray(1, 101)).equals(Buffer.from(contents.subarray(0, 100)))).toBe(true);
    });
  });
}

describe("what the rewrite refuses, and where it runs", () => {
  test("memory.init is refused with a message (data.drop and passive segments too: Zig tests); table.copy by the engine", () => {
    using window = Window.create(smallWindow);
    const zero3 = [...op.i32Const(0), ...op.i32Const(0), ...op.i32Const(0)];
    const init = buildModule({ imports: [envMemory], functions: [{ params: [], results: [], body: [...zero3, ...op.memoryInit] }] });
    const error = thrown(VmwindowError, () => window.instantiate(init));
    expect(error.code).toBe("BAD_MODULE");
    expect(error.message).toContain("uses memory.init: vmwindow accepts memory.copy and memory.fill");
    // table.copy (bulk memory too, but not a memory access) stays refused by the engine.
    const tableCopy = buildModule({ imports: [envMemory, { module: "env", name: "t", kind: "table", min: 1 }], functions: [{ params: [], results: [], body: [...zero3, ...op.tableCopy] }] });
    expect(thrown(VmwindowError, () => window.instantiate(tableCopy)).message).toContain("bulk memory support is not enabled");
  });

  test("a metered guest pays fuel for a copy by its length: a long fill runs out", () => {
    using window = Window.create(smallWindow);
    using scratch = window.mapAnonymous(16 * 2 ** 20);
    using metered = window.instantiate(bulkModule(true), { fuel: 1_000_000 });
    metered.call("copy", scratch.offset, scratch.offset + 8, 4096);
    // 16 MiB takes about 16 Mi / 64 iterations of ~20 instructions: far more than a million.
    const error = thrown(Error, () => metered.call("fill", scratch.offset, 0, 16 * 2 ** 20));
    expect(error.message).toContain("fuel");
    metered.call("copy", scratch.offset, scratch.offset + 8, 4096);
  });
});

// A C guest built with bulk memory on: LLVM turns memcpy / memmove / memset (and struct copies)
// into memory.copy / memory.fill.
const C_SOURCE = `
#include <stddef.h>
#include <stdint.h>
#define EXPORT(name) __attribute__((export_name(name)))
EXPORT("move") void move(uint8_t *dst, const uint8_t *src, size_t n) { __builtin_memmove(dst, src, n); }
EXPORT("set") void set(uint8_t *dst, int value, size_t n) { __builtin_memset(dst, value, n); }
struct record { uint32_t id; uint8_t payload[60]; };
static struct record records[64];
/* Copies n records out of a mapped file into static memory (struct copies), zeroes every other
   one, and sums every byte: a result the host computes from the file alone. */
EXPORT("records") uint32_t records_sum(const struct record *file, size_t n) {
  if (n > 64) n = 64;
  for (size_t i = 0; i < n; i++) records[i] = file[i];
  for (size_t i = 0; i < n; i += 2) __builtin_memset(&records[i], 0, sizeof records[i]);
  uint32_t sum = 0;
  const uint8_t *bytes = (const uint8_t *)records;
  for (size_t i = 0; i < n * sizeof(struct record); i++) sum += bytes[i];
  return sum;
}
`;

describe("a C guest built with bulk memory on (zig cc -mcpu=generic)", () => {
  const zig = Bun.which("zig") ?? join(import.meta.dir, "..", ".toolchain", "bin", "zig");
  const available = existsSync(zig);
  test.skipIf(!available)("memcpy / memmove / memset and struct copies run and agree with the oracle; faults trap", () => {
    const dir = tempDir();
    const source = join(dir, "bulk.c");
    const wasm = join(dir, "bulk-c.wasm");
    writeFileSync(source, C_SOURCE);
    const build = Bun.spawnSync([zig, "cc", "--target=wasm32-freestanding", "-mcpu=generic", "-O2", "-nostdlib",
      "-Wl,--import-memory", `-Wl,--global-base=${GUEST_BASE}`, "-Wl,-z,stack-size=65536", "-Wl,--no-entry", source, "-o", wasm]);
    expect(build.stderr.toString()).toBe("");
    expect(build.exitCode).toBe(0);
    const bytes = readFileSync(wasm);
    // It does use bulk memory: memory.copy (FC 0A 00 00) and memory.fill (FC 0B 00) are in it.
    expect(bytes.includes(Buffer.from([0xfc, 0x0a, 0x00, 0x00]))).toBe(true);
    expect(bytes.includes(Buffer.from([0xfc, 0x0b, 0x00]))).toBe(true);

    using window = Window.create(smallWindow);
    using guest = window.instantiate(wasm);
    const contents = patternBytes(64 * 64 + 100, 21);
    const path = tempFile(contents);
    using file = window.mapFile(path);
    using scratch = window.mapAnonymous(PAGE);
    // records: the oracle sums the odd records' bytes straight from the file.
    for (const n of [0, 1, 2, 17, 64]) {
      let expected = 0;
      for (let i = 1; i < n; i += 2) for (let j = 0; j < 64; j++) expected += contents[i * 64 + j]!;
      expect(guest.call("records", file.offset, n) >>> 0).toBe(expected >>> 0);
    }
    // move / set against copyWithin / fill.
    scratch.bytes.set(patternBytes(PAGE, 22));
    const oracle = Uint8Array.from(scratch.bytes);
    guest.call("move", scratch.offset + 10, scratch.offset, 3000);
    oracle.copyWithin(10, 0, 3000);
    guest.call("move", scratch.offset + 100, scratch.offset + 777, 5000);
    oracle.copyWithin(100, 777, 5777);
    guest.call("set", scratch.offset + 9, 0x41, 333);
    oracle.fill(0x41, 9, 342);
    expect(Buffer.from(scratch.bytes).equals(Buffer.from(oracle))).toBe(true);
    // A memcpy into the read-only file and a memset of the table trap; the guest goes on.
    expect(trapOf(() => guest.call("move", file.offset, scratch.offset, 64)).reason).toContain("out of bounds memory access");
    const tableTrap = trapOf(() => guest.call("set", TABLE, 0, 64));
    expect(tableTrap.reason).toContain("out of bounds memory access");
    expect(tableTrap.details).toContain("bulk-c.wasm!vmwindow:memory.fill\n"); // its name section, extended
    expect(Buffer.from(readFileSync(path)).equals(Buffer.from(contents))).toBe(true);
    expect(guest.call("records", file.offset, 2) >>> 0).toBe(contents.subarray(64, 128).reduce((a, b) => a + b, 0));
  }, 120_000); // zig cc's first build of the day fills its cache
});

// The SDKs' example guests (guest-sdk/{c,zig,rust}/examples) built with bulk memory on, as a user
// might: C with +bulk_memory (SIMD too), Zig with its default wasm32 CPU (bulk_memory_opt, no
// SIMD), Rust with +bulk-memory. Each has a memory.fill; the whole module goes through the
// rewrite's decoder.
describe("the SDK example guests built with bulk memory on", () => {
  const repo = join(import.meta.dir, "..");
  const zig = Bun.which("zig") ?? join(repo, ".toolchain", "bin", "zig");
  const rustc = findRustc();
  const rustFlags = ["--edition", "2021", "--target", "wasm32-unknown-unknown", "-O", "-C", "target-feature=+simd128,+bulk-memory", "-C", "strip=debuginfo"];
  const builds: [string, boolean, (out: string) => string[][]][] = [
    ["C, -mcpu=mvp+simd128+sign_ext+bulk_memory", existsSync(zig), (out) => [[zig, "cc", "--target=wasm32-freestanding", "-mcpu=mvp+simd128+sign_ext+bulk_memory", "-O2", "-nostdlib",
      "-Wl,--import-memory", `-Wl,--global-base=${GUEST_BASE}`, "-Wl,-z,stack-size=262144", "-Wl,--no-entry", "-I", "guest-sdk/c", "guest-sdk/c/examples/scan.c", "-o", out]]],
    ["Zig, the default wasm32 CPU", existsSync(zig), (out) => [[zig, "build-exe", "-target", "wasm32-freestanding", "-OReleaseFast", "-fno-entry", "-rdynamic", "--import-memory",
      `--global-base=${GUEST_BASE}`, "--stack", "262144", "--dep", "vmwindow", "-Mroot=guest-sdk/zig/examples/scan.zig", "-Mvmwindow=guest-sdk/zig/vmwindow.zig", `-femit-bin=${out}`]]],
    ["Rust, -C target-feature=+simd128,+bulk-memory", rustc !== undefined && existsSync(zig), (out) => [
      [rustc!, ...rustFlags, "--crate-type", "rlib", "--crate-name", "vmwindow_guest", "--cfg", 'feature="panic-handler"', "guest-sdk/rust/src/lib.rs", "--out-dir", `${out}.d`],
      [zig, "cc", "--target=wasm32-freestanding", "-mcpu=mvp", "-O2", "-c", "guest-sdk/rust/reset.c", "-o", `${out}.d/reset.o`],
      [rustc!, ...rustFlags, "--crate-type", "cdylib", "--crate-name", "scan", "guest-sdk/rust/examples/scan.rs", "--extern", `vmwindow_guest=${out}.d/libvmwindow_guest.rlib`,
        "-C", "link-arg=--import-memory", "-C", `link-arg=-zstack-size=${GUEST_BASE + 262144}`, "-C", `link-arg=${out}.d/reset.o`, "-o", out],
    ]],
  ];
  builds.forEach(([label, available, commands], index) => {
    test.skipIf(!available)(`${label}: CRC-32 and newline counts equal zlib's and a JS count`, () => {
      const out = join(tempDir(), `scan-bulk-${index}.wasm`);
      for (const command of commands(out)) {
        const build = Bun.spawnSync(command, { cwd: repo, stderr: "pipe" });
        expect(build.stderr.toString()).toBe("");
        expect(build.exitCode).toBe(0);
      }
      const bytes = readFileSync(out);
      expect(bytes.includes(Buffer.from([0xfc, 0x0b, 0x00]))).toBe(true); // memory.fill
      using window = Window.create(smallWindow);
      using guest = window.instantiate(out);
      const contents = patternBytes(3 * 2 ** 20 + 5, 31);
      for (let i = 0; i < contents.length; i++) if (contents[i]! < 24) contents[i] = 10;
      const path = tempFile(contents);
      using region = window.mapFile(path);
      expect((guest.call("crc32", region.id) as number) >>> 0).toBe(crc32(contents) >>> 0);
      const newlines = contents.reduce((n, b) => n + (b === 10 ? 1 : 0), 0);
      expect(guest.call("newlines", region.id)).toBe(newlines);
      expect(guest.call("newlines_plain", region.id)).toBe(newlines);
    }, 120_000);
  });
});
