// What a deadline (`timeoutMs`, epoch interruption) and fuel cost a guest (issue 13 item 4), on the
// code a guest author writes: the README's byte loop (one epoch check per byte), the SDK's
// `countByte` (SIMD, one check per 64 bytes) and a CSV group-by built on the primitives. Each
// workload runs in three guests of one window compiled plain, interruptible (a 60 s deadline that
// never fires) and metered (a budget that never runs out), rounds interleaved, medians.
// Usage: bun bench/deadlines.ts [--quick]   (bench/main.ts runs it as the "deadlines" part)
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Window, type Guest } from "@vmwindow/bun";
import { interleave, printTable } from "./lib/report.ts";

const GUEST = join(import.meta.dir, "build", "scan.wasm");

export interface DeadlineRow {
  workload: string;
  plain_ms: number;
  deadline_ms: number;
  fuel_ms: number;
  deadline_x: number;
  fuel_x: number;
}

export interface DeadlineResult {
  bytes: number;
  rounds: number;
  rows: DeadlineRow[];
}

function writeInputs(dir: string, bytes: number): { text: string; csv: string } {
  const text = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) text[i] = i % 23 === 22 ? 10 : 48 + (i % 10);
  const rows: string[] = [];
  let length = 0;
  for (let n = 0; length < bytes / 2; n++) {
    const row = `${n},cat${n % 20},${(n % 1000) / 10}\n`;
    rows.push(row);
    length += row.length;
  }
  const paths = { text: join(dir, "text.txt"), csv: join(dir, "table.csv") };
  writeFileSync(paths.text, text);
  writeFileSync(paths.csv, rows.join(""));
  return paths;
}

export function runDeadlines(quick: boolean): DeadlineResult {
  const bytes = quick ? 4 * 2 ** 20 : 64 * 2 ** 20;
  const rounds = quick ? 3 : 7;
  const dir = mkdtempSync(join(tmpdir(), "vmwindow-deadlines-"));
  try {
    const paths = writeInputs(dir, bytes);
    using window = Window.create();
    using text = window.mapFile(paths.text);
    using csv = window.mapFile(paths.csv);
    using out = window.mapAnonymous(1 << 20);
    const guests: Record<"plain" | "deadline" | "fuel", Guest> = {
      plain: window.instantiate(GUEST),
      deadline: window.instantiate(GUEST, { timeoutMs: 60_000 }),
      fuel: window.instantiate(GUEST, { fuel: 2n ** 60n }),
    };
    const workloads: [string, (g: Guest) => unknown][] = [
      ["README byte loop (newlines)", (g) => g.exports.readme_count_newlines!(text.id)],
      ["countByte (SIMD primitive)", (g) => g.exports.primitive_count_newlines!(text.id)],
      ["CSV group-by (primitives)", (g) => g.exports.csv_group_by!(csv.id, out.id)],
    ];
    const kinds = ["plain", "deadline", "fuel"] as const;
    const rows: DeadlineRow[] = [];
    for (const [name, run] of workloads) {
      for (const kind of kinds) run(guests[kind]); // warm-up
      const medians = interleave(rounds, kinds.map((kind) => [kind, () => {
        const t0 = Bun.nanoseconds();
        run(guests[kind]);
        return (Bun.nanoseconds() - t0) / 1e6;
      }]));
      const [plain, deadline, fuel] = kinds.map((kind) => medians.get(kind)!) as [number, number, number];
      rows.push({ workload: name, plain_ms: plain, deadline_ms: deadline, fuel_ms: fuel, deadline_x: deadline / plain, fuel_x: fuel / plain });
    }
    for (const guest of Object.values(guests)) guest.close();
    return { bytes, rounds, rows };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function printDeadlines(result: DeadlineResult): void {
  printTable(`deadlines and fuel: ${result.bytes / 2 ** 20} MiB, time x the plain guest, median of ${result.rounds}`, [
    ["workload", "plain ms", "deadline ms", "x plain", "fuel ms", "x plain"],
    ...result.rows.map((r) => [r.workload, r.plain_ms, r.deadline_ms, r.deadline_x, r.fuel_ms, r.fuel_x]),
  ]);
}

if (import.meta.main) printDeadlines(runDeadlines(process.argv.includes("--quick")));
