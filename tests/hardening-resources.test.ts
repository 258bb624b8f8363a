// Hardening: repeated map/unmap, window create/close and guest instantiate/close leave open file
// descriptors (/proc/self/fd), mappings (/proc/self/maps lines) and RSS (VmRSS) flat. CI counts
// are reduced; VMW_SOAK=1 runs the full 100,000 / 1,000 / 1,000. Each test prints its numbers.
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, realpathSync } from "node:fs";
import { Window } from "@vmwindow/bun";
import { windowBasePointer } from "../packages/bun/src/window.ts";
import { guests, patternBytes, RESERVATION_BYTES, smallWindow, tempDir, tempFile } from "./helpers.ts";

const SOAK = process.env.VMW_SOAK === "1";
/** Under qemu-user (tools/test-arm64.sh sets VMW_EMULATED), VmRSS is qemu's: it grows with the
 * code qemu translates and keeps a descriptor for every 4 KiB page of every range ever mapped
 * (qemu 7.2), ~30 MiB per closed 4 GiB window. The fd and mapping checks still run there. */
const EMULATED = process.env.VMW_EMULATED;
const MAP_CYCLES = SOAK ? 100_000 : 20_000;
// 60 under emulation: 300 closed windows cost qemu ~9 GiB of page descriptors on a shared machine.
const WINDOW_CYCLES = SOAK ? 1000 : EMULATED ? 60 : 300;
const GUEST_CYCLES = SOAK ? 1000 : 300;

/** Mappings other than the library's (Bun's heap; under qemu-user also qemu's own buffers) may grow a
 * little as a process runs: natively by a few, under qemu by tens (seen: +10 over 20,000 cycles). */
const OTHER_MAPS_SLACK = EMULATED ? 40 : 8;

interface Usage {
  fds: number;
  /** Every line of /proc/self/maps. */
  maps: number;
  /** Lines inside the window's reservation: the library's own mappings, which must come back exactly. */
  windowMaps: number;
  /** Lines mapping one of the test's temporary files, anywhere in the process. */
  fileMaps: number;
  rssKiB: number;
}

/** The test's files as /proc/self/maps names them (symlinks resolved, e.g. a TMPDIR through one). */
const testFiles = realpathSync(tempDir());

function usage(window?: Window): Usage {
  Bun.gc(true);
  const status = readFileSync("/proc/self/status", "utf8");
  const lines = readFileSync("/proc/self/maps", "utf8").split("\n").filter(Boolean);
  const base = window ? BigInt(windowBasePointer(window)) : 0n;
  const end = base + BigInt(RESERVATION_BYTES);
  const inWindow = (line: string) => {
    const [start, stop] = line.split(" ", 1)[0]!.split("-").map((hex) => BigInt(`0x${hex}`));
    return window !== undefined && start! < end && stop! > base;
  };
  return {
    fds: readdirSync("/proc/self/fd").length,
    maps: lines.length,
    windowMaps: lines.filter(inWindow).length,
    fileMaps: lines.filter((line) => line.includes(testFiles)).length,
    rssKiB: Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]),
  };
}

/** Runs `cycle` n times after a warm-up; checks fds and the library's mappings are unchanged, other
 * mappings grew by at most a few, and RSS grew by less than `rssSlackKiB`. `window`, when given, is
 * the window whose own mappings are counted exactly. */
