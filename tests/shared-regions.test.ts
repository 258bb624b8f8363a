// Shared memory across windows (issue 13: one guest per window, no guest-area swap between calls):
// `mapAnonymous(length, { shared: true })` and `otherWindow.mapShared(region)`. Oracles: the bytes
// each guest reads back, each side's own host view, descriptors in /proc/self/fd.
import { describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { VmwindowError, Window } from "@vmwindow/bun";
import { guests, smallWindow, tempFile, thrown } from "./helpers.ts";

describe("shared anonymous regions", () => {
  test("a guest in one window writes, a guest in another reads the same bytes; each side outlives the other", () => {
    using a = Window.create(smallWindow);
    using b = Window.create(smallWindow);
    using writer = a.instantiate(guests.probe);
    using reader = b.instantiate(guests.probe);
    const fdsBefore = readdirSync("/proc/self/fd").length;
    const ring = a.mapAnonymous(100_000, { shared: true, name: "ring" });
    const view = b.mapShared(ring, { name: "ring" });
    expect(view.length).toBe(100_000);
    expect(view.kind).toBe("anonymous");
    for (const i of [0, 4095, 4096, 99_999]) {
      writer.exports.store_u8!(ring.offset + i, (i % 250) + 1);
      expect(reader.exports.load_u8!(view.offset + i)).toBe((i % 250) + 1);
    }
    // The host's views of both regions are the same memory too.
    view.bytes[7] = 77;
    expect(ring.bytes[7]).toBe(77);
    // Bytes past the length in the last page read zeros on both sides; the slot past it traps.
    expect(reader.exports.load_u8!(view.offset + 100_000)).toBe(0);
    // Unmapping the first keeps the second: it holds its own reference to the memory.
    ring.unmap();
    expect(reader.exports.load_u8!(view.offset + 99_999)).toBe((99_999 % 250) + 1);
    // A third mapping of the second, in the first window again.
    const again = a.mapShared(view);
    expect(writer.exports.load_u8!(again.offset + 7)).toBe(77);
    again.unmap();
    view.unmap();
    expect(readdirSync("/proc/self/fd").length).toBe(fdsBefore);
  });

  test("only shared regions can be shared; their size is fixed; bad arguments are named", () => {
    using a = Window.create(smallWindow);
    using b = Window.create(smallWindow);
    const plain = a.mapAnonymous(4096);
    expect(thrown(VmwindowError, () => b.mapShared(plain)).code).toBe("UNSUPPORTED");
    const file = a.mapFile(tempFile("data"));
    expect(thrown(VmwindowError, () => b.mapShared(file)).message).toContain("a file region is shared by mapping its file");
    const shared = a.mapAnonymous(4096, { shared: true });
    const resized = thrown(VmwindowError, () => shared.resize(8192));
    expect(resized.code).toBe("UNSUPPORTED");
    expect(resized.message).toContain("keeps its size");
    expect(thrown(VmwindowError, () => b.mapShared({} as never)).code).toBe("INVALID_ARGUMENT");
    shared.unmap();
    expect(thrown(VmwindowError, () => b.mapShared(shared)).code).toBe("INVALID_ARGUMENT");
    expect(thrown(VmwindowError, () => a.mapAnonymous(10, { shared: 1 as never })).code).toBe("INVALID_ARGUMENT");
  });

  test("a shared region remapped to a file gives its memory file back", () => {
    using a = Window.create(smallWindow);
    const fdsBefore = readdirSync("/proc/self/fd").length;
    const shared = a.mapAnonymous(4096, { shared: true });
    expect(readdirSync("/proc/self/fd").length).toBe(fdsBefore + 1);
    shared.remap(tempFile("hello"));
    expect(shared.kind).toBe("file");
    expect(readdirSync("/proc/self/fd").length).toBe(fdsBefore);
    shared.unmap();
  });
});
