// Guests over a window, driven from Bun: zero-copy reads and writes, traps that leave the guest
// usable, and call-argument checking. The probe guest is tests/guests/probe.ts.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { GuestTrap, interruptGuest, Window, VmwindowError } from "@vmwindow/bun";
import { expectInvalidArguments, guests, patternBytes, smallWindow, tempFile, thrown } from "./helpers.ts";

const trapOf = (run: () => unknown) => thrown(GuestTrap, run);
const errorOf = (run: () => unknown) => thrown(VmwindowError, run);

describe("guest over a window", () => {
  test("reads a mapped file in place: sum of bytes equals the host's sum", () => {
    const contents = patternBytes(300_000);
    using window = Window.create(smallWindow);
    using guest = window.instantiate(guests.probe);
    using region = window.mapFile(tempFile(contents));
    let expected = 0n;
    for (const byte of contents) expected += BigInt(byte);
    expect(guest.call("region_sum_u8", region.id)).toBe(expected);
    expect(guest.call("region_length", region.id)).toBe(contents.length);
    expect(guest.call("load_u8", region.offset + 12_345)).toBe(contents[12_345]!);
  });

  test("a read from an unmapped slot throws GuestTrap and the next call still works", () => {
    using window = Window.create(smallWindow);
    using guest = window.instantiate(guests.probe);
    const hole = window.layout.slotsBase + 5 * 65_536;
    const trap = trapOf(() => guest.call("load_u8", hole));
    expect(trap.reason).toMatch(/^out of bounds memory access \(memory fault at wasm address 0x[0-9a-f]+/);
    expect(trap.details).toContain("wasm backtrace");
    expect(guest.call("add_i64", 2n, 40n)).toBe(42n);
    // The null page and the area past a region's end trap too.
    trapOf(() => guest.call("load_u8", 0));
    using region = window.mapFile(tempFile(patternBytes(100)));
    expect(guest.call("load_u8", region.offset + 99)).toBe(patternBytes(100)[99]!);
    trapOf(() => guest.call("load_u8", region.offset + 8192));
    // An unmapped region's slot traps again.
    const offset = region.offset;
    region.unmap();
    trapOf(() => guest.call("load_u8", offset));
  });

  test("a write into a read-only region throws and the file on disk is unchanged", () => {
    const contents = patternBytes(70_000);
    const path = tempFile(contents);
    using window = Window.create(smallWindow);
    using guest = window.instantiate(guests.probe);
    using region = window.mapFile(path, { access: "read" });
    trapOf(() => guest.call("store_u8", region.offset + 10, 0xab));
    trapOf(() => guest.call("view_set_u16", region.id, 3, 0xabcd));
    expect(Buffer.from(readFileSync(path)).equals(Buffer.from(contents))).toBe(true);
    // ... and the table is read-only for the guest too.
    trapOf(() => guest.call("store_u8", window.layout.tableOffset + 20, 1));
  });

  test("a write into a read-write region is on disk after unmap, and region.bytes sees it without a copy", () => {
    const contents = patternBytes(70_000);
    const path = tempFile(contents);
    using window = Window.create(smallWindow);
    using guest = window.instantiate(guests.probe);
    const region = window.mapFile(path, { access: "readwrite" });
    const view = region.bytes;
    guest.call("store_u8", region.offset + 65_536 + 7, 0x5a);
    guest.call("view_set_i64", region.id, 2, -2n);
    // Zero-copy: the view made before the writes sees them.
    expect(view[65_536 + 7]).toBe(0x5a);
    expect(new DataView(view.buffer, view.byteOffset).getBigInt64(16, true)).toBe(-2n);
    // And a host write is visible to the guest.
    view[0] = 0x11;
    expect(guest.call("load_u8", region.offset)).toBe(0x11);
    region.unmap();
    const onDisk = readFileSync(path);
    expect(onDisk[65_536 + 7]).toBe(0x5a);
    expect(onDisk.readBigInt64LE(16)).toBe(-2n);
    expect(onDisk[0]).toBe(0x11);
    expect(onDisk[1]).toBe(contents[1]!);
  });

  test("abort carries the message and file:line; the guest keeps working", () => {
    using window = Window.create(smallWindow);
    using guest = window.instantiate(guests.probe);
    const trap = trapOf(() => guest.call("abort_now"));
    expect(trap.reason).toMatch(/^abort: boom at guests\/probe\.ts:\d+:\d+$/);
    const missing = trapOf(() => guest.call("lookup", 77));
    expect(missing.reason).toContain("region 77");
    expect(guest.call("sum4", 1, 2, 3, 4)).toBe(10);
  });

  test("values round-trip: i32, i64 (bigint), f32, f64", () => {
    using window = Window.create(smallWindow);
    using guest = window.instantiate(guests.probe);
    expect(guest.call("sum4", 1, 2_000_000_000, 147_483_647, 1)).toBe(-2_147_483_647); // wraps like i32;
    expect(guest.call("add_i64", 2n ** 62n, 2n ** 62n)).toBe(-(2n ** 63n)); // wraps like i64
    expect(guest.call("add_i64", 5, -7)).toBe(-2n); // safe integers are accepted as i64
    expect(guest.call("add_f64", 0.1, 0.2)).toBe(0.1 + 0.2);
    expect(guest.call("add_f32", 0.5, 0.25)).toBe(0.75);
    expect(guest.call("noop")).toBeUndefined();
    expect(guest.signature("sum4")).toEqual({ name: "sum4", params: ["i32", "i32", "i32", "i32"], results: ["i32"] });
  });

  test("bad calls are clear errors", () => {
    using window = Window.create(smallWindow);
    const guest = window.instantiate(guests.probe);
    expect(errorOf(() => guest.call("nope")).code).toBe("NOT_FOUND");
    expect(errorOf(() => guest.call("nope")).message).toContain('no export named "nope"');
    expect(errorOf(() => guest.call("sum4", 1, 2)).message).toBe("sum4 takes 4 arguments (i32, i32, i32, i32), got 2");
    expect(errorOf(() => guest.call("sum4", 1, 2, 3, "4" as unknown as number)).message).toContain('argument 4 must be an integer in i32/u32 range, got "4"');
    expect(errorOf(() => guest.call("sum4", 1, 2, 3, 1.5)).code).toBe("INVALID_ARGUMENT");
    expect(errorOf(() => guest.call("sum4", 1, 2, 3, 2 ** 32)).code).toBe("INVALID_ARGUMENT");
    expect(errorOf(() => guest.call("add_i64", 1n, 2n ** 64n)).code).toBe("INVALID_ARGUMENT");
    expect(errorOf(() => guest.call("add_i64", 1n, 0.5)).code).toBe("INVALID_ARGUMENT");
    expect(errorOf(() => guest.call("add_f64", 1, 2n as unknown as number)).code).toBe("INVALID_ARGUMENT");
    // A window holds several guests; closing one leaves the others working.
    using second = window.instantiate(guests.probe);
    guest.close();
    expect(errorOf(() => guest.call("noop")).code).toBe("CLOSED");
    expect(errorOf(() => guest.exports.noop!()).code).toBe("CLOSED");
    expect(second.call("sum4", 1, 1, 1, 1)).toBe(4);
    window.close();
    expect(errorOf(() => second.call("noop")).code).toBe("CLOSED");
  });

  test("bad host imports and options are INVALID_ARGUMENT when instantiating, never a TypeError then or at call time", () => {
    using window = Window.create(smallWindow);
    const bare = Object.create(null) as never;
    const fn = () => 0;
    const cases: [string, () => unknown, RegExp][] = [
      ["imports: 5", () => window.instantiate(guests.probe, { imports: 5 as never }), /imports must be an object, got number/],
      ["imports.env: null", () => window.instantiate(guests.probe, { imports: { env: null as never } }), /imports\.env must be an object, got null/],
      ["import entry 5", () => window.instantiate(guests.probe, { imports: { env: { f: 5 as never } } }), /import env\.f must be \{ params, results, fn \}, got 5$/],
      ["import fn 5", () => window.instantiate(guests.probe, { imports: { env: { f: { params: [], results: [], fn: 5 as never } } } }), /import env\.f: fn must be a function, got 5$/],
      ["import params \"i32\"", () => window.instantiate(guests.probe, { imports: { env: { f: { params: "i32" as never, results: [], fn } } } }), /import env\.f: params must be an array of value kinds, got "i32"$/],
      ["import results missing", () => window.instantiate(guests.probe, { imports: { env: { f: { params: [], fn } as never } } }), /import env\.f: results must be an array of value kinds, got undefined$/],
      ["kind 5n", () => window.instantiate(guests.probe, { imports: { env: { f: { params: [5n as never], results: [], fn } } } }), /unknown value kind 5n/],
      ["kind bare", () => window.instantiate(guests.probe, { imports: { env: { f: { params: [bare], results: [], fn } } } }), /unknown value kind an object/],
      // Object.prototype's names are not value kinds.
      ["kind toString", () => window.instantiate(guests.probe, { imports: { env: { f: { params: [], results: ["toString" as never], fn } } } }), /unknown value kind "toString"/],
      ["log: 5", () => window.instantiate(guests.probe, { log: 5 as never }), /log must be a function, got 5/],
      ["map: {}", () => window.instantiate(guests.probe, { map: {} as never }), /map must be a function, got an object/],
      ["cacheDir: 5n", () => window.instantiate(guests.probe, { cacheDir: 5n as never }), /cacheDir must be a non-empty path, got 5n/],
      ["timeoutMs: bare", () => window.instantiate(guests.probe, { timeoutMs: bare }), /timeoutMs must be a non-negative integer/],
      ["fuel: bare", () => window.instantiate(guests.probe, { fuel: bare }), /fuel must be a positive integer/],
    ];
    const guest = window.instantiate(guests.probe, { fuel: 1_000_000 });
    cases.push(
      ["call with bare", () => guest.call("sum4", 1, 2, 3, bare), /argument 4 must be an integer in i32\/u32 range, got an object/],
      ["setFuel(bare)", () => guest.setFuel(bare), /fuel must be a positive integer/],
      ["setTimeout(bare)", () => guest.setTimeout(bare), /timeoutMs must be a non-negative integer/],
      ["interruptGuest(bare)", () => interruptGuest(bare), /token must be a number from guest\.interruptToken\(\), got an object/],
    );
    expectInvalidArguments(cases);
    expect(window.guests.size).toBe(1);
    // null stays "none", as it was before these checks.
    using plain = window.instantiate(guests.probe, { imports: null as never, log: null as never, map: null as never });
    expect(plain.call("sum4", 1, 2, 3, 4)).toBe(10);
  });

  test("window.guests is a snapshot: changing it does not change which guests close() closes", () => {
    const window = Window.create(smallWindow);
    const guest = window.instantiate(guests.probe);
    const listed = window.guests as Set<unknown>;
    expect([...listed]).toEqual([guest]);
    listed.clear();
    listed.add({});
    expect([...window.guests]).toEqual([guest]);
    window.close();
    expect(guest.closed).toBe(true);
    expect(errorOf(() => guest.call("sum4", 1, 2, 3, 4)).code).toBe("CLOSED");
    expect(window.guests.size).toBe(0);
  });

  test("bad modules are clear errors", () => {
    using window = Window.create(smallWindow);
    expect(errorOf(() => window.instantiate(new Uint8Array([1, 2, 3]))).code).toBe("BAD_MODULE");
    expect(errorOf(() => window.instantiate(new Uint8Array())).code).toBe("BAD_MODULE");
    const missing = errorOf(() => window.instantiate("/nonexistent/guest.wasm"));
    expect([missing.code, missing.message]).toEqual(["NOT_FOUND", "cannot read guest module /nonexistent/guest.wasm: no such file"]);
    const throughFile = errorOf(() => window.instantiate(`${tempFile("x")}/guest.wasm`));
    expect(throughFile.code).toBe("NOT_FOUND");
    expect(throughFile.message).toEndWith(": no such file (a part of the path is not a directory)");
    const nul = errorOf(() => window.instantiate("guest\0.wasm"));
    expect([nul.code, nul.message]).toEqual(["INVALID_ARGUMENT", "path contains a NUL byte"]);
    const tooLong = errorOf(() => window.instantiate(`/${"a".repeat(5000)}.wasm`));
    expect(tooLong.code).toBe("INVALID_ARGUMENT");
    expect(tooLong.message).toEndWith(".wasm: the path is too long");
    // A module with its own memory: (module (memory 1))
    const ownMemory = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 5, 3, 1, 0, 1]);
    const error = errorOf(() => window.instantiate(ownMemory));
    expect(error.code).toBe("LINK");
    expect(error.message).toContain("env.memory");
    // The window is still usable after all of that.
    using guest = window.instantiate(guests.probe);
    expect(guest.call("sum4", 1, 2, 3, 4)).toBe(10);
  });
});
