// Scanning primitives for file-processing guests: byte search and count, line/field cursors,
// number parsing, reductions, comparison and copy-out. SIMD inside (128-bit wasm SIMD, on in the
// SDK preset), scalar SWAR fallbacks when a guest is built without it (`ASC_FEATURE_SIMD` is a
// compile-time constant: the other branch is not even compiled). Nothing here allocates per call
// except `copyToBuffer` (its result); a `Tokens` allocates its offset buffer once, when made.
//
// Every byte function takes a window address and a length, `(ptr, len)`, and reads exactly the
// bytes [ptr, ptr + len), never one past (vector loads stop at the last whole 16 bytes; the rest
// goes byte by byte or word by word), so a range that ends at a region's end — even at the end of
// its slot, where the next byte traps — is safe. Addresses need no alignment.
//
//   region.offset                                  region.end (= offset + length)
//   |<------ 64-byte steps (4 x v128) ------>|<16>|<16>|<- bytes ->|
//   | a0 a1 a2 a3 | a0 a1 a2 a3 | ...        | v  | v  | b b b b b |  (never read past here)
//
// Results are indices relative to `ptr` (`-1` when not found), counts, or values.

import { View } from "./view";

// @ts-ignore: decorator
@inline const LO7: u64 = 0x7f7f7f7f7f7f7f7f;
// @ts-ignore: decorator
@inline const ONES: u64 = 0x0101010101010101;

/** SWAR: the high bit of each byte of the result is set exactly where that byte of `x` is zero. */
// @ts-ignore: decorator
@inline function zeroBytes(x: u64): u64 {
  return ~(((x & LO7) + LO7) | x | LO7);
}

/** 16 eq-lanes as a 16-bit mask (bit k = byte k). */
// @ts-ignore: decorator
@inline function eqMask(ptr: usize, needle: v128): i32 {
  return i8x16.bitmask(i8x16.eq(v128.load(ptr), needle));
}

// ============================================================================================
// Byte search and count

/** Index of the first `byte` in [ptr, ptr + len), or -1. */
export function indexOfByte(ptr: usize, len: usize, byte: u8): isize {
  let p = ptr;
  let end = ptr + len;
  if (ASC_FEATURE_SIMD) {
    let needle = i8x16.splat(<i8>byte);
    // 64 bytes per step: one any_true test for four compares.
    if (end - p >= 64) {
      let stop = p + ((end - p) & ~<usize>63);
      do {
        let e0 = i8x16.eq(v128.load(p), needle);
        let e1 = i8x16.eq(v128.load(p, 16), needle);
        let e2 = i8x16.eq(v128.load(p, 32), needle);
        let e3 = i8x16.eq(v128.load(p, 48), needle);
        if (v128.any_true(v128.or(v128.or(e0, e1), v128.or(e2, e3)))) break;
        p += 64;
      } while (p < stop);
    }
    while (end - p >= 16) {
      let m = eqMask(p, needle);
      if (m != 0) return <isize>(p - ptr) + ctz<i32>(m);
      p += 16;
    }
  } else {
    let pattern = ONES * <u64>byte;
    while (end - p >= 8) {
      let z = zeroBytes(load<u64>(p) ^ pattern);
      if (z != 0) return <isize>(p - ptr) + <isize>(ctz<u64>(z) >> 3);
      p += 8;
    }
  }
  while (p < end) {
    if (load<u8>(p) == byte) return <isize>(p - ptr);
    p++;
  }
  return -1;
}

/** Index of the last `byte` in [ptr, ptr + len), or -1. */
export function lastIndexOfByte(ptr: usize, len: usize, byte: u8): isize {
  let p = ptr + len; // one past the next byte to look at, walking down
  if (ASC_FEATURE_SIMD) {
    let needle = i8x16.splat(<i8>byte);
    while (p - ptr >= 64) {
      let q = p - 64;
      let e0 = i8x16.eq(v128.load(q), needle);
      let e1 = i8x16.eq(v128.load(q, 16), needle);
      let e2 = i8x16.eq(v128.load(q, 32), needle);
      let e3 = i8x16.eq(v128.load(q, 48), needle);
      if (v128.any_true(v128.or(v128.or(e0, e1), v128.or(e2, e3)))) break;
      p = q;
    }
    while (p - ptr >= 16) {
      let q = p - 16;
      let m = eqMask(q, needle);
      if (m != 0) return <isize>(q - ptr) + 31 - clz<i32>(m);
      p = q;
    }
  } else {
    let pattern = ONES * <u64>byte;
    while (p - ptr >= 8) {
      let q = p - 8;
      let z = zeroBytes(load<u64>(q) ^ pattern);
      if (z != 0) return <isize>(q - ptr) + <isize>((63 - clz<u64>(z)) >> 3);
      p = q;
    }
  }
  while (p > ptr) {
    p--;
    if (load<u8>(p) == byte) return <isize>(p - ptr);
  }
  return -1;
}

/** Number of `byte`s in [ptr, ptr + len). */
export function countByte(ptr: usize, len: usize, byte: u8): usize {
  let p = ptr;
  let end = ptr + len;
  let total: usize = 0;
  if (ASC_FEATURE_SIMD) {
    let needle = i8x16.splat(<i8>byte);
    // Four byte-lane accumulators (eq lanes are -1: subtracting adds 1), 128 bytes per step (two
    // compares per lane), widened before a lane can overflow (127 steps = 254 per lane). The inner
    // loop is a do-while: one conditional back-edge per step, no jump back to a test at the top.
    while (end - p >= 128) {
      let steps = (end - p) >> 7;
      if (steps > 127) steps = 127;
      let stop = p + (steps << 7);
      let a0 = i8x16.splat(0), a1 = i8x16.splat(0), a2 = i8x16.splat(0), a3 = i8x16.splat(0);
      do {
        a0 = i8x16.sub(a0, i8x16.eq(v128.load(p), needle));
        a1 = i8x16.sub(a1, i8x16.eq(v128.load(p, 16), needle));
        a2 = i8x16.sub(a2, i8x16.eq(v128.load(p, 32), needle));
        a3 = i8x16.sub(a3, i8x16.eq(v128.load(p, 48), needle));
        a0 = i8x16.sub(a0, i8x16.eq(v128.load(p, 64), needle));
        a1 = i8x16.sub(a1, i8x16.eq(v128.load(p, 80), needle));
        a2 = i8x16.sub(a2, i8x16.eq(v128.load(p, 96), needle));
        a3 = i8x16.sub(a3, i8x16.eq(v128.load(p, 112), needle));
        p += 128;
      } while (p < stop);
      let w = i32x4.extadd_pairwise_i16x8_u(i16x8.add(
        i16x8.add(i16x8.extadd_pairwise_i8x16_u(a0), i16x8.extadd_pairwise_i8x16_u(a1)),
        i16x8.add(i16x8.extadd_pairwise_i8x16_u(a2), i16x8.extadd_pairwise_i8x16_u(a3))
      ));
      total += <usize>(i32x4.extract_lane(w, 0) + i32x4.extract_lane(w, 1) + i32x4.extract_lane(w, 2) + i32x4.extract_lane(w, 3));
    }
    while (end - p >= 16) {
      total += <usize>popcnt<i32>(eqMask(p, needle));
      p += 16;
    }
  } else {
    let pattern = ONES * <u64>byte;
    while (end - p >= 8) {
      total += <usize>popcnt<u64>(zeroBytes(load<u64>(p) ^ pattern));
      p += 8;
    }
  }
  while (p < end) {
    total += <usize>(load<u8>(p) == byte);
    p++;
  }
  return total;
}

