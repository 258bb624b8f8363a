// The few libc calls the bench needs, through bun:ffi: page-cache eviction (posix_fadvise), the raw
// mmap/munmap contender, madvise, and peak-RSS bookkeeping.
import { dlopen, FFIType, ptr, type Pointer } from "bun:ffi";
import { closeSync, openSync, readFileSync, writeFileSync } from "node:fs";

const { i32, i64, usize, ptr: P } = FFIType;

export const libc = dlopen(process.platform === "darwin" ? "libc.dylib" : "libc.so.6", {
  open: { args: [P, i32, i32], returns: i32 },
  close: { args: [i32], returns: i32 },
  lseek: { args: [i32, i64, i32], returns: i64 },
  mmap: { args: [P, usize, i32, i32, i32, i64], returns: P },
  munmap: { args: [P, usize], returns: i32 },
  madvise: { args: [P, usize, i32], returns: i32 },
  posix_fadvise: { args: [i32, i64, i64, i32], returns: i32 },
}).symbols;

export const O_RDONLY = 0;
export const O_CLOEXEC = 0o2000000;
export const PROT_READ = 1;
export const MAP_SHARED = 1;
export const SEEK_END = 2;
export const POSIX_FADV_DONTNEED = 4;
export const MADV_DONTNEED = 4;
export const MAP_FAILED = -1;

export function cPath(path: string): Uint8Array {
  return Buffer.from(path + "\0", "utf8");
}

/** Drops `path`'s (clean, unmapped) pages from the page cache. */
export function evict(path: string): void {
  const fd = openSync(path, "r");
  try {
    const rc = libc.posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    if (rc !== 0) throw new Error(`posix_fadvise(DONTNEED) failed for ${path}: ${rc}`);
  } finally {
    closeSync(fd);
  }
}

/** Resets this process's peak RSS (VmHWM) to its current RSS (Linux >= 4.0). */
export function resetPeakRss(): void {
  try {
    writeFileSync("/proc/self/clear_refs", "5");
  } catch {
    // not Linux, or not allowed: the peak then includes start-up
  }
}

/** Fields of /proc/self/status in KiB (VmHWM = peak RSS, VmRSS, RssAnon, RssFile). */
export function memoryStatus(): Record<string, number> {
  const out: Record<string, number> = {};
  try {
    for (const line of readFileSync("/proc/self/status", "utf8").split("\n")) {
      const m = /^(VmHWM|VmRSS|RssAnon|RssFile|RssShmem):\s+(\d+) kB/.exec(line);
      if (m) out[m[1]!] = Number(m[2]);
    }
  } catch {}
  return out;
}

export function addressOf(bytes: Uint8Array): Pointer {
  return ptr(bytes);
}
