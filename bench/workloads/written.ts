// Workload 7, "as written" (issue 10): guest code the way a newcomer writes it (the README's loop,
// a checked `view<T>()[i]` with `length` in the loop condition), the same computations with the
// SDK's scanning primitives (guest-sdk/assembly/scan.ts), plain Bun JavaScript over Bun.mmap (the
// naive loop and the best idiom found), the native Zig SIMD loop, and a CSV group-by. One process,
// contenders interleaved round by round (order rotating), data in place (mapped and faulted in)
// for the scans; the CSV rows are time to result from a closed file.
import { closeSync, openSync, readFileSync, readSync } from "node:fs";
import { join } from "node:path";
import { cpus } from "node:os";
import { Window } from "@vmwindow/bun";
import { ensureFile, GiB, MiB, sizeName } from "../lib/files.ts";
import { countNewlinesJs, sumF64Js } from "../lib/jsscan.ts";
import { ensureCsv, formatGroups, groupByBytesJs, groupByIdiomaticJs, readGuestGroups } from "../lib/csv.ts";
import { median, printTable } from "../lib/report.ts";

export interface WrittenRow { id: string; label: string; gbps: number; ms: number; result: string; samples_ns: number[]; hwm_mib?: number }
export interface WrittenGroup { kind: string; size: number; rows: WrittenRow[]; mismatch: boolean }

/** The naive loops, exactly as one writes them first. */
function countNewlinesNaive(bytes: Uint8Array): number {
  let count = 0;
  for (let i = 0; i < bytes.length; i++) if (bytes[i] === 10) count++;
  return count;
}
function sumF64Naive(values: Float64Array): number {
  let total = 0;
  for (let i = 0; i < values.length; i++) total += values[i]!;
  return total;
}
function indexOfJs(bytes: Uint8Array): number {
  return bytes.indexOf(0xff);
}

/**
 * The same bench guest in Bun's own WebAssembly (JavaScriptCore), over a window-shaped memory the
 * host builds (docs/abi.md): region table at 0x10000 with one live region (id 1) whose bytes are
 * the file, read straight into the memory at 4 MiB. Shows what another compiler makes of the same
 * guest code (a copy-in contender: the read is not timed here, only scans).
 */
function bunWasmGuest(guestPath: string, path: string): Record<string, (...args: any[]) => any> {
  const length = Bun.file(path).size;
  const base = 4 * MiB;
  const slot = Math.ceil(length / 65_536) * 65_536;
  const pages = (base + slot + 65_536) / 65_536;
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
  const dv = new DataView(memory.buffer);
  const h = 0x10000;
  const header = [0x54574d56, 1, 64, 64, 16, 1, 2, 0];
  header.forEach((v, i) => dv.setUint32(h + 4 * i, v, true));
  dv.setBigUint64(h + 32, BigInt(pages * 65_536), true);
  dv.setBigUint64(h + 40, 0x210000n, true);
  dv.setBigUint64(h + 48, BigInt(base - 0x210000), true);
  dv.setBigUint64(h + 56, BigInt(base), true);
  const e = h + 64; // id 1
  dv.setBigUint64(e, BigInt(base), true);
  dv.setBigUint64(e + 8, BigInt(length), true);
  dv.setBigUint64(e + 16, BigInt(slot), true);
  [1, 3, 1, 1].forEach((v, i) => dv.setUint32(e + 24 + 4 * i, v, true)); // id, generation, live, read
  const fd = openSync(path, "r");
  for (let done = 0; done < length; ) done += readSync(fd, new Uint8Array(memory.buffer, base + done, length - done), 0, length - done, done);
  closeSync(fd);
  const instance = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(guestPath)), {
    env: { memory, abort: () => { throw new Error("guest abort"); } },
    vmw: { release: () => -1 },
  });
  return instance.exports as Record<string, (...args: any[]) => any>;
}

interface Contender { id: string; label: string; run: () => unknown; native?: boolean; spawned?: (reps: number) => { ns: number[]; result: string; hwm_kb?: number } }

