// Hardening: every fault a guest can cause inside a call becomes a GuestTrap with a clear reason,
// the process lives, and the same guest and window keep working (checked by reading a freshly
// mapped file through the same guest). Also the sandbox's edges: the last byte of the memory, the
// first byte past it, 0xFFFFFFFF plus memarg offsets, loads and stores; stores that trap change
// nothing (table, guest area and a region at the end are compared byte for byte). Modules are
// hand-assembled (tests/wasm-builder.ts) so each fault is exactly one instruction.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { toArrayBuffer } from "bun:ffi";
import { GuestTrap, VmwindowError, Window, type Guest } from "@vmwindow/bun";
import { windowBasePointer } from "../packages/bun/src/window.ts";
import { join } from "node:path";
import { guests, patternBytes, tempFile, thrown } from "./helpers.ts";
import { buildModule, envMemory, F64, I32, I64, op, type Func } from "./wasm-builder.ts";
import { GUEST_BASE } from "../packages/bun/src/abi.ts";

const SIZE = 64 * 2 ** 20;
const WINDOW = { sizeBytes: SIZE, guestBytes: 2 ** 20 };
const PAGE = 65_536;

// Function indices follow the order below (no imported functions).
const functions: Func[] = [
  { params: [I32], results: [I32], body: [...op.localGet(0), ...op.i32Load8U()], export: "load_u8" },
  { params: [I32, I32], results: [], body: [...op.localGet(0), ...op.localGet(1), ...op.i32Store8()], export: "store_u8" },
  { params: [I32], results: [I32], body: [...op.localGet(0), ...op.i32Load8U(0xffff_ffff)], export: "load_u8_far" },
  { params: [I32, I32], results: [], body: [...op.localGet(0), ...op.localGet(1), ...op.i32Store8(0xffff_ffff)], export: "store_u8_far" },
  { params: [I32], results: [I32], body: [...op.localGet(0), ...op.i32Load()], export: "load_i32" },
  { params: [I32, I32], results: [], body: [...op.localGet(0), ...op.localGet(1), ...op.i32Store()], export: "store_i32" },
  { params: [I32], results: [I64], body: [...op.localGet(0), ...op.i64Load()], export: "load_i64" },
  { params: [I32, I64], results: [], body: [...op.localGet(0), ...op.localGet(1), ...op.i64Store()], export: "store_i64" },
  { params: [], results: [], body: [...op.unreachable], export: "unreachable" },
  { params: [I32, I32], results: [I32], body: [...op.localGet(0), ...op.localGet(1), ...op.i32DivS], export: "div_s" },
  { params: [I32, I32], results: [I32], body: [...op.localGet(0), ...op.localGet(1), ...op.i32DivU], export: "div_u" },
  { params: [I32, I32], results: [I32], body: [...op.localGet(0), ...op.localGet(1), ...op.i32RemS], export: "rem_s" },
  { params: [F64], results: [I32], body: [...op.localGet(0), ...op.i32TruncF64S], export: "trunc" },
  // recurse(n) = n == 0 ? 0 : recurse(n - 1) + 1 (function index 13): not a tail call.
  {
    params: [I32],
    results: [I32],
    body: [...op.localGet(0), ...op.i32Eqz, ...op.ifI32, ...op.i32Const(0), ...op.else, ...op.localGet(0), ...op.i32Const(1), ...op.i32Sub, ...op.call(13), ...op.i32Const(1), ...op.i32Add, ...op.end],
    export: "recurse",
  },
  { params: [I32], results: [I32], body: [...op.localGet(0), ...op.memoryGrow], export: "grow" },
  { params: [], results: [I32], body: [...op.memorySize], export: "size" },
];
const FAULTS = buildModule({ imports: [envMemory], functions });

const trapOf = (run: () => unknown) => thrown(GuestTrap, run);

/** The window and `guest` still work: a new file maps, and the guest reads its bytes in place. */
function expectHealthy(window: Window, guest: Guest): void {
  const bytes = patternBytes(10_000, 77);
  using region = window.mapFile(tempFile(bytes));
  for (const i of [0, 4095, 4096, 9_999]) expect(guest.call("load_u8", region.offset + i)).toBe(bytes[i]!);
  expect(guest.call("size")).toBe(SIZE / PAGE);
}