/**
 * Index of the first byte in [ptr, ptr + len) equal to any of `a`, `b`, `c`, `d`, or -1. For
 * fewer than four, repeat one: `indexOfAny(p, n, 0x2c, 0x0a, 0x22)` finds `,` `\n` or `"`.
 */
export function indexOfAny(ptr: usize, len: usize, a: u8, b: u8, c: u8 = a, d: u8 = a): isize {
  let p = ptr;
  let end = ptr + len;
  if (ASC_FEATURE_SIMD) {
    let va = i8x16.splat(<i8>a), vb = i8x16.splat(<i8>b), vc = i8x16.splat(<i8>c), vd = i8x16.splat(<i8>d);
    // 32 bytes per step with one any_true test; the 16-byte loop below finds the lane.
    while (end - p >= 32) {
      let v = v128.load(p), u = v128.load(p, 16);
      let hv = v128.or(v128.or(i8x16.eq(v, va), i8x16.eq(v, vb)), v128.or(i8x16.eq(v, vc), i8x16.eq(v, vd)));
      let hu = v128.or(v128.or(i8x16.eq(u, va), i8x16.eq(u, vb)), v128.or(i8x16.eq(u, vc), i8x16.eq(u, vd)));
      if (v128.any_true(v128.or(hv, hu))) break;
      p += 32;
    }
    while (end - p >= 16) {
      let v = v128.load(p);
      let hit = v128.or(v128.or(i8x16.eq(v, va), i8x16.eq(v, vb)), v128.or(i8x16.eq(v, vc), i8x16.eq(v, vd)));
      let m = i8x16.bitmask(hit);
      if (m != 0) return <isize>(p - ptr) + ctz<i32>(m);
      p += 16;
    }
  } else {
    let pa = ONES * <u64>a, pb = ONES * <u64>b, pc = ONES * <u64>c, pd = ONES * <u64>d;
    while (end - p >= 8) {
      let w = load<u64>(p);
      let z = zeroBytes(w ^ pa) | zeroBytes(w ^ pb) | zeroBytes(w ^ pc) | zeroBytes(w ^ pd);
      if (z != 0) return <isize>(p - ptr) + <isize>(ctz<u64>(z) >> 3);
      p += 8;
    }
  }
  while (p < end) {
    let x = load<u8>(p);
    if (x == a || x == b || x == c || x == d) return <isize>(p - ptr);
    p++;
  }
  return -1;
}

/**
 * A fast 32-bit hash of the bytes [ptr, ptr + len) for hash tables (group-by keys): whole words at
 * a time (two overlapping loads for 4-16 bytes), never reading outside the range. Not
 * cryptographic; equal bytes give equal hashes within one build of the SDK (do not store it).
 */
export function hashBytes(ptr: usize, len: usize): u32 {
  const K: u64 = 0x9e3779b97f4a7c15;
  let h: u64 = <u64>len * K;
  if (len >= 8) {
    let i: usize = 0;
    while (len - i > 16) {
      h = (h ^ load<u64>(ptr + i)) * K;
      h ^= h >> 29;
      i += 8;
    }
    h = (h ^ load<u64>(ptr + i)) * K; // the last 9..16 bytes: two overlapping words
    h = (h ^ load<u64>(ptr + len - 8)) * K;
  } else if (len >= 4) {
    h = (h ^ ((<u64>load<u32>(ptr) << 32) | <u64>load<u32>(ptr + len - 4))) * K;
  } else if (len > 0) {
    h = (h ^ ((<u64>load<u8>(ptr) << 16) | (<u64>load<u8>(ptr + (len >> 1)) << 8) | <u64>load<u8>(ptr + len - 1))) * K;
  }
  h ^= h >> 32;
  return <u32>h;
}

// ============================================================================================
// Comparison and copy

/** Whether the `len` bytes at `a` and at `b` are equal. */
export function bytesEqual(a: usize, b: usize, len: usize): bool {
  // Short keys (the usual case in a hash table): two overlapping words, no loop.
  if (len <= 16) {
    if (len >= 8) return load<u64>(a) == load<u64>(b) && load<u64>(a + len - 8) == load<u64>(b + len - 8);
    if (len >= 4) return load<u32>(a) == load<u32>(b) && load<u32>(a + len - 4) == load<u32>(b + len - 4);
    if (len == 0) return true;
    return load<u8>(a) == load<u8>(b) && load<u8>(a + (len >> 1)) == load<u8>(b + (len >> 1)) && load<u8>(a + len - 1) == load<u8>(b + len - 1);
  }
  let i: usize = 0;
  if (ASC_FEATURE_SIMD) {
    while (len - i >= 64) {
      let x0 = v128.xor(v128.load(a + i), v128.load(b + i));
      let x1 = v128.xor(v128.load(a + i, 16), v128.load(b + i, 16));
      let x2 = v128.xor(v128.load(a + i, 32), v128.load(b + i, 32));
      let x3 = v128.xor(v128.load(a + i, 48), v128.load(b + i, 48));
      if (v128.any_true(v128.or(v128.or(x0, x1), v128.or(x2, x3)))) return false;
      i += 64;
    }
    while (len - i >= 16) {
      if (v128.any_true(v128.xor(v128.load(a + i), v128.load(b + i)))) return false;
      i += 16;
    }
  }
  while (len - i >= 8) {
    if (load<u64>(a + i) != load<u64>(b + i)) return false;
    i += 8;
  }
  while (i < len) {
    if (load<u8>(a + i) != load<u8>(b + i)) return false;
    i++;
  }
  return true;
}

/** Whether [ptr, ptr + len) starts with the `prefixLen` bytes at `prefix`. */
export function startsWith(ptr: usize, len: usize, prefix: usize, prefixLen: usize): bool {
  return prefixLen <= len && bytesEqual(ptr, prefix, prefixLen);
}

/** Whether [ptr, ptr + len) is exactly `text`'s UTF-8 bytes (no allocation). */
export function equalsText(ptr: usize, len: usize, text: string): bool {
  return <usize>String.UTF8.byteLength(text) == len && startsWithText(ptr, len, text);
}

