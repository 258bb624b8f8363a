// One contender's samples in a process of its own, so each gets its own peak RSS and no contender
// inherits another's heap or mappings. Run by main.ts:
//   bun bench/child.ts '{"contender":"vmwindow","kind":"newlines","path":...,"warmPath":...,
//                        "reps":3,"scanReps":5,"cold":false}'
// Prints one JSON line: ttr_ns[], scan_ns[], result, hwm_kb (peak RSS of the timed part: the peak is
// reset after a warm-up on a small file), rss_anon_kb / rss_file_kb (at the last result).
//
// Time to result (ttr) starts with the file closed and a ready runtime (module compiled; for
// vmwindow the window exists and the guest is instantiated, a once-per-process cost reported
// separately) and ends with the result in hand; teardown is not timed.
import { closeSync, openSync, readFileSync, readSync } from "node:fs";
import { join } from "node:path";
import { Window } from "@vmwindow/bun";
import { evict, memoryStatus, resetPeakRss } from "./lib/libc.ts";
import { countNewlinesJs, sumF64Js } from "./lib/jsscan.ts";

export type Kind = "newlines" | "f64";
export type ChildContender = "vmwindow" | "vmwindow-ranges" | "vmwindow-release" | "bun-js" | "bun-wasm-copy" | "bun-wasm-read";

export interface ChildSpec {
  contender: ChildContender;
  kind: Kind;
  path: string;
  warmPath: string;
  reps: number;
  scanReps: number;
  cold: boolean;
}

export interface Samples {
  ttr_ns: number[];
  scan_ns: number[];
  result: string;
  hwm_kb: number;
  rss_anon_kb?: number;
  rss_file_kb?: number;
  setup_ns?: number;
}

export const guestPath = join(import.meta.dir, "build", "scan.wasm");
/** Where copy-in wasm contenders put the file: past the guest's static data (memoryBase 0x210000). */
const COPY_BASE = 4 * 2 ** 20;

interface Runner {
  /** Time to result for `path`, and the result. */
  once(path: string): string;
  /** Data already in place: prepare, then time `scanReps` scans. */
  scans(path: string, reps: number, out: number[]): string;
}

/** A window and the bench guest: the once-per-process setup of every vmwindow contender (timed
 * into `setup.ns`, reported apart from time to result). */
function vmwindowSetup(setup: { ns: number }) {
  const started = Bun.nanoseconds();
  const window = Window.create({ sizeBytes: 2 ** 32 - 65_536 });
  const guest = window.instantiate(guestPath);
  setup.ns = Bun.nanoseconds() - started;
  return { window, guest };
}

/** A runner whose every result maps afresh (`run(path)`): its "scans" are results too. */
function mappingRunner(run: (path: string) => string): Runner {
  return {
    once(path) {
      const value = run(path);
      ttrEnd();
      return value;
    },
    scans(path, reps, out) {
      return timeScans(reps, out, () => run(path));
    },
  };
}

function vmwindowRunner(kind: Kind, setup: { ns: number }): Runner {
  const { window, guest } = vmwindowSetup(setup);
  const fn = kind === "newlines" ? "count_newlines" : "sum_f64";
  return {
    once(path) {
      const region = window.mapFile(path);
      const value = guest.call(fn, region.id);
      ttrEnd();
      region.unmap();
      return String(value);
    },
    scans(path, reps, out) {
      const region = window.mapFile(path);
      const value = timeScans(reps, out, () => guest.call(fn, region.id));
      region.unmap();
      return value;
    },
  };
}

/** Streams the file through the window in RANGE_BYTES ranges (mapFile with offset/length): map a
 * range, scan it in place, unmap it; peak RSS stays about one range instead of the whole file. */
export const RANGE_BYTES = 64 * 2 ** 20;
function vmwindowRangesRunner(kind: Kind, setup: { ns: number }): Runner {
  const { window, guest } = vmwindowSetup(setup);
  const fn = kind === "newlines" ? "count_newlines" : "sum_f64";
  return mappingRunner((path) => {
    const size = Bun.file(path).size;
    let total = 0n;
    let sum = 0;
    for (let offset = 0; offset < size; offset += RANGE_BYTES) {
      const region = window.mapFile(path, { offset, length: Math.min(RANGE_BYTES, size - offset) });
      const value = guest.call(fn, region.id);
      region.unmap();
      if (typeof value === "bigint") total += value;
      else sum += value as number;
    }
    return kind === "newlines" ? String(total) : String(sum);
  });
}

/** The whole file mapped at once, but the guest releases each RANGE_BYTES chunk's pages once it has
 * scanned them (`region.releasePages` in the guest): one mapping, peak RSS about one chunk. */
function vmwindowReleaseRunner(kind: Kind, setup: { ns: number }): Runner {
  const { window, guest } = vmwindowSetup(setup);
  const fn = kind === "newlines" ? "count_newlines_releasing" : "sum_f64_releasing";
  return mappingRunner((path) => {
    const region = window.mapFile(path);
    const value = String(guest.call(fn, region.id, RANGE_BYTES));
    region.unmap();
    return value;
  });
}

