// Guest SDK tests under Bun's own WebAssembly (no native library): the test plays the host. It
// builds a window-shaped memory, writes the region table with a DataView straight from
// docs/abi.md (an oracle independent of guest-sdk/assembly/abi.ts), puts region bytes into
// 64 KiB slots and calls the compiled guests.
//
// Needs tests/build/*.wasm and examples/checksum/build/guest.wasm: `bun run build` in tests/ and
// examples/checksum/ (turbo does both); missing builds are compiled on the fly.
import { describe, expect, test, beforeAll } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { GUEST_BASE } from "../packages/bun/src/abi.ts";
import { patternBytes } from "./helpers.ts";

const ROOT = join(import.meta.dir, "..");
const PROBE = join(ROOT, "tests/build/probe.wasm");
const PROBE_MINIMAL = join(ROOT, "tests/build/probe.minimal.wasm");
const PROBE_INCREMENTAL = join(ROOT, "tests/build/probe.incremental.wasm");
const CHECKSUM = join(ROOT, "examples/checksum/build/guest.wasm");

// docs/abi.md, ABI v1
const PAGE = 65536;
const TABLE_OFFSET = 0x10000;
const HEADER_BYTES = 64;
const ENTRY_BYTES = 64;
const MAGIC = 0x54574d56; // "VMWT"

const WINDOW_BYTES = 64 * 1024 * 1024;
const GUEST_BYTES = 4 * 1024 * 1024;
const SLOTS_BASE = GUEST_BASE + GUEST_BYTES;
const CAPACITY = 16;
const TAIL_FILL = 0xa5; // slot bytes past a region's length: reading them changes checksums

type RegionSpec = { id: number; bytes: Uint8Array; writable?: boolean; name?: string };

class GuestAbort extends Error {
  constructor(
    readonly guestMessage: string | null,
    readonly file: string | null,
    readonly line: number,
    readonly column: number,
  ) {
    super(`${guestMessage} (${file}:${line}:${column})`);
  }
}

/** An AssemblyScript string at `ptr`: UTF-16LE, byte length in the u32 at ptr - 4. */
function readString(memory: WebAssembly.Memory, ptr: number): string | null {
  if (ptr === 0) return null;
  const bytes = new DataView(memory.buffer).getUint32(ptr - 4, true);
  return new TextDecoder("utf-16le").decode(new Uint8Array(memory.buffer, ptr, bytes));
}

type Window = {
  memory: WebAssembly.Memory;
  dv: DataView;
  u8: Uint8Array;
  slots: Map<number, { offset: number; length: number }>;
};

/** A window-shaped memory with a region table per docs/abi.md. */
function makeWindow(regions: RegionSpec[], opts: { table?: boolean; guestBytes?: number } = {}): Window {
  const pages = WINDOW_BYTES / PAGE;
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
  const dv = new DataView(memory.buffer);
  const u8 = new Uint8Array(memory.buffer);
  const guestBytes = opts.guestBytes ?? GUEST_BYTES;
  const slotsBase = GUEST_BASE + guestBytes;
  const slots = new Map<number, { offset: number; length: number }>();
  if (opts.table === false) return { memory, dv, u8, slots };

  const h = TABLE_OFFSET;
  dv.setUint32(h + 0, MAGIC, true);
  dv.setUint32(h + 4, 1, true); // abi_version
  dv.setUint32(h + 8, HEADER_BYTES, true);
  dv.setUint32(h + 12, ENTRY_BYTES, true);
  dv.setUint32(h + 16, CAPACITY, true);
  dv.setUint32(h + 20, regions.length, true); // count
  dv.setUint32(h + 24, 2, true); // generation (even: stable)
  dv.setUint32(h + 28, 0, true);
  dv.setBigUint64(h + 32, BigInt(WINDOW_BYTES), true);
  dv.setBigUint64(h + 40, BigInt(GUEST_BASE), true);
  dv.setBigUint64(h + 48, BigInt(guestBytes), true);
  dv.setBigUint64(h + 56, BigInt(slotsBase), true);
  for (let k = 1; k <= CAPACITY; ++k) {
    const e = h + HEADER_BYTES + (k - 1) * ENTRY_BYTES;
    dv.setUint32(e + 24, k, true); // id
    dv.setUint32(e + 28, 2, true); // generation (free entries keep id and generation)
  }
  let next = slotsBase;
  for (const r of regions) {
    const slotBytes = Math.max(PAGE, Math.ceil(r.bytes.length / PAGE) * PAGE);
    const e = h + HEADER_BYTES + (r.id - 1) * ENTRY_BYTES;
    dv.setBigUint64(e + 0, BigInt(next), true);
    dv.setBigUint64(e + 8, BigInt(r.bytes.length), true);
    dv.setBigUint64(e + 16, BigInt(slotBytes), true);
    dv.setUint32(e + 24, r.id, true);
    dv.setUint32(e + 28, 3, true);
    dv.setUint32(e + 32, 1, true); // state: live
    dv.setUint32(e + 36, r.writable ? 3 : 1, true); // access
    if (r.name) u8.set(new TextEncoder().encode(r.name), e + 40);
    u8.set(r.bytes, next);
    u8.fill(TAIL_FILL, next + r.bytes.length, next + slotBytes);
    slots.set(r.id, { offset: next, length: r.bytes.length });
    next += slotBytes;
  }
  if (next > WINDOW_BYTES) throw new Error("test regions do not fit the window");
  return { memory, dv, u8, slots };
}

