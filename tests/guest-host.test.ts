// The guest SDK under the real host (libvmwindow + Wasmtime, not Bun's WebAssembly): typed views
// and record arrays over files the host wrote, table lookups, host calls (log, map, flush, the
// host's own imports), the confined heap, deadlines, several guests per window, typed callables.
// Oracles: bytes written with DataView / node:fs, Bun.hash.crc32, wall-clock time.
import { describe, expect, test, beforeAll } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { GuestTimeout, GuestTrap, VmwindowError, Window } from "@vmwindow/bun";
import { windowBasePointer } from "../packages/bun/src/window.ts";
import { guests, mappingRssKiB, patternBytes, smallWindow, tempFile, thrown } from "./helpers.ts";

const HOST = join(import.meta.dir, "build", "host.wasm");
const IMPORTS = join(import.meta.dir, "build", "imports.wasm");

beforeAll(async () => {
  if (![HOST, IMPORTS, guests.probe].every(existsSync)) {
    const p = Bun.spawn([process.execPath, "build-guests.ts"], { cwd: import.meta.dir, stdout: "inherit", stderr: "inherit" });
    if ((await p.exited) !== 0) throw new Error("building test guests failed");
  }
}, 120_000);


describe("typed views under the real host", () => {
  test("every view type reads what the host wrote and writes what the host reads", () => {
    using window = Window.create(smallWindow);
    using guest = window.instantiate(guests.probe);
    using region = window.mapFile(tempFile(new Uint8Array(4096)), { access: "readwrite" });
    const dv = new DataView(region.bytes.buffer, region.bytes.byteOffset, region.bytes.byteLength);
    const g = guest.exports;
    const id = region.id;
    dv.setInt8(3, -5);
    dv.setUint16(2 * 7, 0xbeef, true);
    dv.setInt16(2 * 9, -12345, true);
    dv.setUint32(4 * 11, 0xdeadbeef, true);
    dv.setInt32(4 * 13, -123456789, true);
    dv.setBigUint64(8 * 15, 0xfedcba9876543210n, true);
    dv.setBigInt64(8 * 17, -1234567890123456789n, true);
    dv.setFloat32(4 * 50, 3.5, true);
    dv.setFloat64(8 * 26, -Math.PI, true);
    expect(g.view_get_i8!(id, 3)).toBe(-5);
    expect(g.region_view_get_u8!(id, 3)).toBe(251);
    expect(g.view_get_u16!(id, 7)).toBe(0xbeef);
    expect(g.view_get_i16!(id, 7)).toBe(0xbeef - 0x10000);
    expect(g.view_get_i16!(id, 9)).toBe(-12345);
    expect(g.view_get_u32!(id, 11) >>> 0).toBe(0xdeadbeef);
    expect(g.view_get_i32!(id, 13)).toBe(-123456789);
    expect(BigInt.asUintN(64, g.view_get_u64!(id, 15))).toBe(0xfedcba9876543210n);
    expect(g.view_get_i64!(id, 17)).toBe(-1234567890123456789n);
    expect(g.view_get_f32!(id, 50)).toBe(3.5);
    expect(g.view_get_f64!(id, 26)).toBe(-Math.PI);
    expect(g.view_length_u64!(id)).toBe(512);
    g.view_set_u16!(id, 100, 0xcafe);
    g.view_set_i64!(id, 100, -42n);
    g.view_set_f64!(id, 101, 1e300);
    expect(dv.getUint16(200, true)).toBe(0xcafe);
    expect(dv.getBigInt64(800, true)).toBe(-42n);
    expect(dv.getFloat64(808, true)).toBe(1e300);
  });

  test("an out-of-range [i] traps with a message naming the region", () => {
    using window = Window.create(smallWindow);
    using guest = window.instantiate(guests.probe);
    using region = window.mapFile(tempFile(patternBytes(1000)));
    const trap = thrown(GuestTrap, () => guest.exports.view_get_u32!(region.id, 250));
    expect(trap.reason).toBe(`abort: vmwindow: index 250 out of range for region ${region.id} (1000 bytes) at ~lib/@vmwindow/guest:0:0`);
    expect(guest.exports.view_get_u32!(region.id, 249)).toBe(new DataView(patternBytes(1000).buffer).getInt32(996, true));
  });
});

