// CSV group-by for the as-written workload: the generated file, two plain-JavaScript contenders (a
// byte loop over Bun.mmap and the idiomatic decode/split/parseFloat), and one canonical form of a
// result so every contender's answer is compared as text.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, renameSync, statSync, writeSync } from "node:fs";
import { join } from "node:path";
import { rng, sizeName } from "./files.ts";

const CATEGORIES = [
  "books", "music", "games", "garden", "tools", "toys", "food", "drinks", "shoes", "clothes",
  "sports", "health", "beauty", "office", "pets", "baby", "auto", "travel", "phones", "computers",
];

/** `id,category,amount` rows (amount with two decimals), header first, at least `bytes` bytes. */
export function ensureCsv(dir: string, bytes: number): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `sales-${sizeName(bytes).replace(" ", "")}.csv`);
  if (existsSync(path) && statSync(path).size >= bytes) return path;
  const next = rng(0x5eed5eed);
  const fd = openSync(path + ".tmp", "w");
  try {
    let written = writeSync(fd, "id,category,amount\n");
    let row = 0;
    while (written < bytes) {
      const parts: string[] = [];
      for (let k = 0; k < 20000; k++, row++) {
        const cents = next() % 100000;
        parts.push(`${row},${CATEGORIES[next() % CATEGORIES.length]},${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, "0")}\n`);
      }
      written += writeSync(fd, parts.join(""));
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(path + ".tmp", path);
  return path;
}

export type Groups = Map<string, { count: number; sum: number }>;

/** Canonical text of a result: categories sorted, count and sum (shortest round-trip form). */
export function formatGroups(groups: Groups): string {
  return [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, g]) => `${name}:${g.count}:${g.sum}`).join(" ");
}

/** Plain JS byte loop over the mapped bytes: field by field, the amount parsed digit by digit
 * (integer / 10^decimals: the same correctly rounded value as parseFloat for these amounts). */
export function groupByBytesJs(bytes: Uint8Array): Groups {
  const byHash = new Map<number, { name: string; count: number; sum: number }>();
  const n = bytes.length;
  let i = bytes.indexOf(10) + 1; // after the header
  while (i < n) {
    while (i < n && bytes[i] !== 44 && bytes[i] !== 10) i++; // id
    if (i >= n || bytes[i] === 10) { i++; continue; }
    const nameStart = ++i;
    let h = 2166136261;
    while (i < n && bytes[i] !== 44 && bytes[i] !== 10) { h = Math.imul(h ^ bytes[i]!, 16777619) >>> 0; i++; }
    const nameEnd = i;
    if (i >= n || bytes[i] === 10) { i++; continue; }
    i++;
    let value = 0, scale = 1, seenDot = false;
    for (; i < n; i++) {
      const c = bytes[i]!;
      if (c >= 48 && c <= 57) { value = value * 10 + (c - 48); if (seenDot) scale *= 10; }
      else if (c === 46 && !seenDot) seenDot = true;
      else break;
    }
    while (i < n && bytes[i] !== 10) i++;
    i++;
    let g = byHash.get(h);
    if (!g) {
      g = { name: new TextDecoder().decode(bytes.subarray(nameStart, nameEnd)), count: 0, sum: 0 };
      byHash.set(h, g);
    }
    g.count++;
    g.sum += value / scale;
  }
  const out: Groups = new Map();
  for (const g of byHash.values()) out.set(g.name, { count: g.count, sum: g.sum });
  return out;
}

/** What most people write first: decode, split, parseFloat, a Map. */
export function groupByIdiomaticJs(bytes: Uint8Array): Groups {
  const out: Groups = new Map();
  const lines = new TextDecoder().decode(bytes).split("\n");
  for (let k = 1; k < lines.length; k++) {
    const line = lines[k]!;
    if (!line) continue;
    const [, category, amount] = line.split(",");
    if (category === undefined || amount === undefined) continue;
    let g = out.get(category);
    if (!g) out.set(category, (g = { count: 0, sum: 0 }));
    g.count++;
    g.sum += parseFloat(amount);
  }
  return out;
}

/** Reads the guest's records (bench/guests/scan.ts csv_group_by) from the output region. */
export function readGuestGroups(out: Uint8Array, count: number): Groups {
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  const groups: Groups = new Map();
  for (let k = 0; k < count; k++) {
    const at = k * 48;
    const length = dv.getUint32(at, true);
    const name = new TextDecoder().decode(out.subarray(at + 4, at + 4 + length));
    groups.set(name, { count: Number(dv.getBigUint64(at + 32, true)), sum: dv.getFloat64(at + 40, true) });
  }
  return groups;
}
