// A tiny cooperative scheduler: many small guests (the module compiled once with
// `GuestModule.compile`, each task a `window.instantiate` of it with its own guest area) pass messages through a ring buffer in one shared anonymous
// region. Every task runs with a deadline; one task loops forever, gets GuestTimeout, and is
// dropped while the others carry on.
//
//   bun examples/scheduler/host.ts [--producers N] [--consumers N] [--messages N] [--capacity N]
//                                  [--budget N] [--deadline MS] [--no-rogue] [--json]
import { fileURLToPath } from "node:url";
import { GuestModule, GuestTimeout, GuestTrap, Window, type Guest, type Region } from "@vmwindow/bun";

const guestPath = fileURLToPath(new URL("./build/guest.wasm", import.meta.url));
const RING_HEADER_BYTES = 64;
const MESSAGE_BYTES = 16;

type Kind = "producer" | "consumer" | "rogue";
interface Task {
  name: string;
  kind: Kind;
  guest: Guest;
  /** Producer number (producers only). */
  index: number;
  status: "ready" | "done" | "timed out" | "trapped";
  calls: number;
  ms: number;
  error?: string;
}

/** The same payload function as the guest's `mix`, for checking totals independently. */
export function mix(producer: number, seq: number): number {
  let x = (Math.imul(producer, 0x9e3779b1) ^ Math.imul(seq, 0x85ebca77)) >>> 0;
  x = (x ^ (x >>> 15)) >>> 0;
  x = Math.imul(x, 0x2c1b3c6d) >>> 0;
  x = (x ^ (x >>> 12)) >>> 0;
  return x;
}

function parseArgs(argv: string[]) {
  const options = { producers: 3, consumers: 2, messages: 5000, capacity: 64, budget: 48, deadline: 100, rogue: true, json: false, windowPerTask: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const number = (min: number) => {
      const n = Number(argv[++i]);
      if (!Number.isSafeInteger(n) || n < min) {
        console.error(`scheduler: ${arg} expects an integer >= ${min}`);
        process.exit(2);
      }
      return n;
    };
    if (arg === "--producers") options.producers = number(1);
    else if (arg === "--consumers") options.consumers = number(1);
    else if (arg === "--messages") options.messages = number(0);
    else if (arg === "--capacity") options.capacity = number(1);
    else if (arg === "--budget") options.budget = number(1);
    else if (arg === "--deadline") options.deadline = number(1);
    else if (arg === "--no-rogue") options.rogue = false;
    else if (arg === "--json") options.json = true;
    else if (arg === "--window-per-task") options.windowPerTask = true;
    else {
      console.error(`scheduler: unknown argument ${JSON.stringify(arg)}`);
      process.exit(2);
    }
  }
  if (!options.windowPerTask && options.producers + options.consumers + 1 > 64) {
    console.error("scheduler: at most 63 tasks in one window (a window holds 64 guests); --window-per-task has no such limit");
    process.exit(2);
  }
  return options;
}