describe("records, names, iteration, generation", () => {
  test("a record array reads the records the host wrote", () => {
    const count = 1000;
    const bytes = new Uint8Array(count * 16 + 5); // a partial record at the end is not counted
    const dv = new DataView(bytes.buffer);
    let expected = 0n;
    for (let i = 0; i < count; i++) {
      const id = (i * 2654435761) >>> 0;
      const flags = (i * 7) & 0xffff;
      const kind = i % 251;
      dv.setUint32(i * 16, id, true);
      dv.setUint16(i * 16 + 4, flags, true);
      dv.setUint8(i * 16 + 6, kind);
      dv.setFloat64(i * 16 + 8, i / 3, true);
      expected += BigInt(id) * BigInt(kind) + BigInt(flags);
    }
    using window = Window.create(smallWindow);
    using guest = window.instantiate(HOST);
    using region = window.mapFile(tempFile(bytes), { name: "items" });
    const g = guest.exports;
    expect(g.record_stride!(region.id)).toBe(16);
    expect(g.record_count!(region.id)).toBe(count);
    expect(BigInt.asUintN(64, g.record_checksum!(region.id))).toBe(expected);
    expect(g.record_value!(region.id, 999)).toBe(999 / 3);
    expect(g.record_id!(region.id, 5) >>> 0).toBe((5 * 2654435761) >>> 0);
    const trap = thrown(GuestTrap, () => g.record_value!(region.id, count));
    expect(trap.reason).toContain(`vmwindow: record ${count} out of range for region ${region.id} (${count} records of 16 bytes)`);
  });

  test("lookup by name, iteration over live regions, table-change detection", () => {
    using window = Window.create(smallWindow);
    using guest = window.instantiate(HOST);
    const g = guest.exports;
    expect(g.table_changed!()).toBe(1);
    expect(g.table_changed!()).toBe(0);
    const a = window.mapFile(tempFile(patternBytes(100)), { name: "alpha" });
    using b = window.mapFile(tempFile(patternBytes(70_000)), { name: "beta" });
    using c = window.mapFile(tempFile(patternBytes(5)));
    expect(g.table_changed!()).toBe(1);
    expect(g.table_changed!()).toBe(0);
    expect(g.find_alpha!()).toBe(a.id);
    expect(g.find_beta!()).toBe(b.id);
    expect(g.find_nope!()).toBe(0);
    expect(g.live_id_sum!()).toBe(a.id + b.id + c.id);
    expect(g.live_length_sum!()).toBe(70_105n);
    a.unmap();
    expect(g.table_changed!()).toBe(1);
    expect(g.find_alpha!()).toBe(0);
    expect(g.live_id_sum!()).toBe(b.id + c.id);
  });
});

