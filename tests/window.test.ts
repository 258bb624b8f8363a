// The host API without a guest: windows, regions, zero-copy views and bad input.
import { describe, expect, test } from "bun:test";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { allowDirectory, GuestModule, Window, VmwindowError } from "@vmwindow/bun";
import { expectInvalidArguments, guests, patternBytes, smallWindow, tempDir, tempFile, thrown } from "./helpers.ts";

function expectError(run: () => unknown, code: string, message?: RegExp): void {
  const error = thrown(VmwindowError, run);
  expect(error.code).toBe(code);
  if (message) expect(error.message).toMatch(message);
}

describe("Window", () => {
  test("default layout follows docs/abi.md", () => {
    using window = Window.create();
    expect(window.layout).toEqual({
      sizeBytes: 2 ** 31,
      tableOffset: 0x10000,
      tableBytes: 1_052_672,
      guestBase: 0x210000,
      guestBytes: 16 * 2 ** 20,
      slotsBase: 0x210000 + 16 * 2 ** 20,
      capacity: 16_384,
    });
  });

  test("a file's bytes appear in region.bytes, zero-copy and equal to the file on disk", () => {
    const contents = patternBytes(200_000);
    const path = tempFile(contents);
    using window = Window.create(smallWindow);
    using region = window.mapFile(path, { name: "data" });
    expect(region.id).toBe(1);
    expect(region.length).toBe(contents.length);
    expect(region.offset % 65_536).toBe(0);
    expect(region.offset).toBeGreaterThanOrEqual(window.layout.slotsBase);
    expect(Buffer.from(region.bytes).equals(Buffer.from(contents))).toBe(true);
  });

  test("read-write: host writes through region.bytes reach the file", () => {
    const path = tempFile(patternBytes(5000));
    using window = Window.create(smallWindow);
    const region = window.mapFile(path, { access: "readwrite" });
    region.bytes.set([1, 2, 3], 100);
    region.unmap();
    expect([...readFileSync(path).subarray(100, 103)]).toEqual([1, 2, 3]);
  });

  test("unmap detaches earlier views (they read nothing, never fault) and frees the slot", () => {
    const path = tempFile(patternBytes(1000));
    using window = Window.create(smallWindow);
    const region = window.mapFile(path);
    const view = region.bytes;
    expect(view.length).toBe(1000);
    region.unmap();
    expect(view.length).toBe(0);
    expect(view[0]).toBeUndefined();
    expect(region.mapped).toBe(false);
    expectError(() => region.bytes, "CLOSED");
    expectError(() => region.unmap(), "CLOSED");
    const again = window.mapFile(path);
    expect(again.offset).toBe(region.offset);
    expect(again.id).toBe(region.id);
    expect(again.generation).not.toBe(region.generation);
  });

  test("close detaches every view and makes every call a CLOSED error", () => {
    const path = tempFile("hello");
    const window = Window.create(smallWindow);
    const region = window.mapFile(path);
    const unmapped = window.mapFile(path);
    unmapped.unmap();
    expectError(() => unmapped.unmap(), "CLOSED", new RegExp(`^region ${unmapped.id} is closed: it is unmapped$`));
    const view = region.bytes;
    window.close();
    window.close(); // idempotent
    expect(window.closed).toBe(true);
    expect(view.length).toBe(0);
    expectError(() => window.mapFile(path), "CLOSED", /window is closed/);
    expectError(() => window.instantiate(new Uint8Array([0])), "CLOSED");
    expectError(() => region.unmap(), "CLOSED", new RegExp(`^region ${region.id} is closed: its window is closed$`));
    expectError(() => unmapped.remap(path), "CLOSED", /: it is unmapped$/);
  });

  test("regions fill slots in order and the table lists them", () => {
    using window = Window.create(smallWindow);
    const a = window.mapFile(tempFile(patternBytes(65_536)));
    const b = window.mapFile(tempFile(patternBytes(65_537)));
    const c = window.mapFile(tempFile(patternBytes(1)));
    expect(b.offset).toBe(a.offset + 65_536);
    expect(c.offset).toBe(b.offset + 2 * 65_536);
    expect([...window.regions.keys()]).toEqual([1, 2, 3]);
  });
});