/** Whether [ptr, ptr + len) starts with `text`'s UTF-8 bytes (no allocation). */
export function startsWithText(ptr: usize, len: usize, text: string): bool {
  let n = <usize>text.length;
  let s = changetype<usize>(text);
  for (let i: usize = 0; i < n; i++) {
    let u = load<u16>(s + (i << 1));
    if (u >= 0x80) return utf8StartsWith(ptr, len, text);
    if (i >= len || <u8>u != load<u8>(ptr + i)) return false;
  }
  return true;
}

/** Non-ASCII text: compares code point by code point as UTF-8 (no allocation). */
function utf8StartsWith(ptr: usize, len: usize, text: string): bool {
  let s = changetype<usize>(text);
  let units = <usize>text.length;
  let j: usize = 0;
  for (let i: usize = 0; i < units; i++) {
    let c = <u32>load<u16>(s + (i << 1));
    if (c >= 0xd800 && c < 0xdc00 && i + 1 < units) {
      let lo = <u32>load<u16>(s + ((i + 1) << 1));
      if (lo >= 0xdc00 && lo < 0xe000) {
        c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
        i++;
      }
    }
    let n: usize = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
    if (j + n > len) return false;
    if (n == 1) {
      if (load<u8>(ptr + j) != <u8>c) return false;
    } else {
      let lead: u32 = n == 2 ? 0xc0 : n == 3 ? 0xe0 : 0xf0;
      if (load<u8>(ptr + j) != <u8>(lead | (c >> (6 * <u32>(n - 1))))) return false;
      for (let k: usize = 1; k < n; k++) {
        if (load<u8>(ptr + j + k) != <u8>(0x80 | ((c >> (6 * <u32>(n - 1 - k))) & 0x3f))) return false;
      }
    }
    j += n;
  }
  return true;
}

/**
 * Copies `len` bytes from `src` to `dst` (e.g. from a region into guest memory, or into a writable
 * region), 64 bytes per step with v128 loads and stores (the preset builds without bulk
 * memory, so no `memory.copy`). Forward copy: `dst` must not lie inside
 * (src, src + len). Returns `dst`.
 */
export function copyBytes(dst: usize, src: usize, len: usize): usize {
  let i: usize = 0;
  if (ASC_FEATURE_SIMD) {
    while (len - i >= 64) {
      let v0 = v128.load(src + i), v1 = v128.load(src + i, 16), v2 = v128.load(src + i, 32), v3 = v128.load(src + i, 48);
      v128.store(dst + i, v0);
      v128.store(dst + i, v1, 16);
      v128.store(dst + i, v2, 32);
      v128.store(dst + i, v3, 48);
      i += 64;
    }
    while (len - i >= 16) {
      v128.store(dst + i, v128.load(src + i));
      i += 16;
    }
  }
  while (len - i >= 8) {
    store<u64>(dst + i, load<u64>(src + i));
    i += 8;
  }
  while (i < len) {
    store<u8>(dst + i, load<u8>(src + i));
    i++;
  }
  return dst;
}

/** The bytes [ptr, ptr + len) copied into a new ArrayBuffer (one allocation). */
export function copyToBuffer(ptr: usize, len: usize): ArrayBuffer {
  let out = changetype<ArrayBuffer>(__new(len, idof<ArrayBuffer>()));
  copyBytes(changetype<usize>(out), ptr, len);
  return out;
}

// ============================================================================================
// Line and field cursor

/**
 * Walks [ptr, ptr + len) piece by piece without allocating: create it once, `reset` it for each
 * range. After `nextLine()` / `nextField(sep)` returned true, the piece is [start, stop)
 * (`length` bytes, the separator excluded).
 *
 *   lines  = new Cursor(region.offset, region.length)
 *   while (lines.nextLine()) {               // pieces between "\n" ("a\nb\n" -> "a", "b")
 *     fields.reset(lines.start, lines.length)
 *     while (fields.nextField(0x2c)) { ... } // like JS split(","): "a,,b," -> "a", "", "b", ""
 *   }
 *
 * `nextLine` yields what JS `text.split("\n")` yields, without the final empty piece when the text
 * ends with "\n" (and nothing for empty text); a "\r" before "\n" stays in the line. `nextField`
 * yields exactly what `split(sep)` yields (one empty field for an empty range).
 */
@final @unmanaged
export class Cursor {
  /** Where the next piece starts. */
  pos: usize;
  /** End of the range. */
  end: usize;
  /** First byte of the current piece. */
  start: usize;
  /** One past its last byte (the separator's address, or `end`). */
  stop: usize;

  constructor(ptr: usize = 0, len: usize = 0) {
    this.pos = ptr;
    this.end = ptr + len;
    this.start = ptr;
    this.stop = ptr;
  }

  /** Starts over on [ptr, ptr + len). */
  reset(ptr: usize, len: usize): Cursor {
    this.pos = ptr;
    this.end = ptr + len;
    this.start = ptr;
    this.stop = ptr;
    return this;
  }

  /** Bytes in the current piece. */
  // @ts-ignore: decorator
  @inline get length(): usize {
    return this.stop - this.start;
  }

  /** Whether nothing is left. */
  // @ts-ignore: decorator
  @inline get done(): bool {
    return this.pos >= this.end;
  }

  /** The next line (up to "\n" or the end); false when the range is used up. */
  nextLine(): bool {
    let pos = this.pos, end = this.end;
    if (pos >= end) return false;
    let i = indexOfByte(pos, end - pos, 0x0a);
    let stop = i < 0 ? end : pos + <usize>i;
    this.start = pos;
    this.stop = stop;
    this.pos = stop + 1;
    return true;
  }

  /** The next field up to `sep` or the end, with JS `split(sep)` semantics; false when used up. */
  nextField(sep: u8): bool {
    let pos = this.pos, end = this.end;
    if (pos > end) return false;
    let i = indexOfByte(pos, end - pos, sep);
    let stop = i < 0 ? end : pos + <usize>i;
    this.start = pos;
    this.stop = stop;
    this.pos = stop + 1; // end + 1 after the last field
    return true;
  }
}

/**
 * Splits [ptr, ptr + len) at every `sep` and every `eol` byte, for records of short fields (CSV:
 * `sep` = `,`, `eol` = `\n`): one SIMD pass finds the delimiters of 64 bytes at once into a bit
 * mask, and each `next()` pops one bit, so a field costs a few instructions instead of a search.
 * After `next()` returned true the token is [start, stop) and `delimiter` is the byte that ended it
 * (`sep`, `eol`, or `Tokens.END` for the last token of the range). Tokens are the pieces between
 * delimiters; the piece after the last delimiter is yielded if it is not empty or that delimiter
 * was `sep` ("a,b\n" -> "a" `,`, "b" `\n`; "a," -> "a" `,`, "" END; "" -> nothing).
 *
 *   block (64 bytes) --> mask: bit k set where block[k] is sep or eol
 *   |a|,|b|\n|c|c|,|d|...   mask = ...0101001010  -> next(): ctz(mask) = 1 -> token [0,1) ","
 */
