// The benchmark's CI smoke run (`bun bench/main.ts --quick`): every workload runs, every contender
// of a scan computes the same result (the bench itself fails otherwise), and the JSON it writes has
// finite ratios for every target. Speeds are not asserted here (docs/performance.md has them).
import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "./helpers.ts";

// Under qemu-user (tools/test-arm64.sh) the --quick run takes over 2 minutes (nine contenders per
// workload, each compiling its guests) and its speeds mean nothing: the benchmark runs natively.
const EMULATED = process.env.VMW_EMULATED;
if (EMULATED) console.log(`skipped under ${EMULATED}: "bun bench/main.ts --quick ..." (over 2 minutes under emulation; its speeds would be qemu's)`);
test.skipIf(!!EMULATED)("bun bench/main.ts --quick runs every workload and writes consistent JSON", () => {
  const files = join(tempDir(), "bench-files");
  const out = join(tempDir(), "bench-out");
  const run = Bun.spawnSync([process.execPath, join(import.meta.dir, "..", "bench", "main.ts"), "--quick", "--dir", files, "--clean", "--out", out], {
    stdout: "pipe",
    stderr: "pipe",
  });
  const stdout = run.stdout.toString();
  if (run.exitCode !== 0) throw new Error(`bench exited ${run.exitCode}\n${stdout.slice(-3000)}\n${run.stderr.toString().slice(-3000)}`);
  expect(stdout).not.toContain("RESULTS DIFFER");
  const written = readdirSync(out).filter((name) => name.startsWith("bench-quick-"));
  expect(written).toHaveLength(1);
  const results = JSON.parse(readFileSync(join(out, written[0]!), "utf8"));
  expect(results.quick).toBe(true);
  expect(Object.keys(results.scan).length).toBeGreaterThanOrEqual(4); // newlines and f64, warm and cold
  for (const group of Object.values(results.scan) as { mismatch: boolean; rows: { id: string; ttr_ms: number }[] }[]) {
    expect(group.mismatch).toBe(false);
    expect(group.rows.map((row) => row.id)).toContain("vmwindow");
    for (const row of group.rows) expect(row.ttr_ms).toBeGreaterThan(0);
  }
  for (const key of ["maps", "calls", "scaling", "placement"]) expect(results[key]).toBeDefined();
  expect(results.targets.length).toBeGreaterThan(5);
  for (const target of results.targets) expect(Number.isFinite(target.value)).toBe(true);
}, 120_000);