describe("host calls", () => {
  test("log reaches the host's logger as UTF-8 text; without one it is discarded", () => {
    const lines: [number, string][] = [];
    using window = Window.create(smallWindow);
    using guest = window.instantiate(HOST, { log: (level, text) => lines.push([level, text]) });
    guest.exports.say!(42);
    expect(lines).toEqual([[2, "hello from the guest: 42 ✓"]]);
    using quiet = window.instantiate(HOST);
    quiet.exports.say!(1);
    expect(lines.length).toBe(1);
  });

  test("host-requested mapping: refused by default, mapped by the host's policy", () => {
    const extra = patternBytes(300);
    using window = Window.create(smallWindow);
    using refusing = window.instantiate(HOST);
    expect(refusing.exports.request_extra!()).toBe(-1);
    const asked: string[] = [];
    using guest = window.instantiate(HOST, {
      map: (name, access) => {
        asked.push(`${name}:${access}`);
        return name === "extra" ? window.mapFile(tempFile(extra), { name }) : null;
      },
    });
    expect(guest.exports.request_extra!()).toBe(extra[0]!);
    expect(asked).toEqual(["extra:read"]);
    expect([...window.regions.values()].some((r) => r.name === "extra")).toBe(true);
  });

  test("flush: refused unless allowed; allowed, it syncs a read-write region", () => {
    const path = tempFile(patternBytes(5000));
    using window = Window.create(smallWindow);
    using region = window.mapFile(path, { access: "readwrite" });
    using ro = window.mapFile(tempFile(patternBytes(10)));
    using refused = window.instantiate(HOST);
    expect(refused.exports.write_and_flush!(region.id, 7)).toBe(-1);
    using allowed = window.instantiate(HOST, { allowFlush: true });
    expect(allowed.exports.write_and_flush!(region.id, 9)).toBe(0);
    expect(readFileSync(path)[0]).toBe(9);
    expect(thrown(GuestTrap, () => allowed.exports.write_and_flush!(ro.id, 1)).reason).toContain("out of bounds"); // read-only
  });

  test("release: a guest scanning a file releases what it read; RSS stays near one chunk throughout", () => {
    const size = 8 * 2 ** 20;
    const file = patternBytes(size);
    const expected = file.reduce((sum, byte) => sum + byte, 0);
    using window = Window.create(smallWindow);
    let address = 0;
    const afterEachChunk: number[] = [];
    using guest = window.instantiate(HOST, { log: () => afterEachChunk.push(mappingRssKiB(address)) });
    using region = window.mapFile(tempFile(file));
    address = Number(windowBasePointer(window)) + region.offset;
    expect(guest.exports.sum_releasing!(region.id, 2 ** 20)).toBe(BigInt(expected));
    expect(afterEachChunk.length).toBe(8);
    expect(Math.max(...afterEachChunk)).toBeLessThanOrEqual(1024 + 64);
    expect(mappingRssKiB(address)).toBeLessThanOrEqual(1024 + 64);
    // The oracle for the oracle: the same scan without releasing keeps the whole file resident.
    using probe = window.instantiate(guests.probe);
    expect(probe.exports.region_sum_u8!(region.id)).toBe(BigInt(expected));
    expect(mappingRssKiB(address)).toBeGreaterThanOrEqual(size / 1024);
  });

  test("release: answers for bad ids, anonymous regions, unaligned and outside ranges", () => {
    using window = Window.create(smallWindow);
    using guest = window.instantiate(HOST);
    using file = window.mapFile(tempFile(patternBytes(3 * 4096)));
    using scratch = window.mapAnonymous(4096);
    const release = guest.exports.release!;
    expect(release(file.id, 4096, 8192)).toBe(0);
    expect(release(file.id, 100, 4096)).toBe(-1); // unaligned
    expect(release(file.id, 0, 4 * 4096)).toBe(-1); // past the end
    expect(release(scratch.id, 0, 4096)).toBe(-1); // anonymous: its bytes would be lost
    expect(release(9999, 0, 4096)).toBe(-2);
    expect(release(0, 0, 4096)).toBe(-2);
    const gone = window.mapFile(tempFile(patternBytes(4096)));
    const id = gone.id;
    gone.unmap();
    expect(release(id, 0, 4096)).toBe(-2);
  });

  test("a Bun host's own imports: i32, i64 (bigint), f32/f64, and a throwing import", () => {
    using window = Window.create(smallWindow);
    let calls = 0;
    const boom = new Error("boom from the host");
    using guest = window.instantiate(IMPORTS, {
      imports: {
        env: { twice: { params: ["i32"], results: ["i32"], fn: (x: number) => (calls++, x * 2) } },
        host: {
          add64: { params: ["i64", "i64"], results: ["i64"], fn: (a: bigint, b: bigint) => a + b },
          scale: { params: ["f64", "f32"], results: ["f64"], fn: (x: number, y: number) => x * y },
          explode: { params: [], results: [], fn: () => { throw boom; } },
        },
      },
    });
    const g = guest.exports;
    expect(g.twice_plus_one!(20)).toBe(41);
    expect(calls).toBe(1);
    expect(g.add64_twice!(1n << 40n, 5n)).toBe((1n << 40n) + 10n);
    expect(g.scaled!(1.5, 0.25)).toBe(0.375);
    expect(thrown(Error, () => g.call_explode!())).toBe(boom);
    expect(g.twice_plus_one!(-3)).toBe(-5); // still usable
  });

  test("a missing import is a LINK error naming it", () => {
    using window = Window.create(smallWindow);
    const error = thrown(VmwindowError, () => window.instantiate(IMPORTS));
    expect(error.code).toBe("LINK");
    expect(error.message).toMatch(/unknown import: `(env::twice|host::add64|host::scale|host::explode)` has not been defined/);
    // The window still works.
    using guest = window.instantiate(guests.probe);
    expect(guest.exports.sum4!(1, 2, 3, 4)).toBe(10);
  });
});