@final @unmanaged
export class Tokens {
  static readonly END: u32 = 0x100;
  /** First byte of the current token. */
  start: usize;
  /** One past its last byte. */
  stop: usize;
  /** The byte that ended it, or Tokens.END. */
  delimiter: u32;
  private pos: usize;
  private end: usize;
  private block: usize;
  private scanned: usize;
  private mask: u64;
  private sep: u32;
  private eol: u32;
  private last: u32;
  private finished: bool;
  /** Fields of the current record (nextRecord): MAX_FIELDS pairs of u32 (start, stop). */
  private fields: usize;
  /** Fields in the current record (nextRecord), including any past MAX_FIELDS. */
  fieldCount: u32;

  /** Fields of a record that nextRecord keeps (more are counted, not kept). */
  static readonly MAX_FIELDS: u32 = 64;

  constructor(ptr: usize = 0, len: usize = 0, sep: u8 = 0x2c, eol: u8 = 0x0a) {
    this.fields = heap.alloc(<usize>Tokens.MAX_FIELDS << 3);
    this.reset(ptr, len, sep, eol);
  }

  /** Starts over on [ptr, ptr + len). */
  reset(ptr: usize, len: usize, sep: u8 = 0x2c, eol: u8 = 0x0a): Tokens {
    this.start = ptr;
    this.stop = ptr;
    this.delimiter = 0;
    this.pos = ptr;
    this.end = ptr + len;
    this.block = ptr;
    this.scanned = ptr;
    this.mask = 0;
    this.sep = sep;
    this.eol = eol;
    this.last = eol; // an empty range yields nothing
    this.finished = false;
    this.fieldCount = 0;
    return this;
  }

  /**
   * The next record (the tokens up to and including one that ends with `eol`, or the range's
   * last piece): returns its number of fields (0 when the range is used up) and keeps the first
   * MAX_FIELDS of them for `fieldStart(k)` / `fieldLength(k)`. The delimiter bits are popped in
   * locals, so a record costs a few instructions per field plus one call (faster than `next()` per
   * field, whose state lives in the object). Records follow the same rules as `next()`: "a,b\n"
   * is one record of 2 fields; "a," one of 2 (the second empty); "" none; "\n" one of 1 (empty).
   */
  nextRecord(): u32 {
    if (this.finished) return 0;
    let mask = this.mask, block = this.block, pos = this.pos;
    let sep = this.sep;
    let out = this.fields;
    let n: u32 = 0;
    while (true) {
      while (mask != 0) {
        let at = block + <usize>ctz<u64>(mask);
        mask &= mask - 1;
        if (n < Tokens.MAX_FIELDS) {
          store<u32>(out + (<usize>n << 3), <u32>pos);
          store<u32>(out + (<usize>n << 3), <u32>at, 4);
        }
        n++;
        pos = at + 1;
        let d = <u32>load<u8>(at);
        if (d != sep) {
          this.mask = mask;
          this.block = block;
          this.pos = pos;
          this.last = d;
          this.fieldCount = n;
          return n;
        }
      }
      this.pos = pos;
      if (!this.refill()) break;
      mask = this.mask;
      block = this.block;
    }
    this.mask = 0;
    this.finished = true;
    let end = this.end;
    if (n == 0 && pos >= end) { // nothing after the last end of record
      this.fieldCount = 0;
      return 0;
    }
    if (n < Tokens.MAX_FIELDS) {
      store<u32>(out + (<usize>n << 3), <u32>pos);
      store<u32>(out + (<usize>n << 3), <u32>end, 4);
    }
    n++;
    this.pos = end;
    this.last = Tokens.END;
    this.fieldCount = n;
    return n;
  }

  /** First byte of field `k` of the current record (k < min(fieldCount, MAX_FIELDS); unchecked). */
  // @ts-ignore: decorator
  @inline fieldStart(k: u32): usize {
    return <usize>load<u32>(this.fields + (<usize>k << 3));
  }

  /** One past the last byte of field `k` (unchecked). */
  // @ts-ignore: decorator
  @inline fieldStop(k: u32): usize {
    return <usize>load<u32>(this.fields + (<usize>k << 3), 4);
  }

  /** Bytes in field `k` (unchecked). */
  // @ts-ignore: decorator
  @inline fieldLength(k: u32): usize {
    let at = this.fields + (<usize>k << 3);
    return <usize>(load<u32>(at, 4) - load<u32>(at));
  }

  /** Bytes in the current token. */
  // @ts-ignore: decorator
  @inline get length(): usize {
    return this.stop - this.start;
  }

  /** Whether the current token ended a record (its delimiter is `eol`, or it is the last one). */
  // @ts-ignore: decorator
  @inline get endsRecord(): bool {
    return this.delimiter != this.sep;
  }

  /** The next token; false when the range is used up. */
  // @ts-ignore: decorator
  @inline next(): bool {
    while (true) {
      let mask = this.mask;
      if (mask != 0) {
        let at = this.block + <usize>ctz<u64>(mask);
        this.mask = mask & (mask - 1);
        this.start = this.pos;
        this.stop = at;
        let d = <u32>load<u8>(at);
        this.delimiter = d;
        this.last = d;
        this.pos = at + 1;
        return true;
      }
      if (!this.refill()) break;
    }
    if (this.finished) return false;
    this.finished = true;
    if (this.pos >= this.end && this.last != this.sep) return false;
    this.start = this.pos;
    this.stop = this.end;
    this.delimiter = Tokens.END;
    this.pos = this.end;
    return true;
  }

  /** Finds the delimiters of the next (up to) 64 bytes; false at the end of the range. */
  private refill(): bool {
    let p = this.scanned, end = this.end;
    if (p >= end) return false;
    let sep = this.sep, eol = this.eol;
    let m: u64 = 0;
    let n = end - p;
    if (ASC_FEATURE_SIMD && n >= 64) {
      let vs = i8x16.splat(<i8>sep), ve = i8x16.splat(<i8>eol);
      let v0 = v128.load(p), v1 = v128.load(p, 16), v2 = v128.load(p, 32), v3 = v128.load(p, 48);
      let m0 = <u64>i8x16.bitmask(v128.or(i8x16.eq(v0, vs), i8x16.eq(v0, ve)));
      let m1 = <u64>i8x16.bitmask(v128.or(i8x16.eq(v1, vs), i8x16.eq(v1, ve)));
      let m2 = <u64>i8x16.bitmask(v128.or(i8x16.eq(v2, vs), i8x16.eq(v2, ve)));
      let m3 = <u64>i8x16.bitmask(v128.or(i8x16.eq(v3, vs), i8x16.eq(v3, ve)));
      m = m0 | (m1 << 16) | (m2 << 32) | (m3 << 48);
      n = 64;
    } else {
      if (n > 64) n = 64;
      for (let i: usize = 0; i < n; i++) {
        let c = <u32>load<u8>(p + i);
        if (c == sep || c == eol) m |= <u64>1 << <u64>i;
      }
    }
    this.block = p;
    this.scanned = p + n;
    this.mask = m;
    return true;
  }
}

