// Round two of the hostile-host and hostile-guest findings (issue 14): each defect an outside attack
// found is a test here, next to a test of the class behind it. Oracles: the file's bytes read back
// with node:fs, zlib's own output, the process still alive, the error codes and their text.
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import zlib from "node:zlib";
import { allowDirectory, GuestInterrupted, GuestTimeout, GuestTrap, interruptGuest, VmwindowError, Window, type Guest } from "@vmwindow/bun";
import { buildModule, envMemory, I32, op, type Import } from "./wasm-builder.ts";
import { guests, patternBytes, smallWindow, tempDir, tempFile, thrown } from "./helpers.ts";

const OS_PAGE = 4096;
/** tests/guests/host.ts: `request_extra()` asks the host to map "extra" (vmw.map). */
const HOST_GUEST = join(import.meta.dir, "build", "host.wasm");
/** `loop br 0 end`: runs until something stops it. */
const FOREVER = [0x03, 0x40, 0x0c, 0x00, 0x0b];
const hostCall: Import = { module: "host", name: "call", kind: "func", params: [], results: [] };
/** A guest whose `run` export calls `host.call` and returns. */
const CALLS_HOST = buildModule({ imports: [envMemory, hostCall], functions: [{ params: [], results: [], body: op.call(0), export: "run" }] });

function fifo(name: string): string {
  const path = join(tempDir(), name);
  expect(spawnSync("mkfifo", [path]).status).toBe(0);
  return path;
}

describe("re-entrancy: closing from inside a host function is BUSY, never an abort", () => {
  const cases: [string, (window: Window, self: () => Guest, other: Guest) => void][] = [
    ["window.close() from the running guest's import", (window) => window.close()],
    ["guest.close() of the running guest", (_window, self) => self().close()],
    ["guest.close() of another guest of the window", (_window, _self, other) => other.close()],
  ];
  for (const [what, close] of cases) {
    test(what, () => {
      const window = Window.create(smallWindow);
      const other = window.instantiate(guests.probe);
      let guest: Guest | undefined;
      let seen: unknown;
      guest = window.instantiate(CALLS_HOST, {
        imports: {
          host: {
            call: {
              params: [],
              results: [],
              fn: () => {
                try {
                  close(window, () => guest!, other);
                } catch (error) {
                  seen = error;
                  throw error;
                }
              },
            },
          },
        },
      });
      const error = thrown(VmwindowError, () => guest!.exports.run!());
      expect(error.code).toBe("BUSY");
      expect(seen).toBe(error);
      expect(error.message).toContain("after the call returns");
      // Nothing was closed: both guests still run, and closing afterwards works.
      expect(other.exports.noop!()).toBeUndefined();
      expect(window.closed).toBe(false);
      window.close();
      expect(guest!.closed).toBe(true);
      expect(other.closed).toBe(true);
    });
  }

  test("window.close() from a map handler is BUSY; the guest's request is not granted", () => {
    const window = Window.create(smallWindow);
    const path = tempFile("x");
    const guest = window.instantiate(HOST_GUEST, {
      map: () => {
        window.close();
        return window.mapFile(path);
      },
    });
    const error = thrown(VmwindowError, () => guest.exports.request_extra!());
    expect(error.code).toBe("BUSY");
    expect(window.closed).toBe(false);
    window.close();
  });
});