const modules = new Map<string, WebAssembly.Module>();
function module(path: string): WebAssembly.Module {
  let m = modules.get(path);
  if (!m) modules.set(path, (m = new WebAssembly.Module(require("node:fs").readFileSync(path))));
  return m;
}

function instantiate(path: string, win: Window): any {
  const instance = new WebAssembly.Instance(module(path), {
    env: {
      memory: win.memory,
      abort(msg: number, file: number, line: number, column: number) {
        throw new GuestAbort(readString(win.memory, msg), readString(win.memory, file), line, column);
      },
    },
  });
  return instance.exports;
}

/** Runs `fn`, expects a guest abort and returns its message. */
function guestAbort(fn: () => unknown): GuestAbort {
  try {
    fn();
  } catch (e) {
    if (e instanceof GuestAbort) return e;
    throw e;
  }
  throw new Error("expected the guest to abort, it returned");
}


beforeAll(async () => {
  // Build missing guests (normally turbo's `build` has done this).
  const run = async (cwd: string, cmd: string[]) => {
    const p = Bun.spawn(cmd, { cwd, stdout: "inherit", stderr: "inherit" });
    if ((await p.exited) !== 0) throw new Error(`${cmd.join(" ")} failed in ${cwd}`);
  };
  if (![PROBE, PROBE_MINIMAL, PROBE_INCREMENTAL].every(existsSync)) {
    await run(join(ROOT, "tests"), [process.execPath, "build-guests.ts"]);
  }
  if (!existsSync(CHECKSUM)) await run(join(ROOT, "examples/checksum"), [process.execPath, "run", "build"]);
}, 120_000);

describe("module shape", () => {
  test("guests import env.memory and env.abort only, and do not export memory", () => {
    for (const path of [PROBE, PROBE_MINIMAL, PROBE_INCREMENTAL, CHECKSUM]) {
      const imports = WebAssembly.Module.imports(module(path)).map((i) => `${i.module}.${i.name}:${i.kind}`);
      expect(imports.sort()).toEqual(["env.abort:function", "env.memory:memory"]);
      expect(WebAssembly.Module.exports(module(path)).some((e) => e.kind === "memory")).toBe(false);
    }
  });

  test("static data starts at the guest base; the heap starts above it", () => {
    const win = makeWindow([]);
    const g = instantiate(PROBE, win);
    expect(g.data_end()).toBeGreaterThan(GUEST_BASE);
    expect(g.heap_base()).toBeGreaterThanOrEqual(g.data_end());
    expect(g.heap_base()).toBeLessThan(GUEST_BASE + 256 * 1024);
    // memory below the guest base is untouched by instantiation (data segments land above it)
    expect(win.u8.subarray(0, TABLE_OFFSET).every((b) => b === 0)).toBe(true);
    expect(win.u8.subarray(TABLE_OFFSET + HEADER_BYTES + CAPACITY * ENTRY_BYTES, GUEST_BASE).every((b) => b === 0)).toBe(true);
  });
});

