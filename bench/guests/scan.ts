// Bench guest: the scans every wasm contender runs (vmwindow, Bun's WebAssembly, Wasmtime with its
// own memory). The `_at(ptr, len)` forms take an address so the same code runs over a mapped region
// or over a copy; the `(id)` forms look the region up in the vmwindow table.
// Built with the SDK preset plus --enable simd (bench/package.json "build").
import { regions } from "@vmwindow/guest";

// Newlines in [ptr, ptr + len): 64 bytes per step, four i8x16 compares accumulated as bytes (eq
// lanes are -1, so sub adds 1), flushed to wider lanes before a byte lane can overflow. Four
// vectors per step measured fastest in libvmwindow's default engine (no epoch checks): 56 GB/s
// against 45 GB/s for eight on a 1 MiB file. (Eight were faster when every guest had epochs.)
export function count_newlines_at(ptr: usize, len: usize): u64 {
  let end = ptr + len;
  let nl = i8x16.splat(10);
  let total: u64 = 0;
  let endb = ptr + (len & ~<usize>63);
  while (ptr < endb) {
    let block = ptr + <usize>(255 * 64);
    if (block > endb) block = endb;
    let a0 = i8x16.splat(0), a1 = i8x16.splat(0), a2 = i8x16.splat(0), a3 = i8x16.splat(0);
    while (ptr < block) {
      a0 = i8x16.sub(a0, i8x16.eq(v128.load(ptr, 0), nl));
      a1 = i8x16.sub(a1, i8x16.eq(v128.load(ptr, 16), nl));
      a2 = i8x16.sub(a2, i8x16.eq(v128.load(ptr, 32), nl));
      a3 = i8x16.sub(a3, i8x16.eq(v128.load(ptr, 48), nl));
      ptr += 64;
    }
    let w = i32x4.extadd_pairwise_i16x8_u(i16x8.add(i16x8.add(i16x8.extadd_pairwise_i8x16_u(a0), i16x8.extadd_pairwise_i8x16_u(a1)), i16x8.add(i16x8.extadd_pairwise_i8x16_u(a2), i16x8.extadd_pairwise_i8x16_u(a3))));
    total += <u64>(i32x4.extract_lane(w, 0) + i32x4.extract_lane(w, 1) + i32x4.extract_lane(w, 2) + i32x4.extract_lane(w, 3));
  }
  while (ptr < end) {
    if (load<u8>(ptr) == 10) total++;
    ptr++;
  }
  return total;
}

// Sum of the f64 values in [ptr, ptr + len) (len rounded down to 8 bytes): eight f64x2
// accumulators, 128 bytes per step.
export function sum_f64_at(ptr: usize, len: usize): f64 {
  let end = ptr + (len & ~<usize>7);
  let endb = ptr + (len & ~<usize>127);
  let a0 = f64x2.splat(0), a1 = f64x2.splat(0), a2 = f64x2.splat(0), a3 = f64x2.splat(0);
  let a4 = f64x2.splat(0), a5 = f64x2.splat(0), a6 = f64x2.splat(0), a7 = f64x2.splat(0);
  while (ptr < endb) {
    a0 = f64x2.add(a0, v128.load(ptr));
    a1 = f64x2.add(a1, v128.load(ptr, 16));
    a2 = f64x2.add(a2, v128.load(ptr, 32));
    a3 = f64x2.add(a3, v128.load(ptr, 48));
    a4 = f64x2.add(a4, v128.load(ptr, 64));
    a5 = f64x2.add(a5, v128.load(ptr, 80));
    a6 = f64x2.add(a6, v128.load(ptr, 96));
    a7 = f64x2.add(a7, v128.load(ptr, 112));
    ptr += 128;
  }
  let s = f64x2.add(f64x2.add(f64x2.add(a0, a1), f64x2.add(a2, a3)), f64x2.add(f64x2.add(a4, a5), f64x2.add(a6, a7)));
  let total = f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
  while (ptr < end) {
    total += load<f64>(ptr);
    ptr += 8;
  }
  return total;
}

/** Newlines in region `id`, read in place through the region table. */
export function count_newlines(id: u32): u64 {
  let region = regions.get(id);
  return count_newlines_at(region.offset, region.length);
}

/** Sum of region `id` as f64 values. */
export function sum_f64(id: u32): f64 {
  let region = regions.get(id);
  return sum_f64_at(region.offset, region.length);
}

/** Newlines in region `id`, `chunk` bytes at a time, releasing each chunk's pages behind the scan
 * (Region.releasePages): a whole-file mapping whose peak RSS stays about one chunk. */
export function count_newlines_releasing(id: u32, chunk: usize): u64 {
  return scanReleasing<u64>(id, chunk, count_newlines_at);
}

/** Sum of region `id` as f64 values, releasing behind the scan (`chunk`: a multiple of 8). */
export function sum_f64_releasing(id: u32, chunk: usize): f64 {
  return scanReleasing<f64>(id, chunk, sum_f64_at);
}

function scanReleasing<T>(id: u32, chunk: usize, scan: (ptr: usize, len: usize) => T): T {
  let region = regions.get(id);
  let total: T = <T>0;
  for (let done: usize = 0, n = region.length; done < n; done += chunk) {
    let len = min(chunk, n - done);
    total += scan(region.offset + done, len);
    if (region.releasePages(done, len) != 0) unreachable();
  }
  return total;
}

// Call-overhead workload (the same shapes as tests/guests/probe.ts).
export function noop(): void {}

export function sum4(a: i32, b: i32, c: i32, d: i32): i32 {
  return a + b + c + d;
}