describe("opening files never blocks, and refuses what is not a regular file by its type", () => {
  test("a FIFO: mapFile, remap, instantiate and the CLI fail at once naming it", () => {
    using window = Window.create(smallWindow);
    const pipe = fifo("pipe-1");
    const started = performance.now();
    expect(thrown(VmwindowError, () => window.mapFile(pipe)).message).toContain("named pipe (FIFO)");
    using region = window.mapFile(tempFile("abc"));
    expect(thrown(VmwindowError, () => region.remap(pipe)).message).toContain("named pipe (FIFO)");
    expect(region.length).toBe(3);
    expect(thrown(VmwindowError, () => window.instantiate(pipe)).message).toContain("named pipe (FIFO)");
    const cli = join(import.meta.dir, "..", "packages", "bun", "src", "cli.ts");
    const inspect = spawnSync(process.execPath, [cli, "inspect", pipe], { timeout: 20_000, encoding: "utf8" });
    expect(inspect.stderr).toContain("named pipe (FIFO)");
    const run = spawnSync(process.execPath, [cli, "run", guests.probe, "--map", `in=${pipe}`], { timeout: 20_000, encoding: "utf8" });
    expect(run.stderr).toContain("named pipe (FIFO)");
    expect(performance.now() - started).toBeLessThan(15_000);
  });

  test("an allowDirectory entry swapped for a FIFO is refused, not waited on", () => {
    const dir = join(tempDir(), "allow-fifo");
    mkdirSync(dir);
    fifo("allow-fifo/data");
    using window = Window.create(smallWindow);
    const reasons: string[] = [];
    const handler = allowDirectory(window, dir, { onRefuse: (_name, reason) => reasons.push(reason) });
    expect(handler("data", "read")).toBeNull();
    expect(reasons.length).toBe(1);
  });

  test("a socket, a symlink loop and a character device each say what they are", async () => {
    using window = Window.create(smallWindow);
    const socketPath = join(tempDir(), "sock");
    const server = Bun.listen({ unix: socketPath, socket: { data() {} } });
    try {
      expect(thrown(VmwindowError, () => window.mapFile(socketPath)).message).toContain("is a socket");
    } finally {
      server.stop(true);
    }
    const a = join(tempDir(), "loop-a");
    const b = join(tempDir(), "loop-b");
    symlinkSync(b, a);
    symlinkSync(a, b);
    expect(thrown(VmwindowError, () => window.mapFile(a)).message).toContain("symbolic links");
    expect(thrown(VmwindowError, () => window.mapFile("/dev/null")).message).toContain("character device");
  });
});

describe("range confinement: the guest sees only [offset, offset + length) of the file", () => {
  const file = patternBytes(3 * OS_PAGE, 77).map((b) => b | 1); // no zero bytes: a leak shows
  test("read-only: bytes past the range in its last page read as zeros, also after resize", () => {
    const path = tempFile(file);
    using window = Window.create(smallWindow);
    using guest = window.instantiate(guests.probe);
    using region = window.mapFile(path, { length: 14 });
    expect(guest.exports.load_u8!(region.offset + 13)).toBe(file[13]!);
    for (const past of [14, 1000, OS_PAGE - 1]) expect(guest.exports.load_u8!(region.offset + past)).toBe(0);
    region.resize(OS_PAGE + 10);
    region.resize(OS_PAGE + 5);
    expect(guest.exports.load_u8!(region.offset + OS_PAGE + 4)).toBe(file[OS_PAGE + 4]!);
    expect(guest.exports.load_u8!(region.offset + OS_PAGE + 5)).toBe(0);
    region.releasePages(0); // keeps the private last page's bytes
    expect(guest.exports.load_u8!(region.offset + OS_PAGE + 4)).toBe(file[OS_PAGE + 4]!);
  });

  test("read-write: stores past the range never reach the file; stores inside do, on flush and unmap", () => {
    const path = tempFile(file);
    using window = Window.create(smallWindow);
    using guest = window.instantiate(guests.probe);
    const region = window.mapFile(path, { offset: OS_PAGE, length: 14, access: "readwrite" });
    guest.exports.store_u8!(region.offset + 1000, 0); // past the end: the guest's own zeros page
    guest.exports.store_u8!(region.offset + 5, 0);
    region.flush();
    const expected = file.slice();
    expected[OS_PAGE + 5] = 0;
    expect(Buffer.from(readFileSync(path)).equals(Buffer.from(expected))).toBe(true);
    region.bytes[13] = 0; // the host's view is the same memory
    // A write to the file through another mapping of the page survives the write-back.
    using other = window.mapFile(path, { access: "readwrite" });
    other.bytes[OS_PAGE + 20] = 0;
    region.unmap();
    expected[OS_PAGE + 13] = 0;
    expected[OS_PAGE + 20] = 0;
    expect(Buffer.from(readFileSync(path)).equals(Buffer.from(expected))).toBe(true);
  });
});