/** A copy of every host-visible byte a stray store could reach: the table, the guest area, and `extra`. */
function snapshot(window: Window, extra: Uint8Array[] = []): Buffer {
  const { tableOffset, tableBytes, guestBase, guestBytes } = window.layout;
  const parts = [new Uint8Array(toArrayBuffer(windowBasePointer(window), tableOffset, tableBytes)), new Uint8Array(toArrayBuffer(windowBasePointer(window), guestBase, guestBytes)), ...extra];
  return Buffer.concat(parts.map((p) => Buffer.from(p)));
}

describe("faults inside a call become GuestTrap; the guest and the window keep working", () => {
  const cases: [string, (g: Guest, w: Window) => unknown, RegExp][] = [
    ["read in a free slot", (g, w) => g.call("load_u8", w.layout.slotsBase + 7 * PAGE + 3), /^out of bounds memory access \(memory fault at wasm address 0x([0-9a-f]+) in linear memory of size 0x4000000\): a free slot \(nothing is mapped at window offset 0x\1\)$/],
    ["write in a free slot", (g, w) => g.call("store_u8", w.layout.slotsBase + 7 * PAGE + 3, 1), /^out of bounds memory access \(memory fault at wasm address .*\): a free slot/],
    ["read in the null page", (g) => g.call("load_i32", 8), /^out of bounds memory access \(memory fault at wasm address 0x8 .*\): the null page \(addresses below 0x10000 never map\)$/],
    ["read past the window (address = size)", (g) => g.call("load_u8", SIZE), /^out of bounds memory access .*: past the end of the window \(67108864 bytes\)$/],
    ["write past the window (guard, size + 1 MiB)", (g) => g.call("store_u8", SIZE + 2 ** 20, 1), /^out of bounds memory access .*: past the end of the window/],
    ["read at 0xFFFFFFFF + offset 0xFFFFFFFF", (g) => g.call("load_u8_far", 0xffff_ffff), /^out of bounds memory access/],
    ["write into the region table", (g, w) => g.call("store_u8", w.layout.tableOffset + 20, 9), /^out of bounds memory access \(memory fault at wasm address 0x10014 .*\): the region table \(read-only to guests\)$/],
    ["unreachable", (g) => g.call("unreachable"), /^wasm `unreachable` instruction executed/],
    ["i32 divide by zero", (g) => g.call("div_s", 1, 0), /^integer divide by zero/],
    ["u32 divide by zero", (g) => g.call("div_u", 1, 0), /^integer divide by zero/],
    ["i32 remainder by zero", (g) => g.call("rem_s", 1, 0), /^integer divide by zero/],
    ["INT_MIN / -1", (g) => g.call("div_s", -0x8000_0000, -1), /^integer overflow/],
    ["f64 NaN to i32", (g) => g.call("trunc", NaN), /^invalid conversion to integer/],
    ["f64 1e20 to i32", (g) => g.call("trunc", 1e20), /^integer overflow/],
    ["stack overflow (native wasm stack)", (g) => g.call("recurse", 1e9), /^call stack exhausted/],
  ];
  for (const [what, run, reason] of cases) {
    test(what, () => {
      using window = Window.create(WINDOW);
      using guest = window.instantiate(FAULTS);
      const before = snapshot(window);
      const trap = trapOf(() => run(guest, window));
      expect(trap.code).toBe("TRAP");
      expect(trap.reason).toMatch(reason);
      expect(trap.message).toBe(`guest trapped: ${trap.reason}`);
      expect(trap.details).toContain("wasm backtrace");
      expect(snapshot(window).equals(before)).toBe(true);
      expectHealthy(window, guest);
      // The same fault again: still a trap, still healthy (no state left behind by the first).
      expect(trapOf(() => run(guest, window)).reason).toMatch(reason);
      expectHealthy(window, guest);
    });
  }

  test("the recursion itself works below the limit (the trap is the stack, not the code)", () => {
    using window = Window.create(WINDOW);
    using guest = window.instantiate(FAULTS);
    expect(guest.call("recurse", 10_000)).toBe(10_000);
  });

  test("a write into a read-only file region traps; the file and the mapping are unchanged", () => {
    const contents = patternBytes(70_000, 5);
    const path = tempFile(contents);
    using window = Window.create(WINDOW);
    using guest = window.instantiate(FAULTS);
    using region = window.mapFile(path);
    for (const at of [0, 4096, 69_999]) {
      expect(trapOf(() => guest.call("store_u8", region.offset + at, contents[at]! ^ 0xff)).reason).toMatch(new RegExp(`^out of bounds memory access \\(memory fault at wasm address .*\\): a store into read-only region ${region.id} \\(mapped "read"\\)$`));
    }
    trapOf(() => guest.call("store_i64", region.offset + 8, -1n));
    expect(Buffer.from(region.bytes).equals(Buffer.from(contents))).toBe(true);
    expect(Buffer.from(readFileSync(path)).equals(Buffer.from(contents))).toBe(true);
    expect(guest.call("load_u8", region.offset + 69_999)).toBe(contents[69_999]!);
    expectHealthy(window, guest);
  });

  test("AssemblyScript heap exhaustion aborts with a reason; the guest, its neighbours and the file next door are fine", () => {
    const contents = patternBytes(1 << 20, 3);
    const path = tempFile(contents);
    using window = Window.create(WINDOW);
    using region = window.mapFile(path, { access: "readwrite" });
    using probe = window.instantiate(guests.probe);
    let kept = 0;
    const exhausted = trapOf(() => {
      for (;;) {
        probe.call("alloc_keep", 64 * 1024);
        kept++;
      }
    });
    expect(exhausted.reason).toMatch(/^abort: vmwindow: guest heap exhausted \(\d+ bytes requested\)/);
    expect(kept).toBeGreaterThan(5); // the 1 MiB area held some buffers first
    expect(kept).toBeLessThan(16);
    // The heap stayed inside the guest area: the read-write file next door is untouched.
    expect(Bun.hash.crc32(readFileSync(path))).toBe(Bun.hash.crc32(contents));
    expect(probe.call("sum4", 1, 2, 3, 4)).toBe(10);
    expect(probe.call("region_view_get_u8", region.id, 12_345)).toBe(contents[12_345]!);
    // Another guest of the same window has its own, untouched heap.
    using other = window.instantiate(guests.probe);
    expect(other.call("alloc_keep", 1024)).toBeGreaterThan(0);
    using faults = window.instantiate(FAULTS);
    expectHealthy(window, faults);
  });

  test("an AssemblyScript shadow-stack overflow aborts, said in words (asc reports it as an empty abort at :1:1)", () => {
    using window = Window.create(WINDOW);
    using probe = window.instantiate(guests.probe);
    expect(probe.call("deep", 100)).toBe(100);
    expect(trapOf(() => probe.call("deep", 100_000)).reason).toBe(
      "abort: the AssemblyScript shadow stack overflowed (deep recursion through functions that keep managed references; empty message and file at :1:1)",
    );
    // Functions that do not use the shadow stack keep working; the window too.
    expect(probe.call("sum4", 1, 2, 3, 4)).toBe(10);
    using faults = window.instantiate(FAULTS);
    expectHealthy(window, faults);
  });

  // A trap inside an AssemblyScript function with a shadow-stack frame never pops it (asc's
  // __stack_pointer is a plain wasm global that a trap does not unwind): one overflow, or ~8,192
  // aborts of regions.get(bad id), used to make every later call that needs the shadow stack abort
  // with "abort:  at :1:1". The SDK runtime exports __vmw_reset_stack; the host calls it after a
  // failed call.
  test("the shadow stack is usable again after a trap inside a function that uses it", () => {
    using window = Window.create(WINDOW);
    using probe = window.instantiate(guests.probe);
    trapOf(() => probe.call("deep", 100_000));
    expect(probe.call("deep", 100)).toBe(100);
    for (let i = 0; i < 10_000; i++) trapOf(() => probe.call("lookup", 99));
    expect(probe.call("deep", 100)).toBe(100);
  });

  test("memory.grow fails (-1) and memory.size is the window: the guest cannot enlarge its sandbox", () => {
    using window = Window.create(WINDOW);
    using guest = window.instantiate(FAULTS);
    expect(guest.call("grow", 1)).toBe(-1);
    expect(guest.call("grow", 65_536)).toBe(-1);
    expect(guest.call("grow", 0)).toBe(SIZE / PAGE);
    expect(guest.call("size")).toBe(SIZE / PAGE);
    trapOf(() => guest.call("load_u8", SIZE));
  });

  test("an AssemblyScript guest without the SDK runtime faulting in the window's last page is told to use the preset", () => {
    // What the stock runtime does when memory.grow fails: it stores near the end of the memory.
    const store = { params: [], results: [], body: [...op.i32Const(SIZE - 4), ...op.i32Const(7), ...op.i32Store()], export: "alloc" };
    const abort = { module: "env", name: "abort", kind: "func" as const, params: [I32, I32, I32, I32], results: [] };
    using window = Window.create(WINDOW);
    using stock = window.instantiate(buildModule({ imports: [envMemory, abort], functions: [{ ...store }] }));
    const hinted = thrown(GuestTrap, () => stock.call("alloc"));
    expect(hinted.reason).toStartWith("out of bounds memory access (memory fault at wasm address ");
    expect(hinted.reason).toEndWith("[the guest was built without the SDK runtime: AssemblyScript's stock runtime could not grow the window for its heap; build it with the SDK preset, asc --config node_modules/@vmwindow/guest/asconfig.json]");
    // The same in a start function (where AssemblyScript initialises globals).
    const started = thrown(GuestTrap, () => window.instantiate(buildModule({ imports: [envMemory, abort], functions: [{ ...store }], start: 1 })));
    expect(started.reason).toContain("[the guest was built without the SDK runtime:");
    // Not AssemblyScript (no env.abort of AssemblyScript's type): the plain reason.
    const plain = /^out of bounds memory access \(memory fault at wasm address 0x[0-9a-f]+ in linear memory of size 0x[0-9a-f]+\): a free slot \(nothing is mapped at window offset 0x[0-9a-f]+\)$/;
    using other = window.instantiate(buildModule({ imports: [envMemory], functions: [{ ...store }] }));
    expect(thrown(GuestTrap, () => other.call("alloc")).reason).toMatch(plain);
    const otherAbort = { module: "env", name: "abort", kind: "func" as const, params: [], results: [] };
    using emscripten = window.instantiate(buildModule({ imports: [envMemory, otherAbort], functions: [{ ...store }] }), {
      imports: { env: { abort: { params: [], results: [], fn: () => {} } } },
    });
    expect(thrown(GuestTrap, () => emscripten.call("alloc")).reason).toMatch(plain);
  });
});

