// Call overhead, measured side by side in one run: Bun -> guest through @vmwindow/bun, next to
// a bun:ffi call into libvmwindow that does nothing guest-related, and Bun's own WebAssembly.
//
//   bun bench/calls.ts [--quick]
import { dlopen, FFIType } from "bun:ffi";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Window, libraryPath } from "@vmwindow/bun";

const quick = process.argv.includes("--quick");
const iterations = quick ? 20_000 : 2_000_000;
const rounds = quick ? 3 : 9;
const probe = join(import.meta.dir, "..", "tests", "build", "probe.wasm");

using window = Window.create({ sizeBytes: 64 * 2 ** 20, guestBytes: 2 ** 20 });
using guest = window.instantiate(probe);
const ffiNoop = dlopen(libraryPath, { vmw_abi_version: { args: [], returns: FFIType.u32 } }).symbols.vmw_abi_version;

// Bun's own WebAssembly, same guest code, its own memory (the probe imports env.memory).
const memory = new WebAssembly.Memory({ initial: 64 * 16, maximum: 64 * 16 });
const jsc = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(probe)), {
  env: { memory, abort: () => { throw new Error("abort"); }, seed: () => 1 },
}).exports as { noop(): void; sum4(a: number, b: number, c: number, d: number): number };

const contenders: [string, () => void][] = [
  ["bun:ffi no-op (vmw_abi_version)", () => { for (let i = 0; i < iterations; i++) ffiNoop(); }],
  ["guest.call('noop')", () => { for (let i = 0; i < iterations; i++) guest.call("noop"); }],
  ["guest.call('sum4', 1, 2, 3, i)", () => { for (let i = 0; i < iterations; i++) guest.call("sum4", 1, 2, 3, i); }],
  ["Bun WebAssembly noop()", () => { for (let i = 0; i < iterations; i++) jsc.noop(); }],
  ["Bun WebAssembly sum4(1, 2, 3, i)", () => { for (let i = 0; i < iterations; i++) jsc.sum4(1, 2, 3, i); }],
];

const samples = new Map<string, number[]>(contenders.map(([name]) => [name, []]));
for (let round = 0; round < rounds; round++) {
  // Interleave the contenders so drift on a shared machine hits all of them alike.
  for (const [name, run] of contenders) {
    const started = Bun.nanoseconds();
    run();
    samples.get(name)!.push((Bun.nanoseconds() - started) / iterations);
  }
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const baseline = median(samples.get(contenders[0]![0])!);
console.log(`${iterations} calls x ${rounds} rounds, median ns per call`);
for (const [name] of contenders) {
  const ns = median(samples.get(name)!);
  console.log(`${name.padEnd(36)} ${ns.toFixed(1).padStart(7)} ns   ${(ns / baseline).toFixed(2)}x ffi no-op`);
}