const repoRoot = join(import.meta.dir, "..", "..");
const duckdbPath = [join(repoRoot, ".toolchain", "duckdb"), process.env.PYTHONPATH].filter(Boolean).join(":");
/** Whether the optional DuckDB contender can run (`import duckdb` works; see bench/lib/duckdb_groupby.py). */
function duckdbAvailable(): boolean {
  if (process.env.VMWB_NO_DUCKDB) return false;
  try {
    return Bun.spawnSync(["python3", "-c", "import duckdb"], { env: { ...process.env, PYTHONPATH: duckdbPath }, stdout: "ignore", stderr: "ignore" }).exitCode === 0;
  } catch {
    return false;
  }
}
function duckdb(path: string, threads: number) {
  return (reps: number) => {
    const p = Bun.spawnSync(["python3", join(import.meta.dir, "..", "lib", "duckdb_groupby.py"), path, String(threads), String(reps)], { env: { ...process.env, PYTHONPATH: duckdbPath }, stdout: "pipe", stderr: "pipe" });
    if (p.exitCode !== 0) throw new Error(`duckdb failed: ${p.stderr.toString().slice(-1000)}`);
    return JSON.parse(p.stdout.toString().trim().split("\n").pop()!) as { ns: number[]; result: string; hwm_kb: number };
  };
}

/** DuckDB sums in its own order: counts must match exactly, sums to 1e-9 relative. */
function closeResults(a: string, b: string): boolean {
  const parse = (s: string) => new Map(s.split(" ").map((x) => { const [n, c, v] = x.split(":"); return [n!, [Number(c), Number(v)] as const]; }));
  const ma = parse(a), mb = parse(b);
  if (ma.size !== mb.size) return false;
  for (const [name, [count, sum]] of ma) {
    const other = mb.get(name);
    if (!other || other[0] !== count || Math.abs(other[1] - sum) > 1e-9 * Math.abs(sum)) return false;
  }
  return true;
}