describe("checksum example: crc32(id)", () => {
  const sizes = [1, 7, 8, 9, 65535, 65536, 65537, 3 * 1024 * 1024 + 12345];
  test.each(sizes)("region of %d bytes equals Bun.hash.crc32", (n) => {
    const bytes = patternBytes(n, n);
    const win = makeWindow([{ id: 3, bytes }]);
    const g = instantiate(CHECKSUM, win);
    expect(g.crc32(3) >>> 0).toBe(Bun.hash.crc32(bytes));
    expect(g.crc32(3) >>> 0).toBe(Bun.hash.crc32(bytes)); // tables built once, reused
  });

  test("known vector: crc32('123456789') = 0xCBF43926", () => {
    const win = makeWindow([{ id: 1, bytes: new TextEncoder().encode("123456789") }]);
    expect(instantiate(CHECKSUM, win).crc32(1) >>> 0).toBe(0xcbf43926);
  });

  test("several regions, unaligned sub-ranges through crc32_update", () => {
    const a = patternBytes(100_000, 1);
    const b = patternBytes(70_001, 2);
    const win = makeWindow([{ id: 1, bytes: a }, { id: 16, bytes: b }]);
    const g = instantiate(CHECKSUM, win);
    expect(g.crc32(1) >>> 0).toBe(Bun.hash.crc32(a));
    expect(g.crc32(16) >>> 0).toBe(Bun.hash.crc32(b));
    const off = win.slots.get(16)!.offset;
    const part = g.crc32_update(0, off + 3, 1000) >>> 0;
    expect(part).toBe(Bun.hash.crc32(b.subarray(3, 1003)));
    expect(g.crc32_update(part, off + 1003, 5) >>> 0).toBe(Bun.hash.crc32(b.subarray(3, 1008)));
  });

  test("crc32 of an unmapped id aborts naming the id", () => {
    const g = instantiate(CHECKSUM, makeWindow([{ id: 1, bytes: new Uint8Array(10) }]));
    expect(guestAbort(() => g.crc32(2)).guestMessage).toBe("vmwindow: region 2 is not mapped");
  });
});

describe("region table", () => {
  const a = patternBytes(65537, 9);
  const b = patternBytes(1000, 10);
  const setup = () => {
    const win = makeWindow([{ id: 2, bytes: a }, { id: 5, bytes: b, writable: true }]);
    return { win, g: instantiate(PROBE, win) };
  };

  test("count, capacity, offsets, lengths, access", () => {
    const { win, g } = setup();
    expect(g.region_count()).toBe(2);
    expect(g.region_capacity()).toBe(CAPACITY);
    expect(g.lookup(2) >>> 0).toBe(win.slots.get(2)!.offset);
    expect(g.lookup(5) >>> 0).toBe(win.slots.get(5)!.offset);
    expect(g.lookup(2) % PAGE).toBe(0);
    expect(g.region_length(2)).toBe(65537);
    expect(g.region_length(5)).toBe(1000);
    expect(g.region_writable(2)).toBe(0);
    expect(g.region_writable(5)).toBe(1);
  });

  test("regions.get aborts for id 0, free ids, ids past capacity", () => {
    for (const id of [0, 1, 3, CAPACITY, CAPACITY + 1, 1000, 0xffffffff]) {
      const { g } = setup();
      const e = guestAbort(() => g.lookup(id));
      expect(e.guestMessage).toBe(`vmwindow: region ${id} is not mapped`);
      expect(e.file).toBe("~lib/@vmwindow/guest");
    }
  });

  test("an entry that the host frees stops resolving", () => {
    const { win, g } = setup();
    expect(g.region_length(5)).toBe(1000);
    const e = TABLE_OFFSET + HEADER_BYTES + 4 * ENTRY_BYTES; // id 5
    win.dv.setUint32(e + 32, 0, true); // state: free
    expect(guestAbort(() => g.region_length(5)).guestMessage).toBe("vmwindow: region 5 is not mapped");
  });

  test("a missing table or a wrong version aborts with a clear message", () => {
    const g = instantiate(PROBE, makeWindow([], { table: false }));
    expect(g.add_i64(1n, 2n)).toBe(3n); // instantiation itself needs no table
    expect(guestAbort(() => g.lookup(1)).guestMessage).toBe(
      "vmwindow: no region table at 0x10000 (magic 0x0, expected 0x54574d56); is this guest running in a vmwindow window?",
    );
    const win = makeWindow([{ id: 1, bytes: b }]);
    win.dv.setUint32(TABLE_OFFSET + 4, 2, true);
    expect(guestAbort(() => instantiate(PROBE, win).region_count()).guestMessage).toBe(
      "vmwindow: region table has ABI version 2, this guest was built for version 1",
    );
  });
});

