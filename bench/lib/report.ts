// Medians, tables and the machine summary.
import { cpus, totalmem, release } from "node:os";

export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Interleaved rounds: every contender once per round, in order; the median of each one's samples
 * (whatever its function returns: a time, a time per item). */
export function interleave(rounds: number, contenders: [string, () => number][]): Map<string, number> {
  const samples = new Map<string, number[]>(contenders.map(([name]) => [name, []]));
  for (let round = 0; round < rounds; round++) {
    for (const [name, run] of contenders) samples.get(name)!.push(run());
  }
  return new Map([...samples].map(([name, values]) => [name, median(values)]));
}

export function printTable(title: string, rows: (string | number)[][]): void {
  const cells = rows.map((row) => row.map((cell) => (typeof cell === "number" ? fmt(cell) : cell)));
  const widths = cells[0]!.map((_, c) => Math.max(...cells.map((row) => (row[c] ?? "").length)));
  console.log(`\n${title}`);
  cells.forEach((row, i) => {
    console.log(row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join("  "));
    if (i === 0) console.log(widths.map((w) => "-".repeat(w)).join("  "));
  });
}

export function fmt(value: number, digits = 3): string {
  if (!Number.isFinite(value)) return "-";
  if (value === 0) return "0";
  const abs = Math.abs(value);
  if (abs >= 1000) return value.toFixed(0);
  return value.toPrecision(digits);
}

export function machine(): Record<string, string | number> {
  const text = (cmd: string[]) => {
    try {
      return new TextDecoder().decode(Bun.spawnSync(cmd).stdout).trim();
    } catch {
      return "";
    }
  };
  const lscpu = text(["lscpu"]);
  const field = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, "m").exec(lscpu)?.[1] ?? "";
  const flags = field("Flags");
  return {
    cpu: field("Model name") || cpus()[0]?.model || "",
    cpus: cpus().length,
    hypervisor: field("Hypervisor vendor"),
    simd: ["sse4_2", "avx2", "avx512f", "avx512bw"].filter((f) => flags.split(" ").includes(f)).join(" "),
    l2: field("L2 cache"),
    l3: field("L3 cache"),
    memory_gib: Math.round(totalmem() / 2 ** 30),
    free: text(["free", "-g"]).split("\n")[1]?.replace(/\s+/g, " ") ?? "",
    kernel: release(),
    bun: Bun.version,
  };
}
