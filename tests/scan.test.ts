// guest-sdk/assembly/scan.ts in a real window (bool results come back as 1 / 0) (libvmwindow + Wasmtime), built twice: with the SDK
// preset (SIMD) and with asconfig.nosimd.json (scalar/SWAR fallbacks). Every result is checked
// against plain JavaScript over the same bytes (`region.bytes`), never against the SDK itself.
// Ranges cover every start alignment and the lengths around each vector width; ranges that end at
// a region's last byte where the next byte is a PROT_NONE slot show that nothing past the end is
// ever read (such a read traps: checked too).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { Window, GuestTrap, type Guest, type Region } from "@vmwindow/bun";
import { patternBytes, tempFile, xorshift32 } from "./helpers.ts";

const dir = import.meta.dir;
const SIMD = join(dir, "build", "scan-probe.wasm");
const NOSIMD = join(dir, "build", "scan-probe.nosimd.wasm");

beforeAll(async () => {
  // Build missing guests (normally turbo's `build` has done this: tests/build-guests.ts builds both).
  if (![SIMD, NOSIMD].every(existsSync)) {
    const built = Bun.spawn([process.execPath, "build-guests.ts"], { cwd: dir, stdout: "inherit", stderr: "inherit" });
    if ((await built.exited) !== 0) throw new Error("bun tests/build-guests.ts failed");
  }
}, 120_000);

const LENGTHS = [0, 1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47, 48, 63, 64, 65, 100, 127, 128, 129, 255, 256, 1000, 4097];

/** Bytes where `0x0a`, `0x2c`, `0x22` are common and `0xff` never occurs. */
function textLike(n: number, seed: number): Uint8Array {
  const raw = patternBytes(n, seed);
  for (let i = 0; i < n; i++) {
    const r = raw[i]!;
    raw[i] = r < 6 ? 0x0a : r < 12 ? 0x2c : r < 14 ? 0x22 : 0x20 + (r % 0x5f);
  }
  return raw;
}

describe("views and handles kept across calls (real window)", () => {
  test("a kept view follows its entry (unmap: length 0 and [i] aborts; id reused: the new file); a kept handle detects both", () => {
    using window = Window.create({ sizeBytes: 16 * 2 ** 20, guestBytes: 2 ** 20 });
    using guest = window.instantiate(SIMD);
    const g = guest.exports as any;
    const a = window.mapFile(tempFile(new Uint8Array([1, 2, 3])));
    g.keep(a.id);
    expect([g.kept_length(), g.kept_get(2), g.kept_current(), g.kept_resolve_length()]).toEqual([3, 3, 1, 3]);
    const id = a.id;
    a.unmap();
    expect(g.kept_length()).toBe(0);
    expect(() => g.kept_get(0)).toThrow(`vmwindow: index 0 out of range for region ${id} (0 bytes)`);
    expect(g.kept_current()).toBe(0);
    expect(() => g.kept_resolve_length()).toThrow(`vmwindow: region ${id} is not mapped`);
    using b = window.mapFile(tempFile(new Uint8Array([9, 8, 7, 6])));
    expect(b.id).toBe(id); // the id (and slot) are reused by another file
    expect([g.kept_length(), g.kept_get(0)]).toEqual([4, 9]); // the kept view reads the new file (documented)
    expect(g.kept_current()).toBe(0); // ... which the handle detects
    expect(() => g.kept_resolve_length()).toThrow(new RegExp(`vmwindow: region ${id} changed since its handle was taken \\(generation \\d+, now \\d+\\)`));
    g.keep(b.id);
    expect([g.kept_current(), g.kept_resolve_length()]).toEqual([1, 4]);
  });
});

