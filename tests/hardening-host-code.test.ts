// Faults that would happen in host code rather than in compiled wasm (where Wasmtime turns them
// into traps): Wasmtime's bulk-memory library calls and data-segment writes, a host function
// reading a truncated file, a failed MAP_FIXED. Each must be refused or contained, never crash.
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync, truncateSync } from "node:fs";
import { toArrayBuffer } from "bun:ffi";
import { GuestTimeout, GuestTrap, VmwindowError, Window } from "@vmwindow/bun";
import { windowBasePointer } from "../packages/bun/src/window.ts";
import { guests, patternBytes, smallWindow, tempFile, thrown } from "./helpers.ts";
import { buildModule, envMemory, op } from "./wasm-builder.ts";

describe("bulk memory and data segments", () => {
  test("memory.fill / memory.copy compile into wasm code (not Wasmtime's host code): a protected page traps", () => {
    using window = Window.create(smallWindow);
    for (const body of [[...op.i32Const(0), ...op.i32Const(0), ...op.i32Const(1), ...op.memoryFill], [...op.i32Const(0x210000), ...op.i32Const(0), ...op.i32Const(16), ...op.memoryCopy]]) {
      const wasm = buildModule({ imports: [envMemory], functions: [{ params: [], results: [], body, export: "f" }] });
      window.validate(wasm);
      using guest = window.instantiate(wasm);
      // The null page: a trap, not a fault in host code (tests/bulk-memory.test.ts has every other page).
      expect(thrown(GuestTrap, () => guest.call("f")).reason).toContain("out of bounds memory access");
    }
    // table.copy is bulk memory too and is not rewritten: the engine refuses it, on one line.
    const zero3 = [...op.i32Const(0), ...op.i32Const(0), ...op.i32Const(0)];
    const table = { module: "env", name: "table", kind: "table" as const, min: 1 };
    const tableCopy = buildModule({ imports: [envMemory, table], functions: [{ params: [], results: [], body: [...zero3, ...op.tableCopy] }] });
    const error = thrown(VmwindowError, () => window.instantiate(tableCopy));
    expect(error.code).toBe("BAD_MODULE");
    expect(error.message).toContain("bulk memory support is not enabled (vmwindow compiles guests without bulk memory");
    expect(error.message).not.toContain("\n"); // Wasmtime's cause chain on one line
    // validate() says the same without instantiating.
    expect(thrown(VmwindowError, () => window.validate(tableCopy)).message).toBe(error.message);
    // A module that compiles validates, even with a host import nobody gave yet (nothing is linked).
    const needsHost = buildModule({ imports: [envMemory, { module: "env", name: "now", kind: "func", params: [], results: [] }] });
    window.validate(needsHost);
    expect(thrown(VmwindowError, () => window.validate(buildModule({}))).code).toBe("LINK"); // no env.memory
    expect(thrown(VmwindowError, () => window.validate("/no/such.wasm")).code).toBe("NOT_FOUND");
    expect(window.guests.size).toBe(0);
  });

  test.each([
    ["the null page", 0],
    ["the region table", 0x10000],
    ["the slot area", 0x210000 + 2 ** 20],
  ])("a data segment aimed at %s is refused, the process lives", (_label, offset) => {
    using window = Window.create(smallWindow);
    const wasm = buildModule({ imports: [envMemory], data: [{ offset, bytes: [1, 2, 3] }] });
    const error = thrown(VmwindowError, () => window.instantiate(wasm));
    expect(error.code).toBe("LINK");
    expect(error.message).toContain("outside the guest area");
    // The table is intact and the window still works.
    const table = new DataView(toArrayBuffer(windowBasePointer(window), window.layout.tableOffset, 64));
    expect(table.getUint32(0, true)).toBe(0x54574d56);
    using guest = window.instantiate(guests.probe);
    expect(guest.call("sum4", 1, 2, 3, 4)).toBe(10);
  });

  test("a data segment inside the guest area is written", () => {
    using window = Window.create(smallWindow);
    const wasm = buildModule({
      imports: [envMemory],
      data: [{ offset: 0x210100, bytes: [7, 8, 9] }],
      functions: [{ params: [], results: [0x7f], body: [...op.i32Const(0x210101), ...op.i32Load8U()], export: "f" }],
    });
    using guest = window.instantiate(wasm);
    expect(guest.call("f")).toBe(8);
  });
});

describe("SIGBUS from host code during a call", () => {
  test("a host import reading a truncated region gets zeros, and the call goes on", () => {
    const path = tempFile(patternBytes(16 * 4096, 3));
    using window = Window.create(smallWindow);
    const region = window.mapFile(path);
    const view = region.bytes;
    let seen = -1;
    const wasm = buildModule({
      imports: [envMemory, { module: "env", name: "peek", kind: "func", params: [], results: [0x7f] }],
      functions: [{ params: [], results: [0x7f], body: [...op.call(0)], export: "f" }],
    });
    using guest = window.instantiate(wasm, { imports: { env: { peek: { params: [], results: ["i32"], fn: () => (seen = view[8 * 4096 + 5]!) } } } });
    truncateSync(path, 4096);
    expect(guest.call("f")).toBe(0);
    expect(seen).toBe(0);
    expect(region.damaged).toBe(true);
  });
});

describe("failed mappings leave no hole", () => {
  const sysfs = "/sys/kernel/mm/transparent_hugepage/enabled";
  test.skipIf(!existsSync(sysfs))("a file whose mmap fails: the slot is PROT_NONE again, the region unchanged on remap", () => {
    using window = Window.create(smallWindow);
    using guest = window.instantiate(guests.probe);
    const at = window.layout.slotsBase;
    expect(() => window.mapFile(sysfs, { at })).toThrow(VmwindowError);
    const base = Number(windowBasePointer(window));
    const holes = readFileSync("/proc/self/maps", "utf8").split("\n").filter((line) => {
      const [start] = line.split("-");
      return start !== undefined && parseInt(start, 16) === base + at && !line.includes("---p");
    });
    expect(holes).toEqual([]);
    expect(() => guest.call("load_u8", at)).toThrow(GuestTrap);
    // Remapping a live region to it fails and leaves the region readable as before.
    const contents = patternBytes(10_000, 4);
    using region = window.mapFile(tempFile(contents), { at });
    expect(() => region.remap(sysfs)).toThrow(VmwindowError);
    expect(guest.call("load_u8", at + 5)).toBe(contents[5]!);
    expect(region.bytes[9_999]).toBe(contents[9_999]!);
  });
});

describe("failed calls give AssemblyScript's shadow stack back", () => {
  test.each([
    ["a deadline", { timeoutMs: 20 }],
    ["fuel", { fuel: 1_000_000 }],
  ])("after %s stops a call holding a frame, the stack pointer is where it was", (_label, options) => {
    using window = Window.create(smallWindow);
    using guest = window.instantiate(guests.probe, options);
    const before = guest.call("stack_pointer");
    for (let i = 0; i < 3; i++) thrown(GuestTimeout, () => guest.call("spin_holding"));
    expect(guest.call("stack_pointer")).toBe(before);
    expect(guest.call("deep", 100)).toBe(100);
  });
});