// ============================================================================================
// Number parsing

// @ts-ignore: decorator
@lazy let parsed: usize = 0;

/** Bytes consumed by the last `parseInteger` / `parseDecimal` (0: no number there). */
export function parsedBytes(): usize {
  return parsed;
}

// @ts-ignore: decorator
@inline function isSpace(c: u32): bool {
  return c == 0x20 || c - 9 <= 4; // space, \t \n \v \f \r
}

/**
 * The integer at the start of [ptr, ptr + len): optional ASCII whitespace, optional `+`/`-`, then
 * decimal digits up to the first other byte. Exact for every value in i64's range (wraps beyond).
 * `parsedBytes()` tells how many bytes were read (0 and a result of 0 when there are no digits).
 */
export function parseInteger(ptr: usize, len: usize): i64 {
  let p = ptr, end = ptr + len;
  while (p < end && isSpace(load<u8>(p))) p++;
  let neg = false;
  if (p < end) {
    let c = load<u8>(p);
    if (c == 0x2d || c == 0x2b) {
      neg = c == 0x2d;
      p++;
    }
  }
  let digits = p;
  let value: u64 = 0;
  while (p < end) {
    let d = <u32>load<u8>(p) - 0x30;
    if (d > 9) break;
    value = value * 10 + d;
    p++;
  }
  if (p == digits) {
    parsed = 0;
    return 0;
  }
  parsed = p - ptr;
  return neg ? -<i64>value : <i64>value;
}

const POW10: StaticArray<f64> = [
  1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
  1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22
];

/**
 * The decimal number at the start of [ptr, ptr + len), exactly as JavaScript's `parseFloat` reads
 * it (correctly rounded): optional ASCII whitespace, optional sign, `Infinity`, or digits with an
 * optional `.` fraction and an optional `e`/`E` exponent; the longest such prefix. NaN (and
 * `parsedBytes()` 0) when there is none. Up to 19 significant digits and powers of ten up to 22
 * take one multiplication or division (Clinger's fast path); anything else goes through an exact
 * decimal (800 digits, Go's strconv algorithm), slower but still correctly rounded.
 * (JavaScript also skips non-ASCII whitespace such as U+00A0; this does not.)
 */
export function parseDecimal(ptr: usize, len: usize): f64 {
  // Fast path for the common shape `[-]digits[.digits]` with at most 15 digits and no exponent
  // (CSV amounts, coordinates): one pass, one exact division. Anything else: parseDecimalFull.
  let end = ptr + len;
  let p = ptr;
  let neg = p < end && load<u8>(p) == 0x2d;
  if (neg) p++;
  let w: u64 = 0;
  let q = p;
  while (q < end) {
    let d = <u32>load<u8>(q) - 0x30;
    if (d > 9) break;
    w = w * 10 + d;
    q++;
  }
  let digits = q - p;
  let fraction: usize = 0;
  if (q < end && load<u8>(q) == 0x2e) {
    q++;
    let f = q;
    while (q < end) {
      let d = <u32>load<u8>(q) - 0x30;
      if (d > 9) break;
      w = w * 10 + d;
      q++;
    }
    fraction = q - f;
    digits += fraction;
  }
  if (digits - 1 < 15 && (q >= end || (load<u8>(q) | 0x20) != 0x65)) {
    parsed = q - ptr;
    let r = <f64>w / unchecked(POW10[<i32>fraction]); // w < 10^15: exact; one correctly rounded division
    return neg ? -r : r;
  }
  return parseDecimalFull(ptr, len);
}

function parseDecimalFull(ptr: usize, len: usize): f64 {
  let p = ptr, end = ptr + len;
  while (p < end && isSpace(load<u8>(p))) p++;
  let neg = false;
  if (p < end) {
    let c = load<u8>(p);
    if (c == 0x2d || c == 0x2b) {
      neg = c == 0x2d;
      p++;
    }
  }
  if (p < end && load<u8>(p) == 0x49) { // "Infinity"
    if (end - p >= 8 && load<u64>(p) == 0x7974696e69666e49) {
      parsed = p + 8 - ptr;
      return neg ? -Infinity : Infinity;
    }
    parsed = 0;
    return NaN;
  }
  let mantissa = p;
  let w: u64 = 0;
  let nd: i32 = 0; // significant digits in w
  let e10: i32 = 0;
  let truncated = false;
  let sawDigit = false;
  while (p < end) {
    let d = <u32>load<u8>(p) - 0x30;
    if (d > 9) break;
    sawDigit = true;
    if (nd < 19) {
      if (w != 0 || d != 0) {
        w = w * 10 + d;
        nd++;
      }
    } else {
      e10++;
      if (d != 0) truncated = true;
    }
    p++;
  }
  if (p < end && load<u8>(p) == 0x2e) {
    p++;
    while (p < end) {
      let d = <u32>load<u8>(p) - 0x30;
      if (d > 9) break;
      sawDigit = true;
      if (nd < 19) {
        if (w != 0 || d != 0) {
          w = w * 10 + d;
          nd++;
        }
        e10--;
      } else if (d != 0) {
        truncated = true;
      }
      p++;
    }
  }
  if (!sawDigit) {
    parsed = 0;
    return NaN;
  }
  let mantissaEnd = p;
  let exp: i32 = 0;
  if (p < end && (load<u8>(p) | 0x20) == 0x65) { // e or E, only with at least one digit after
    let q = p + 1;
    let expNeg = false;
    if (q < end) {
      let c = load<u8>(q);
      if (c == 0x2d || c == 0x2b) {
        expNeg = c == 0x2d;
        q++;
      }
    }
    if (q < end && <u32>load<u8>(q) - 0x30 <= 9) {
      while (q < end) {
        let d = <u32>load<u8>(q) - 0x30;
        if (d > 9) break;
        if (exp < 100000) exp = exp * 10 + <i32>d;
        q++;
      }
      if (expNeg) exp = -exp;
      p = q;
    }
  }
  parsed = p - ptr;
  if (w == 0) return neg ? -0.0 : 0.0;
  e10 += exp;
  if (!truncated && w <= (<u64>1 << 53) && e10 >= -22 && e10 <= 22) {
    let m = <f64>w;
    let r = e10 < 0 ? m / unchecked(POW10[-e10]) : m * unchecked(POW10[e10]);
    return neg ? -r : r;
  }
  let bits = slowDecimal(mantissa, mantissaEnd, exp);
  return reinterpret<f64>(neg ? bits | (<u64>1 << 63) : bits);
}

// --------------------------------------------------------------------------------------------
// Exact slow path: Go's strconv "decimal" (a big decimal of up to 800 digits shifted by powers of
// two until it is in [0.5, 1), then 53 bits extracted with round-half-even). Static buffers, no
// allocation.