function jsRunner(kind: Kind): Runner {
  const scan = kind === "newlines" ? countNewlinesJs : sumF64Js;
  return {
    once(path) {
      const value = scan(Bun.mmap(path, { shared: true }));
      ttrEnd();
      return String(value);
    },
    scans(path, reps, out) {
      const bytes = Bun.mmap(path, { shared: true });
      return timeScans(reps, out, () => scan(bytes));
    },
  };
}

type ScanExports = { count_newlines_at(p: number, n: number): bigint; sum_f64_at(p: number, n: number): number };

function bunWasmRunner(kind: Kind, direct: boolean): Runner {
  const module = new WebAssembly.Module(readFileSync(guestPath));
  const instantiate = (length: number) => {
    const pages = Math.ceil((COPY_BASE + length) / 65_536);
    const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
    const instance = new WebAssembly.Instance(module, {
      env: { memory, abort: () => { throw new Error("guest abort"); } },
      // vmwindow-only (the *_releasing scans): never called by the copy-in contenders.
      vmw: { release: () => { throw new Error("vmw.release is vmwindow's"); } },
    });
    return { memory, exports: instance.exports as unknown as ScanExports };
  };
  const load = (path: string) => {
    if (direct) {
      // Read straight into the wasm memory: one copy (kernel -> memory).
      const fd = openSync(path, "r");
      try {
        const length = Bun.file(path).size;
        const { memory, exports } = instantiate(length);
        const view = new Uint8Array(memory.buffer, COPY_BASE, length);
        for (let done = 0; done < length; ) {
          const n = readSync(fd, view, done, length - done, null);
          if (n <= 0) throw new Error(`short read of ${path}`);
          done += n;
        }
        return { exports, length };
      } finally {
        closeSync(fd);
      }
    }
    // The usual way: read the file, then copy it into the memory.
    const bytes = readFileSync(path);
    const { memory, exports } = instantiate(bytes.length);
    new Uint8Array(memory.buffer).set(bytes, COPY_BASE);
    return { exports, length: bytes.length };
  };
  const run = (exports: ScanExports, length: number) =>
    String(kind === "newlines" ? exports.count_newlines_at(COPY_BASE, length) : exports.sum_f64_at(COPY_BASE, length));
  return {
    once(path) {
      const { exports, length } = load(path);
      const value = run(exports, length);
      ttrEnd();
      return value;
    },
    scans(path, reps, out) {
      const { exports, length } = load(path);
      return timeScans(reps, out, () => run(exports, length));
    },
  };
}

/** Times `reps` calls of `scan` after as many untimed ones, so JIT tiers, JavaScriptCore's
 * background compiler threads (which share this machine's two cores) and caches have settled;
 * returns the last result. */
function timeScans(reps: number, out: number[], scan: () => unknown): string {
  let value: unknown;
  for (let i = 0; i < reps; i++) value = scan();
  for (let i = 0; i < reps; i++) {
    const started = Bun.nanoseconds();
    value = scan();
    out.push(Bun.nanoseconds() - started);
  }
  return String(value);
}

let ttrStopped = 0;
function ttrEnd(): void {
  ttrStopped = Bun.nanoseconds();
}

export function runChild(spec: ChildSpec): Samples {
  const setup = { ns: 0 };
  const runner =
    spec.contender === "vmwindow" ? vmwindowRunner(spec.kind, setup)
    : spec.contender === "vmwindow-ranges" ? vmwindowRangesRunner(spec.kind, setup)
    : spec.contender === "vmwindow-release" ? vmwindowReleaseRunner(spec.kind, setup)
    : spec.contender === "bun-js" ? jsRunner(spec.kind)
    : spec.contender === "bun-wasm-copy" ? bunWasmRunner(spec.kind, false)
    : spec.contender === "bun-wasm-read" ? bunWasmRunner(spec.kind, true)
    : (() => { throw new Error(`unknown contender ${spec.contender}`); })();
  // Warm-up on a small file: JIT tiers, first-call paths. Then the peak RSS starts from here.
  for (let i = 0; i < 3; i++) runner.once(spec.warmPath);
  Bun.gc(true);
  resetPeakRss();
  const out: Samples = { ttr_ns: [], scan_ns: [], result: "", hwm_kb: 0 };
  for (let i = 0; i < spec.reps; i++) {
    if (spec.cold) evict(spec.path);
    const started = Bun.nanoseconds();
    out.result = runner.once(spec.path);
    out.ttr_ns.push(ttrStopped - started);
    if (i === spec.reps - 1) {
      const m = memoryStatus();
      out.rss_anon_kb = m.RssAnon;
      out.rss_file_kb = m.RssFile;
    }
    if (spec.reps > 1) Bun.gc(true);
  }
  if (spec.scanReps > 0) out.result = runner.scans(spec.path, spec.scanReps, out.scan_ns);
  out.hwm_kb = memoryStatus().VmHWM ?? 0;
  if (spec.contender.startsWith("vmwindow")) out.setup_ns = setup.ns;
  return out;
}

if (import.meta.main) {
  const spec = JSON.parse(process.argv[2]!) as ChildSpec;
  process.stdout.write(JSON.stringify(runChild(spec)) + "\n");
}