function measure(label: string, n: number, cycle: (i: number) => void, rssSlackKiB: number, window?: Window) {
  for (let i = 0; i < Math.min(50, n); i++) cycle(i); // warm-up: JIT, allocator pools, caches
  const before = usage(window);
  const started = performance.now();
  const half = Math.floor(n / 2);
  for (let i = 0; i < half; i++) cycle(i);
  const middle = usage(window);
  for (let i = half; i < n; i++) cycle(i);
  const seconds = (performance.now() - started) / 1000;
  const after = usage(window);
  console.log(
    `${label}: ${n} cycles in ${seconds.toFixed(2)} s; fds ${before.fds} -> ${middle.fds} -> ${after.fds}; maps ${before.maps} -> ${middle.maps} -> ${after.maps} ` +
      `(window ${before.windowMaps} -> ${middle.windowMaps} -> ${after.windowMaps}, test files ${before.fileMaps} -> ${middle.fileMaps} -> ${after.fileMaps}); ` +
      `RSS ${(before.rssKiB / 1024).toFixed(1)} -> ${(middle.rssKiB / 1024).toFixed(1)} -> ${(after.rssKiB / 1024).toFixed(1)} MiB`,
  );
  expect(after.fds).toBe(before.fds);
  expect(middle.fds).toBe(before.fds);
  // The library's mappings come back exactly: those inside the window, and those of the test's files.
  expect(middle.windowMaps).toBe(before.windowMaps);
  expect(after.windowMaps).toBe(before.windowMaps);
  expect(middle.fileMaps).toBe(before.fileMaps);
  expect(after.fileMaps).toBe(before.fileMaps);
  // Everything else: no growth proportional to n (a leak of one mapping per 1,000 cycles would be 20).
  expect(Math.abs(after.maps - before.maps)).toBeLessThanOrEqual(OTHER_MAPS_SLACK);
  expect(Math.abs(after.maps - middle.maps)).toBeLessThanOrEqual(OTHER_MAPS_SLACK);
  // RSS: no growth proportional to n (the second half must not grow like a leak would).
  if (EMULATED) {
    console.log(`${label}: RSS not checked under ${EMULATED} (VmRSS is qemu's own memory: translated code and per-page descriptors)`);
  } else {
    expect(after.rssKiB - before.rssKiB).toBeLessThan(rssSlackKiB);
    expect(after.rssKiB - middle.rssKiB).toBeLessThan(rssSlackKiB / 2);
  }
  return { before, after, seconds };
}

describe("resources stay flat", () => {
  test(`${MAP_CYCLES} map/unmap cycles (file and anonymous, guest reading each)`, () => {
    const contents = patternBytes(100_000, 21);
    const path = tempFile(contents);
    using window = Window.create(smallWindow);
    using guest = window.instantiate(guests.probe);
    const load = guest.fn("load_u8");
    measure("map/unmap", MAP_CYCLES, (i) => {
      const region = i % 4 === 3 ? window.mapAnonymous(8192) : window.mapFile(path, { access: i % 2 ? "readwrite" : "read", offset: (i % 8) * 4096 });
      if (i % 64 === 0 && region.kind === "file" && load(region.offset + 5) !== contents[(i % 8) * 4096 + 5]) throw new Error("wrong byte");
      region.unmap();
    }, 32 * 1024, window);
    expect(window.regions.size).toBe(0);
  }, 600_000);

  test(`${WINDOW_CYCLES} window create/close cycles (with a region each)`, () => {
    const path = tempFile(patternBytes(10_000, 22));
    measure("window create/close", WINDOW_CYCLES, () => {
      const window = Window.create(smallWindow);
      window.mapFile(path);
      window.mapAnonymous(65_536).bytes[0] = 1;
      window.close();
    }, 32 * 1024);
  }, 600_000);

  test(`${GUEST_CYCLES} guest instantiate/call/close cycles in one window`, () => {
    const wasm = readFileSync(guests.probe);
    using window = Window.create(smallWindow);
    using region = window.mapFile(tempFile(patternBytes(1000, 23)));
    measure("guest instantiate/close", GUEST_CYCLES, () => {
      const guest = window.instantiate(wasm);
      if (guest.call("region_length", region.id) !== 1000) throw new Error("wrong length");
      guest.call("alloc_keep", 4096);
      guest.close();
    }, 48 * 1024, window);
    expect(window.guests.size).toBe(0);
  }, 600_000);
});