function main(): number {
  const options = parseArgs(process.argv.slice(2));
  using rings = new Rings(RING_HEADER_BYTES + options.capacity * MESSAGE_BYTES, options.windowPerTask);
  const header = new DataView(rings.first.bytes.buffer, rings.first.bytes.byteOffset, RING_HEADER_BYTES);
  header.setUint32(8, options.capacity, true);
  header.setUint32(12, MESSAGE_BYTES, true);

  // Compiled once (with deadline support); each task is an instance of it with its own guest area.
  using module = GuestModule.compile(guestPath, { interruptible: true });
  const tasks: Task[] = [];
  const spawn = (name: string, kind: Kind, index = 0) =>
    tasks.push({ name, kind, index, guest: rings.windowForTask().instantiate(module, { timeoutMs: options.deadline }), status: "ready", calls: 0, ms: 0 });
  for (let p = 0; p < options.producers; p++) spawn(`producer-${p + 1}`, "producer", p + 1);
  if (options.rogue) spawn("rogue", "rogue");
  for (let c = 0; c < options.consumers; c++) spawn(`consumer-${c + 1}`, "consumer");

  const started = performance.now();
  let rounds = 0;
  for (;;) {
    rounds++;
    let progress = 0;
    for (const task of tasks) {
      if (task.status !== "ready") continue;
      const t0 = performance.now();
      try {
        task.calls++;
        if (task.kind === "producer") {
          progress += task.guest.call("produce", task.index, options.messages, options.budget) as number;
          if (task.guest.call("sentCount") === options.messages) task.status = "done";
        } else if (task.kind === "consumer") {
          progress += task.guest.call("consume", options.budget) as number;
        } else {
          task.guest.call("spin");
        }
      } catch (error) {
        if (!(error instanceof GuestTimeout || error instanceof GuestTrap)) throw error;
        task.status = error instanceof GuestTimeout ? "timed out" : "trapped";
        task.error = error.message.split("\n")[0];
      }
      task.ms += performance.now() - t0;
    }
    const producing = tasks.some((t) => t.kind === "producer" && t.status === "ready");
    const empty = header.getUint32(0, true) === header.getUint32(4, true);
    if (!producing && empty) break;
    if (progress === 0 && !tasks.some((t) => t.kind === "consumer" && t.status === "ready")) break; // nobody left to drain the ring
  }
  for (const task of tasks) if (task.kind === "consumer" && task.status === "ready") task.status = "done";
  const elapsedMs = performance.now() - started;

  const sum = (kind: Kind, fn: string) => tasks.filter((t) => t.kind === kind).reduce((total, t) => total + BigInt(t.guest.call(fn) as number | bigint), 0n);
  const produced = { count: Number(sum("producer", "sentCount")), checksum: BigInt.asUintN(64, sum("producer", "checksum")) };
  const consumed = { count: Number(sum("consumer", "receivedCount")), checksum: BigInt.asUintN(64, sum("consumer", "checksum")) };
  const corrupt = Number(sum("consumer", "corruptCount"));
  const ok = produced.count === consumed.count && produced.checksum === consumed.checksum && corrupt === 0;
  const calls = tasks.reduce((total, t) => total + t.calls, 0);

  if (options.json) {
    console.log(
      JSON.stringify({
        produced: { count: produced.count, checksum: produced.checksum.toString() },
        consumed: { count: consumed.count, checksum: consumed.checksum.toString() },
        corrupt,
        rounds,
        elapsedMs,
        windows: rings.windows.length,
        calls,
        tasks: tasks.map(({ name, kind, status, calls, ms, error }) => ({ name, kind, status, calls, ms, error })),
      }),
    );
  } else {
    const rows = [["task", "status", "calls", "ms", "messages"]];
    for (const t of tasks) {
      const messages = t.kind === "producer" ? t.guest.call("sentCount") : t.kind === "consumer" ? t.guest.call("receivedCount") : "-";
      rows.push([t.name, t.status, String(t.calls), t.ms.toFixed(1), String(messages)]);
    }
    const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
    for (const row of rows) console.log(row.map((cell, c) => cell.padEnd(widths[c]!)).join("  "));
    console.log(`produced ${produced.count} messages (checksum ${produced.checksum}), consumed ${consumed.count} (checksum ${consumed.checksum}), ${corrupt} corrupt: ${ok ? "match" : "MISMATCH"}`);
    const where = options.windowPerTask ? `${rings.windows.length} windows (one per task, the ring shared memory)` : "one window";
    console.log(`${tasks.length} tasks in ${where}, ${rounds} rounds, ${calls} calls, ${elapsedMs.toFixed(0)} ms (${((elapsedMs * 1e3) / Math.max(calls, 1)).toFixed(1)} us per call)`);
  }
  for (const task of tasks) task.guest.close();
  return ok ? 0 : 1;
}

/**
 * Where the tasks run and the ring they share. One window: the ring is anonymous memory in it, and
 * a call to another task than the last swaps guest areas (~1 us plus a fault per page the task
 * touches: docs/performance.md). A window per task (--window-per-task): no swap at all, and the
 * ring is shared memory (`mapAnonymous(bytes, { shared: true })`) that every other window maps
 * with `mapShared`, so every task sees the same bytes.
 */
class Rings implements Disposable {
  readonly windows: Window[] = [];
  readonly #bytes: number;
  readonly #windowPerTask: boolean;

  constructor(bytes: number, windowPerTask: boolean) {
    this.#bytes = bytes;
    this.#windowPerTask = windowPerTask;
    this.#add();
  }

  /** The ring as the first window maps it (every window sees the same bytes). */
  get first(): Region {
    return this.#first!;
  }

  /** The window the next task runs in: the one window, or (per task) the first, then a new one each. */
  windowForTask(): Window {
    if (!this.#windowPerTask || this.#handedOut++ === 0) return this.windows[0]!;
    return this.#add();
  }

  #first: Region | undefined;
  #handedOut = 0;

  #add(): Window {
    const window = Window.create({ sizeBytes: 64 * 2 ** 20, guestBytes: 2 ** 20 });
    this.windows.push(window);
    const ring = this.#first === undefined ? window.mapAnonymous(this.#bytes, { name: "ring", shared: this.#windowPerTask }) : window.mapShared(this.#first, { name: "ring" });
    this.#first ??= ring;
    return window;
  }

  [Symbol.dispose](): void {
    for (const window of this.windows) window.close();
  }
}

if (import.meta.main) process.exitCode = main();
