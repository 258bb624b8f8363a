// Fuzzing the TypeScript API: tests/fixtures/fuzz-run.ts runs random operation sequences with
// random, often invalid arguments in a child process (a crash would kill bun test) and checks
// after every operation that errors are VmwindowErrors and the table matches the live regions.
// VMW_FUZZ_SEED picks the seed (default: a new one each run, printed), VMW_FUZZ_SECONDS the time
// (default 10).
import { expect, test } from "bun:test";
import { join } from "node:path";

const seed = Number(process.env.VMW_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const seconds = Number(process.env.VMW_FUZZ_SECONDS ?? 10);

test(`the API survives ${seconds} s of random operations (seed ${seed})`, async () => {
  const child = Bun.spawn([process.execPath, join(import.meta.dir, "fixtures", "fuzz-run.ts"), String(seed), String(seconds)], { cwd: import.meta.dir, stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => child.kill("SIGKILL"), (seconds + 60) * 1000);
  const [stdout, stderr, exitCode] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  clearTimeout(timer);
  if (exitCode !== 0) console.log(`fuzz seed ${seed} failed (exit ${exitCode}, signal ${child.signalCode}); rerun with VMW_FUZZ_SEED=${seed}\n${stdout}\n${stderr}`);
  expect(exitCode).toBe(0);
  const summary = JSON.parse(stdout.trim().split("\n").at(-1)!);
  console.log(`fuzz: seed ${seed}, ${summary.operations} operations, ${summary.errors} VmwindowErrors (${summary.traps} traps)`);
  expect(summary.summary).toBe("fuzz ok");
  expect(summary.operations).toBeGreaterThan(seconds * 100);
  expect(summary.errors).toBeGreaterThan(0);
  expect(summary.traps).toBeGreaterThan(0);
}, 600_000);
