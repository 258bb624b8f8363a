// The plain newline loop as a C, Zig and Rust guest author writes it (issue 11: "a bench row per
// language"), next to each SDK's SIMD count and the same plain loop in Bun JS, over one warm file
// mapped into a window: GB/s and the ratio to the plain JS loop. The guests are the SDK examples
// (guest-sdk/{c,zig,rust}/examples), built with the documented commands
// (tools/build-guest-examples.ts); Rust is left out, with the reason printed, where no wasm32 rustc
// is installed. Usage: bun bench/languages.ts [--quick]   (bench/main.ts: the "languages" part)
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Window } from "@vmwindow/bun";
import { buildC, buildRust, buildZig, findRustc, rustMissing, type Built } from "../tools/build-guest-examples.ts";
import { interleave, printTable } from "./lib/report.ts";

export interface LanguageRow {
  contender: string;
  gbps: number;
  vs_js: number;
}

export interface LanguagesResult {
  bytes: number;
  rounds: number;
  rows: LanguageRow[];
  skipped: string[];
}

function plainJsCount(bytes: Uint8Array): number {
  let count = 0;
  for (let i = 0; i < bytes.length; i++) if (bytes[i] === 10) count++;
  return count;
}

export function runLanguages(quick: boolean): LanguagesResult {
  const size = quick ? 4 * 2 ** 20 : 64 * 2 ** 20;
  const rounds = quick ? 3 : 7;
  const dir = mkdtempSync(join(tmpdir(), "vmwindow-languages-"));
  try {
    const text = new Uint8Array(size);
    for (let i = 0; i < size; i++) text[i] = i % 41 === 40 ? 10 : 97 + (i % 26);
    const path = join(dir, "text.txt");
    writeFileSync(path, text);
    const expected = plainJsCount(text);

    const builds: [string, Built | string][] = [["C", buildC(dir)], ["Zig", buildZig(dir)]];
    const rustc = findRustc();
    builds.push(["Rust", rustc ? buildRust(dir, rustc) : rustMissing]);
    const skipped: string[] = [];
    using window = Window.create();
    using region = window.mapFile(path, { name: "input" });
    const file = Bun.mmap(path);
    const contenders: [string, () => number][] = [["Bun JS plain loop (Bun.mmap)", () => plainJsCount(file)]];
    for (const [language, built] of builds) {
      if (typeof built === "string" || !built.ok) {
        skipped.push(`${language}: ${typeof built === "string" ? built : built.output.split("\n").slice(-3).join(" ")}`);
        continue;
      }
      const guest = window.instantiate(built.wasm);
      contenders.push([`${language} guest, plain loop`, () => Number(guest.exports.newlines_plain!(region.id))]);
      contenders.push([`${language} guest, SDK SIMD count`, () => Number(guest.exports.newlines!(region.id))]);
    }
    for (const [, run] of contenders) run(); // warm-up: pages in, code compiled
    const medians = interleave(rounds, contenders.map(([name, run]) => [name, () => {
      const t0 = Bun.nanoseconds();
      const count = run();
      const ns = Bun.nanoseconds() - t0;
      if (count !== expected) throw new Error(`${name} counted ${count} newlines, JS ${expected}`);
      return ns;
    }]));
    const gbps = (name: string) => size / medians.get(name)!;
    const js = gbps(contenders[0]![0]);
    const rows = contenders.map(([name]) => ({ contender: name, gbps: gbps(name), vs_js: gbps(name) / js }));
    return { bytes: size, rounds, rows, skipped };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function printLanguages(result: LanguagesResult): void {
  printTable(`newline count as C, Zig and Rust guests write it: ${result.bytes / 2 ** 20} MiB, warm, median of ${result.rounds}`, [
    ["contender", "GB/s", "x plain JS"],
    ...result.rows.map((r) => [r.contender, r.gbps, r.vs_js]),
  ]);
  for (const reason of result.skipped) console.log(`  left out: ${reason}`);
}

if (import.meta.main) printLanguages(runLanguages(process.argv.includes("--quick")));
