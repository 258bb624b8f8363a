// Generated input files, kept in one directory across runs (generating 1 GiB takes a while):
// text files (lines of 0..120 printable bytes) for newline counting, f64 files (integer values
// 0..1023, so every summation order gives the same exact sum) for the float workload, and small
// files for map/unmap timing.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;

export function sizeName(bytes: number): string {
  if (bytes >= GiB && bytes % GiB === 0) return `${bytes / GiB} GiB`;
  if (bytes >= MiB && bytes % MiB === 0) return `${bytes / MiB} MiB`;
  if (bytes >= KiB && bytes % KiB === 0) return `${bytes / KiB} KiB`;
  return `${bytes} B`;
}

export function defaultDir(): string {
  return process.env.VMWINDOW_BENCH_DIR ?? join(process.env.TMPDIR ?? tmpdir(), "vmwindow-bench");
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

const BLOCK = 16 * MiB;
let textBlock: Uint8Array | undefined;
let f64Block: Uint8Array | undefined;

/** xorshift32 from `seed` (0 counts as 1): the generated files' deterministic contents. */
export function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

function makeTextBlock(): Uint8Array {
  const out = new Uint8Array(BLOCK);
  const next = rng(0x5eed);
  let i = 0;
  while (i < BLOCK) {
    const lineLength = next() % 121;
    for (let k = 0; k < lineLength && i < BLOCK; k++) out[i++] = 32 + (next() % 95);
    if (i < BLOCK) out[i++] = 10;
  }
  return out;
}

function makeF64Block(): Uint8Array {
  const values = new Float64Array(BLOCK / 8);
  const next = rng(0xf10a7);
  for (let i = 0; i < values.length; i++) values[i] = next() % 1024;
  return new Uint8Array(values.buffer);
}

export type FileKind = "text" | "f64" | "zeros";

/** Path of a generated file of `bytes` bytes, created (and fsynced) if missing or of another size. */
export function ensureFile(dir: string, kind: FileKind, bytes: number): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${kind}-${sizeName(bytes).replace(" ", "")}.${kind === "text" ? "txt" : "bin"}`);
  if (existsSync(path) && statSync(path).size === bytes) return path;
  const block = kind === "text" ? (textBlock ??= makeTextBlock()) : kind === "f64" ? (f64Block ??= makeF64Block()) : new Uint8Array(Math.min(bytes, BLOCK)).fill(0x55);
  const started = performance.now();
  const fd = openSync(path + ".tmp", "w");
  try {
    for (let done = 0; done < bytes; ) {
      const n = Math.min(block.length, bytes - done);
      done += writeSync(fd, block, 0, n);
    }
    // Clean pages only: posix_fadvise(DONTNEED) cannot evict dirty ones.
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(path + ".tmp", path);
  if (bytes >= 64 * MiB) console.error(`generated ${path} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return path;
}
