// Call overhead, measured side by side in one run: Bun -> guest through @vmwindow/bun, next to
// a bun:ffi call into libvmwindow that does nothing guest-related, and Bun's own WebAssembly.
// Part of `bun run bench` (main.ts, workload "calls"); also runs alone:
//
//   bun bench/calls.ts [--quick]
import { dlopen, FFIType } from "bun:ffi";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Window, libraryPath } from "@vmwindow/bun";

export interface CallRow {
  name: string;
  nsPerCall: number;
  vsFfiNoop: number;
}

export function runCalls(quick: boolean): { iterations: number; rounds: number; rows: CallRow[] } {
  const iterations = quick ? 20_000 : 2_000_000;
  const rounds = quick ? 3 : 9;
  // The bench guest exports the same noop / sum4 as tests/guests/probe.ts.
  const probe = join(import.meta.dir, "build", "scan.wasm");

  using window = Window.create({ sizeBytes: 64 * 2 ** 20, guestBytes: 2 ** 20 });
  using guest = window.instantiate(probe);
  const ffiNoop = dlopen(libraryPath, { vmw_abi_version: { args: [], returns: FFIType.u32 } }).symbols.vmw_abi_version;

  // Bun's own WebAssembly, same guest code, its own memory (the guest imports env.memory).
  const memory = new WebAssembly.Memory({ initial: 64 * 16, maximum: 64 * 16 });
  const jsc = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(probe)), {
    env: { memory, abort: () => { throw new Error("abort"); }, seed: () => 1 },
    vmw: { release: () => { throw new Error("vmw.release is vmwindow's"); } },
  }).exports as { noop(): void; sum4(a: number, b: number, c: number, d: number): number };

  const contenders: [string, () => void][] = [
    ["bun:ffi no-op (vmw_abi_version)", () => { for (let i = 0; i < iterations; i++) ffiNoop(); }],
    ["guest.exports.noop()", () => { const noop = guest.exports.noop!; for (let i = 0; i < iterations; i++) noop(); }],
    ["guest.exports.sum4(1, 2, 3, i)", () => { const sum4 = guest.exports.sum4!; for (let i = 0; i < iterations; i++) sum4(1, 2, 3, i); }],
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
  const rows = contenders.map(([name]) => {
    const ns = median(samples.get(name)!);
    return { name, nsPerCall: ns, vsFfiNoop: ns / baseline };
  });
  return { iterations, rounds, rows };
}

if (import.meta.main) {
  const { iterations, rounds, rows } = runCalls(process.argv.includes("--quick"));
  console.log(`${iterations} calls x ${rounds} rounds, median ns per call`);
  for (const row of rows) {
    console.log(`${row.name.padEnd(36)} ${row.nsPerCall.toFixed(1).padStart(7)} ns   ${row.vsFfiNoop.toFixed(2)}x ffi no-op`);
  }
}