describe("host views pinned by asynchronous APIs", () => {
  test("unmap, resize and close are BUSY while zlib holds region.bytes; afterwards they work", async () => {
    const bytes = patternBytes(4 << 20, 5);
    const path = tempFile(bytes);
    const window = Window.create(smallWindow);
    const region = window.mapFile(path);
    const done = new Promise<Buffer>((resolve, reject) => zlib.gzip(region.bytes, (error, out) => (error ? reject(error) : resolve(out))));
    for (const change of [() => region.unmap(), () => region.resize(100), () => window.close()]) {
      expect(thrown(VmwindowError, change).code).toBe("BUSY");
    }
    expect(region.mapped).toBe(true);
    expect(window.region(region.id)).toBe(region);
    const gzipped = await done;
    expect(Buffer.from(zlib.gunzipSync(gzipped)).equals(Buffer.from(bytes))).toBe(true);
    region.unmap();
    window.close();
  });

  test("fs.promises.writeFile of region.bytes, then unmap: BUSY until it is done, or done already; the file is whole", async () => {
    const bytes = patternBytes(2 << 20, 6);
    using window = Window.create(smallWindow);
    const region = window.mapFile(tempFile(bytes));
    const out = join(tempDir(), "written.bin");
    const { writeFile } = await import("node:fs/promises");
    const writing = writeFile(out, region.bytes);
    let first = "OK";
    try {
      region.unmap();
    } catch (error) {
      first = (error as VmwindowError).code;
    }
    expect(["OK", "BUSY"]).toContain(first);
    await writing;
    if (first === "BUSY") region.unmap();
    expect(region.mapped).toBe(false);
    expect(Buffer.from(readFileSync(out)).equals(Buffer.from(bytes))).toBe(true);
  });
});

describe("limits apply to the start function and to time spent in host functions", () => {
  const loopsAtStart = buildModule({ imports: [envMemory], functions: [{ params: [], results: [], body: FOREVER }], start: 0 });
  test("a start function that never returns: timeoutMs and fuel stop instantiate", () => {
    using window = Window.create(smallWindow);
    const timeout = thrown(GuestTimeout, () => window.instantiate(loopsAtStart, { timeoutMs: 50 }));
    expect(timeout.message).toContain("start function");
    expect(thrown(GuestTimeout, () => window.instantiate(loopsAtStart, { fuel: 1_000_000 })).message).toContain("fuel");
    expect(window.guests.size).toBe(0);
    using guest = window.instantiate(guests.probe);
    expect(guest.exports.noop!()).toBeUndefined();
  });

  test("a deadline that passes inside a host import is a GuestTimeout when it returns", () => {
    using window = Window.create(smallWindow);
    using guest = window.instantiate(CALLS_HOST, {
      timeoutMs: 20,
      imports: { host: { call: { params: [], results: [], fn: () => Bun.sleepSync(60) } } },
    });
    const error = thrown(GuestTimeout, () => guest.exports.run!());
    expect(error.message).toContain("host function host.call");
    guest.setTimeout(0);
    expect(guest.exports.run!()).toBeUndefined();
  });
});

