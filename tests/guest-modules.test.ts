// Compile once, instantiate many (issue 13): GuestModule across windows, the process's module
// cache, the on-disk cache of compiled code across process restarts and against bad cache files,
// and the module checks on every path a module can take.
import { describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { GuestModule, GuestTimeout, GuestTrap, VmwindowError, Window, type ErrorCode } from "@vmwindow/bun";
import { guests, smallWindow, tempDir, thrown } from "./helpers.ts";
import { buildModule, envMemory, I32, op } from "./wasm-builder.ts";
import { GUEST_BASE } from "../packages/bun/src/abi.ts";

const MiB = 2 ** 20;

/** A module whose data segment (one byte, `value`) sits `offset` bytes into the guest area, and `get()` reads it. */
function moduleWithDataAt(offset: number, salt = 0, value = 42): Uint8Array {
  return buildModule({
    imports: [envMemory],
    functions: [{ params: [], results: [I32], body: [...op.i32Const(GUEST_BASE + offset), ...op.i32Load8U()], export: "get" }],
    data: [{ offset: GUEST_BASE + offset, bytes: [value] }],
    custom: [{ name: "salt", bytes: [salt & 0xff, (salt >> 8) & 0xff, (salt >> 16) & 0xff] }],
  });
}

/** A data segment whose offset is `global.get 0` (an imported i32 global): never at a known address. */
function nonConstantSegment(): Uint8Array {
  const plain = buildModule({ imports: [envMemory, { module: "env", name: "g", kind: "global", type: I32 }], data: [{ offset: 0, bytes: [1] }] });
  // The builder writes `i32.const 0` (41 00 0b) as the segment's offset: make it `global.get 0` (23 00 0b).
  const bytes = Uint8Array.from(plain);
  for (let i = bytes.length - 1; i >= 2; i--) {
    if (bytes[i - 2] === 0x41 && bytes[i - 1] === 0x00 && bytes[i] === 0x0b) {
      bytes[i - 2] = 0x23;
      return bytes;
    }
  }
  throw new Error("no i32.const offset found");
}

function cacheDir(): string {
  return mkdtempSync(join(tempDir(), "code-cache-"));
}

function cacheFiles(dir: string): string[] {
  return readdirSync(dir).filter((name) => name.endsWith(".vmwcode"));
}

describe("GuestModule", () => {
  test("a module compiled once instantiates in several windows, each guest with its own static data", () => {
    using module = GuestModule.compile(guests.probe);
    expect(module.hash).toMatch(/^[0-9a-f]{64}$/);
    using a = Window.create(smallWindow);
    using b = Window.create(smallWindow);
    const made = [a.instantiate(module), a.instantiate(module), b.instantiate(module)];
    const scratch = made[0]!.call("data_end") as number;
    const address = GUEST_BASE + ((scratch - GUEST_BASE + 4096) & ~4095);
    made.forEach((guest, i) => guest.call("store_i32", address, 1000 + i));
    // Each guest reads back its own value: the guest area is per guest, in one window or two.
    made.forEach((guest, i) => expect(guest.call("load_i32", address)).toBe(1000 + i));
    made.forEach((guest, i) => expect(guest.exports.sum4!(1, 2, 3, i)).toBe(6 + i));
  });

  test("closing the module leaves its guests working; a closed module cannot be instantiated", () => {
    using window = Window.create(smallWindow);
    const module = GuestModule.compile(guests.probe);
    const guest = window.instantiate(module);
    module.close();
    expect(module.closed).toBe(true);
    expect(guest.exports.sum4!(1, 2, 3, 4)).toBe(10);
    expect(thrown(VmwindowError, () => window.instantiate(module)).code).toBe("CLOSED");
    const again = window.instantiate(guests.probe); // the same bytes, from the process cache
    expect(again.exports.sum4!(4, 3, 2, 1)).toBe(10);
  });

  test("compiling the same bytes again takes the process's module cache; other engine settings do not", () => {
    const bytes = moduleWithDataAt(0, 1);
    using first = GuestModule.compile(bytes);
    using second = GuestModule.compile(bytes);
    using interruptible = GuestModule.compile(bytes, { interruptible: true });
    expect(first.source).toBe("compiled");
    expect(second.source).toBe("process-cache");
    expect(second.hash).toBe(first.hash);
    expect(interruptible.source).toBe("compiled");
    expect(interruptible.interruptible).toBe(true);
  });

  test("the engine settings of a module bound what instantiate may ask", () => {
    using window = Window.create(smallWindow);
    using plain = GuestModule.compile(guests.probe);
    expect(thrown(VmwindowError, () => window.instantiate(plain, { timeoutMs: 50 })).code).toBe("UNSUPPORTED");
    expect(thrown(VmwindowError, () => window.instantiate(plain, { fuel: 1000 })).code).toBe("UNSUPPORTED");
    using interruptible = GuestModule.compile(guests.probe, { interruptible: true });
    const guest = window.instantiate(interruptible, { timeoutMs: 50 });
    thrown(GuestTimeout, () => guest.call("spin_holding"));
    using metered = GuestModule.compile(guests.probe, { metered: true });
    const counted = window.instantiate(metered, { fuel: 10_000 });
    thrown(GuestTimeout, () => counted.call("spin_holding"));
  });
});

describe("the module checks hold on every path", () => {
  const bad: [string, Uint8Array, ErrorCode][] = [
    ["no env.memory import", buildModule({ functions: [{ params: [], results: [], body: [], export: "f" }] }), "LINK"],
    ["its own memory", buildModule({ memory: { min: 1, max: 1 } }), "LINK"],
    ["a data segment with a non-constant offset", nonConstantSegment(), "LINK"],
    ["memory.init (bulk memory that is not rewritten)", buildModule({ imports: [envMemory], functions: [{ params: [], results: [], body: [...op.i32Const(0), ...op.i32Const(0), ...op.i32Const(0), ...op.memoryInit] }] }), "BAD_MODULE"],
  ];
  test.each(bad)("%s: refused by compile, instantiate, and instantiate with a cache directory", (_label, bytes, code) => {
    const dir = cacheDir();
    using window = Window.create(smallWindow);
    expect(thrown(VmwindowError, () => GuestModule.compile(bytes)).code).toBe(code);
    expect(thrown(VmwindowError, () => GuestModule.compile(bytes, { cacheDir: dir })).code).toBe(code);
    expect(thrown(VmwindowError, () => window.instantiate(bytes)).code).toBe(code);
    expect(thrown(VmwindowError, () => window.instantiate(bytes, { cacheDir: dir })).code).toBe(code);
    expect(cacheFiles(dir)).toEqual([]); // nothing refused is ever written
  });

  test("memory.fill loaded from the disk cache is the rewritten, trapping code: a fill of the null page traps, the process lives", () => {
    const dir = cacheDir();
    const fill = buildModule({
      imports: [envMemory],
      functions: [{ params: [I32, I32, I32], results: [], body: [...op.localGet(0), ...op.localGet(1), ...op.localGet(2), ...op.memoryFill], export: "fill" }],
      custom: [{ name: "salt", bytes: [9, 9, 9] }],
    });
    GuestModule.compile(fill, { cacheDir: dir }).close();
    GuestModule.clearProcessCache();
    using module = GuestModule.compile(fill, { cacheDir: dir });
    expect(module.source).toBe("disk-cache");
    using window = Window.create(smallWindow);
    using scratch = window.mapAnonymous(4096);
    const guest = window.instantiate(module);
    guest.call("fill", scratch.offset + 10, 7, 100);
    expect(scratch.bytes.subarray(10, 110).every((byte) => byte === 7)).toBe(true);
    expect(scratch.bytes[9]).toBe(0);
    expect(scratch.bytes[110]).toBe(0);
    thrown(GuestTrap, () => guest.call("fill", 0, 1, 16));
    guest.call("fill", scratch.offset, 3, 1); // still usable
    expect(scratch.bytes[0]).toBe(3);
  });

  test("a data segment on the null page compiles (no window yet) but no window instantiates it, however it was loaded", () => {
    const dir = cacheDir();
    const bytes = buildModule({ imports: [envMemory], data: [{ offset: 16, bytes: [1] }] });
    using window = Window.create(smallWindow);
    using module = GuestModule.compile(bytes, { cacheDir: dir });
    expect(thrown(VmwindowError, () => window.instantiate(module)).code).toBe("LINK");
    expect(thrown(VmwindowError, () => window.instantiate(bytes)).code).toBe("LINK");
    GuestModule.clearProcessCache();
    using fromDisk = GuestModule.compile(bytes, { cacheDir: dir });
    expect(fromDisk.source).toBe("disk-cache");
    expect(thrown(VmwindowError, () => window.instantiate(fromDisk)).code).toBe("LINK");
    expect(thrown(VmwindowError, () => window.instantiate(bytes, { cacheDir: dir })).code).toBe("LINK");
  });

  test("data segments are checked against each window's guest area, for a module compiled once", () => {
    using module = GuestModule.compile(moduleWithDataAt(1.5 * MiB, 2));
    using large = Window.create({ sizeBytes: 64 * MiB, guestBytes: 2 * MiB });
    using small = Window.create(smallWindow); // a 1 MiB guest area: the segment is past its end
    expect(large.instantiate(module).call("get")).toBe(42);
    const error = thrown(VmwindowError, () => small.instantiate(module));
    expect(error.code).toBe("LINK");
    expect(error.message).toContain("outside the guest area");
  });

  test("a valid cache file of another module, renamed to this module's name, is refused", () => {
    const dir = cacheDir();
    const other = moduleWithDataAt(0, 3, 7);
    const mine = moduleWithDataAt(0, 4, 42);
    GuestModule.compile(other, { cacheDir: dir }).close();
    const otherFile = cacheFiles(dir)[0]!;
    const hash = GuestModule.compile(mine).hash;
    GuestModule.clearProcessCache();
    const planted = otherFile.replace(/^[0-9a-f]{64}/, hash);
    writeFileSync(join(dir, planted), readFileSync(join(dir, otherFile)), { mode: 0o600 });
    using module = GuestModule.compile(mine, { cacheDir: dir });
    expect(module.source).toBe("compiled");
    using window = Window.create(smallWindow);
    expect(window.instantiate(module).call("get")).toBe(42); // its own code, not the planted one (7)
  });
});

/** Compiles `wasmPath` with `dir` as the cache in a fresh Bun process; its source and a call's result. */
function childCompile(dir: string, wasmPath: string): { source: string; sum: number; ms: number } {
  const script = join(tempDir(), "module-child.ts");
  writeFileSync(
    script,
    `import { GuestModule, Window } from ${JSON.stringify(join(import.meta.dir, "..", "packages", "bun", "src", "index.ts"))};
const started = performance.now();
const module = GuestModule.compile(process.argv[2], { cacheDir: process.argv[3] });
const ms = performance.now() - started;
using window = Window.create({ sizeBytes: 64 * 2 ** 20, guestBytes: 2 ** 20 });
const guest = window.instantiate(module);
console.log(JSON.stringify({ source: module.source, sum: guest.exports.sum4(1, 2, 3, 4), ms }));
`,
  );
  const child = Bun.spawnSync([process.execPath, script, wasmPath, dir], { stdout: "pipe", stderr: "pipe" });
  if (child.exitCode !== 0) throw new Error(`child failed (${child.exitCode}): ${child.stderr.toString()}`);
  return JSON.parse(child.stdout.toString().trim().split("\n").pop()!);
}

describe("the on-disk cache of compiled code", () => {
  test("survives a process restart", () => {
    const dir = cacheDir();
    expect(childCompile(dir, guests.probe)).toMatchObject({ source: "compiled", sum: 10 });
    const files = cacheFiles(dir);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^[0-9a-f]{64}-plain-wasmtime-\d+\.\d+\.\d+-[0-9a-f]{16}\.vmwcode$/);
    expect(statSync(join(dir, files[0]!)).mode & 0o777).toBe(0o600);
    expect(childCompile(dir, guests.probe)).toMatchObject({ source: "disk-cache", sum: 10 });
  });

  const damage: [string, (bytes: Buffer) => Buffer][] = [
    ["one flipped bit in the compiled code", (b) => { b[b.length - 100]! ^= 1; return b; }],
    ["one flipped bit in the header", (b) => { b[40]! ^= 1; return b; }],
    ["truncated", (b) => b.subarray(0, b.length >> 1)],
    ["cut inside the header", (b) => b.subarray(0, 60)],
    ["empty", () => Buffer.alloc(0)],
    ["random bytes", (b) => Buffer.from(crypto.getRandomValues(new Uint8Array(b.length)))],
    ["Wasmtime's own serialized module without our header", (b) => b.subarray(128)],
  ];
  test.each(damage)("a cache file %s is refused, recompiled and replaced (never a crash)", (_label, spoil) => {
    const dir = cacheDir();
    const bytes = moduleWithDataAt(0, 100 + damage.findIndex(([label]) => label === _label));
    GuestModule.compile(bytes, { cacheDir: dir }).close();
    GuestModule.clearProcessCache();
    const [file] = cacheFiles(dir);
    const path = join(dir, file!);
    writeFileSync(path, spoil(readFileSync(path)), { mode: 0o600 });
    using again = GuestModule.compile(bytes, { cacheDir: dir });
    expect(again.source).toBe("compiled");
    using window = Window.create(smallWindow);
    expect(window.instantiate(again).call("get")).toBe(42);
    GuestModule.clearProcessCache();
    using replaced = GuestModule.compile(bytes, { cacheDir: dir });
    expect(replaced.source).toBe("disk-cache");
    expect(window.instantiate(replaced).call("get")).toBe(42);
  });

  test("a cache file writable by others is not used", () => {
    const dir = cacheDir();
    const bytes = moduleWithDataAt(0, 200);
    GuestModule.compile(bytes, { cacheDir: dir }).close();
    GuestModule.clearProcessCache();
    const path = join(dir, cacheFiles(dir)[0]!);
    chmodSync(path, 0o666);
    using again = GuestModule.compile(bytes, { cacheDir: dir });
    expect(again.source).toBe("compiled");
  });

  test("instantiate(bytes, { cacheDir }) writes and uses the cache; an unwritable directory only costs the compile", () => {
    const dir = cacheDir();
    const bytes = moduleWithDataAt(0, 300);
    using window = Window.create(smallWindow);
    expect(window.instantiate(bytes, { cacheDir: dir }).call("get")).toBe(42);
    expect(cacheFiles(dir)).toHaveLength(1);
    const blocked = join(dir, cacheFiles(dir)[0]!, "below-a-file");
    GuestModule.clearProcessCache();
    using module = GuestModule.compile(moduleWithDataAt(0, 301), { cacheDir: blocked });
    expect(module.source).toBe("compiled");
    expect(thrown(VmwindowError, () => GuestModule.compile(bytes, { cacheDir: "" })).code).toBe("INVALID_ARGUMENT");
  });

  test("vmwindow run compiles once and then loads from its cache directory; VMWINDOW_CACHE_DIR=off writes none", () => {
    const dir = cacheDir();
    const cli = join(import.meta.dir, "..", "packages", "bun", "src", "cli.ts");
    const run = (env: Record<string, string>) => {
      const child = Bun.spawnSync([process.execPath, cli, "run", guests.probe, "--call", "sum4", "1", "2", "3", "4"], { env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe" });
      expect(child.stderr.toString()).toBe("");
      expect(child.stdout.toString().trim()).toBe("10");
    };
    run({ VMWINDOW_CACHE_DIR: dir });
    const files = cacheFiles(dir);
    expect(files).toHaveLength(1);
    const first = statSync(join(dir, files[0]!));
    run({ VMWINDOW_CACHE_DIR: dir });
    const second = statSync(join(dir, files[0]!));
    expect(second.ino).toBe(first.ino); // loaded, not rewritten
    expect(second.mtimeMs).toBe(first.mtimeMs);
    const off = cacheDir();
    run({ VMWINDOW_CACHE_DIR: "off", XDG_CACHE_HOME: off, HOME: off });
    expect(readdirSync(off)).not.toContain("vmwindow"); // (Bun keeps its own cache there)
    expect(readdirSync(join(off))).not.toContain(".cache");
  });
});