describe("bad input is a clear error, never a crash", () => {
  test.each([
    ["sizeBytes: 0", { sizeBytes: 0 }, /sizeBytes must be a positive integer/],
    ["sizeBytes: -65_536", { sizeBytes: -65_536 }, /sizeBytes must be a positive integer/],
    ["sizeBytes: Number.NaN", { sizeBytes: Number.NaN }, /sizeBytes must be a positive integer/],
    ["sizeBytes: 1.5", { sizeBytes: 1.5 }, /sizeBytes must be a positive integer/],
    ["sizeBytes: 2 ** 60", { sizeBytes: 2 ** 60 }, /sizeBytes must be at most 2\*\*53 - 1 bytes/],
    ["sizeBytes: 100_000", { sizeBytes: 100_000 }, /multiple of 65536/],
    ["sizeBytes: 2 ** 32 + 65_536", { sizeBytes: 2 ** 32 + 65_536 }, /at most 4 GiB/],
    ["sizeBytes: 3 * 65_536", { sizeBytes: 3 * 65_536 }, /leaves no slot/],
    ["guestBytes: 1000", { guestBytes: 1000 }, /multiple of 65536/],
    ["capacity: 0", { capacity: 0 }, /capacity/],
    ["capacity: 40_000", { capacity: 40_000 }, /capacity 40000 is not in 1..32767/],
    ["sizeBytes: '1GB' as unknown as number", { sizeBytes: "1GB" as unknown as number }, /sizeBytes must be a positive integer/],
  ])("Window.create({ %s }) is refused", (_label, options, message) => {
    expectError(() => Window.create(options), "INVALID_ARGUMENT", message);
  });

  test("missing file, directory, empty file, bad access, long name", () => {
    using window = Window.create(smallWindow);
    expectError(() => window.mapFile("/nonexistent/vmwindow"), "NOT_FOUND", /no such file: \/nonexistent\/vmwindow/);
    expectError(() => window.mapFile(tempDir()), "INVALID_ARGUMENT", /is a directory/);
    expectError(() => window.mapFile(tempFile("")), "INVALID_ARGUMENT", /is empty/);
    expectError(() => window.mapFile(""), "INVALID_ARGUMENT", /non-empty string/);
    expectError(() => window.mapFile(42 as unknown as string), "INVALID_ARGUMENT", /non-empty string/);
    const path = tempFile("x");
    expectError(() => window.mapFile(path, { access: "write" as "read" }), "INVALID_ARGUMENT", /access must be/);
    expectError(() => window.mapFile(path, { name: "n".repeat(25) }), "INVALID_ARGUMENT", /at most 24/);
    expect(window.regions.size).toBe(0);
  });

  test("values an error message cannot print (a bigint, an object without a prototype) are INVALID_ARGUMENT too, never a TypeError", () => {
    using window = Window.create(smallWindow);
    const path = tempFile("x");
    using region = window.mapFile(path, { access: "readwrite" });
    const bare = Object.create(null) as never;
    const cases: [string, () => unknown, RegExp][] = [
      ["mapFile(5n)", () => window.mapFile(5n as never), /path must be a non-empty string, got 5n/],
      ["mapFile access: 5n", () => window.mapFile(path, { access: 5n as never }), /access must be "read" or "readwrite", got 5n/],
      ["remap(5n)", () => region.remap(5n as never), /path must be a non-empty string, got 5n/],
      ["remap access: bare", () => region.remap(path, { access: bare }), /access must be "read" or "readwrite", got an object/],
      ["mapAnonymous(bare)", () => window.mapAnonymous(bare), /lengthBytes must be a positive integer number of bytes, got an object/],
      ["mapAnonymous shared: bare", () => window.mapAnonymous(1, { shared: bare }), /shared must be true or false, got an object/],
      ["mapFile create: bare", () => window.mapFile(path, { create: bare }), /create must be true or false, got an object/],
      ["resize(bare)", () => region.resize(bare), /lengthBytes must be a positive integer/],
      ["releasePages(bare)", () => region.releasePages(bare), /offset must be a non-negative integer/],
      ["Window.create sizeBytes: bare", () => Window.create({ sizeBytes: bare }), /sizeBytes must be a positive integer number of bytes, got an object/],
      ["Window.create capacity: bare", () => Window.create({ capacity: bare }), /capacity must be a positive integer, got an object/],
      ["allowDirectory(window, 5n)", () => allowDirectory(window, 5n as never), /dir must be a non-empty path, got 5n/],
      ["allowDirectory(window, dir, null)", () => allowDirectory(window, tempDir(), null as never), /allowDirectory options must be an object, got null/],
      ["allowDirectory(window, dir, { access: 5n })", () => allowDirectory(window, tempDir(), { access: 5n as never }), /access must be "read" or "readwrite", got 5n/],
      ["allowDirectory(dir)", () => allowDirectory(tempDir() as never, tempDir()), /allowDirectory takes the guest's Window first/],
    ];
    expectInvalidArguments(cases);
    expect([...window.regions.values()]).toEqual([region]);
  });

  test("a misspelt option is an error naming it and the known ones, never ignored", () => {
    using window = Window.create(smallWindow);
    const path = tempFile(patternBytes(8192, 5));
    using region = window.mapFile(path);
    using module = GuestModule.compile(guests.probe);
    const cases: [string, () => unknown, RegExp][] = [
      ["Window.create", () => Window.create({ sizeByte: 2 ** 26 } as never), /^Window\.create options: unknown option "sizeByte" \(known: sizeBytes, guestBytes, capacity\)$/],
      ["mapFile", () => window.mapFile(path, { lenght: 10 } as never), /^mapFile options: unknown option "lenght" \(known: access, create, offset, length, name, at\)$/],
      ["mapAnonymous", () => window.mapAnonymous(65_536, { share: true } as never), /^mapAnonymous options: unknown option "share" \(known: name, at, shared\)$/],
      ["mapShared", () => window.mapShared(region, { access: "read" } as never), /^mapShared options: unknown option "access" \(known: name, at\)$/],
      ["remap", () => region.remap(path, { readwrite: true } as never), /^remap options: unknown option "readwrite" \(known: offset, length, access\)$/],
      ["instantiate", () => window.instantiate(guests.probe, { timeout: 5 } as never), /^instantiate options: unknown option "timeout" \(known: imports, timeoutMs, interruptible, fuel, log, map, allowFlush, cacheDir\)$/],
      ["instantiate a module", () => window.instantiate(module, { metered: true } as never), /^instantiate options: unknown option "metered"/],
      ["GuestModule.compile", () => GuestModule.compile(guests.probe, { fuel: 5 } as never), /^compile options: unknown option "fuel" \(known: interruptible, metered, cacheDir\)$/],
      ["allowDirectory", () => allowDirectory(window, tempDir(), { acces: "read" } as never), /^allowDirectory options: unknown option "acces" \(known: access, onRefuse\)$/],
    ];
    expectInvalidArguments(cases);
    // Nothing was made: the one region and no guest.
    expect([...window.regions.values()]).toEqual([region]);
    expect(window.guests.size).toBe(0);
    // Known options with undefined values, and inherited properties, are still fine.
    using again = window.mapFile(path, Object.assign(Object.create({ lenght: 1 }), { length: undefined, name: undefined }));
    expect(again.length).toBe(8192);
  });

  test("an error's first stack frame is the caller's line, not the library's (Bun shows that line's source)", () => {
    using window = Window.create(smallWindow);
    const frames = (error: Error) => error.stack!.split("\n").filter((line) => line.startsWith("    at "));
    for (const error of [
      // Block bodies: an arrow that returns the call would be a tail call, and JavaScriptCore
      // drops a tail call's frame in strict code.
      thrown(VmwindowError, () => { window.mapFile("/no/such/file"); }), // a native failure
      thrown(VmwindowError, () => { window.mapAnonymous(-1); }), // a JS-side argument check
      thrown(VmwindowError, () => { window.instantiate(new Uint8Array([1, 2, 3])); }),
    ]) {
      expect(frames(error)[0]).toContain(import.meta.path);
      expect(error.stack!.split("\n")[0]).toBe(`VmwindowError: ${error.message}`);
      error.stack = "replaced"; // still a plain, writable property for code that rewrites stacks
      expect(error.stack).toBe("replaced");
    }
    // An application's Error.prepareStackTrace that returns the call sites: kept, not broken.
    const prepare = (Error as { prepareStackTrace?: unknown }).prepareStackTrace;
    (Error as { prepareStackTrace?: unknown }).prepareStackTrace = (_error: Error, sites: unknown[]) => sites;
    try {
      expect(Array.isArray(thrown(VmwindowError, () => { window.mapFile("/no/such/file"); }).stack)).toBe(true);
    } finally {
      (Error as { prepareStackTrace?: unknown }).prepareStackTrace = prepare;
    }
  });

  test("an uncaught error from module code shows that line (Bun re-reads the stack text)", () => {
    const script = join(tempDir(), "uncaught-top-level.ts");
    writeFileSync(script, `import { Window } from ${JSON.stringify(join(import.meta.dir, "../packages/bun/src/index.ts"))};\nconst w = Window.create({ sizeBytes: 2 ** 26, guestBytes: 2 ** 20 });\nw.mapFile("/no/such/file");\n`);
    const child = Bun.spawnSync([process.execPath, script], { stderr: "pipe", stdout: "pipe" });
    const stderr = child.stderr.toString();
    expect(child.exitCode).toBe(1);
    expect(stderr).toContain('3 | w.mapFile("/no/such/file");'); // the code frame
    expect(stderr).toContain(`at ${script}:3:`);
    expect(stderr).not.toContain("errors.ts");
  });

  test("an error made where the JS stack is nearly exhausted leaves Error.stackTraceLimit as it was", () => {
    const limit = Error.stackTraceLimit;
    // Recursions with frames of different sizes, each making a VmwindowError once the stack
    // overflows: some overflow again inside its constructor.
    for (let size = 0; size < 40; size++) {
      const args = Array.from({ length: size }, (_, i) => `a${i}`);
      const recurse = new Function("VmwindowError", `return function r(n${args.map((a) => `, ${a}`).join("")}) { try { return r(n + 1${args.map(() => ", n").join("")}); } catch { return new VmwindowError("IO", "deep"); } }`)(VmwindowError);
      for (let i = 0; i < 20; i++) {
        try {
          recurse(0);
        } catch {
          // the overflow itself
        }
        expect(Error.stackTraceLimit).toBe(limit);
      }
    }
    expect(new Error("after").stack).toContain("window.test.ts");
  });

  test("integers above a limit are told the limit, not that they are not integers", () => {
    using window = Window.create(smallWindow);
    const path = tempFile("x");
    const cases: [string, () => unknown, RegExp][] = [
      ["mapFile offset 2**60", () => window.mapFile(path, { offset: 2 ** 60 }), /^offset must be at most 2\*\*53 - 1 bytes \(Number\.MAX_SAFE_INTEGER\), got 1152921504606846976$/],
      ["mapFile length 2**53", () => window.mapFile(path, { length: 2 ** 53 }), /^length must be at most 2\*\*53 - 1 bytes \(Number\.MAX_SAFE_INTEGER\), got 9007199254740992$/],
      ["Window.create capacity 2**32", () => Window.create({ capacity: 2 ** 32 }), /^capacity must be at most 2\*\*32 - 1, got 4294967296$/],
      ["Window.create timeoutMs", () => window.instantiate(guests.probe, { timeoutMs: 2 ** 32 }), /^timeoutMs must be at most 2\*\*32 - 1 ms \(about 49\.7 days\), got 4294967296$/],
      // Still "not an integer" when it is not one.
      ["mapFile offset 1.5", () => window.mapFile(path, { offset: 1.5 }), /^offset must be a non-negative integer number of bytes, got 1\.5$/],
    ];
    expectInvalidArguments(cases);
    expect(window.regions.size).toBe(0);
  });

  // tools/test-arm64.sh runs bun inside a user namespace of its own (for a private binfmt_misc):
  // its root ignores file modes and has no CAP_LINUX_IMMUTABLE for chattr, so nothing there can
  // make a file unwritable to it. Runs natively (x64 in CI, as root or not).
  const emulated = process.env.VMW_EMULATED;
  if (emulated) console.log(`skipped under ${emulated}: "a file opened without write permission ..." (root in a user namespace: no chattr +i, file modes ignored)`);
  test.skipIf(!!emulated)("a file opened without write permission cannot be mapped read-write", () => {
    const path = tempFile("read only");
    chmodSync(path, 0o444);
    // root ignores file modes: make the file immutable instead (ext4/xfs/btrfs; needs chattr).
    const asRoot = process.getuid?.() === 0;
    if (asRoot) expect(Bun.spawnSync(["chattr", "+i", path]).exitCode).toBe(0);
    try {
      using window = Window.create(smallWindow);
      expectError(() => window.mapFile(path, { access: "readwrite" }), "ACCESS_DENIED", /permission denied/);
      // Read-only still works.
      using region = window.mapFile(path);
      expect(new TextDecoder().decode(region.bytes)).toBe("read only");
    } finally {
      if (asRoot) Bun.spawnSync(["chattr", "-i", path]);
    }
  });

  test("a file larger than the slot area is refused with WINDOW_FULL", () => {
    using window = Window.create(smallWindow);
    const path = tempFile("x");
    require("node:fs").truncateSync(path, smallWindow.sizeBytes);
    expectError(() => window.mapFile(path), "WINDOW_FULL");
  });
});