describe("limits", () => {
  test("an allocation-heavy guest exhausts its area and traps without touching a mapped file", () => {
    const contents = patternBytes(1 << 20);
    const path = tempFile(contents);
    using window = Window.create(smallWindow);
    using region = window.mapFile(path, { access: "readwrite" });
    using guest = window.instantiate(HOST);
    const trap = thrown(GuestTrap, () => guest.exports.allocate_forever!(64 * 1024));
    expect(trap.reason).toMatch(/^abort: vmwindow: guest heap exhausted \(\d+ bytes requested\): give the window a bigger guest area .* at ~lib\/@vmwindow\/guest/);
    expect(Bun.hash.crc32(region.bytes)).toBe(Bun.hash.crc32(contents));
    expect(Bun.hash.crc32(readFileSync(path))).toBe(Bun.hash.crc32(contents));
    expect(guest.exports.bump!()).toBe(1); // still usable
  });

  test("an endless loop stops at its deadline; the guest, its neighbours and the window stay usable", () => {
    using window = Window.create(smallWindow);
    using looping = window.instantiate(HOST, { timeoutMs: 50 });
    using other = window.instantiate(HOST);
    const started = performance.now();
    const error = thrown(GuestTimeout, () => looping.exports.spin!());
    const elapsed = performance.now() - started;
    expect(error.code).toBe("TIMEOUT");
    expect(error.message).toContain("50 ms deadline");
    expect(elapsed).toBeGreaterThanOrEqual(49);
    expect(elapsed).toBeLessThan(2000);
    expect(looping.exports.bump!()).toBe(1);
    expect(other.exports.bump!()).toBe(1);
    looping.setTimeout(0);
    expect(looping.exports.bump!()).toBe(2);
    looping.setTimeout(20);
    expect(thrown(GuestTimeout, () => looping.exports.spin!()).message).toContain("20 ms deadline");
  });
});

describe("several guests", () => {
  test("guests of one window have their own static data and see the same regions", () => {
    using window = Window.create(smallWindow);
    using a = window.instantiate(HOST);
    using b = window.instantiate(HOST);
    using region = window.mapFile(tempFile(patternBytes(100)), { name: "alpha" });
    expect([a.exports.bump!(), a.exports.bump!(), b.exports.bump!(), a.exports.bump!(), b.exports.bump!()]).toEqual([1, 2, 1, 3, 2]);
    expect(a.exports.find_alpha!()).toBe(region.id);
    expect(b.exports.find_alpha!()).toBe(region.id);
    expect(window.guests.size).toBe(2);
    a.close();
    expect(b.exports.bump!()).toBe(3);
    expect(window.guests.size).toBe(1);
  });

  test("two windows mapping one file read-write see each other's writes", () => {
    const path = tempFile(new Uint8Array(8192));
    using w1 = Window.create(smallWindow);
    using w2 = Window.create(smallWindow);
    using g1 = w1.instantiate(guests.probe);
    using g2 = w2.instantiate(guests.probe);
    using r1 = w1.mapFile(path, { access: "readwrite" });
    using r2 = w2.mapFile(path, { access: "readwrite" });
    g1.exports.region_view_set_u8!(r1.id, 100, 0xab);
    expect(g2.exports.region_view_get_u8!(r2.id, 100)).toBe(0xab);
    g2.exports.view_set_i64!(r2.id, 3, -7n);
    expect(g1.exports.view_get_i64!(r1.id, 3)).toBe(-7n);
  });
});

