// SIGBUS: a file truncated after it was mapped. Linux raises SIGBUS when a MAP_SHARED page past the
// end of its file is touched, and Wasmtime does not handle it; libvmwindow does (native/src/faults.zig).
// The guest's first access traps with a message naming the region, later accesses and the host
// read zeros, the region is marked damaged, and the process lives.
import { describe, expect, test } from "bun:test";
import { truncateSync } from "node:fs";
import { toArrayBuffer } from "bun:ffi";
import { GuestTrap, Window } from "@vmwindow/bun";
import { windowBasePointer } from "../packages/bun/src/window.ts";
import { guests, patternBytes, smallWindow, tempFile, thrown } from "./helpers.ts";
import { buildModule, envMemory, op } from "./wasm-builder.ts";

const OS_PAGE = 4096;

describe("a file that shrinks under its region", () => {
  test("a guest read past the new end traps, names the region, and the guest keeps working", () => {
    const contents = patternBytes(4 * OS_PAGE, 9);
    const path = tempFile(contents);
    using window = Window.create(smallWindow);
    using guest = window.instantiate(guests.probe);
    using region = window.mapFile(path);
    expect(guest.call("load_u8", region.offset + 3 * OS_PAGE)).toBe(contents[3 * OS_PAGE]!);
    expect(region.damaged).toBe(false);

    truncateSync(path, OS_PAGE + 10); // as another process might
    let trap: GuestTrap | undefined;
    try {
      guest.call("load_u8", region.offset + 3 * OS_PAGE + 1);
    } catch (error) {
      trap = error as GuestTrap;
    }
    expect(trap).toBeInstanceOf(GuestTrap);
    expect(trap!.reason).toContain(`region ${region.id}'s file is shorter than when it was mapped`);
    expect(region.damaged).toBe(true);
    // The guest and the window keep working; what is left of the file still reads.
    expect(guest.call("load_u8", region.offset + 5)).toBe(contents[5]!);
    expect(guest.call("sum4", 1, 2, 3, 4)).toBe(10);
    // The damaged page now reads zeros, for the guest and for the host.
    expect(guest.call("load_u8", region.offset + 3 * OS_PAGE + 1)).toBe(0);
    expect(region.bytes[3 * OS_PAGE + 1]).toBe(0);
  });

  test("a host read past the new end reads zeros instead of killing the process", () => {
    const contents = patternBytes(3 * OS_PAGE, 10);
    const path = tempFile(contents);
    using window = Window.create(smallWindow);
    using region = window.mapFile(path);
    const view = region.bytes;
    truncateSync(path, 100);
    expect(view[2 * OS_PAGE + 7]).toBe(0);
    expect(view[50]).toBe(contents[50]!);
    expect(region.damaged).toBe(true);
    // Unmap and map again: a fresh, undamaged region of the short file.
    region.unmap();
    using again = window.mapFile(path);
    expect(again.length).toBe(100);
    expect(again.damaged).toBe(false);
  });

  test("a truncation by another process, seen by a guest in this one", () => {
    const contents = patternBytes(8 * OS_PAGE, 11);
    const path = tempFile(contents);
    using window = Window.create(smallWindow);
    using guest = window.instantiate(guests.probe);
    using region = window.mapFile(path);
    const child = Bun.spawnSync([process.execPath, "-e", `require("node:fs").truncateSync(${JSON.stringify(path)}, 0)`]);
    expect(child.exitCode).toBe(0);
    expect(() => guest.call("region_sum_u8", region.id)).toThrow(/file is shorter than when it was mapped/);
    expect(guest.call("sum4", 1, 1, 1, 1)).toBe(4);
  });

  test("SIGBUS outside any window still reaches Bun (the process is not made immortal)", () => {
    // A child maps a file with Bun.mmap (not vmwindow), truncates it and reads past the end.
    const path = tempFile(patternBytes(3 * OS_PAGE, 12));
    const script = `
      const { Window } = require(${JSON.stringify(require.resolve("@vmwindow/bun"))});
      const window = Window.create({ sizeBytes: 64 * 2 ** 20, guestBytes: 2 ** 20 });
      const bytes = Bun.mmap(${JSON.stringify(path)});
      require("node:fs").truncateSync(${JSON.stringify(path)}, 10);
      console.log("value", bytes[2 * 4096]);
    `;
    const child = Bun.spawnSync([process.execPath, "-e", script], { stderr: "pipe", stdout: "pipe" });
    expect(child.exitCode).not.toBe(0);
    expect(child.stdout.toString()).not.toContain("value");
  });
});

describe("damaged regions in the table", () => {
  /** The entry's access word read from the window's own bytes (docs/abi.md: entry at
   * tableOffset + 64 + (id - 1) * 64, access at byte 36; DAMAGED is bit 8), no native call. */
  function tableAccess(window: Window, id: number): number {
    const entry = window.layout.tableOffset + 64 + (id - 1) * 64;
    return new DataView(toArrayBuffer(windowBasePointer(window), entry, 64)).getUint32(36, true);
  }

  test("a start function that reads past a truncated file's end traps, and the table says damaged before any other call", () => {
    const contents = patternBytes(4 * OS_PAGE, 4);
    const path = tempFile(contents);
    using window = Window.create(smallWindow);
    using region = window.mapFile(path, { at: window.layout.slotsBase });
    truncateSync(path, OS_PAGE);
    const wasm = buildModule({
      imports: [envMemory],
      functions: [{ params: [], results: [], body: [...op.i32Const(window.layout.slotsBase + 2 * OS_PAGE), ...op.i32Load8U(), 0x1a] }],
      start: 0,
    });
    expect(tableAccess(window, region.id) & 8).toBe(0);
    const trap = thrown(GuestTrap, () => window.instantiate(wasm));
    expect(trap.reason).toContain(`region ${region.id}, whose file was truncated after it was mapped`);
    expect(tableAccess(window, region.id) & 8).toBe(8);
    expect(region.damaged).toBe(true);
  });
});