describe("stopping a guest from another thread", () => {
  const loops = buildModule({ imports: [envMemory], functions: [{ params: [], results: [], body: FOREVER, export: "spin" }, { params: [], results: [I32], body: op.i32Const(7), export: "seven" }] });

  async function readyWorker(): Promise<Worker> {
    const worker = new Worker(join(import.meta.dir, "fixtures", "interrupt-worker.ts"));
    await new Promise<void>((resolve) => (worker.onmessage = () => resolve()));
    return worker;
  }

  test("a Worker interrupts a guest looping without a deadline; it stays usable; a closed guest's token is dead", async () => {
    using window = Window.create(smallWindow);
    const guest = window.instantiate(loops, { interruptible: true });
    const token = guest.interruptToken();
    expect(guest.interruptToken()).toBe(token);
    const worker = await readyWorker();
    const answered = new Promise<{ first: boolean }>((resolve) => (worker.onmessage = (e) => resolve(e.data)));
    worker.postMessage({ token, delayMs: 50 });
    const started = performance.now();
    const error = thrown(GuestInterrupted, () => guest.exports.spin!());
    expect(error.code).toBe("INTERRUPTED");
    expect(performance.now() - started).toBeGreaterThanOrEqual(40);
    expect((await answered).first).toBe(true);
    worker.terminate();
    expect(guest.exports.seven!()).toBe(7); // a request made while no call runs is dropped
    guest.close();
    expect(interruptGuest(token)).toBe(false);
  });

  test("with a deadline too: the interrupt and the deadline each stop the call for their own reason", async () => {
    using window = Window.create(smallWindow);
    using guest = window.instantiate(loops, { timeoutMs: 5_000 });
    const token = guest.interruptToken();
    const worker = await readyWorker();
    worker.postMessage({ token, delayMs: 30 });
    thrown(GuestInterrupted, () => guest.exports.spin!());
    worker.terminate();
    guest.setTimeout(40);
    const started = performance.now();
    expect(thrown(GuestTimeout, () => guest.exports.spin!()).message).toContain("40 ms deadline");
    expect(performance.now() - started).toBeGreaterThanOrEqual(35);
  });

  test("plain guests say how to get an interrupt token", () => {
    using window = Window.create(smallWindow);
    using guest = window.instantiate(loops);
    expect(thrown(VmwindowError, () => guest.interruptToken()).message).toContain("interruptible: true");
  });
});

describe("state stays equal on both sides; limits are documented numbers", () => {
  test("more than 1,024 exports are all callable", () => {
    const functions = Array.from({ length: 1500 }, (_, i) => ({ params: [], results: [I32], body: op.i32Const(i), export: `f${i}` }));
    using window = Window.create(smallWindow);
    using guest = window.instantiate(buildModule({ imports: [envMemory], functions }));
    expect(Object.keys(guest.exports).length).toBe(1500);
    expect(guest.exports.f1499!()).toBe(1499);
    expect(guest.exports.f0!()).toBe(0);
  });

  test("a map handler returning another window's region (or a look-alike) fails the call, naming it", () => {
    using window = Window.create(smallWindow);
    using elsewhere = Window.create(smallWindow);
    const foreign = elsewhere.mapFile(tempFile("foreign"));
    const unmapped = window.mapFile(tempFile("gone"));
    unmapped.unmap();
    const cases: [unknown, string][] = [
      [foreign, "returned a Region of another window (or an unmapped one), not a live Region"],
      [unmapped, "returned a Region of another window (or an unmapped one), not a live Region"],
      [{ id: 1 }, "returned an object, not a live Region"],
      [1, "returned 1, not a live Region"],
      [Object.create(null), "returned an object, not a live Region"],
    ];
    for (const [returned, text] of cases) {
      using guest = window.instantiate(HOST_GUEST, { map: () => returned as never });
      const error = thrown(VmwindowError, () => guest.exports.request_extra!());
      expect(error.code).toBe("INVALID_ARGUMENT");
      expect(error.message).toContain(`the map handler for "extra" ${text} of the guest's window`);
    }
  });

  test("region names with a NUL byte or a lone surrogate are refused", () => {
    using window = Window.create(smallWindow);
    const path = tempFile("n");
    expect(thrown(VmwindowError, () => window.mapFile(path, { name: "a\0b" })).message).toContain("NUL");
    expect(thrown(VmwindowError, () => window.mapFile(path, { name: "a\ud800" })).message).toContain("lone surrogate");
    expect(window.regions.size).toBe(0);
  });

  test("regions stop short of vm.max_map_count with an error naming it; the process still compiles guests; unmaps keep both sides equal", () => {
    // In a child: it fills the process's mappings.
    const script = join(import.meta.dir, "fixtures", "map-count-limit.ts");
    const child = spawnSync(process.execPath, [script], { timeout: 120_000, encoding: "utf8" });
    expect(child.stderr).not.toContain("panic");
    expect(child.status).toBe(0);
    const report = JSON.parse(child.stdout.trim().split("\n").at(-1)!);
    expect(report.mapped).toBeGreaterThan(10_000);
    expect(report.fullCode).toBe("OUT_OF_MEMORY");
    expect(report.fullMessage).toContain("vm.max_map_count");
    expect(report.inconsistent).toBe(0);
    // The headroom left to the rest of the process: Wasmtime can still compile and instantiate.
    expect(report.instantiate).toBe("OK");
  }, 150_000);
});

