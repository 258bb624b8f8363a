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
