// Hardening: repeated map/unmap, window create/close and guest instantiate/close leave open file
// descriptors (/proc/self/fd), mappings (/proc/self/maps lines) and RSS (VmRSS) flat. CI counts
// are reduced; VMW_SOAK=1 runs the full 100,000 / 1,000 / 1,000. Each test prints its numbers.
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { Window } from "@vmwindow/bun";
import { guests, patternBytes, smallWindow, tempFile } from "./helpers.ts";

const SOAK = process.env.VMW_SOAK === "1";
/** Under qemu-user (tools/test-arm64.sh sets VMW_EMULATED), VmRSS is qemu's: it grows with the
 * code qemu translates and keeps a descriptor for every 4 KiB page of every range ever mapped
 * (qemu 7.2), ~30 MiB per closed 4 GiB window. The fd and mapping checks still run there. */
const EMULATED = process.env.VMW_EMULATED;
const MAP_CYCLES = SOAK ? 100_000 : 20_000;
// 60 under emulation: 300 closed windows cost qemu ~9 GiB of page descriptors on a shared machine.
const WINDOW_CYCLES = SOAK ? 1000 : EMULATED ? 60 : 300;
const GUEST_CYCLES = SOAK ? 1000 : 300;

interface Usage {
  fds: number;
  maps: number;
  rssKiB: number;
}

function usage(): Usage {
  Bun.gc(true);
  const status = readFileSync("/proc/self/status", "utf8");
  return {
    fds: readdirSync("/proc/self/fd").length,
    maps: readFileSync("/proc/self/maps", "utf8").split("\n").filter(Boolean).length,
    rssKiB: Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]),
  };
}

/** Runs `cycle` n times after a warm-up; checks fds and mappings are unchanged and RSS grew by less than `rssSlackKiB`. */
function measure(label: string, n: number, cycle: (i: number) => void, rssSlackKiB: number) {
  for (let i = 0; i < Math.min(50, n); i++) cycle(i); // warm-up: JIT, allocator pools, caches
  const before = usage();
  const started = performance.now();
  const half = Math.floor(n / 2);
  for (let i = 0; i < half; i++) cycle(i);
  const middle = usage();
  for (let i = half; i < n; i++) cycle(i);
  const seconds = (performance.now() - started) / 1000;
  const after = usage();
  console.log(
    `${label}: ${n} cycles in ${seconds.toFixed(2)} s; fds ${before.fds} -> ${middle.fds} -> ${after.fds}; maps ${before.maps} -> ${middle.maps} -> ${after.maps}; ` +
      `RSS ${(before.rssKiB / 1024).toFixed(1)} -> ${(middle.rssKiB / 1024).toFixed(1)} -> ${(after.rssKiB / 1024).toFixed(1)} MiB`,
  );
  expect(after.fds).toBe(before.fds);
  expect(middle.fds).toBe(before.fds);
  // Mappings: the library's must return to the same count; allow a few for Bun's own heap growth.
  expect(Math.abs(after.maps - before.maps)).toBeLessThanOrEqual(8);
  expect(Math.abs(after.maps - middle.maps)).toBeLessThanOrEqual(8);
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
    }, 32 * 1024);
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
    }, 48 * 1024);
    expect(window.guests.size).toBe(0);
  }, 600_000);
});