describe.each([
  ["SIMD", SIMD, true],
  ["no SIMD", NOSIMD, false],
])("scan primitives (%s build)", (_name, path, simd) => {
  let window: Window;
  let g: Guest;
  let text: Region; // 200_000 bytes of text-like data
  let textBytes: Uint8Array;
  let exports: Record<string, (...args: any[]) => any>;

  beforeAll(() => {
    window = Window.create({ sizeBytes: 64 * 2 ** 20, guestBytes: 2 ** 20 });
    g = window.instantiate(path);
    exports = g.exports as any;
    textBytes = textLike(200_000, 7);
    text = window.mapFile(tempFile(textBytes));
  });
  afterAll(() => window.close());

  test("the build has SIMD exactly when its preset enables it", () => {
    expect(exports.simd!()).toBe(simd ? 1 : 0);
  });

  test("indexOfByte / lastIndexOfByte / countByte equal JS over every alignment and length", () => {
    const b = textBytes;
    let checked = 0;
    for (const start of [0, 1, 3, 7, 8, 13, 15, 16, 31, 4093]) {
      for (const len of LENGTHS) {
        const view = b.subarray(start, start + len);
        for (const needle of [0x0a, 0x2c, 0x22, 0x41, 0xff]) {
          expect(exports.index_of!(text.offset + start, len, needle)).toBe(view.indexOf(needle));
          expect(exports.last_index_of!(text.offset + start, len, needle)).toBe(view.lastIndexOf(needle));
          let n = 0;
          for (const x of view) if (x === needle) n++;
          expect(exports.count!(text.offset + start, len, needle)).toBe(n);
          checked++;
        }
      }
    }
    // whole region, and a needle found only in the last byte / only in the first byte
    let n = 0;
    for (const x of b) if (x === 0x0a) n++;
    expect(exports.count!(text.offset, b.length, 0x0a)).toBe(n);
    expect(checked).toBe(10 * LENGTHS.length * 5);
  });

  test("a needle at every position of a 200-byte range is found at that position", () => {
    using r = window.mapAnonymous(4096);
    for (let pos = 0; pos < 200; pos++) {
      r.bytes.fill(0x61, 0, 200);
      r.bytes[pos] = 0x0a;
      expect(exports.index_of!(r.offset, 200, 0x0a)).toBe(pos);
      expect(exports.last_index_of!(r.offset, 200, 0x0a)).toBe(pos);
      expect(exports.count!(r.offset, 200, 0x0a)).toBe(1);
      expect(exports.index_of!(r.offset, pos, 0x0a)).toBe(-1); // the range ends right before it
    }
    r.bytes.fill(0x0a, 0, 4096); // all needles: the count's byte-lane accumulators must not wrap
    expect(exports.count!(r.offset, 4096, 0x0a)).toBe(4096);
  });

  test("indexOfAny equals JS for sets of 1-4 bytes", () => {
    const b = textBytes;
    for (const start of [0, 5, 16, 333]) {
      for (const len of LENGTHS) {
        const view = b.subarray(start, start + len);
        const first = (set: number[]) => view.findIndex((x) => set.includes(x));
        expect(exports.index_of_any!(text.offset + start, len, 0x2c, 0x0a, 0x22, 0x22)).toBe(first([0x2c, 0x0a, 0x22]));
        expect(exports.index_of_any3!(text.offset + start, len, 0x2c, 0x0a, 0x22)).toBe(first([0x2c, 0x0a, 0x22]));
        expect(exports.index_of_any!(text.offset + start, len, 0xff, 0xfe, 0x22, 0xfd)).toBe(first([0x22]));
        expect(exports.index_of_any!(text.offset + start, len, 0xff, 0xff, 0xff, 0xff)).toBe(-1);
      }
    }
  });

  test("nothing past a range's end is read: ranges ending at a slot's last byte (the next byte traps)", () => {
    using edgeWindow = Window.create({ sizeBytes: 16 * 2 ** 20, guestBytes: 2 ** 20 });
    using edgeGuest = edgeWindow.instantiate(path);
    const e = edgeGuest.exports as any;
    const bytes = textLike(65536, 3);
    bytes[65535] = 0x0a;
    using edge = edgeWindow.mapFile(tempFile(bytes)); // exactly one slot; the next slot is free (PROT_NONE)
    const end = edge.offset + 65536;
    // the oracle for "past the end": one byte more traps
    expect(() => e.count(end - 1, 2, 0x0a)).toThrow(GuestTrap);
    for (let len = 0; len <= 260; len++) {
      const view = bytes.subarray(65536 - len);
      expect(e.index_of(end - len, len, 0x2c)).toBe(view.indexOf(0x2c));
      expect(e.last_index_of(end - len, len, 0x0a)).toBe(view.lastIndexOf(0x0a));
      let n = 0;
      for (const x of view) if (x === 0x22) n++;
      expect(e.count(end - len, len, 0x22)).toBe(n);
      expect(e.index_of_any(end - len, len, 0xff, 0xfe, 0xfd, 0xfc)).toBe(-1);
      expect(e.equal(end - len, edge.offset + 65536 - len, len)).toBe(1);
      e.hash(end - len, len);
      e.token_stats(end - len, len, 0x2c, 0x0a);
      e.record_stats(end - len, len, 0x2c, 0x0a);
      e.parse_float(end - len, len);
      e.parse_int(end - len, len);
    }
    expect(e.count(edge.offset, 65536, 0x0a)).toBe(bytes.filter((x) => x === 0x0a).length);
    const tail = edgeWindow.mapAnonymous(65536);
    expect(e.copy(tail.offset, end - 100, 100) >>> 0).toBe(tail.offset);
    expect(Buffer.compare(tail.bytes.subarray(0, 100), bytes.subarray(65436))).toBe(0);
    tail.unmap();
  });

  test("bytesEqual / startsWith find a single differing byte anywhere", () => {
    const a = patternBytes(300, 11);
    using ra = window.mapFile(tempFile(a));
    using rb = window.mapAnonymous(4096);
    for (const len of LENGTHS.filter((n) => n <= 300)) {
      rb.bytes.set(a);
      expect(exports.equal!(ra.offset, rb.offset, len)).toBe(1);
      expect(exports.starts_with!(ra.offset, len, rb.offset, len)).toBe(1);
      expect(exports.starts_with!(ra.offset, len, rb.offset, len + 1)).toBe(0); // prefix longer than the range
      for (const k of [0, len >> 1, len - 1].filter((k) => k >= 0 && k < len)) {
        rb.bytes[k] ^= 0x40;
        expect(exports.equal!(ra.offset, rb.offset, len)).toBe(0);
        expect(exports.starts_with!(ra.offset, 300, rb.offset, len)).toBe(0);
        rb.bytes[k] ^= 0x40;
      }
    }
  });

  test("equalsText / startsWithText compare UTF-8 (non-ASCII, surrogate pairs)", () => {
    using r = window.mapAnonymous(4096);
    const write = (s: string) => { const u = new TextEncoder().encode(s); r.bytes.fill(0); r.bytes.set(u); return u.length; };
    let n = write("héllo, wörld 😀");
    expect(exports.equals_hello!(r.offset, n)).toBe(1);
    expect(exports.equals_hello!(r.offset, n - 1)).toBe(0);
    expect(exports.starts_with_hello!(r.offset, n)).toBe(1);
    n = write("héllo, wörld 😁");
    expect(exports.equals_hello!(r.offset, n)).toBe(0);
    n = write("hello, world");
    expect(exports.starts_with_hello!(r.offset, n)).toBe(0);
    n = write("hé");
    expect(exports.starts_with_hello!(r.offset, n)).toBe(0);
  });

  test("copyBytes copies a region into guest memory and back out, every length and alignment", () => {
    using out = window.mapAnonymous(65536);
    const heap = exports.scratch!(8192) >>> 0;
    for (const start of [0, 1, 15, 16, 17]) {
      for (const len of LENGTHS) {
        out.bytes.fill(0xee);
        exports.copy!(heap + 3, text.offset + start, len); // region -> guest heap (unaligned)
        exports.copy!(out.offset + 1, heap + 3, len); // guest heap -> region
        expect(Buffer.compare(out.bytes.subarray(1, 1 + len), textBytes.subarray(start, start + len))).toBe(0);
        expect(out.bytes[0]).toBe(0xee); // nothing written outside [dst, dst + len)
        expect(out.bytes[1 + len]).toBe(0xee);
      }
    }
  });

  test("Cursor: lines like split('\\n') without the final empty piece, fields exactly like split(sep)", () => {
    using r = window.mapAnonymous(1 << 20);
    const oracle = (s: Uint8Array, sep: number): bigint => {
      const M = (1n << 64n) - 1n;
      let nLines = 0n, nFields = 0n, check = 0n;
      let pos = 0;
      const lines: [number, number][] = [];
      for (let i = 0; i <= s.length; i++) {
        if (i === s.length || s[i] === 0x0a) {
          if (i === s.length && pos === s.length) break; // no final empty piece
          lines.push([pos, i]);
          pos = i + 1;
        }
      }
      for (const [a, b] of lines) {
        nLines++;
        let f = a;
        for (let i = a; i <= b; i++) {
          if (i === b || s[i] === sep) {
            nFields++;
            check = (check * 31n + BigInt(f) * 7n + BigInt(i - f)) & M;
            f = i + 1;
          }
        }
      }
      return ((nLines << 40n) ^ (nFields << 20n) ^ check) & M;
    };
    // cross-check the oracle itself against String.prototype.split
    const split = (s: string, sep: string) => { const l = s.split("\n"); if (l[l.length - 1] === "") l.pop(); return l.map((x) => x.split(sep).length).reduce((a, b) => a + b, 0); };
    expect(split("a,,b,\n\nc\n", ",")).toBe(4 + 1 + 1);
    const cases = ["", "\n", "\n\n", "a", "a\n", "a\nb", ",", "a,", ",a", "a,,b,\n\nc\n", "x,y\r\nz,w\r\n", String.fromCharCode(...textLike(5000, 9))];
    for (const c of cases) {
      const bytes = new TextEncoder().encode(c);
      r.bytes.set(bytes);
      const got = BigInt.asUintN(64, BigInt(exports.split_stats!(r.offset, bytes.length, 0x2c)));
      expect(got).toBe(oracle(bytes, 0x2c));
    }
    // the whole text region, fields on '"'
    expect(BigInt.asUintN(64, BigInt(exports.split_stats!(text.offset, textBytes.length, 0x22)))).toBe(oracle(textBytes, 0x22));
  });

  /** `exports[stats](offset, length, ',', '\n')` equals `oracle` on each case (written into `r`)
   * and over the text region at every start and length below (blocks of 64 and their tails). */
  const expectStats = (stats: string, r: Region, cases: string[], oracle: (s: Uint8Array, sep: number, eol: number) => bigint) => {
    for (const c of cases) {
      const bytes = new TextEncoder().encode(c);
      r.bytes.set(bytes);
      expect([c, BigInt.asUintN(64, BigInt(exports[stats]!(r.offset, bytes.length, 0x2c, 0x0a)))]).toEqual([c, oracle(bytes, 0x2c, 0x0a)]);
    }
    for (const start of [0, 1, 63, 64, 65]) {
      for (const len of [...LENGTHS, 5000, 100_000]) {
        const view = textBytes.subarray(start, start + len);
        expect(BigInt.asUintN(64, BigInt(exports[stats]!(text.offset + start, len, 0x2c, 0x0a)))).toBe(oracle(view, 0x2c, 0x0a));
      }
    }
  };

  test("Tokens: pieces between `sep`/`eol` bytes with the delimiter that ended each, like a regex split", () => {
    using r = window.mapAnonymous(1 << 20);
    const oracle = (s: Uint8Array, sep: number, eol: number): bigint => {
      const M = (1n << 64n) - 1n;
      let n = 0n, records = 0n, check = 0n, pos = 0, last = eol;
      const emit = (start: number, stop: number, delimiter: number) => {
        n++;
        if (delimiter !== sep) records++;
        check = (check * 31n + BigInt(start) * 7n + BigInt(stop - start) * 3n + BigInt(delimiter)) & M;
      };
      for (let i = 0; i < s.length; i++) {
        if (s[i] === sep || s[i] === eol) {
          emit(pos, i, s[i]!);
          last = s[i]!;
          pos = i + 1;
        }
      }
      if (pos < s.length || last === sep) emit(pos, s.length, 0x100); // the last piece (Tokens.END)
      return ((n << 44n) ^ (records << 24n) ^ check) & M;
    };
    expectStats("token_stats", r, ["", ",", "\n", "a", "a,b", "a,b\n", "a,\n", ",,\n\n,", "id,category,amount\n1,books,12.50\n2,toys,3\n"], oracle);
  });

  test("Tokens.nextRecord: the same pieces grouped into records; fields past MAX_FIELDS counted, not kept", () => {
    using r = window.mapAnonymous(1 << 20);
    const oracle = (s: Uint8Array, sep: number, eol: number): bigint => {
      const M = (1n << 64n) - 1n;
      let records = 0n, fields = 0n, check = 0n, pos = 0, last = eol;
      let current: [number, number][] = [];
      const end = () => {
        records++;
        fields += BigInt(current.length);
        for (const [a, b] of current.slice(0, 64)) check = (check * 31n + BigInt(a) * 7n + BigInt(b - a)) & M;
        check = (check * 31n + BigInt(current.length)) & M;
        current = [];
      };
      for (let i = 0; i < s.length; i++) {
        if (s[i] === sep || s[i] === eol) {
          current.push([pos, i]);
          if (s[i] === eol) end();
          last = s[i]!;
          pos = i + 1;
        }
      }
      if (pos < s.length || last === sep) { current.push([pos, s.length]); end(); }
      return ((records << 44n) ^ (fields << 24n) ^ check) & M;
    };
    const wide = Array.from({ length: 100 }, (_, i) => String(i)).join(",");
    expectStats("record_stats", r, ["", ",", "\n", "a", "a,b", "a,b\n", "a,\n", ",,\n\n,", "x\ny", wide + "\n" + wide, "id,category,amount\n1,books,12.50\n2,toys,3\n"], oracle);
  });

  test("hashBytes: equal bytes hash equal wherever they are; 1000 distinct keys, 1000 hashes; reads nothing past the range", () => {
    using r = window.mapAnonymous(1 << 20);
    const keys = Array.from({ length: 1000 }, (_, i) => `key-${i}-${"x".repeat(i % 37)}`);
    const seen = new Set<number>();
    let at = 0;
    for (const k of keys) {
      const u = new TextEncoder().encode(k);
      r.bytes.set(u, at);
      r.bytes.set(u, 500_000 + at + 3); // the same bytes elsewhere, another alignment
      const h = exports.hash!(r.offset + at, u.length) >>> 0;
      expect(exports.hash!(r.offset + 500_000 + at + 3, u.length) >>> 0).toBe(h);
      seen.add(h);
      at += u.length;
    }
    expect(seen.size).toBe(1000);
    // one differing byte anywhere changes the hash (lengths 1..40)
    for (let len = 1; len <= 40; len++) {
      r.bytes.fill(0x61, 0, len);
      const base = exports.hash!(r.offset, len) >>> 0;
      for (let k = 0; k < len; k++) {
        r.bytes[k] = 0x62;
        expect(exports.hash!(r.offset, len) >>> 0).not.toBe(base);
        r.bytes[k] = 0x61;
      }
    }
  });

  test("parseInteger is exact over i64 and reports the bytes it read", () => {
    using r = window.mapAnonymous(65536);
    const check = (s: string, value: bigint, consumed: number) => {
      const u = new TextEncoder().encode(s);
      r.bytes.set(u);
      expect([s, BigInt(exports.parse_int!(r.offset, u.length))]).toEqual([s, value]);
      expect([s, exports.parsed!() >>> 0]).toEqual([s, consumed]);
    };
    check("9223372036854775807", 9223372036854775807n, 19);
    check("-9223372036854775808", -9223372036854775808n, 20);
    check(" \t+42x", 42n, 5);
    check("007", 7n, 3);
    check("-0", 0n, 2);
    check("", 0n, 0);
    check("-", 0n, 0);
    check("x1", 0n, 0);
    let x = 0x12345678n;
    for (let i = 0; i < 5000; i++) {
      x = (x * 6364136223846793005n + 1442695040888963407n) & ((1n << 64n) - 1n);
      const v = BigInt.asIntN(64, x) >> BigInt(i % 64);
      const s = v.toString();
      check(s + (i % 3 === 0 ? "," : ""), v, s.length);
    }
  });

  test(`parseDecimal equals JS parseFloat on ${simd ? "1,000,000" : "100,000"} random inputs and the edge cases`, () => {
    const N = simd ? 1_000_000 : 100_000;
    const next = xorshift32(0x2545f491);
    const rnd = (n: number) => next() % n;
    const digits = (n: number) => { let s = ""; for (let i = 0; i < n; i++) s += String.fromCharCode(48 + rnd(10)); return s; };
    const inputs: string[] = [
      "0", "-0", "+0", "0.0", ".5", "5.", "-.5e-3", ".", "-", "e5", "1e", "1e+", "1e-", "1E5", "1.5E-5x",
      "Infinity", "-Infinity", "+Infinity", "Inf", "infinity", "NaN", "  \t\n42", "1e400", "-1e400", "1e-400",
      "2.2250738585072011e-308", "2.2250738585072014e-308", "4.9406564584124654e-324", "2.4703282292062327e-324",
      "2.4703282292062328e-324", "1.7976931348623157e308", "1.7976931348623158e308", "1.7976931348623159e308",
      "9007199254740993", "9007199254740992.5", "0.1", "0.2", "0.30000000000000004", "123456789012345678901234567890",
      "1" + "0".repeat(400) + "e-400", "0." + "0".repeat(350) + "1e300", "7.038531e-26", "1.00000000000000011102230246251565404236316680908203125",
      "1.00000000000000011102230246251565404236316680908203124", "1.00000000000000011102230246251565404236316680908203126",
      "3.14159265358979323846264338327950288419716939937510582097494459", "1_000", "12,5", "1e0001", "00000.000001e6",
    ];
    while (inputs.length < N) {
      const shape = rnd(10);
      let s = rnd(4) === 0 ? "-" : rnd(8) === 0 ? "+" : "";
      if (shape < 5) s += digits(1 + rnd(7)) + (rnd(2) ? "." + digits(rnd(4)) : ""); // CSV-like amounts
      else if (shape < 8) s += digits(1 + rnd(20)) + (rnd(3) ? "." + digits(rnd(22)) : ""); // long mantissas
      else s += (rnd(2) ? "" : "0.") + digits(1 + rnd(25)) + "e" + (rnd(2) ? "-" : rnd(2) ? "+" : "") + String(rnd(rnd(2) ? 30 : 345));
      if (rnd(10) === 0) s += ["x", ",", " ", "e", "e+", ".", "-"][rnd(7)];
      inputs.push(s);
    }
    // all inputs back to back in one region, each parsed from its own offset with its own length
    const encoder = new TextEncoder();
    const encoded = inputs.map((s) => encoder.encode(s));
    const total = encoded.reduce((a, u) => a + u.length, 0);
    using r = window.mapAnonymous(total);
    const offsets = new Uint32Array(encoded.length + 1);
    for (let i = 0, at = 0; i < encoded.length; i++) {
      r.bytes.set(encoded[i]!, at);
      offsets[i] = at;
      at += encoded[i]!.length;
      offsets[i + 1] = at;
    }
    const parse = exports.parse_float!;
    const parsed = exports.parsed!;
    const wrong: string[] = [];
    const numberPrefix = /^[ \t\n\v\f\r]*[+-]?(Infinity|(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?)/;
    for (let i = 0; i < inputs.length; i++) {
      const got = parse(r.offset + offsets[i]!, offsets[i + 1]! - offsets[i]!);
      const want = parseFloat(inputs[i]!);
      const consumed = numberPrefix.exec(inputs[i]!)?.[0].length ?? 0;
      if (!Object.is(got, want) || parsed() !== consumed) {
        if (wrong.length < 10) wrong.push(`${JSON.stringify(inputs[i])}: ${got} (read ${parsed()}) vs parseFloat ${want} (${consumed})`);
        else break;
      }
    }
    expect(wrong).toEqual([]);
  }, 120_000);

  describe("reductions over typed views", () => {
    const typed = (ctor: any, values: number[] | bigint[]) => new Uint8Array(new ctor(values).buffer);
    const map = (bytes: Uint8Array, extra = 0) => {
      const b = new Uint8Array(bytes.length + extra); // extra: trailing bytes short of one element
      b.set(bytes);
      b.fill(0x7f, bytes.length);
      return window.mapFile(tempFile(b));
    };
    const counts = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 100, 100_003];

    test("i32 / i64: exact sums (BigInt), min, max", () => {
      let seed = 99;
      const rnd = () => { seed = (seed * 1103515245 + 12345) >>> 0; return seed; };
      for (const n of counts) {
        const i32 = Array.from({ length: n }, () => rnd() | 0);
        using r32 = map(typed(Int32Array, i32), 3);
        expect(BigInt(exports.sum_i32!(r32.id))).toBe(i32.reduce((a, v) => a + BigInt(v), 0n));
        expect(exports.min_i32!(r32.id)).toBe(i32.reduce((a, v) => Math.min(a, v)));
        expect(exports.max_i32!(r32.id)).toBe(i32.reduce((a, v) => Math.max(a, v)));
        const i64 = Array.from({ length: n }, () => BigInt.asIntN(64, (BigInt(rnd()) << 32n) | BigInt(rnd())));
        using r64 = map(typed(BigInt64Array, i64), 7);
        expect(BigInt(exports.sum_i64!(r64.id))).toBe(BigInt.asIntN(64, i64.reduce((a, v) => a + v, 0n)));
        expect(BigInt(exports.min_i64!(r64.id))).toBe(i64.reduce((a, v) => (v < a ? v : a)));
        expect(BigInt(exports.max_i64!(r64.id))).toBe(i64.reduce((a, v) => (v > a ? v : a)));
      }
    });

    test("f32 / f64: sums exact for integer data, min/max like Math.min/max (NaN, -0)", () => {
      let seed = 5;
      const rnd = () => { seed = (seed * 1103515245 + 12345) >>> 0; return seed; };
      for (const n of counts) {
        const ints = Array.from({ length: n }, () => (rnd() % 2048) - 1024);
        using f64 = map(typed(Float64Array, ints), 5);
        using f32 = map(typed(Float32Array, ints), 3);
        const sum = ints.reduce((a, v) => a + v, 0);
        expect(exports.sum_f64!(f64.id)).toBe(sum);
        expect(exports.sum_f32!(f32.id)).toBe(sum);
        const real = Array.from({ length: n }, () => (rnd() / 2 ** 32 - 0.5) * 1e6);
        using rf64 = map(typed(Float64Array, real));
        using rf32 = map(typed(Float32Array, real));
        const r32 = real.map(Math.fround);
        expect(exports.min_f64!(rf64.id)).toBe(real.reduce((a, v) => Math.min(a, v)));
        expect(exports.max_f64!(rf64.id)).toBe(real.reduce((a, v) => Math.max(a, v)));
        expect(exports.min_f32!(rf32.id)).toBe(r32.reduce((a, v) => Math.min(a, v)));
        expect(exports.max_f32!(rf32.id)).toBe(r32.reduce((a, v) => Math.max(a, v)));
        // random reals: the sum differs from a left-to-right loop by rounding only
        const loop = real.reduce((a, v) => a + v, 0);
        expect(Math.abs(exports.sum_f64!(rf64.id) - loop)).toBeLessThanOrEqual(1e-9 * real.reduce((a, v) => a + Math.abs(v), 0));
      }
      for (const special of [[1, NaN, 2], [0, -0], [-0, 0], [3, -Infinity, Infinity]]) {
        const many = Array.from({ length: 37 }, (_, i) => special[i % special.length]!);
        using r = map(typed(Float64Array, many));
        using r32 = map(typed(Float32Array, many));
        const min = many.reduce((a, v) => Math.min(a, v));
        const max = many.reduce((a, v) => Math.max(a, v));
        expect(Object.is(exports.min_f64!(r.id), min)).toBe(true);
        expect(Object.is(exports.max_f64!(r.id), max)).toBe(true);
        expect(Object.is(exports.min_f32!(r32.id), min)).toBe(true);
        expect(Object.is(exports.max_f32!(r32.id), max)).toBe(true);
      }
    });

    test("a view shorter than one element is empty: sums 0, min/max the identities", () => {
      using r = map(new Uint8Array(3));
      expect(BigInt(exports.sum_i64!(r.id))).toBe(0n);
      expect(exports.sum_f64!(r.id)).toBe(0);
      expect(exports.min_i32!(r.id)).toBe(2147483647);
      expect(exports.max_i32!(r.id)).toBe(-2147483648);
      expect(exports.min_f64!(r.id)).toBe(Infinity);
      expect(exports.max_f64!(r.id)).toBe(-Infinity);
      expect(BigInt(exports.min_i64!(r.id))).toBe(9223372036854775807n);
    });
  });
});