describe("sandbox edges: nothing outside the window is reachable", () => {
  test("the last byte: a free slot traps; a region mapped at the end reads it", () => {
    using window = Window.create(WINDOW);
    using guest = window.instantiate(FAULTS);
    trapOf(() => guest.call("load_u8", SIZE - 1));
    trapOf(() => guest.call("store_u8", SIZE - 1, 1));
    const contents = patternBytes(PAGE, 9);
    using region = window.mapFile(tempFile(contents), { at: SIZE - PAGE, access: "readwrite" });
    expect(region.offset + region.length).toBe(SIZE);
    expect(guest.call("load_u8", SIZE - 1)).toBe(contents[PAGE - 1]!);
    expect(guest.call("load_i32", SIZE - 4)).toBe(new DataView(contents.buffer).getInt32(PAGE - 4, true));
    guest.call("store_u8", SIZE - 1, 0x42);
    expect(region.bytes[PAGE - 1]).toBe(0x42);
  });

  test("loads and stores at size, straddling the end, at 0xFFFFFFFF and with offsets all trap and change nothing", () => {
    using window = Window.create(WINDOW);
    using guest = window.instantiate(FAULTS);
    using region = window.mapAnonymous(PAGE, { at: SIZE - PAGE });
    region.bytes.set(patternBytes(PAGE, 13));
    const before = snapshot(window, [region.bytes]);
    const traps: [string, () => unknown][] = [
      ["load_u8(size)", () => guest.call("load_u8", SIZE)],
      ["load_i32(size - 3) straddles the end", () => guest.call("load_i32", SIZE - 3)],
      ["load_i64(size - 1)", () => guest.call("load_i64", SIZE - 1)],
      ["load_u8(0xFFFFFFFF)", () => guest.call("load_u8", 0xffff_ffff)],
      ["load_i64(0xFFFFFFF8)", () => guest.call("load_i64", 0xffff_fff8)],
      ["load_u8(0 + offset 0xFFFFFFFF)", () => guest.call("load_u8_far", 0)],
      ["load_u8(0xFFFFFFFF + offset 0xFFFFFFFF)", () => guest.call("load_u8_far", 0xffff_ffff)],
      ["load_u8(size + offset 0xFFFFFFFF)", () => guest.call("load_u8_far", SIZE)],
      ["store_u8(size)", () => guest.call("store_u8", SIZE, 1)],
      ["store_i32(size - 2) straddles the end", () => guest.call("store_i32", SIZE - 2, -1)],
      ["store_i64(size - 4) straddles the end", () => guest.call("store_i64", SIZE - 4, -1n)],
      ["store_u8(0xFFFFFFFF)", () => guest.call("store_u8", 0xffff_ffff, 1)],
      ["store_i64(0xFFFFFFFC)", () => guest.call("store_i64", 0xffff_fffc, -1n)],
      ["store_u8(1 + offset 0xFFFFFFFF) = 2^32, wraps to 0 only if unchecked", () => guest.call("store_u8_far", 1, 1)],
      ["store_u8(0xFFFFFFFF + offset 0xFFFFFFFF)", () => guest.call("store_u8_far", 0xffff_ffff, 1)],
    ];
    for (const [what, run] of traps) {
      const trap = trapOf(run);
      if (!/^out of bounds memory access/.test(trap.reason)) throw new Error(`${what}: ${trap.reason}`);
      if (!snapshot(window, [region.bytes]).equals(before)) throw new Error(`${what} changed bytes in the window`);
    }
    expect(guest.call("load_u8", SIZE - 1)).toBe(region.bytes[PAGE - 1]!);
  });

  test("a store straddling a mapped region's end into a PROT_NONE hole inside the window traps and writes nothing", () => {
    using window = Window.create(WINDOW);
    using guest = window.instantiate(FAULTS);
    using region = window.mapAnonymous(PAGE); // the next slot is free (PROT_NONE)
    region.bytes.fill(0x5a);
    const end = region.offset + PAGE;
    trapOf(() => guest.call("store_i64", end - 4, -1n));
    trapOf(() => guest.call("store_i32", end - 1, -1));
    expect(region.bytes.every((b) => b === 0x5a)).toBe(true);
  });
});