describe("views", () => {
  test("u8 view: sum, get, set round-trip", () => {
    const bytes = patternBytes(65535, 5);
    const win = makeWindow([{ id: 4, bytes, writable: true }]);
    const g = instantiate(PROBE, win);
    expect(g.region_sum_u8(4)).toBe(BigInt(bytes.reduce((s, x) => s + x, 0)));
    expect(g.region_view_get_u8(4, 0)).toBe(bytes[0]);
    expect(g.region_view_get_u8(4, 65534)).toBe(bytes[65534]);
    g.region_view_set_u8(4, 1234, 0x5a);
    g.region_view_set_u8(4, 65534, 0x1ff); // truncated to u8
    const off = win.slots.get(4)!.offset;
    expect(win.u8[off + 1234]).toBe(0x5a);
    expect(win.u8[off + 65534]).toBe(0xff);
    expect(g.region_view_get_u8(4, 1234)).toBe(0x5a);
    expect(g.load_u8(off + 1234)).toBe(0x5a);
    g.store_u8(off + 7, 0x77);
    expect(g.region_view_get_u8(4, 7)).toBe(0x77);
  });

  test("out-of-range index aborts naming the region and the index", () => {
    const win = makeWindow([{ id: 4, bytes: patternBytes(65535, 5) }, { id: 9, bytes: new Uint8Array(65537) }]);
    let g = instantiate(PROBE, win);
    expect(guestAbort(() => g.region_view_get_u8(4, 65535)).guestMessage).toBe(
      "vmwindow: index 65535 out of range for region 4 (65535 bytes)",
    );
    g = instantiate(PROBE, win);
    expect(guestAbort(() => g.region_view_set_u8(4, 0xffffffff, 1)).guestMessage).toBe(
      "vmwindow: index 4294967295 out of range for region 4 (65535 bytes)",
    );
    g = instantiate(PROBE, win);
    expect(g.view_length_u64(9)).toBe(8192); // floor(65537 / 8)
    expect(g.view_get_u64(9, 8191)).toBe(0n);
    expect(guestAbort(() => g.view_get_u64(9, 8192)).guestMessage).toBe(
      "vmwindow: index 8192 out of range for region 9 (65537 bytes)",
    );
    // unchecked access reads past the length (here: the slot tail the test filled)
    g = instantiate(PROBE, win);
    expect(g.view_get_unchecked_u8(4, 65535)).toBe(TAIL_FILL);
  });

  test("typed views read what a DataView wrote, and write what it reads", () => {
    const bytes = new Uint8Array(259); // 259: lengths round down per element size
    const dvb = new DataView(bytes.buffer);
    dvb.setInt8(3, -5);
    dvb.setUint16(2 * 3, 0xbeef, true);
    dvb.setInt16(2 * 5, -12345, true);
    dvb.setUint32(4 * 8, 0xdeadbeef, true);
    dvb.setInt32(4 * 9, -123456789, true);
    dvb.setBigUint64(8 * 10, 0xfedcba9876543210n, true);
    dvb.setBigInt64(8 * 11, -1234567890123456789n, true);
    dvb.setFloat32(4 * 50, 3.5, true);
    dvb.setFloat64(8 * 26, -Math.PI, true);
    const win = makeWindow([{ id: 6, bytes, writable: true }]);
    const g = instantiate(PROBE, win);
    expect(g.view_get_i8(6, 3)).toBe(-5);
    expect(g.region_view_get_u8(6, 3)).toBe(251);
    expect(g.view_get_u16(6, 3)).toBe(0xbeef);
    expect(g.view_get_i16(6, 3)).toBe(0xbeef - 0x10000);
    expect(g.view_get_i16(6, 5)).toBe(-12345);
    expect(g.view_get_u32(6, 8) >>> 0).toBe(0xdeadbeef);
    expect(g.view_get_i32(6, 9)).toBe(-123456789);
    expect(BigInt.asUintN(64, g.view_get_u64(6, 10))).toBe(0xfedcba9876543210n);
    expect(g.view_get_i64(6, 11)).toBe(-1234567890123456789n);
    expect(g.view_get_f32(6, 50)).toBe(3.5);
    expect(g.view_get_f64(6, 26)).toBe(-Math.PI);
    expect(g.view_length_u16(6)).toBe(129);
    expect(g.view_length_u64(6)).toBe(32);
    expect(g.view_length_f32(6)).toBe(64);

    const off = win.slots.get(6)!.offset;
    g.view_set_u16(6, 100, 0xcafe);
    g.view_set_i64(6, 20, -42n);
    g.view_set_f64(6, 21, 1e300);
    expect(win.dv.getUint16(off + 200, true)).toBe(0xcafe);
    expect(win.dv.getBigInt64(off + 160, true)).toBe(-42n);
    expect(win.dv.getFloat64(off + 168, true)).toBe(1e300);
    expect(g.load_i32(off + 4 * 9)).toBe(-123456789);
    expect(guestAbort(() => g.view_get_f64(6, 32)).guestMessage).toBe(
      "vmwindow: index 32 out of range for region 6 (259 bytes)",
    );
  });
});