describe("typed callables", () => {
  test("exports are resolved once into callables with WebAssembly JS API conversions", () => {
    using window = Window.create(smallWindow);
    using guest = window.instantiate(guests.probe);
    const sum4 = guest.fn("sum4");
    expect(guest.exports.sum4).toBe(sum4);
    expect(sum4.signature).toEqual({ name: "sum4", params: ["i32", "i32", "i32", "i32"], results: ["i32"] });
    expect(sum4(1, 2_000_000_000, 147_483_647, 1)).toBe(-2_147_483_647);
    expect(sum4(1.9, "2", true, 0xffff_ffff)).toBe(1 + 2 + 1 - 1); // ToInt32, like WebAssembly
    expect(guest.exports.add_i64!(2n ** 62n, 2n ** 62n)).toBe(-(2n ** 63n));
    expect(guest.exports.add_i64!(5, -7)).toBe(-2n);
    expect(guest.exports.add_f32!(0.1, 0.2)).toBe(Math.fround(Math.fround(0.1) + Math.fround(0.2)));
    expect(guest.exports.noop!()).toBeUndefined();
    expect(Object.isFrozen(guest.exports)).toBe(true);
    expect(thrown(VmwindowError, () => guest.fn("nope")).code).toBe("NOT_FOUND");
  });
});

describe("fuel", () => {
  test("a metered guest stops when its fuel runs out, deterministically, and stays usable", () => {
    using window = Window.create(smallWindow);
    using metered = window.instantiate(HOST, { fuel: 1_000_000 });
    const error = thrown(GuestTimeout, () => metered.exports.spin!());
    expect(error.message).toContain("ran out of fuel");
    expect(error.message).toContain("1000000 units");
    expect(metered.exports.bump!()).toBe(1);
    // Enough fuel for a small call, not for a tight endless loop.
    metered.setFuel(10_000n);
    expect(metered.exports.bump!()).toBe(2);
    expect(() => metered.exports.spin!()).toThrow(GuestTimeout);
    // Plain guests cannot be metered later; bad budgets are clear errors.
    using plain = window.instantiate(HOST);
    expect(thrown(VmwindowError, () => plain.setFuel(5)).code).toBe("UNSUPPORTED");
    expect(thrown(VmwindowError, () => metered.setFuel(0)).code).toBe("INVALID_ARGUMENT");
    expect(thrown(VmwindowError, () => window.instantiate(HOST, { fuel: -1 })).code).toBe("INVALID_ARGUMENT");
  });
});

test("deadlines and fuel together, with interruptible and metered guests in one process", () => {
  using window = Window.create(smallWindow);
  using timed = window.instantiate(HOST, { timeoutMs: 20 });
  using both = window.instantiate(HOST, { timeoutMs: 20, fuel: 2n ** 40n });
  // Fuel is plentiful: the deadline stops the metered guest.
  expect(thrown(GuestTimeout, () => both.exports.spin!()).message).toContain("20 ms deadline");
  expect(thrown(GuestTimeout, () => timed.exports.spin!()).message).toContain("20 ms deadline");
  both.setFuel(100_000);
  expect(thrown(GuestTimeout, () => both.exports.spin!()).message).toContain("ran out of fuel");
  expect(timed.exports.bump!()).toBe(1);
});
