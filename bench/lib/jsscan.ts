// The "Bun JavaScript" contender's scans: the fastest plain-JS forms found (SWAR over 32-bit words
// for newlines: ~2x a byte loop, as fast as an indexOf/memchr loop on ~60-byte lines and independent
// of line length; four accumulators for f64).

export function countNewlinesJs(bytes: Uint8Array): number {
  const words = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length >>> 2);
  let n = 0;
  for (let i = 0; i < words.length; i++) {
    const x = words[i]! ^ 0x0a0a0a0a;
    // High bit of each byte set exactly where the byte of x is zero (no carries across bytes).
    const zero = ~(((x & 0x7f7f7f7f) + 0x7f7f7f7f) | x | 0x7f7f7f7f);
    if (zero !== 0) n += Math.imul(zero >>> 7, 0x01010101) >>> 24;
  }
  for (let i = words.length * 4; i < bytes.length; i++) if (bytes[i] === 10) n++;
  return n;
}

export function sumF64Js(bytes: Uint8Array): number {
  const values = new Float64Array(bytes.buffer, bytes.byteOffset, bytes.length >>> 3);
  let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
  const n4 = values.length & ~3;
  let i = 0;
  for (; i < n4; i += 4) {
    a0 += values[i]!;
    a1 += values[i + 1]!;
    a2 += values[i + 2]!;
    a3 += values[i + 3]!;
  }
  for (; i < values.length; i++) a0 += values[i]!;
  return a0 + a1 + (a2 + a3);
}
