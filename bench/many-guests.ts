// Many guests, fast (issue 13), measured side by side in one run:
//   modules   compiling vs instantiating a compiled module (small AssemblyScript guest, 1.4 MiB module)
//   restart   a fresh process to a ready guest: compiling vs the on-disk cache (1.4 MiB module)
//   switch    calls alternating between two guests vs calls to one guest
//   imports   guest -> Bun host import vs a bare bun:ffi JSCallback called from C, and where the
//             difference goes; the batch pattern (ring buffer in an anonymous region)
// Part of `bun run bench` (main.ts, workload "guests"); also runs alone:
//
//   bun bench/many-guests.ts [--quick]
import { cc, FFIType, JSCallback, type Pointer } from "bun:ffi";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GuestModule, Window, type Guest } from "@vmwindow/bun";
import { lib } from "../packages/bun/src/ffi.ts";
import { guestHandle } from "../packages/bun/src/guest.ts";
import { batchGuest, importLoopGuest, largeGuest, touchGuest } from "./lib/guest-wasm.ts";
import { interleave, median, printTable } from "./lib/report.ts";

const here = import.meta.dir;
const smallGuestPath = join(here, "build", "scan.wasm");
const windowOptions = { sizeBytes: 64 * 2 ** 20, guestBytes: 2 ** 20 };

export interface Row {
  name: string;
  value: number;
  unit: string;
}

export interface GuestsResult {
  modules: Row[];
  restart: Row[];
  switching: Row[];
  imports: Row[];
  batch: Row[];
  ratios: Record<string, number>;
}

function timeEach(iterations: number, run: () => void): number {
  const started = Bun.nanoseconds();
  for (let i = 0; i < iterations; i++) run();
  return (Bun.nanoseconds() - started) / iterations;
}

function modules(quick: boolean): { rows: Row[]; ratios: Record<string, number> } {
  const small = readFileSync(smallGuestPath);
  const large = largeGuest();
  using window = Window.create(windowOptions);
  using smallModule = GuestModule.compile(small);
  using largeModule = GuestModule.compile(large);
  const instantiations = quick ? 20 : 300;
  const compileOnce = (bytes: Uint8Array) => () => {
    GuestModule.clearProcessCache();
    const started = Bun.nanoseconds();
    GuestModule.compile(bytes).close();
    return Bun.nanoseconds() - started;
  };
  const instantiateMany = (source: GuestModule | Uint8Array) => () => timeEach(instantiations, () => window.instantiate(source).close());
  const medians = interleave(quick ? 1 : 5, [
    ["compile small", compileOnce(small)],
    ["instantiate small from module", instantiateMany(smallModule)],
    ["instantiate small from bytes (process cache)", instantiateMany(small)],
    ["compile large", compileOnce(large)],
    ["instantiate large from module", instantiateMany(largeModule)],
  ]);
  const ns = (name: string) => medians.get(name)!;
  const rows: Row[] = [
    { name: `compile, small AssemblyScript guest (${small.length} bytes)`, value: ns("compile small") / 1e6, unit: "ms" },
    { name: "instantiate + close from a GuestModule", value: ns("instantiate small from module") / 1e3, unit: "us" },
    { name: "instantiate + close from the same bytes (process cache)", value: ns("instantiate small from bytes (process cache)") / 1e3, unit: "us" },
    { name: `compile, large module (${(large.length / 2 ** 20).toFixed(2)} MiB)`, value: ns("compile large") / 1e6, unit: "ms" },
    { name: "instantiate + close from its GuestModule", value: ns("instantiate large from module") / 1e3, unit: "us" },
  ];
  return {
    rows,
    ratios: {
      "compile / instantiate from module (small)": ns("compile small") / ns("instantiate small from module"),
      "compile / instantiate from module (large)": ns("compile large") / ns("instantiate large from module"),
    },
  };
}

