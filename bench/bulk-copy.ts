// memory.copy inside a guest vs native memcpy (issue 11 part 5): libvmwindow rewrites memory.copy
// into a call of a wasm copy loop it appends to the module (native/src/bulk_memory.zig), 16 bytes
// per load/store when the module uses SIMD, else 8. One 64 MiB copy between two anonymous regions
// of a window, pages touched first, against libc's memcpy between two touched 64 MiB buffers.
// Usage: bun bench/bulk-copy.ts [--quick]   (bench/main.ts runs it as the "bulk" part)
import { dlopen, FFIType, ptr } from "bun:ffi";
import { Window } from "@vmwindow/bun";
import { buildModule, envMemory, I32, op, type Func } from "../tests/wasm-builder.ts";
import { median, printTable } from "./lib/report.ts";

const COPY_BYTES = 64 * 2 ** 20;

const memcpy = dlopen(process.platform === "darwin" ? "libc.dylib" : "libc.so.6", {
  memcpy: { args: [FFIType.ptr, FFIType.ptr, FFIType.usize], returns: FFIType.ptr },
}).symbols.memcpy;

function copyModule(simd: boolean): Uint8Array {
  const args = [...op.localGet(0), ...op.localGet(1), ...op.localGet(2)];
  const functions: Func[] = [{ params: [I32, I32, I32], results: [], body: [...args, ...op.memoryCopy], export: "copy" }];
  // Any SIMD instruction in the module selects the v128 copy loop.
  if (simd) functions.push({ params: [], results: [I32], body: [0xfd, 0x0c, ...new Array(16).fill(1), 0xfd, 0x16, 0], export: "simd" });
  return buildModule({ imports: [envMemory], functions });
}

export interface BulkCopyResult {
  copy_bytes: number;
  rounds: number;
  rows: { name: string; ms: number; gbps: number; vs_memcpy: number }[];
}

export function runBulkCopy(quick: boolean): BulkCopyResult {
  const rounds = quick ? 5 : 21;
  const time = (run: () => void): number => {
    run(); // warm-up: pages touched, code compiled
    const samples: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const t0 = Bun.nanoseconds();
      run();
      samples.push(Bun.nanoseconds() - t0);
    }
    return median(samples) / 1e6;
  };
  const from = Buffer.alloc(COPY_BYTES, 7);
  const to = Buffer.alloc(COPY_BYTES, 1);
  const nativeMs = time(() => memcpy(ptr(to), ptr(from), COPY_BYTES));
  if (to[COPY_BYTES - 1] !== 7) throw new Error("memcpy did not copy");

  const rows: BulkCopyResult["rows"] = [];
  const row = (name: string, ms: number) => rows.push({ name, ms, gbps: COPY_BYTES / ms / 1e6, vs_memcpy: nativeMs / ms });
  row("native memcpy (libc, bun:ffi)", nativeMs);
  using window = Window.create({ sizeBytes: 256 * 2 ** 20, guestBytes: 2 ** 20 });
  using source = window.mapAnonymous(COPY_BYTES);
  using target = window.mapAnonymous(COPY_BYTES);
  source.bytes.fill(9);
  target.bytes.fill(2);
  for (const simd of [true, false]) {
    using guest = window.instantiate(copyModule(simd));
    const ms = time(() => guest.call("copy", target.offset, source.offset, COPY_BYTES));
    if (target.bytes[COPY_BYTES - 1] !== 9) throw new Error("memory.copy did not copy");
    row(`guest memory.copy (${simd ? "v128" : "i64"} loop)`, ms);
    // Overlapping, destination above the source: the backward loop (half the memory traffic: the
    // two ranges share all but 64 bytes).
    const back = time(() => guest.call("copy", source.offset + 64, source.offset, COPY_BYTES - 64));
    row(`guest memory.copy, dst = src + 64 (backward; ${simd ? "v128" : "i64"})`, back);
  }
  return { copy_bytes: COPY_BYTES, rounds, rows };
}

export function printBulkCopy(result: BulkCopyResult): void {
  printTable(`memory.copy in a guest vs native memcpy: one ${result.copy_bytes / 2 ** 20} MiB copy, median of ${result.rounds}`, [
    ["copy", "ms", "GB/s", "x memcpy"],
    ...result.rows.map((r) => [r.name, r.ms, r.gbps, r.vs_memcpy]),
  ]);
}

if (import.meta.main) printBulkCopy(runBulkCopy(process.argv.includes("--quick")));