describe("scalars and aborts", () => {
  test("calls with i32, i64, f32, f64", () => {
    const g = instantiate(PROBE, makeWindow([]));
    expect(g.noop()).toBeUndefined();
    expect(g.sum4(1, 2, 3, -10)).toBe(-4);
    expect(g.add_i64(0x7fffffffffffffffn, 1n)).toBe(-0x8000000000000000n);
    expect(g.add_f64(0.1, 0.2)).toBe(0.1 + 0.2);
    expect(g.add_f32(1.5, 2.25)).toBe(3.75);
    expect(g.add_f32(0.1, 0.2)).toBe(Math.fround(Math.fround(0.1) + Math.fround(0.2)));
  });

  test("throw new Error reaches env.abort with message, file and line", () => {
    const e = guestAbort(() => instantiate(PROBE, makeWindow([])).abort_now());
    expect(e.guestMessage).toBe("boom");
    expect(e.file).toBe("guests/probe.ts");
    expect(e.line).toBeGreaterThan(100);
    expect(e.column).toBeGreaterThan(0);
  });
});

test("a shadow-stack overflow aborts with empty message and file at 1:1 (asc 0.28 quirk)", () => {
  const g = instantiate(PROBE, makeWindow([]));
  expect(g.deep(10)).toBe(10);
  const e = guestAbort(() => g.deep(1_000_000));
  expect([e.guestMessage, e.file, e.line, e.column]).toEqual(["", "", 1, 1]);
});