// @ts-ignore: decorator
@inline const MAX_DIGITS: i32 = 800;
// @ts-ignore: decorator
@lazy const digitsBuf: usize = memory.data(MAX_DIGITS + 32);
// @ts-ignore: decorator
@lazy const shiftBuf: usize = memory.data(MAX_DIGITS + 64);
// @ts-ignore: decorator
@lazy let dNd: i32 = 0;
// @ts-ignore: decorator
@lazy let dDp: i32 = 0;
// @ts-ignore: decorator
@lazy let dTrunc = false;

function slowDecimal(start: usize, stop: usize, exp: i32): u64 {
  dNd = 0;
  dDp = 0;
  dTrunc = false;
  let sawDot = false;
  for (let p = start; p < stop; p++) {
    let c = load<u8>(p);
    if (c == 0x2e) {
      sawDot = true;
      dDp = dNd;
      continue;
    }
    let d = c - 0x30;
    if (d == 0 && dNd == 0) { // leading zeros
      dDp--;
      continue;
    }
    if (dNd < MAX_DIGITS) {
      store<u8>(digitsBuf + dNd, d);
      dNd++;
    } else if (d != 0) {
      dTrunc = true;
    }
  }
  if (!sawDot) dDp = dNd;
  trim();
  if (dNd == 0) return 0;
  dDp += exp;
  return floatBits();
}

function trim(): void {
  while (dNd > 0 && load<u8>(digitsBuf + dNd - 1) == 0) dNd--;
  if (dNd == 0) dDp = 0;
}

// @ts-ignore: decorator
@inline const MAX_SHIFT: i32 = 60;

function shift(k: i32): void {
  if (dNd == 0) return;
  if (k > 0) {
    while (k > MAX_SHIFT) {
      leftShift(MAX_SHIFT);
      k -= MAX_SHIFT;
    }
    leftShift(k);
  } else if (k < 0) {
    while (k < -MAX_SHIFT) {
      rightShift(MAX_SHIFT);
      k += MAX_SHIFT;
    }
    rightShift(-k);
  }
}

/** Multiplies the decimal by 2^k (k <= 60): digits computed right to left into shiftBuf. */
function leftShift(k: i32): void {
  let w: i32 = MAX_DIGITS + 63; // write position in shiftBuf, walking down
  let n: u64 = 0;
  for (let r = dNd - 1; r >= 0; r--) {
    n += <u64>load<u8>(digitsBuf + r) << k;
    let quo = n / 10;
    store<u8>(shiftBuf + w, <u8>(n - 10 * quo));
    w--;
    n = quo;
  }
  while (n > 0) {
    let quo = n / 10;
    store<u8>(shiftBuf + w, <u8>(n - 10 * quo));
    w--;
    n = quo;
  }
  let produced = MAX_DIGITS + 63 - w;
  let from = w + 1;
  let keep = produced < MAX_DIGITS ? produced : MAX_DIGITS;
  for (let i = 0; i < keep; i++) store<u8>(digitsBuf + i, load<u8>(shiftBuf + from + i));
  for (let i = keep; i < produced; i++) if (load<u8>(shiftBuf + from + i) != 0) dTrunc = true;
  dDp += produced - dNd;
  dNd = keep;
  trim();
}

/** Divides the decimal by 2^k (k <= 60). */
function rightShift(k: i32): void {
  let r: i32 = 0;
  let w: i32 = 0;
  let n: u64 = 0;
  for (; (n >> <u64>k) == 0; r++) {
    if (r >= dNd) {
      if (n == 0) {
        dNd = 0;
        return;
      }
      while ((n >> <u64>k) == 0) {
        n = n * 10;
        r++;
      }
      break;
    }
    n = n * 10 + <u64>load<u8>(digitsBuf + r);
  }
  dDp -= r - 1;
  let mask: u64 = (<u64>1 << <u64>k) - 1;
  for (; r < dNd; r++) {
    let c = <u64>load<u8>(digitsBuf + r);
    let dig = n >> <u64>k;
    n &= mask;
    store<u8>(digitsBuf + w, <u8>dig);
    w++;
    n = n * 10 + c;
  }
  while (n > 0) {
    let dig = n >> <u64>k;
    n &= mask;
    if (w < MAX_DIGITS) {
      store<u8>(digitsBuf + w, <u8>dig);
      w++;
    } else if (dig > 0) {
      dTrunc = true;
    }
    n = n * 10;
  }
  dNd = w;
  trim();
}

function shouldRoundUp(nd: i32): bool {
  if (nd < 0 || nd >= dNd) return false;
  let d = load<u8>(digitsBuf + nd);
  if (d == 5 && nd + 1 == dNd) { // exactly halfway: round to even
    if (dTrunc) return true;
    return nd > 0 && (load<u8>(digitsBuf + nd - 1) & 1) == 1;
  }
  return d >= 5;
}

function roundedInteger(): u64 {
  if (dDp > 20) return u64.MAX_VALUE;
  let n: u64 = 0;
  let i: i32 = 0;
  for (; i < dDp && i < dNd; i++) n = n * 10 + <u64>load<u8>(digitsBuf + i);
  for (; i < dDp; i++) n *= 10;
  if (shouldRoundUp(dDp)) n++;
  return n;
}

// @ts-ignore: decorator
@inline function powtab(i: i32): i32 {
  // [1, 3, 6, 9, 13, 16, 19, 23, 26]: bits that bring a decimal with `i` integer digits below 1
  return i >= 9 ? 27 : <i32>load<u8>(POWTAB + <usize>i);
}
// @ts-ignore: decorator
@lazy const POWTAB: usize = memory.data<u8>([1, 3, 6, 9, 13, 16, 19, 23, 26]);

/** The f64 bits (sign excluded) of the decimal in digitsBuf. */
function floatBits(): u64 {
  const MANT_BITS: i32 = 52;
  const BIAS: i32 = -1023;
  let exp: i32 = 0;
  let mant: u64 = 0;
  if (dDp > 310) return 0x7ff0000000000000; // Infinity
  if (dDp < -330) return 0;
  while (dDp > 0) {
    let n = powtab(dDp);
    shift(-n);
    exp += n;
  }
  while (dDp < 0 || (dDp == 0 && load<u8>(digitsBuf) < 5)) {
    let n = powtab(-dDp);
    shift(n);
    exp -= n;
  }
  exp--; // [0.5, 1) -> [1, 2)
  if (exp < BIAS + 1) {
    let n = BIAS + 1 - exp;
    shift(-n);
    exp += n;
  }
  if (exp - BIAS >= 0x7ff) return 0x7ff0000000000000;
  shift(1 + MANT_BITS);
  mant = roundedInteger();
  if (mant == (<u64>2 << MANT_BITS)) {
    mant >>= 1;
    exp++;
    if (exp - BIAS >= 0x7ff) return 0x7ff0000000000000;
  }
  if ((mant & (<u64>1 << MANT_BITS)) == 0) exp = BIAS; // subnormal
  return (mant & ((<u64>1 << MANT_BITS) - 1)) | (<u64>((exp - BIAS) & 0x7ff) << MANT_BITS);
}