export function runWritten(opts: { dir: string; quick: boolean; guestPath: string; nativeBin: string; rounds?: number }): Record<string, WrittenGroup> {
  const { dir, quick, guestPath, nativeBin } = opts;
  const out: Record<string, WrittenGroup> = {};
  using window = Window.create({ sizeBytes: 2 ** 32 - 65_536 });
  using guest = window.instantiate(guestPath);
  const ex = guest.exports as Record<string, (...args: any[]) => any>;
  const scanSizes = quick ? [MiB] : [64 * MiB, GiB];
  const rounds = opts.rounds ?? (quick ? 1 : 5);
  /** Timed runs per contender per round for the scans. */
  const scanReps = (size: number) => (size <= 4 * MiB ? 20 : size <= 256 * MiB ? 4 : 1);

  for (const kind of ["newlines", "f64", "indexOf"] as const) {
    for (const size of scanSizes) {
      const path = ensureFile(dir, kind === "f64" ? "f64" : "text", size);
      const region = window.mapFile(path);
      const bytes = Bun.mmap(path, { shared: true });
      const f64 = new Float64Array(bytes.buffer, bytes.byteOffset, bytes.length >>> 3);
      const nativeScan = (reps: number) => {
        const p = Bun.spawnSync([nativeBin, "mmap", kind === "f64" ? "f64" : "newlines", path, "0", String(reps), "0"], { stdout: "pipe", stderr: "pipe" });
        if (p.exitCode !== 0) throw new Error(`native failed: ${p.stderr.toString()}`);
        return JSON.parse(p.stdout.toString().trim().split("\n").pop()!) as { scan_ns: number[]; result: string };
      };
      const jsc = kind === "indexOf" ? null : bunWasmGuest(guestPath, path);
      const contenders: Contender[] =
        kind === "newlines" ? [
          { id: "readme", label: "guest, README loop (checked view<u8>()[i])", run: () => ex.readme_count_newlines!(region.id) },
          { id: "primitive", label: "guest, countByte (SDK primitive)", run: () => ex.primitive_count_newlines!(region.id) },
          { id: "bun-wasm-readme", label: "  same README loop, Bun's WebAssembly (copy-in)", run: () => jsc!.readme_count_newlines!(1) },
          { id: "bun-wasm-primitive", label: "  same countByte, Bun's WebAssembly (copy-in)", run: () => jsc!.primitive_count_newlines!(1) },
          { id: "js-naive", label: "Bun JS naive loop over Bun.mmap", run: () => countNewlinesNaive(bytes) },
          { id: "js-best", label: "Bun JS best idiom (SWAR words)", run: () => countNewlinesJs(bytes) },
          { id: "native", label: "native Zig SIMD loop (mmap)", run: () => 0, native: true },
        ]
        : kind === "f64" ? [
          { id: "readme", label: "guest, README loop (checked view<f64>()[i])", run: () => ex.readme_sum_f64!(region.id) },
          { id: "primitive", label: "guest, sumF64 (SDK primitive)", run: () => ex.primitive_sum_f64!(region.id) },
          { id: "bun-wasm-readme", label: "  same README loop, Bun's WebAssembly (copy-in)", run: () => jsc!.readme_sum_f64!(1) },
          { id: "bun-wasm-primitive", label: "  same sumF64, Bun's WebAssembly (copy-in)", run: () => jsc!.primitive_sum_f64!(1) },
          { id: "js-naive", label: "Bun JS naive loop (Float64Array)", run: () => sumF64Naive(f64) },
          { id: "js-best", label: "Bun JS best idiom (4 accumulators)", run: () => sumF64Js(bytes) },
          { id: "native", label: "native Zig SIMD loop (mmap)", run: () => 0, native: true },
        ]
        : [
          { id: "primitive", label: "guest, indexOfByte (absent byte: whole file)", run: () => ex.primitive_index_of!(region.id, 0xff) },
          { id: "js-best", label: "Bun JS Uint8Array.indexOf", run: () => indexOfJs(bytes) },
          { id: "native", label: "native Zig SIMD newline count (same pass)", run: () => 0, native: true },
        ];
      const reps = scanReps(size);
      const samples = new Map(contenders.map((c) => [c.id, [] as number[]]));
      const results = new Map(contenders.map((c) => [c.id, new Set<string>()]));
      // Warm-up: faults the pages in, JIT tiers settle (untimed).
      for (const c of contenders) if (!c.native) for (let k = 0; k < (quick ? 2 : 3); k++) c.run();
      for (let round = 0; round < rounds; round++) {
        for (let k = 0; k < contenders.length; k++) {
          const c = contenders[(k + round) % contenders.length]!;
          if (c.native) {
            const n = nativeScan(reps);
            samples.get(c.id)!.push(...n.scan_ns);
            results.get(c.id)!.add(kind === "indexOf" ? "-" : String(Number(n.result)));
            continue;
          }
          for (let r = 0; r < reps; r++) {
            const t = Bun.nanoseconds();
            const value = c.run();
            samples.get(c.id)!.push(Bun.nanoseconds() - t);
            results.get(c.id)!.add(String(Number(value)));
          }
        }
      }
      region.unmap();
      const rows: WrittenRow[] = contenders.map((c) => {
        const ns = median(samples.get(c.id)!);
        return { id: c.id, label: c.label, gbps: size / ns, ms: ns / 1e6, result: [...results.get(c.id)!].join("|"), samples_ns: samples.get(c.id)! };
      });
      const compared = rows.filter((r) => r.result !== "-");
      const mismatch = new Set(compared.map((r) => r.result)).size !== 1;
      const key = `${kind}/${sizeName(size)}`;
      out[key] = { kind, size, rows, mismatch };
      const js = rows.find((r) => r.id === "js-naive");
      const nat = rows.find((r) => r.id === "native")!;
      printTable(`as written, ${key} (warm, data in place): ${rounds} rounds x ${reps}${mismatch ? "  ** RESULTS DIFFER **" : ""}`, [
        ["contender", "ms", "GB/s", "x JS naive", "x native", "result"],
        ...rows.map((r) => [r.label, r.ms, r.gbps, js ? r.gbps / js.gbps : NaN, r.gbps / nat.gbps, r.result]),
      ]);
    }
  }

  // Every scanning primitive over whole regions: its own speed (64 MiB sits in this machine's L3,
  // 1 GiB does not), text and f64 files as above, the CSV for the CSV-shaped ones.
  for (const size of scanSizes) {
    const text = window.mapFile(ensureFile(dir, "text", size));
    const f64 = window.mapFile(ensureFile(dir, "f64", size));
    const csvPath = ensureCsv(dir, size <= 4 * MiB ? MiB : 64 * MiB);
    const csv = window.mapFile(csvPath);
    const copy = size <= 256 * MiB ? window.mapAnonymous(size) : null;
    const list: [string, number, () => unknown][] = [
      ["countByte", size, () => ex.primitive_count_newlines!(text.id)],
      ["indexOfByte (byte absent: whole region)", size, () => ex.primitive_index_of!(text.id, 0xff)],
      ["lastIndexOfByte (absent)", size, () => ex.prim_last_index_of!(text.id, 0xff)],
      ["indexOfAny, 4 bytes (absent)", size, () => ex.prim_index_of_any!(text.id)],
      ["Cursor.nextLine (~61-byte lines)", size, () => ex.prim_cursor_lines!(text.id)],
      ["hashBytes of every line (+ Tokens)", size, () => ex.prim_hash_lines!(text.id)],
      ["sumI32", size, () => ex.prim_sum_i32!(f64.id)],
      ["sumI64", size, () => ex.prim_sum_i64!(f64.id)],
      ["sumF32", size, () => ex.prim_sum_f32!(f64.id)],
      ["sumF64", size, () => ex.primitive_sum_f64!(f64.id)],
      ["minOf<i32>", size, () => ex.prim_min_i32!(f64.id)],
      ["maxOf<i64>", size, () => ex.prim_max_i64!(f64.id)],
      ["maxOf<f32>", size, () => ex.prim_max_f32!(f64.id)],
      ["minOf<f64>", size, () => ex.prim_min_f64!(f64.id)],
      ["Tokens.next (CSV, ~23-byte rows, 3 fields)", csv.length, () => ex.prim_tokens!(csv.id)],
      ["Tokens.nextRecord (CSV rows)", csv.length, () => ex.prim_records!(csv.id)],
      ["Tokens.nextRecord + parseDecimal of every amount", csv.length, () => ex.prim_parse_amounts!(csv.id)],
      ...(copy ? [
        ["copyBytes (region to region)", size, () => ex.prim_copy!(text.id, copy.id)] as [string, number, () => unknown],
        ["bytesEqual (equal regions)", size, () => { if (!ex.prim_equal!(text.id, copy.id)) throw new Error("copyBytes/bytesEqual disagree"); return 1; }] as [string, number, () => unknown],
      ] : []),
    ];
    if (copy) ex.prim_copy!(text.id, copy.id);
    const reps = scanReps(size);
    const samples = list.map(() => [] as number[]);
    for (const [, , run] of list) for (let k = 0; k < 2; k++) run();
    for (let round = 0; round < rounds; round++) {
      for (let k = 0; k < list.length; k++) {
        const i = (k + round) % list.length;
        for (let r = 0; r < reps; r++) {
          const t = Bun.nanoseconds();
          list[i]![2]();
          samples[i]!.push(Bun.nanoseconds() - t);
        }
      }
    }
    for (const r of [text, f64, csv, copy]) r?.unmap();
    const rows: WrittenRow[] = list.map(([label, bytes], i) => {
      const ns = median(samples[i]!);
      return { id: label, label, gbps: bytes / ns, ms: ns / 1e6, result: "-", samples_ns: samples[i]! };
    });
    const key = `primitives/${sizeName(size)}`;
    out[key] = { kind: "primitives", size, rows, mismatch: false };
    printTable(`scanning primitives over ${sizeName(size)} regions (CSV rows: the ${sizeName(csv.length)} CSV), warm, data in place: ${rounds} rounds x ${reps}`, [
      ["primitive", "ms", "GB/s"],
      ...rows.map((r) => [r.label, r.ms, r.gbps]),
    ]);
  }

  // CSV group-by: time to result from a closed file. DuckDB (optional) runs in a Python process of
  // its own per round; its time is the query's (connect, read_csv, GROUP BY, fetch). Peak RSS:
  // each Bun contender once more in a child process (csv-child.ts; VmHWM after a reset, mapped file
  // pages included); DuckDB's is its Python process's VmHWM (interpreter included).
  const withDuckdb = !quick && duckdbAvailable();
  if (!quick && !withDuckdb) console.log("(DuckDB not found: python3 -m pip install --target .toolchain/duckdb duckdb adds it to the CSV rows)");
  using outRegion = window.mapAnonymous(65_536);
  for (const size of quick ? [MiB] : [64 * MiB, 256 * MiB]) {
    const path = ensureCsv(dir, size);
    const fileBytes = Bun.file(path).size;
    const contenders: Contender[] = [
      { id: "guest", label: "guest: Tokens.nextRecord + parseDecimal + hashBytes (mapFile + call)", run: () => {
        const region = window.mapFile(path);
        const n = ex.csv_group_by!(region.id, outRegion.id);
        region.unmap();
        return formatGroups(readGuestGroups(outRegion.bytes, n));
      } },
      { id: "js-bytes", label: "Bun JS byte loop over Bun.mmap", run: () => formatGroups(groupByBytesJs(Bun.mmap(path, { shared: true }))) },
      { id: "js-idiomatic", label: "Bun JS decode + split + parseFloat + Map", run: () => formatGroups(groupByIdiomaticJs(Bun.mmap(path, { shared: true }))) },
    ];
    if (withDuckdb) {
      contenders.push({ id: "duckdb-1", label: "DuckDB read_csv + GROUP BY, threads=1 (optional)", run: () => "", spawned: duckdb(path, 1) });
      contenders.push({ id: "duckdb-all", label: `DuckDB, threads=${cpus().length}`, run: () => "", spawned: duckdb(path, cpus().length) });
    }
    const reps = size <= 4 * MiB ? 5 : 1;
    const samples = new Map(contenders.map((c) => [c.id, [] as number[]]));
    const results = new Map(contenders.map((c) => [c.id, new Set<string>()]));
    const hwm = new Map<string, number>();
    // Peak RSS: each in-process contender once more in a process of its own (not timed).
    const warmCsv = ensureCsv(dir, MiB);
    for (const c of contenders.filter((c) => !c.spawned)) {
      const p = Bun.spawnSync([process.execPath, join(import.meta.dir, "csv-child.ts"), c.id, path, warmCsv, guestPath], { stdout: "pipe", stderr: "pipe" });
      if (p.exitCode !== 0) throw new Error(`csv-child ${c.id} failed: ${p.stderr.toString().slice(-1000)}`);
      const child = JSON.parse(p.stdout.toString().trim().split("\n").pop()!) as { hwm_kb: number; result: string };
      hwm.set(c.id, child.hwm_kb);
      results.get(c.id)!.add(child.result);
    }
    for (const c of contenders) if (!c.spawned) for (let k = 0; k < 2; k++) c.run();
    for (let round = 0; round < rounds; round++) {
      for (let k = 0; k < contenders.length; k++) {
        const c = contenders[(k + round) % contenders.length]!;
        if (c.spawned) {
          const d = c.spawned(reps);
          samples.get(c.id)!.push(...d.ns);
          results.get(c.id)!.add(d.result);
          if (d.hwm_kb) hwm.set(c.id, Math.max(hwm.get(c.id) ?? 0, d.hwm_kb));
          continue;
        }
        for (let r = 0; r < reps; r++) {
          Bun.gc(true);
          const t = Bun.nanoseconds();
          const value = c.run() as string;
          samples.get(c.id)!.push(Bun.nanoseconds() - t);
          results.get(c.id)!.add(value);
        }
      }
    }
    const rows: WrittenRow[] = contenders.map((c) => {
      const ns = median(samples.get(c.id)!);
      return { id: c.id, label: c.label, gbps: fileBytes / ns, ms: ns / 1e6, result: [...results.get(c.id)!].join(" | "), samples_ns: samples.get(c.id)!, hwm_mib: (hwm.get(c.id) ?? NaN) / 1024 };
    });
    const exact = rows.filter((r) => !r.id.startsWith("duckdb"));
    // DuckDB with several threads adds in a different order each run: every one of its results
    // must be close to ours.
    const mismatch = new Set(exact.map((r) => r.result)).size !== 1 ||
      contenders.some((c) => c.spawned && [...results.get(c.id)!].some((result) => !closeResults(result, exact[0]!.result)));
    const key = `csv/${sizeName(size)}`;
    out[key] = { kind: "csv", size: fileBytes, rows, mismatch };
    const g = rows[0]!;
    printTable(`as written, CSV group-by (sum, count of amount per category), ${sizeName(fileBytes)} warm, time to result: ${rounds} rounds x ${reps}${mismatch ? "  ** RESULTS DIFFER **" : ""}`, [
      ["contender", "ms", "GB/s", "time x guest", "peak RSS MiB"],
      ...rows.map((r) => [r.label, r.ms, r.gbps, r.ms / g.ms, r.hwm_mib ?? NaN]),
    ]);
    if (mismatch) for (const r of rows) console.log(`  ${r.id}: ${r.result.slice(0, 300)}`);
  }
  return out;
}