describe.each([
  ["stub", PROBE],
  ["minimal", PROBE_MINIMAL],
  ["incremental", PROBE_INCREMENTAL],
])("heap confinement (%s runtime)", (_runtime, path) => {
  const guestEnd = GUEST_BASE + GUEST_BYTES;

  test("allocating until exhaustion stays inside the guest area, then aborts", () => {
    const region = patternBytes(200_000, 77);
    const win = makeWindow([{ id: 1, bytes: region }, { id: 2, bytes: patternBytes(65536, 78) }]);
    const before = win.u8.slice(0, GUEST_BASE);
    const slotsBefore = win.u8.slice(SLOTS_BASE, SLOTS_BASE + 4 * PAGE);
    const g = instantiate(path, win);
    const heapBase = g.heap_base();
    const n = 256 * 1024;
    let total = 0;
    let error: GuestAbort | null = null;
    for (let i = 0; i < 1000; ++i) {
      try {
        const addr = g.alloc_keep(n) >>> 0;
        expect(addr).toBeGreaterThanOrEqual(heapBase);
        expect(addr + n).toBeLessThanOrEqual(guestEnd);
        // zeroed, writable memory of the requested size
        expect(win.u8[addr]).toBe(0);
        expect(win.u8[addr + n - 1]).toBe(0);
        win.u8.fill(0xee, addr, addr + n);
        total += n;
      } catch (e) {
        if (!(e instanceof GuestAbort)) throw e;
        error = e;
        break;
      }
    }
    expect(error).not.toBeNull();
    expect(error!.guestMessage).toMatch(/^vmwindow: guest heap exhausted \(\d+ bytes requested\): give the window a bigger guest area \(Window.create\(\{ guestBytes \}\), vmwindow run --guest-bytes\) or allocate less$/);
    // it used (almost) all of the guest area before giving up
    expect(total).toBeGreaterThan(GUEST_BYTES - 2 * n - (heapBase - GUEST_BASE));
    // the null page, the table and the slots are untouched
    expect(Buffer.compare(win.u8.subarray(0, GUEST_BASE), before)).toBe(0);
    expect(Buffer.compare(win.u8.subarray(SLOTS_BASE, SLOTS_BASE + 4 * PAGE), slotsBefore)).toBe(0);
    expect(Bun.hash.crc32(win.u8.subarray(SLOTS_BASE, SLOTS_BASE + region.length))).toBe(Bun.hash.crc32(region));
  });

  test("one request larger than the guest area aborts at once", () => {
    const win = makeWindow([]);
    const g = instantiate(path, win);
    const e = guestAbort(() => g.alloc_bytes(GUEST_BYTES));
    expect(e.guestMessage).toMatch(/^vmwindow: guest heap exhausted \(\d+ bytes requested\): give the window a bigger guest area/);
    expect(win.u8.subarray(SLOTS_BASE, SLOTS_BASE + PAGE).every((b) => b === 0)).toBe(true);
  });

  test("a smaller guest area moves the limit", () => {
    const win = makeWindow([], { guestBytes: 1024 * 1024 });
    const g = instantiate(path, win);
    expect(g.alloc_bytes(512 * 1024) >>> 0).toBeLessThan(GUEST_BASE + 1024 * 1024);
    const e = guestAbort(() => {
      for (let i = 0; i < 10; ++i) g.alloc_keep(512 * 1024);
    });
    expect(e.guestMessage).toMatch(/^vmwindow: guest heap exhausted/);
  });

  test("allocating without a region table aborts with a clear message", () => {
    const g = instantiate(path, makeWindow([], { table: false }));
    expect(guestAbort(() => g.alloc_bytes(16)).guestMessage).toBe(
      "vmwindow: cannot allocate: no vmwindow v1 region table at 0x10000 (the host must publish it before instantiating)",
    );
  });

  if (path !== PROBE) {
    test("garbage is reused: allocating 10x the heap in short-lived buffers succeeds", () => {
      const win = makeWindow([]);
      const g = instantiate(path, win);
      for (let i = 0; i < 40; ++i) {
        const addr = g.alloc_garbage(1024 * 1024) >>> 0;
        expect(addr).toBeGreaterThanOrEqual(g.heap_base());
        expect(addr + 1024 * 1024).toBeLessThanOrEqual(guestEnd);
        // reused blocks come back zeroed (std relies on it: a custom runtime counts as Incremental)
        expect(win.u8.subarray(addr, addr + 1024 * 1024).every((b) => b === 0)).toBe(true);
        win.u8.fill(0xee, addr, addr + 1024 * 1024);
        if (path === PROBE_MINIMAL) g.collect(); // minimal never collects by itself
      }
    });
  }
});