describe("vmw.fail: the SDKs' fail() text becomes the trap's reason", () => {
  const text = new TextEncoder().encode("vmwindow: région 7 is not mapped");
  // fail(address, length) calls vmw.fail(address, length); the text is data at GUEST_BASE.
  const wasm = buildModule({
    imports: [envMemory, { module: "vmw", name: "fail", kind: "func", params: [I32, I32], results: [] }],
    functions: [{ params: [I32, I32], results: [], body: [...op.localGet(0), ...op.localGet(1), ...op.call(0)], export: "fail" }],
    data: [
      { offset: GUEST_BASE, bytes: [...text] },
      { offset: GUEST_BASE + 4096, bytes: Array(2000).fill(0x78) },
      { offset: GUEST_BASE + 8192, bytes: [...new TextEncoder().encode("line one\nline two\tend")] },
      { offset: GUEST_BASE + 8256, bytes: [...new TextEncoder().encode("x\n\nCaused by:\n    spoofed reason")] },
    ],
  });
  // AssemblyScript's env.abort(message, file, line, column) with a message of two lines: the
  // string's byte length in the u32 before it, then UTF-16.
  const twoLines = "one\ntwo";
  const abortWasm = buildModule({
    imports: [envMemory, { module: "env", name: "abort", kind: "func", params: [I32, I32, I32, I32], results: [] }],
    functions: [
      { params: [], results: [], body: [...op.i32Const(GUEST_BASE + 4), ...op.i32Const(0), ...op.i32Const(5), ...op.i32Const(6), ...op.call(0)], export: "abort" },
      // abort_with(message): the same with any message pointer.
      { params: [I32], results: [], body: [...op.localGet(0), ...op.i32Const(0), ...op.i32Const(5), ...op.i32Const(6), ...op.call(0)], export: "abort_with" },
    ],
    data: [
      { offset: GUEST_BASE, bytes: [twoLines.length * 2, 0, 0, 0, ...[...twoLines].flatMap((c) => [c.charCodeAt(0), 0])] },
      { offset: GUEST_BASE + 64, bytes: [0xff, 0xff, 0xff, 0x7f] }, // a length past the guest area
    ],
  });
  test("a guest's text stays one line of the reason: it cannot split it or pose as Wasmtime's cause lines", () => {
    using window = Window.create(WINDOW);
    using guest = window.instantiate(wasm);
    const reason = (address: number, length: number) => thrown(GuestTrap, () => guest.call("fail", address, length)).reason;
    expect(reason(GUEST_BASE + 8192, 22)).toBe("abort: line one line two end");
    expect(reason(GUEST_BASE + 8256, 32)).toBe("abort: x  Caused by:     spoofed reason");
    using aborting = window.instantiate(abortWasm);
    expect(thrown(GuestTrap, () => aborting.call("abort")).reason).toBe("abort: one two at (null):5:6");
    // An AssemblyScript string the host cannot read whole from the guest area is a placeholder.
    const abortWith = (address: number) => thrown(GuestTrap, () => aborting.call("abort_with", address)).reason;
    expect(abortWith(GUEST_BASE + 4)).toBe("abort: one two at (null):5:6");
    expect(abortWith(GUEST_BASE + 5)).toBe("abort: (unreadable) at (null):5:6"); // odd: not UTF-16
    expect(abortWith(GUEST_BASE + 2)).toBe("abort: (unreadable) at (null):5:6"); // its length below the guest area
    expect(abortWith(16)).toBe("abort: (unreadable) at (null):5:6"); // the null page
    expect(abortWith(GUEST_BASE + 68)).toBe("abort: (unreadable) at (null):5:6"); // a length past the area
    expect(abortWith(GUEST_BASE + 2 ** 20)).toBe("abort: (unreadable) at (null):5:6"); // the area's end
  });
  test("the text, whole and UTF-8; a bad address or length is a placeholder, never a host fault", () => {
    using window = Window.create(WINDOW);
    using guest = window.instantiate(wasm);
    const reason = (address: number, length: number) => thrown(GuestTrap, () => guest.call("fail", address, length)).reason;
    expect(reason(GUEST_BASE, text.length)).toBe("abort: vmwindow: région 7 is not mapped");
    expect(reason(GUEST_BASE, 0)).toBe("abort:"); // (the reason is trimmed)
    expect(reason(0, 8)).toBe("abort: (unreadable text)"); // the null page
    expect(reason(GUEST_BASE - 1, 8)).toBe("abort: (unreadable text)"); // the table's reserved range
    expect(reason(GUEST_BASE, 2 ** 20 + 1)).toBe("abort: (unreadable text)"); // past the guest area
    expect(reason(GUEST_BASE + 2 ** 20 - 4, 4)).toBe("abort:"); // its last bytes are readable (zeros)
    // Up to the first NUL (the message goes on as a C string), and at most 1,024 bytes.
    expect(reason(GUEST_BASE, 4096)).toBe("abort: vmwindow: région 7 is not mapped");
    expect(reason(GUEST_BASE + 4096, 2000)).toBe(`abort: ${"x".repeat(1024)}`);
  });
});