/** A fresh Bun process that makes a window and a guest of `wasm` (through `dir` unless "none"). */
function restart(quick: boolean): { rows: Row[]; ratios: Record<string, number> } {
  const scratch = mkdtempSync(join(tmpdir(), "vmwindow-restart-"));
  try {
    const wasmPath = join(scratch, "large.wasm");
    writeFileSync(wasmPath, largeGuest(1200, 70, 1));
    const cacheDir = join(scratch, "cache");
    const script = join(scratch, "child.ts");
    writeFileSync(
      script,
      `import { GuestModule, Window } from ${JSON.stringify(join(here, "..", "packages", "bun", "src", "index.ts"))};
const [wasm, dir] = process.argv.slice(2);
const started = performance.now();
using window = Window.create({ sizeBytes: 64 * 2 ** 20, guestBytes: 2 ** 20 });
if (wasm !== "none") {
  const module = GuestModule.compile(wasm, dir === "none" ? {} : { cacheDir: dir });
  const guest = window.instantiate(module);
  if (guest.exports.f0(1, 2) === undefined) process.exit(3);
  console.log(JSON.stringify({ source: module.source, ms: performance.now() - started }));
} else console.log(JSON.stringify({ source: "none", ms: performance.now() - started }));
`,
    );
    const child = (wasm: string, dir: string, expected: string) => () => {
      const started = Bun.nanoseconds();
      const p = Bun.spawnSync([process.execPath, script, wasm, dir], { stdout: "pipe", stderr: "pipe" });
      const wall = Bun.nanoseconds() - started;
      const out = JSON.parse(p.stdout.toString().trim() || "{}");
      if (p.exitCode !== 0 || out.source !== expected) throw new Error(`restart child: exit ${p.exitCode}, ${p.stdout} ${p.stderr}`);
      inChild.get(`${wasm === "none" ? "none" : dir === "none" ? "compile" : "cache"}`)!.push(out.ms * 1e6);
      return wall;
    };
    const inChild = new Map<string, number[]>([["none", []], ["compile", []], ["cache", []]]);
    child(wasmPath, cacheDir, "compiled")(); // fills the cache
    inChild.get("cache")!.length = 0;
    const medians = interleave(quick ? 1 : 5, [
      ["bun + window only", child("none", "none", "none")],
      ["compile", child(wasmPath, "none", "compiled")],
      ["disk cache", child(wasmPath, cacheDir, "disk-cache")],
    ]);
    const inside = (key: string) => median(inChild.get(key)!);
    const rows: Row[] = [
      { name: "process start -> exit, Bun + a window, no guest (the floor)", value: medians.get("bun + window only")! / 1e6, unit: "ms" },
      { name: "process start -> exit, guest compiled (1.4 MiB module)", value: medians.get("compile")! / 1e6, unit: "ms" },
      { name: "process start -> exit, guest from the on-disk cache", value: medians.get("disk cache")! / 1e6, unit: "ms" },
      { name: "  inside the process: window + compile + instantiate", value: inside("compile") / 1e6, unit: "ms" },
      { name: "  inside the process: window + cache load + instantiate", value: inside("cache") / 1e6, unit: "ms" },
    ];
    return {
      rows,
      ratios: {
        "restart: compile / disk cache (whole process)": medians.get("compile")! / medians.get("disk cache")!,
        "restart: compile / disk cache (inside the process)": inside("compile") / inside("cache"),
      },
    };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

function switching(quick: boolean): { rows: Row[]; ratios: Record<string, number> } {
  const small = readFileSync(smallGuestPath);
  using window = Window.create(windowOptions);
  using other = Window.create(windowOptions);
  const a = window.instantiate(small);
  const b = window.instantiate(small);
  const c = other.instantiate(small);
  const noopA = a.exports.noop!;
  const noopB = b.exports.noop!;
  const noopC = c.exports.noop!;
  const calls = quick ? 2_000 : 100_000;
  const medians = interleave(quick ? 1 : 7, [
    ["same guest", () => timeEach(calls, () => (noopA(), noopA()))],
    ["two guests, one window", () => timeEach(calls / 10, () => (noopA(), noopB()))],
    ["two windows, a guest each", () => timeEach(calls, () => (noopA(), noopC()))],
  ]);
  const perCall = (name: string) => medians.get(name)! / 2;
  return {
    rows: [
      { name: "guest.exports.noop(), the same guest every call", value: perCall("same guest"), unit: "ns" },
      { name: "alternating two guests of one window (guest area remapped)", value: perCall("two guests, one window"), unit: "ns" },
      { name: "alternating two guests in two windows", value: perCall("two windows, a guest each"), unit: "ns" },
      ...switchBreakdown(quick),
    ],
    ratios: {
      "alternating two guests of one window / same guest": perCall("two guests, one window") / perCall("same guest"),
      "alternating guests of two windows / same guest": perCall("two windows, a guest each") / perCall("same guest"),
    },
  };
}

/**
 * Where a switch goes: the same alternation with guests that touch `pages` pages of their area per
 * call (each switch maps the other guest's area file, so touched pages fault in again), in windows
 * with a 1 MiB and a 16 MiB guest area, against the same calls to one guest.
 */
function switchBreakdown(quick: boolean): Row[] {
  const rows: Row[] = [];
  const calls = quick ? 200 : 5_000;
  for (const guestBytes of [2 ** 20, 16 * 2 ** 20]) {
    using window = Window.create({ sizeBytes: 64 * 2 ** 20, guestBytes });
    const module = GuestModule.compile(touchGuest());
    const a = window.instantiate(module);
    const b = window.instantiate(module);
    module.close();
    const touchA = a.exports.touch!;
    const touchB = b.exports.touch!;
    for (const pages of [0, 1, 8, 64]) {
      const medians = interleave(quick ? 1 : 5, [
        ["same", () => timeEach(calls, () => (touchA(pages), touchA(pages))) / 2],
        ["alternating", () => timeEach(calls, () => (touchA(pages), touchB(pages))) / 2],
      ]);
      const area = `${guestBytes / 2 ** 20} MiB area`;
      rows.push({ name: `  ${area}, ${pages} page${pages === 1 ? "" : "s"} touched per call: same guest`, value: medians.get("same")!, unit: "ns" });
      rows.push({ name: `  ${area}, ${pages} page${pages === 1 ? "" : "s"} touched per call: alternating`, value: medians.get("alternating")!, unit: "ns" });
    }
  }
  return rows;
}

/**
 * One run of examples/scheduler/host.ts: `tasks` producers and as many consumers, a 64-slot ring,
 * 16 messages per call, no rogue task. Its --json report; throws (naming `label`) unless every
 * message was consumed.
 */
function runScheduler(tasks: number, messages: number, extra: string[], label: string): { elapsedMs: number; calls: number } {
  const script = join(here, "..", "examples", "scheduler", "host.ts");
  const args = ["--producers", String(tasks), "--consumers", String(tasks), "--messages", String(messages), "--capacity", "64", "--budget", "16", "--no-rogue", "--json", ...extra];
  const p = Bun.spawnSync([process.execPath, script, ...args], { stdout: "pipe", stderr: "pipe" });
  const report = JSON.parse(p.stdout.toString() || "{}");
  if (p.exitCode !== 0 || report.consumed?.count !== tasks * messages) throw new Error(`${label}: exit ${p.exitCode} ${p.stderr}`);
  return report;
}

/**
 * examples/scheduler (16 producers and consumers passing 160,000 messages through a ring, 16 per
 * call): all tasks in one window (guest areas swapped between calls) vs a window per task (the
 * ring a shared file mapped in every window). Messages per second and µs per call, from its report.
 */
function scheduler(quick: boolean): { rows: Row[]; ratios: Record<string, number> } {
  const messages = quick ? 500 : 10_000;
  const run = (extra: string[]) => () => {
    const report = runScheduler(16, messages, extra, `scheduler ${extra.join(" ")}`);
    return report.elapsedMs * 1e6 / report.calls;
  };
  const medians = interleave(quick ? 1 : 5, [
    ["one window", run([])],
    ["window per task", run(["--window-per-task"])],
  ]);
  const perCall = (name: string) => medians.get(name)!;
  return {
    rows: [
      { name: "scheduler, 32 tasks in one window: time per call", value: perCall("one window") / 1e3, unit: "us" },
      { name: "scheduler, 32 tasks, a window per task: time per call", value: perCall("window per task") / 1e3, unit: "us" },
    ],
    ratios: { "scheduler: one window / a window per task (time per call)": perCall("one window") / perCall("window per task") },
  };
}

/**
 * The comparison: one producer and one consumer passing `messages` messages through a
 * 64-slot ring, 16 per turn, as vmwindow guests (examples/scheduler, one window and a window each)
 * and as two Bun Workers over a SharedArrayBuffer with Atomics (bench/workloads/ring-worker.ts).
 * Messages per second.
 */
async function pairs(quick: boolean): Promise<{ rows: Row[]; ratios: Record<string, number> }> {
  const messages = quick ? 2_000 : 200_000;
  const guests = (extra: string[]) => () => messages / (runScheduler(1, messages, extra, "scheduler pair").elapsedMs / 1e3);
  const workers = async () => {
    const buffer = new SharedArrayBuffer(64 + 64 * 16);
    const url = join(here, "workloads", "ring-worker.ts");
    const [producer, consumer] = [new Worker(url), new Worker(url)];
    const reply = <T>(worker: Worker) => new Promise<T>((resolve) => (worker.onmessage = (event) => resolve(event.data)));
    const ready = [reply(producer), reply(consumer)];
    producer.postMessage("ping");
    consumer.postMessage("ping");
    await Promise.all(ready);
    const done = reply<{ checksum: number }>;
    const results = [done(producer), done(consumer)];
    const started = performance.now();
    producer.postMessage({ role: "producer", buffer, capacity: 64, messages, batch: 16 });
    consumer.postMessage({ role: "consumer", buffer, capacity: 64, messages, batch: 16 });
    const [sent, received] = await Promise.all(results);
    const elapsedMs = performance.now() - started;
    producer.terminate();
    consumer.terminate();
    if (sent!.checksum !== received!.checksum) throw new Error("workers: checksums differ");
    return messages / (elapsedMs / 1e3);
  };
  const samples = { one: [] as number[], each: [] as number[], workers: [] as number[] };
  for (let round = 0; round < (quick ? 1 : 5); round++) {
    samples.one.push(guests([])());
    samples.each.push(guests(["--window-per-task"])());
    samples.workers.push(await workers());
  }
  const one = median(samples.one);
  const each = median(samples.each);
  const threads = median(samples.workers);
  return {
    rows: [
      { name: "producer + consumer guests, one window (examples/scheduler)", value: one / 1e6, unit: "M msg/s" },
      { name: "producer + consumer guests, a window each", value: each / 1e6, unit: "M msg/s" },
      { name: "producer + consumer Bun Workers, SharedArrayBuffer + Atomics", value: threads / 1e6, unit: "M msg/s" },
    ],
    ratios: { "message pair: guests in a window each / Bun Workers (msg/s)": each / threads },
  };
}

/** C loops that call a callback n times (TinyCC, through bun:ffi's cc). */
function cLoops() {
  const source = join(mkdtempSync(join(tmpdir(), "vmwindow-cc-")), "loops.c");
  writeFileSync(
    source,
    `typedef int (*callback_t)(void *, unsigned);
/* Calls callback(user_data, 0) n times: import index 0, as vmwindow's trampoline passes it. */
int call_n(callback_t callback, void *user_data, int n) { int failed = 0; for (int i = 0; i < n; i++) failed |= callback(user_data, 0u); return failed; }
/* A native host callback for vmwindow imports: host.inc(x) = x + 1, in the host value slots. */
int inc_slots(void *slots, unsigned index) { int *value = (int *)slots; value[0] = value[0] + 1; return 0; }
void *inc_slots_address(void) { return (void *)inc_slots; }
`,
  );
  return cc({
    source,
    symbols: {
      call_n: { args: [FFIType.ptr, FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
      inc_slots_address: { args: [], returns: FFIType.ptr },
    },
  }).symbols;
}

function imports(quick: boolean): { rows: Row[]; batch: Row[]; ratios: Record<string, number> } {
  const loops = cLoops();
  const calls = quick ? 20_000 : 1_000_000;
  const hostInc = { host: { inc: { params: ["i32"], results: ["i32"], fn: (x: number) => x + 1 } } } as const;
  using window = Window.create(windowOptions);
  const js = window.instantiate(importLoopGuest(), { imports: hostInc });
  const nativeCallback = window.instantiate(importLoopGuest(), { imports: hostInc });
  // The same import run by a C function instead of the JSCallback: what the wasm -> host path costs.
  const nativeHandle = guestHandle(nativeCallback)!;
  lib.guestSetNativeHostCallback(nativeHandle, loops.inc_slots_address()!);
  const bare = new JSCallback((_userData: Pointer, _index: number) => 0, { args: [FFIType.ptr, FFIType.u32], returns: FFIType.i32 });
  // The bare callback doing what vmwindow's does: a try, a handler by index reading and writing a value slot.
  const slots = new Int32Array(64);
  const handlers = [() => { slots[0] = slots[0]! + 1; }];
  const shaped = new JSCallback(
    (_userData: Pointer, index: number) => {
      try {
        handlers[index]!();
        return 0;
      } catch {
        return 1;
      }
    },
    { args: [FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
  );
  const jsc = new WebAssembly.Instance(new WebAssembly.Module(importLoopGuest()), {
    env: { memory: new WebAssembly.Memory({ initial: 1 }) },
    host: { inc: (x: number) => x + 1 },
  }).exports as { loop(n: number): number };
  const loopJs = js.exports.loop!;
  const loopNative = nativeCallback.exports.loop!;
  const expected = (calls * (calls + 1)) / 2;
  const check = (value: number) => {
    if (value >>> 0 !== expected % 2 ** 32) throw new Error(`import loop returned ${value}, expected ${expected}`);
  };
  const medians = interleave(quick ? 1 : 9, [
    ["bare", () => timeEach(1, () => loops.call_n(bare.ptr!, null, calls)) / calls],
    ["shaped", () => timeEach(1, () => loops.call_n(shaped.ptr!, null, calls)) / calls],
    ["vmwindow", () => timeEach(1, () => check(loopJs(calls))) / calls],
    ["vmwindow native", () => timeEach(1, () => check(loopNative(calls))) / calls],
    ["bun wasm", () => timeEach(1, () => check(jsc.loop(calls))) / calls],
  ]);
  const ns = (name: string) => medians.get(name)!;
  const rows: Row[] = [
    { name: "bare JSCallback (ptr, u32) -> i32, called from a C loop", value: ns("bare"), unit: "ns" },
    { name: "the same JSCallback shaped like vmwindow's (try, handler by index, value slot)", value: ns("shaped"), unit: "ns" },
    { name: "guest -> host import host.inc(i32) -> i32 (vmwindow, JS function)", value: ns("vmwindow"), unit: "ns" },
    { name: "  the same import run by a C host callback (wasm -> host path alone)", value: ns("vmwindow native"), unit: "ns" },
    { name: "Bun WebAssembly import (reference)", value: ns("bun wasm"), unit: "ns" },
  ];
  const batch = batchRows(window, quick);
  bare.close();
  shaped.close();
  return {
    rows,
    batch,
    ratios: {
      "guest -> host import / bare JSCallback": ns("vmwindow") / ns("bare"),
      "guest -> host import / shaped JSCallback": ns("vmwindow") / ns("shaped"),
    },
  };
}

/** Per-item cost of the batch pattern at several batch sizes, against one import call per item. */
function batchRows(window: Window, quick: boolean): Row[] {
  const items = quick ? 20_000 : 1_000_000;
  const sizes = [1, 16, 256, 4096];
  using ring = window.mapAnonymous(4096 * 4, { name: "ring" });
  const view = new Int32Array(ring.bytes.buffer, ring.bytes.byteOffset, 4096);
  let sum = 0;
  const guest: Guest = window.instantiate(batchGuest(), {
    imports: {
      host: {
        flush: {
          params: ["i32"],
          results: ["i32"],
          fn: (count: number) => {
            for (let i = 0; i < count; i++) sum += view[i]!;
            return 0;
          },
        },
      },
    },
  });
  const run = guest.exports.batch!;
  const medians = interleave(quick ? 1 : 7, sizes.map((size) => [String(size), () => {
    sum = 0;
    const started = Bun.nanoseconds();
    run(items, size, ring.offset);
    const ns = (Bun.nanoseconds() - started) / items;
    if (sum !== (items * (items - 1)) / 2) throw new Error(`batch ${size}: sum ${sum}`);
    return ns;
  }] as [string, () => number]));
  guest.close();
  return sizes.map((size) => ({ name: `${size} item${size === 1 ? "" : "s"} per host call`, value: medians.get(String(size))!, unit: "ns per item" }));
}

export async function runManyGuests(quick: boolean): Promise<GuestsResult> {
  const m = modules(quick);
  const r = restart(quick);
  const s = switching(quick);
  const sc = scheduler(quick);
  const pr = await pairs(quick);
  const i = imports(quick);
  const result: GuestsResult = { modules: m.rows, restart: r.rows, switching: [...s.rows, ...sc.rows, ...pr.rows], imports: i.rows, batch: i.batch, ratios: { ...m.ratios, ...r.ratios, ...s.ratios, ...sc.ratios, ...pr.ratios, ...i.ratios } };
  const table = (title: string, rows: Row[]) => printTable(title, [["what", "median", "unit"], ...rows.map((row) => [row.name, row.value, row.unit])]);
  table("many guests: compile vs instantiate (interleaved rounds)", result.modules);
  table("many guests: process restart to a ready guest", result.restart);
  table("many guests: switching between guests (ns per call)", result.switching);
  table("many guests: guest -> host imports (ns per call)", result.imports);
  table("many guests: batch pattern, ring buffer in an anonymous region", result.batch);
  printTable("many guests: ratios", [["ratio", "value"], ...Object.entries(result.ratios).map(([name, value]) => [name, value])]);
  return result;
}

if (import.meta.main) await runManyGuests(process.argv.includes("--quick"));