describe("a memory fault names what is at its address", () => {
  test("the SDK preset keeps function names: a trap's backtrace names the guest function", () => {
    using window = Window.create(smallWindow);
    using guest = window.instantiate(guests.probe);
    const trap = thrown(GuestTrap, () => guest.exports.load_u8!(8));
    expect(trap.details).toMatch(/wasm backtrace:\n\s+0:\s+0x[0-9a-f]+ - .*!guests\/probe\/load_u8\n/);
  });

  test("store into a read-only region (named), a read past a region's end by N bytes", () => {
    using window = Window.create(smallWindow);
    using guest = window.instantiate(guests.probe);
    using region = window.mapFile(tempFile(patternBytes(10_000, 3)), { name: "input" });
    const store = thrown(GuestTrap, () => guest.exports.store_u8!(region.offset + 5, 1));
    expect(store.reason).toEndWith(`: a store into read-only region ${region.id} "input" (mapped "read")`);
    expect(store.fault).toEqual({ address: region.offset + 5, kind: "read-only-region", regionId: region.id, bytesPastEnd: 0 });
    const past = thrown(GuestTrap, () => guest.exports.load_u8!(region.offset + 12_288 + 100));
    expect(past.reason).toEndWith(`: ${12_288 + 100 - 10_000} bytes past the end of region ${region.id} "input" (10000 bytes long)`);
    expect(past.fault).toEqual({ address: region.offset + 12_388, kind: "past-region-end", regionId: region.id, bytesPastEnd: 2_388 });
  });

  test("every kind of place arrives as trap.fault fields too (vmw_last_fault); other traps have none", () => {
    using window = Window.create(smallWindow);
    using guest = window.instantiate(guests.probe);
    const { tableOffset, slotsBase, sizeBytes, guestBase } = window.layout;
    const cases: [number, string][] = [
      [8, "null-page"],
      [tableOffset + 20, "table"],
      [slotsBase + 5 * 65_536, "free-slot"],
      [sizeBytes + 4, "past-window"],
    ];
    for (const [address, kind] of cases) {
      const trap = thrown(GuestTrap, () => guest.exports.store_u8!(address, 1));
      expect(trap.fault).toEqual({ address, kind, regionId: undefined, bytesPastEnd: 0 });
    }
    expect(guestBase).toBeGreaterThan(tableOffset);
    // Not a memory fault: an abort (the SDK's bounds check) has no fault.
    using region = window.mapFile(tempFile("abc"));
    const abort = thrown(GuestTrap, () => guest.exports.region_view_get_u8!(region.id, 99));
    expect(abort.fault).toBeUndefined();
  });
});