// ============================================================================================
// Reductions over typed elements: `(ptr, count)` forms (element count, not bytes) and View forms.
// Sums of floats add in 16 (f64) or 8 (f32) lanes and combine them at the end: not the
// left-to-right order of a plain loop, so the last bits can differ from it (exact for values whose
// partial sums are exact, e.g. integers below 2^53). min/max follow JS Math.min/max: NaN if any
// element is NaN, -0 below +0. An empty range gives 0 for sums, the type's largest value (or
// +Infinity) for min and smallest (or -Infinity) for max.

/** Sum of `count` i32 values at `ptr`, as i64 (no overflow below 2^32 elements). */
export function sumI32At(ptr: usize, count: usize): i64 {
  let i: usize = 0;
  let total: i64 = 0;
  if (ASC_FEATURE_SIMD) {
    let a0 = i64x2.splat(0), a1 = i64x2.splat(0), a2 = i64x2.splat(0), a3 = i64x2.splat(0);
    while (count - i >= 8) {
      let p = ptr + (i << 2);
      let v = v128.load(p), u = v128.load(p, 16);
      a0 = i64x2.add(a0, i64x2.extend_low_i32x4_s(v));
      a1 = i64x2.add(a1, i64x2.extend_high_i32x4_s(v));
      a2 = i64x2.add(a2, i64x2.extend_low_i32x4_s(u));
      a3 = i64x2.add(a3, i64x2.extend_high_i32x4_s(u));
      i += 8;
    }
    let s = i64x2.add(i64x2.add(a0, a1), i64x2.add(a2, a3));
    total = i64x2.extract_lane(s, 0) + i64x2.extract_lane(s, 1);
  }
  for (; i < count; i++) total += <i64>load<i32>(ptr + (i << 2));
  return total;
}

/** Sum of `count` i64 values at `ptr` (wrapping). */
export function sumI64At(ptr: usize, count: usize): i64 {
  let i: usize = 0;
  let total: i64 = 0;
  if (ASC_FEATURE_SIMD) {
    let a0 = i64x2.splat(0), a1 = i64x2.splat(0), a2 = i64x2.splat(0), a3 = i64x2.splat(0);
    while (count - i >= 8) {
      let p = ptr + (i << 3);
      a0 = i64x2.add(a0, v128.load(p));
      a1 = i64x2.add(a1, v128.load(p, 16));
      a2 = i64x2.add(a2, v128.load(p, 32));
      a3 = i64x2.add(a3, v128.load(p, 48));
      i += 8;
    }
    let s = i64x2.add(i64x2.add(a0, a1), i64x2.add(a2, a3));
    total = i64x2.extract_lane(s, 0) + i64x2.extract_lane(s, 1);
  }
  for (; i < count; i++) total += load<i64>(ptr + (i << 3));
  return total;
}

/** Sum of `count` f32 values at `ptr`, accumulated in f64. */
export function sumF32At(ptr: usize, count: usize): f64 {
  let i: usize = 0;
  let total: f64 = 0;
  if (ASC_FEATURE_SIMD) {
    let a0 = f64x2.splat(0), a1 = f64x2.splat(0), a2 = f64x2.splat(0), a3 = f64x2.splat(0);
    while (count - i >= 8) {
      let p = ptr + (i << 2);
      let v = v128.load(p), u = v128.load(p, 16);
      a0 = f64x2.add(a0, f64x2.promote_low_f32x4(v));
      a1 = f64x2.add(a1, f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1)));
      a2 = f64x2.add(a2, f64x2.promote_low_f32x4(u));
      a3 = f64x2.add(a3, f64x2.promote_low_f32x4(i32x4.shuffle(u, u, 2, 3, 0, 1)));
      i += 8;
    }
    let s = f64x2.add(f64x2.add(a0, a1), f64x2.add(a2, a3));
    total = f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
  } else {
    let t1: f64 = 0, t2: f64 = 0, t3: f64 = 0;
    for (; count - i >= 4; i += 4) {
      let p = ptr + (i << 2);
      total += <f64>load<f32>(p);
      t1 += <f64>load<f32>(p, 4);
      t2 += <f64>load<f32>(p, 8);
      t3 += <f64>load<f32>(p, 12);
    }
    total = (total + t1) + (t2 + t3);
  }
  for (; i < count; i++) total += <f64>load<f32>(ptr + (i << 2));
  return total;
}

/** Sum of `count` f64 values at `ptr`. */
export function sumF64At(ptr: usize, count: usize): f64 {
  let i: usize = 0;
  let total: f64 = 0;
  if (ASC_FEATURE_SIMD) {
    // Eight f64x2 accumulators (16 lanes in flight hide the add latency), 128 bytes per step.
    let a0 = f64x2.splat(0), a1 = f64x2.splat(0), a2 = f64x2.splat(0), a3 = f64x2.splat(0);
    let a4 = f64x2.splat(0), a5 = f64x2.splat(0), a6 = f64x2.splat(0), a7 = f64x2.splat(0);
    if (count >= 16) {
      let p = ptr;
      let stop = ptr + ((count & ~<usize>15) << 3);
      do {
        a0 = f64x2.add(a0, v128.load(p));
        a1 = f64x2.add(a1, v128.load(p, 16));
        a2 = f64x2.add(a2, v128.load(p, 32));
        a3 = f64x2.add(a3, v128.load(p, 48));
        a4 = f64x2.add(a4, v128.load(p, 64));
        a5 = f64x2.add(a5, v128.load(p, 80));
        a6 = f64x2.add(a6, v128.load(p, 96));
        a7 = f64x2.add(a7, v128.load(p, 112));
        p += 128;
      } while (p < stop);
      i = count & ~<usize>15;
    }
    let s = f64x2.add(f64x2.add(f64x2.add(a0, a1), f64x2.add(a2, a3)), f64x2.add(f64x2.add(a4, a5), f64x2.add(a6, a7)));
    total = f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
  } else {
    let t1: f64 = 0, t2: f64 = 0, t3: f64 = 0;
    for (; count - i >= 4; i += 4) {
      let p = ptr + (i << 3);
      total += load<f64>(p);
      t1 += load<f64>(p, 8);
      t2 += load<f64>(p, 16);
      t3 += load<f64>(p, 24);
    }
    total = (total + t1) + (t2 + t3);
  }
  for (; i < count; i++) total += load<f64>(ptr + (i << 3));
  return total;
}

