// Hardening: host views (`region.bytes`) taken before unmap / remap / resize / window close never
// fault: they detach (length 0) and read nothing. Each case ends by reading the stale views (which
// would kill the process with SIGSEGV if they still pointed at PROT_NONE pages) and by mapping
// something new into the same slot, to show a stale view never aliases the new region either.
import { describe, expect, test } from "bun:test";
import { Window, VmwindowError, type Region } from "@vmwindow/bun";
import { windowBasePointer } from "../packages/bun/src/window.ts";
import { patternBytes, smallWindow, tempFile } from "./helpers.ts";

/** Every way a host can hold on to a region's memory. */
function viewsOf(region: Region) {
  const bytes = region.bytes;
  return {
    bytes,
    second: region.bytes, // another call: the same buffer
    sub: bytes.subarray(100, 200),
    u32: new Uint32Array(bytes.buffer, 4096, 16),
    f64: new Float64Array(bytes.buffer),
    buffer: Buffer.from(bytes.buffer, 10, 20),
    data: new DataView(bytes.buffer),
  };
}

function expectDetached(views: ReturnType<typeof viewsOf>): void {
  for (const [name, view] of Object.entries(views)) {
    if (view instanceof DataView) {
      expect(() => view.getUint8(0)).toThrow(TypeError); // a detached DataView throws, it does not fault
      continue;
    }
    if (view.length !== 0 || view.byteLength !== 0) throw new Error(`view ${name} still has ${view.byteLength} bytes`);
    expect(view[0]).toBeUndefined();
    expect(view[5000]).toBeUndefined();
    view[0] = 1; // writes to a detached view are dropped
    expect(view[0]).toBeUndefined();
  }
  expect(views.bytes.buffer.detached).toBe(true);
}

describe("stale host views detach instead of faulting", () => {
  const contents = patternBytes(3 * 65_536, 1);

  test("unmap: every kind of view reads nothing; a copy keeps its bytes; bytes throws CLOSED", () => {
    using window = Window.create(smallWindow);
    const region = window.mapFile(tempFile(contents));
    const views = viewsOf(region);
    const copy = region.bytes.slice();
    expect(views.sub[0]).toBe(contents[100]!);
    expect(views.u32.length).toBe(16);
    const offset = region.offset;
    region.unmap();
    expectDetached(views);
    expect(Buffer.from(copy).equals(Buffer.from(contents))).toBe(true);
    expect(() => region.bytes).toThrow(VmwindowError);
    // The slot is reused by a new region; the old views stay empty (no aliasing).
    using next = window.mapAnonymous(65_536);
    expect(next.offset).toBe(offset);
    next.bytes.fill(0xee);
    expectDetached(views);
  });

  test("remap and resize (in place and moving) detach views; fresh views see the new bytes", () => {
    using window = Window.create(smallWindow);
    using region = window.mapFile(tempFile(contents), { length: 65_536 });
    const other = patternBytes(5 * 65_536, 2);
    const otherPath = tempFile(other);

    let views = viewsOf(region);
    region.remap(otherPath, { length: 65_536 }); // fits: stays in place
    expectDetached(views);
    expect(region.bytes[7]).toBe(other[7]!);

    views = viewsOf(region);
    using blocker = window.mapAnonymous(65_536, { at: region.offset + 65_536 });
    const before = region.offset;
    region.resize(3 * 65_536); // cannot grow in place: moves
    expect(region.offset).not.toBe(before);
    expectDetached(views);
    expect(region.bytes.length).toBe(3 * 65_536);
    expect(region.bytes[3 * 65_536 - 1]).toBe(other[3 * 65_536 - 1]!);

    views = viewsOf(region);
    region.resize(5000); // shrinks in place
    expectDetached(views);
    expect(region.bytes.length).toBe(5000);
    blocker.bytes[0] = 1;
  });

  test("anonymous regions: resize keeps bytes, detaches views", () => {
    using window = Window.create(smallWindow);
    using region = window.mapAnonymous(10_000);
    region.bytes.set(patternBytes(10_000, 4));
    const views = viewsOf(region);
    region.resize(300_000);
    expectDetached(views);
    expect(Buffer.from(region.bytes.subarray(0, 10_000)).equals(Buffer.from(patternBytes(10_000, 4)))).toBe(true);
  });

  test("window close detaches the views of every region, and a new window at the same address does not revive them", () => {
    const window = Window.create(smallWindow);
    const regions = [window.mapFile(tempFile(contents)), window.mapAnonymous(70_000), window.mapFile(tempFile(contents), { access: "readwrite" })];
    const views = regions.map(viewsOf);
    const base = windowBasePointer(window);
    window.close();
    views.forEach(expectDetached);
    for (const region of regions) {
      expect(region.mapped).toBe(false);
      expect(() => region.bytes).toThrow(VmwindowError);
      expect(() => region.unmap()).toThrow(VmwindowError);
    }
    using again = Window.create(smallWindow);
    using region = again.mapFile(tempFile(contents));
    region.bytes; // maybe at the same address as before
    views.forEach(expectDetached);
    expect(typeof base).toBe("number");
  });

  test("a region's buffer cannot be moved away with transfer(); its views still detach on unmap", () => {
    using window = Window.create(smallWindow);
    const region = window.mapAnonymous(8192);
    const bytes = region.bytes;
    for (const method of ["transfer", "transferToFixedLength"] as const) {
      let error: unknown;
      try {
        bytes.buffer[method]();
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(VmwindowError);
      expect((error as VmwindowError).code).toBe("INVALID_ARGUMENT");
    }
    expect(bytes.length).toBe(8192);
    region.unmap();
    expect(bytes.length).toBe(0);
  });

  test("reading stale views after 1,000 map/unmap cycles never faults", () => {
    using window = Window.create(smallWindow);
    const stale: Uint8Array[] = [];
    for (let i = 0; i < 1000; i++) {
      const region = i % 2 ? window.mapAnonymous(4096 + i) : window.mapFile(tempFile(contents.subarray(0, 4096 + i)));
      stale.push(region.bytes);
      region.unmap();
    }
    let sum = 0;
    for (const view of stale) for (let i = 0; i < 4096; i += 512) sum += view[i] ?? 0;
    expect(sum).toBe(0);
    expect(stale.every((v) => v.length === 0)).toBe(true);
  });
});
