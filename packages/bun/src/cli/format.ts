// How the command prints sizes and call results.
import type { ValueKind } from "../index.ts";

/** How `run` prints integer results (--format). */
export type IntegerFormat = "signed" | "unsigned" | "hex";

export function formatBytes(bytes: number): string {
  const units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} bytes` : `${value.toFixed(1)} ${units[unit]}`;
}

export function formatValue(value: number | bigint, kind: ValueKind, format: IntegerFormat): string {
  if (kind === "i32") {
    const n = value as number;
    if (format === "unsigned") return String(n >>> 0);
    if (format === "hex") return `0x${(n >>> 0).toString(16).padStart(8, "0")}`;
    return String(n | 0);
  }
  if (kind === "i64") {
    const n = value as bigint;
    if (format === "unsigned") return BigInt.asUintN(64, n).toString();
    if (format === "hex") return `0x${BigInt.asUintN(64, n).toString(16).padStart(16, "0")}`;
    return BigInt.asIntN(64, n).toString();
  }
  return String(value);
}

/** Elements `--print` shows of a region at most; a line says how many more there are. */
export const PRINT_MAX_ELEMENTS = 4096;

const ARRAYS = {
  u8: Uint8Array, i8: Int8Array, u16: Uint16Array, i16: Int16Array, u32: Uint32Array, i32: Int32Array,
  u64: BigUint64Array, i64: BigInt64Array, f32: Float32Array, f64: Float64Array,
} as const;

/**
 * `--print NAME[:TYPE]`: a heading line, then the region's bytes as a hex dump (offset, 16 bytes,
 * ASCII) or as typed little-endian values, 8 per line with the index of the first.
 */
export function formatRegion(name: string, region: { readonly id: number; readonly length: number; readonly bytes: Uint8Array }, type: keyof typeof ARRAYS | "hex"): string {
  const bytes = region.bytes;
  const lines = [`region ${region.id} "${name}" (${formatBytes(region.length)})${type === "hex" ? "" : ` as ${type}`}:`];
  if (type === "hex") {
    const shown = Math.min(bytes.length, PRINT_MAX_ELEMENTS);
    for (let offset = 0; offset < shown; offset += 16) {
      const row = bytes.subarray(offset, Math.min(offset + 16, shown));
      const hex = [...row].map((b) => b.toString(16).padStart(2, "0")).join(" ");
      const ascii = [...row].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : ".")).join("");
      lines.push(`${offset.toString(16).padStart(8, "0")}  ${hex.padEnd(47)}  ${ascii}`);
    }
    if (bytes.length > shown) lines.push(`... ${bytes.length - shown} more bytes`);
    return lines.join("\n");
  }
  const Array = ARRAYS[type];
  const count = Math.floor(bytes.length / Array.BYTES_PER_ELEMENT);
  const values = new Array(bytes.slice(0, count * Array.BYTES_PER_ELEMENT).buffer);
  const shown = Math.min(count, PRINT_MAX_ELEMENTS);
  for (let i = 0; i < shown; i += 8) {
    lines.push(`[${i}] ${[...values.subarray(i, Math.min(i + 8, shown))].map(String).join(" ")}`);
  }
  if (count > shown) lines.push(`... ${count - shown} more values`);
  return lines.join("\n");
}