describe("bad modules are clear errors and leave the window usable", () => {
  const imported = (overrides: Record<string, unknown>) => buildModule({ imports: [{ ...envMemory, ...overrides } as typeof envMemory] });
  const cases: [string, () => Uint8Array, string, RegExp][] = [
    ["random bytes", () => patternBytes(1000, 42), "BAD_MODULE", /^invalid WebAssembly module: /],
    // Wasmtime prints the magic numbers over several lines; the message keeps them as one list.
    ["a text file", () => new TextEncoder().encode('{"name": 1}'), "BAD_MODULE", /^invalid WebAssembly module: .*magic header not detected: bad magic number - expected=\[0x0, 0x61, 0x73, 0x6d\] actual=\[0x7b, 0x22, 0x6e, 0x61\] \(at offset 0x0\)$/],
    ["the magic number only", () => FAULTS.subarray(0, 4), "BAD_MODULE", /unexpected end-of-file/],
    ["a header only (an empty module: no env.memory)", () => FAULTS.subarray(0, 8), "LINK", /does not import env\.memory/],
    ["truncated in the code section", () => FAULTS.subarray(0, FAULTS.length - 3), "BAD_MODULE", /unexpected end-of-file/],
    ["a wrong version", () => Uint8Array.from([0, 0x61, 0x73, 0x6d, 2, 0, 0, 0]), "BAD_MODULE", /^invalid WebAssembly module: .*unknown binary version: 0x2 \(at offset 0x4\)$/],
    ["a 64-bit memory", () => imported({ memory64: true }), "LINK", /64-bit memory; this window is a 32-bit memory/],
    ["a shared memory", () => imported({ shared: true, max: 1024 }), "LINK", /shared memory; the window is not shared/],
    ["the memory under another name", () => imported({ name: "mem" }), "LINK", /imports a memory as env\.mem; it must import env\.memory/],
    ["the memory from another module", () => imported({ module: "wasi" }), "LINK", /imports a memory as wasi\.memory/],
    ["a memory larger than the window", () => imported({ min: 2000 }), "LINK", /incompatible import type for `env::memory`/],
    ["a maximum smaller than the window", () => imported({ max: 10 }), "LINK", /incompatible import type for `env::memory`/],
    ["two memories", () => buildModule({ imports: [envMemory, { ...envMemory, name: "memory2" }] }), "BAD_MODULE", /multiple memories/],
    ["its own memory", () => buildModule({ memory: { min: 1 } }), "LINK", /does not import env\.memory/],
    ["its own memory, exported", () => buildModule({ memory: { min: 1 }, exportMemory: "memory" }), "LINK", /does not import env\.memory/],
    ["an unknown function import", () => buildModule({ imports: [envMemory, { module: "env", name: "nope", kind: "func", params: [], results: [] }] }), "LINK", /unknown import: `env::nope` has not been defined/],
    ["env.abort with the wrong type", () => buildModule({ imports: [envMemory, { module: "env", name: "abort", kind: "func", params: [], results: [] }] }), "LINK", /incompatible import type for `env::abort`/],
    ["an imported global", () => buildModule({ imports: [envMemory, { module: "env", name: "g", kind: "global", type: I32 }] }), "LINK", /unknown import: `env::g`/],
    ["an imported table", () => buildModule({ imports: [envMemory, { module: "env", name: "t", kind: "table", min: 1 }] }), "LINK", /unknown import: `env::t`/],
  ];
  for (const [what, bytes, code, message] of cases) {
    test(what, () => {
      using window = Window.create(WINDOW);
      let error: unknown;
      try {
        window.instantiate(bytes());
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(VmwindowError);
      expect((error as VmwindowError).code).toBe(code as VmwindowError["code"]);
      expect((error as VmwindowError).message).toMatch(message);
      expect(window.guests.size).toBe(0);
      using guest = window.instantiate(FAULTS);
      expectHealthy(window, guest);
    });
  }

  test("a start function that traps: GuestTrap naming the start function; nothing is left behind", () => {
    using window = Window.create(WINDOW);
    const startTraps = buildModule({ imports: [envMemory], functions: [{ params: [], results: [], body: op.unreachable }], start: 0 });
    const startFaults = buildModule({ imports: [envMemory], functions: [{ params: [], results: [], body: [...op.i32Const(SIZE), ...op.i32Load8U(), ...op.drop] }], start: 0 });
    const a = trapOf(() => window.instantiate(startTraps));
    expect(a.reason).toMatch(/^the guest's start function trapped: wasm `unreachable` instruction executed/);
    const b = trapOf(() => window.instantiate(startFaults));
    expect(b.reason).toMatch(/^the guest's start function trapped: out of bounds memory access/);
    expect(window.guests.size).toBe(0);
    using guest = window.instantiate(FAULTS);
    expectHealthy(window, guest);
  });

  test("a start function that writes the guest area runs once, and its write is there", () => {
    using window = Window.create(WINDOW);
    const base = window.layout.guestBase;
    const spec = buildModule({
      imports: [envMemory],
      functions: [
        { params: [], results: [], body: [...op.i32Const(base + 16), ...op.i32Const(0x1234_5678), ...op.i32Store()] },
        { params: [], results: [I32], body: [...op.i32Const(base + 16), ...op.i32Load()], export: "get" },
      ],
      start: 0,
    });
    using guest = window.instantiate(spec);
    expect(guest.call("get")).toBe(0x1234_5678);
  });

  test("a path that is a directory or not a module", () => {
    using window = Window.create(WINDOW);
    const notWasm = tempFile("hello, I am not wasm");
    expect(() => window.instantiate(notWasm)).toThrow(VmwindowError);
    let code = "";
    try {
      window.instantiate(join(import.meta.dir, "guests"));
    } catch (e) {
      code = (e as VmwindowError).code;
    }
    expect(code).toBe("INVALID_ARGUMENT"); // named: "it is a directory, not a regular file"
  });
});