/** Smallest (`wantMax` false) or largest of `count` values of T at `ptr`. */
// @ts-ignore: decorator
@inline function extremeAt<T>(ptr: usize, count: usize, wantMax: bool): T {
  let i: usize = 0;
  let best: T;
  if (isFloat<T>()) best = <T>(wantMax ? -Infinity : Infinity);
  else if (sizeof<T>() == 8) best = <T>(wantMax ? i64.MIN_VALUE : i64.MAX_VALUE);
  else best = <T>(wantMax ? i32.MIN_VALUE : i32.MAX_VALUE);
  if (ASC_FEATURE_SIMD) {
    let lanes = <usize>(16 / sizeof<T>());
    if (count >= lanes * 4) {
      let init: v128;
      if (isFloat<T>() && sizeof<T>() == 8) init = f64x2.splat(<f64>best);
      else if (isFloat<T>()) init = f32x4.splat(<f32>best);
      else if (sizeof<T>() == 8) init = i64x2.splat(<i64>best);
      else init = i32x4.splat(<i32>best);
      let a0 = init, a1 = init, a2 = init, a3 = init;
      // Floats: pmin/pmax (one x86 instruction each, unlike NaN-propagating min/max) while NaNs
      // and the zero of the sign that wins (-0 for min, +0 for max) are noted on the side.
      let nan = i8x16.splat(0), zero = i8x16.splat(0);
      while (count - i >= lanes * 4) {
        let p = ptr + i * sizeof<T>();
        let v0 = v128.load(p), v1 = v128.load(p, 16), v2 = v128.load(p, 32), v3 = v128.load(p, 48);
        a0 = pick<T>(a0, v0, wantMax);
        a1 = pick<T>(a1, v1, wantMax);
        a2 = pick<T>(a2, v2, wantMax);
        a3 = pick<T>(a3, v3, wantMax);
        if (isFloat<T>()) {
          nan = v128.or(nan, v128.or(v128.or(isNaNLanes<T>(v0), isNaNLanes<T>(v1)), v128.or(isNaNLanes<T>(v2), isNaNLanes<T>(v3))));
          zero = v128.or(zero, v128.or(v128.or(isZeroLanes<T>(v0, wantMax), isZeroLanes<T>(v1, wantMax)), v128.or(isZeroLanes<T>(v2, wantMax), isZeroLanes<T>(v3, wantMax))));
        }
        i += lanes * 4;
      }
      let s = pick<T>(pick<T>(a0, a1, wantMax), pick<T>(a2, a3, wantMax), wantMax);
      let at = scratch16(s);
      for (let k: usize = 0; k < lanes; k++) best = one<T>(best, load<T>(at + k * sizeof<T>()), wantMax);
      if (isFloat<T>()) {
        if (v128.any_true(nan)) return <T>NaN;
        if (best == <T>0) best = <T>(v128.any_true(zero) == wantMax ? 0.0 : -0.0); // the zero's sign
      }
    }
  }
  for (; i < count; i++) best = one<T>(best, load<T>(ptr + i * sizeof<T>()), wantMax);
  return best;
}

// @ts-ignore: decorator
@lazy const lanesScratch: usize = memory.data(16, 16);

/** Spills a vector to a 16-byte static scratch (to read its lanes generically). */
// @ts-ignore: decorator
@inline function scratch16(v: v128): usize {
  v128.store(lanesScratch, v);
  return lanesScratch;
}

/** All-ones lanes where `v` is NaN. */
// @ts-ignore: decorator
@inline function isNaNLanes<T>(v: v128): v128 {
  return sizeof<T>() == 8 ? f64x2.ne(v, v) : f32x4.ne(v, v);
}

/** All-ones lanes holding the zero that wins: -0 for min, +0 for max (as bits). */
// @ts-ignore: decorator
@inline function isZeroLanes<T>(v: v128, wantMax: bool): v128 {
  if (sizeof<T>() == 8) return i64x2.eq(v, i64x2.splat(wantMax ? 0 : i64.MIN_VALUE));
  return i32x4.eq(v, i32x4.splat(wantMax ? 0 : i32.MIN_VALUE));
}

// @ts-ignore: decorator
@inline function pick<T>(a: v128, b: v128, wantMax: bool): v128 {
  // pmin(a, b) = b < a ? b : a, pmax(a, b) = a < b ? b : a: NaN and zero signs are fixed up by the
  // caller (extremeAt), which notes them separately.
  if (isFloat<T>() && sizeof<T>() == 8) return wantMax ? f64x2.pmax(a, b) : f64x2.pmin(a, b);
  if (isFloat<T>()) return wantMax ? f32x4.pmax(a, b) : f32x4.pmin(a, b);
  if (sizeof<T>() == 8) return v128.bitselect(a, b, wantMax ? i64x2.gt_s(a, b) : i64x2.lt_s(a, b));
  return wantMax ? i32x4.max_s(a, b) : i32x4.min_s(a, b);
}

// @ts-ignore: decorator
@inline function one<T>(a: T, b: T, wantMax: bool): T {
  if (isFloat<T>()) return wantMax ? max<T>(a, b) : min<T>(a, b); // f64.min/max: NaN-propagating, -0 < +0
  return wantMax ? (b > a ? b : a) : (b < a ? b : a);
}

/** Sum of an i32 view, as i64. */
export function sumI32(values: View<i32>): i64 { return sumI32At(values.dataStart, values.length); }
/** Sum of an i64 view (wrapping). */
export function sumI64(values: View<i64>): i64 { return sumI64At(values.dataStart, values.length); }
/** Sum of an f32 view, accumulated in f64. */
export function sumF32(values: View<f32>): f64 { return sumF32At(values.dataStart, values.length); }
/** Sum of an f64 view. */
export function sumF64(values: View<f64>): f64 { return sumF64At(values.dataStart, values.length); }

/** Smallest element of a view of i32, i64, f32 or f64. */
export function minOf<T>(values: View<T>): T {
  checkReducible<T>();
  return extremeAt<T>(values.dataStart, values.length, false);
}
/** Largest element of a view of i32, i64, f32 or f64. */
export function maxOf<T>(values: View<T>): T {
  checkReducible<T>();
  return extremeAt<T>(values.dataStart, values.length, true);
}

// @ts-ignore: decorator
@inline function checkReducible<T>(): void {
  if (!(isFloat<T>() || (isInteger<T>() && isSigned<T>() && sizeof<T>() >= 4))) {
    ERROR("vmwindow: minOf/maxOf need T in i32, i64, f32, f64");
  }
}

export function minI32At(ptr: usize, count: usize): i32 { return extremeAt<i32>(ptr, count, false); }
export function maxI32At(ptr: usize, count: usize): i32 { return extremeAt<i32>(ptr, count, true); }
export function minI64At(ptr: usize, count: usize): i64 { return extremeAt<i64>(ptr, count, false); }
export function maxI64At(ptr: usize, count: usize): i64 { return extremeAt<i64>(ptr, count, true); }
export function minF32At(ptr: usize, count: usize): f32 { return extremeAt<f32>(ptr, count, false); }
export function maxF32At(ptr: usize, count: usize): f32 { return extremeAt<f32>(ptr, count, true); }
export function minF64At(ptr: usize, count: usize): f64 { return extremeAt<f64>(ptr, count, false); }
export function maxF64At(ptr: usize, count: usize): f64 { return extremeAt<f64>(ptr, count, true); }
