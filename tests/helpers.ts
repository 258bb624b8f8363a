// Shared test helpers: temporary files with known contents, and the compiled guests' paths.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "bun:test";

const root = mkdtempSync(join(tmpdir(), "vmwindow-test-"));
process.on("exit", () => rmSync(root, { recursive: true, force: true }));
let counter = 0;

/** Writes `bytes` to a fresh temporary file and returns its path. */
export function tempFile(bytes: Uint8Array | string): string {
  const path = join(root, `file-${counter++}.bin`);
  writeFileSync(path, bytes);
  return path;
}

export function tempDir(): string {
  return root;
}

/** xorshift32 from `seed` (0 counts as 1): a deterministic pseudo-random sequence of u32s, so
 * failures reproduce. */
export function xorshift32(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state;
  };
}

/** Deterministic pseudo-random bytes (xorshift32, inlined: 4x faster than calling the function
 * above for the megabytes some tests make), so failures reproduce. */
export function patternBytes(length: number, seed = 0x9e3779b9): Uint8Array {
  const bytes = new Uint8Array(length);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    bytes[i] = state & 0xff;
  }
  return bytes;
}

export const guests = {
  probe: join(import.meta.dir, "build", "probe.wasm"),
  checksum: join(import.meta.dir, "..", "examples", "checksum", "build", "guest.wasm"),
};

/** Runs the `vmwindow` command (packages/bun/src/cli.ts) in a Bun subprocess, killed after 20 s. */
export async function vmwindow(...args: string[]): Promise<{ stdout: string; stderr: string; exitCode: number }> {
  const cli = join(import.meta.dir, "..", "packages", "bun", "src", "cli.ts");
  const child = Bun.spawn([process.execPath, cli, ...args], { stdout: "pipe", stderr: "pipe", env: { ...process.env, BUN_DEBUG_QUIET_LOGS: "1" } });
  const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  const [stdout, stderr, exitCode] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  clearTimeout(timer);
  return { stdout, stderr, exitCode };
}

/** A small window for tests: 64 MiB memory, 1 MiB guest area. */
export const smallWindow = { sizeBytes: 64 * 2 ** 20, guestBytes: 2 ** 20 };

/** Runs `run`, expects it to throw an instance of `type`, and returns that error. */
export function thrown<T extends Error>(type: new (...args: never[]) => T, run: () => unknown): T {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(type);
    return error as T;
  }
  throw new Error(`expected a ${type.name}`);
}

/** Each case's call throws INVALID_ARGUMENT with a message matching its pattern (a TypeError or a
 * crash from inside would not). Compared together, so one run lists every case that differs. */
export function expectInvalidArguments(cases: readonly (readonly [label: string, run: () => unknown, message: RegExp])[]): void {
  const seen = cases.map(([label, run]) => {
    try {
      run();
      return { label, code: "(returned)", message: "" };
    } catch (caught) {
      return { label, code: (caught as { code?: unknown })?.code, message: String((caught as Error)?.message) };
    }
  });
  expect(seen).toEqual(cases.map(([label, , message]) => ({ label, code: "INVALID_ARGUMENT", message: expect.stringMatching(message) })));
}

/** The resident size (`Rss:` in /proc/self/smaps, KiB) of the mapping that starts at `address`:
 * what one region's pages add to the process's RSS, independent of everything else it maps. */
export function mappingRssKiB(address: number): number {
  const prefix = `${address.toString(16)}-`;
  const lines = readFileSync("/proc/self/smaps", "utf8").split("\n");
  const start = lines.findIndex((line) => line.startsWith(prefix));
  if (start < 0) throw new Error(`no mapping starts at 0x${address.toString(16)}`);
  const rss = lines.slice(start + 1).find((line) => line.startsWith("Rss:"));
  return Number(/(\d+)/.exec(rss ?? "")![1]);
}

/** What every window reserves: 4 GiB for Wasmtime plus its 32 MiB guard (native/src/layout.zig reservation_bytes). */
export const RESERVATION_BYTES = 2 ** 32 + 32 * 2 ** 20;
