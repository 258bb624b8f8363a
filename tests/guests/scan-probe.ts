// Test guest for guest-sdk/assembly/scan.ts (tests/scan.test.ts): thin exports over the SDK's
// scanning primitives, built twice (SIMD preset and asconfig.nosimd.json).
import {
  regions, View, indexOfByte, lastIndexOfByte, countByte, indexOfAny, bytesEqual, startsWith, equalsText, startsWithText,
  copyBytes, Cursor, Tokens, hashBytes, parseInteger, parseDecimal, parsedBytes,
  sumI32, sumI64, sumF32, sumF64, minOf, maxOf,
} from "@vmwindow/guest";

export function simd(): i32 { return ASC_FEATURE_SIMD ? 1 : 0; }
export function index_of(ptr: usize, len: usize, b: u8): isize { return indexOfByte(ptr, len, b); }
export function last_index_of(ptr: usize, len: usize, b: u8): isize { return lastIndexOfByte(ptr, len, b); }
export function count(ptr: usize, len: usize, b: u8): usize { return countByte(ptr, len, b); }
export function index_of_any(ptr: usize, len: usize, a: u8, b: u8, c: u8, d: u8): isize { return indexOfAny(ptr, len, a, b, c, d); }
export function index_of_any3(ptr: usize, len: usize, a: u8, b: u8, c: u8): isize { return indexOfAny(ptr, len, a, b, c); }
export function equal(a: usize, b: usize, len: usize): bool { return bytesEqual(a, b, len); }
export function starts_with(ptr: usize, len: usize, p: usize, plen: usize): bool { return startsWith(ptr, len, p, plen); }
export function equals_hello(ptr: usize, len: usize): bool { return equalsText(ptr, len, "héllo, wörld 😀"); }
export function starts_with_hello(ptr: usize, len: usize): bool { return startsWithText(ptr, len, "héllo"); }
export function copy(dst: usize, src: usize, len: usize): usize { return copyBytes(dst, src, len); }
export function parse_int(ptr: usize, len: usize): i64 { return parseInteger(ptr, len); }
export function parse_float(ptr: usize, len: usize): f64 { return parseDecimal(ptr, len); }
export function parsed(): usize { return parsedBytes(); }

/** Region `id` as bytes: how many lines, fields (split on `sep`) and a checksum of their positions. */
let lines: Cursor | null = null;
let fields: Cursor | null = null;
export function split_stats(ptr: usize, len: usize, sep: u8): u64 {
  if (lines === null) { lines = new Cursor(); fields = new Cursor(); }
  let l = lines!, f = fields!;
  l.reset(ptr, len);
  let nLines: u64 = 0, nFields: u64 = 0, check: u64 = 0;
  while (l.nextLine()) {
    nLines++;
    f.reset(l.start, l.length);
    while (f.nextField(sep)) {
      nFields++;
      check = check * 31 + <u64>(f.start - ptr) * 7 + <u64>f.length;
    }
  }
  return (nLines << 40) ^ (nFields << 20) ^ check;
}

export function sum_i32(id: u32): i64 { return sumI32(regions.get(id).view<i32>()); }
export function sum_i64(id: u32): i64 { return sumI64(regions.get(id).view<i64>()); }
export function sum_f32(id: u32): f64 { return sumF32(regions.get(id).view<f32>()); }
export function sum_f64(id: u32): f64 { return sumF64(regions.get(id).view<f64>()); }
export function min_i32(id: u32): i32 { return minOf<i32>(regions.get(id).view<i32>()); }
export function max_i32(id: u32): i32 { return maxOf<i32>(regions.get(id).view<i32>()); }
export function min_i64(id: u32): i64 { return minOf<i64>(regions.get(id).view<i64>()); }
export function max_i64(id: u32): i64 { return maxOf<i64>(regions.get(id).view<i64>()); }
export function min_f32(id: u32): f32 { return minOf<f32>(regions.get(id).view<f32>()); }
export function max_f32(id: u32): f32 { return maxOf<f32>(regions.get(id).view<f32>()); }
export function min_f64(id: u32): f64 { return minOf<f64>(regions.get(id).view<f64>()); }
export function max_f64(id: u32): f64 { return maxOf<f64>(regions.get(id).view<f64>()); }

/** Scratch in the guest's own memory for copy-out tests and parse inputs. */
export function scratch(bytes: usize): usize { return heap.alloc(bytes); }

/** Tokens over [ptr, ptr + len) split at `sep` and `eol`: count and a checksum of (start, length, delimiter). */
let tokens: Tokens | null = null;
export function token_stats(ptr: usize, len: usize, sep: u8, eol: u8): u64 {
  if (tokens === null) tokens = new Tokens();
  let t = tokens!.reset(ptr, len, sep, eol);
  let n: u64 = 0, records: u64 = 0, check: u64 = 0;
  while (t.next()) {
    n++;
    if (t.endsRecord) records++;
    check = check * 31 + <u64>(t.start - ptr) * 7 + <u64>t.length * 3 + <u64>t.delimiter;
  }
  return (n << 44) ^ (records << 24) ^ check;
}

export function hash(ptr: usize, len: usize): u32 { return hashBytes(ptr, len); }

/** Tokens.nextRecord over [ptr, ptr + len): records, fields and a checksum of every kept field. */
export function record_stats(ptr: usize, len: usize, sep: u8, eol: u8): u64 {
  if (tokens === null) tokens = new Tokens();
  let t = tokens!.reset(ptr, len, sep, eol);
  let records: u64 = 0, fields: u64 = 0, check: u64 = 0;
  let n: u32;
  while ((n = t.nextRecord()) != 0) {
    records++;
    fields += n;
    let kept = min(n, Tokens.MAX_FIELDS);
    for (let k: u32 = 0; k < kept; k++) check = check * 31 + <u64>(t.fieldStart(k) - ptr) * 7 + <u64>t.fieldLength(k);
    check = check * 31 + n;
  }
  return (records << 44) ^ (fields << 24) ^ check;
}

// A view and a handle kept across calls (tests/scan.test.ts "stale views").
let keptView: View<u8> | null = null;
let keptHandle: u64 = 0;
export function keep(id: u32): void {
  const region = regions.get(id);
  keptView = region.view<u8>();
  keptHandle = region.handle;
}
export function kept_length(): usize { return keptView!.length; }
export function kept_get(i: usize): u8 { return keptView![i]; }
export function kept_current(): bool { return regions.isCurrent(keptHandle); }
export function kept_resolve_length(): usize { return regions.resolve(keptHandle).length; }
