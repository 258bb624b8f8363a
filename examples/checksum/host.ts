// Checksum example: an AssemblyScript guest computes CRC-32 of files mapped into its window
// (zero-copy), and the host prints it next to an independently computed CRC-32 of the same file.
//
//   bun examples/checksum/host.ts [FILE...]     (default: a few real files on this machine)
import { statSync } from "node:fs";
import { crc32 } from "node:zlib";
import { fileURLToPath } from "node:url";
import { Window, libraryPath } from "@vmwindow/bun";

const guestPath = fileURLToPath(new URL("./build/guest.wasm", import.meta.url));
const defaults = [process.execPath, libraryPath.replace(/libvmwindow\.(so|dylib)$/, "libwasmtime.$1"), "/etc/passwd"];
const files = process.argv.length > 2 ? process.argv.slice(2) : defaults.filter((path) => statSync(path, { throwIfNoEntry: false })?.isFile());

using window = Window.create({ sizeBytes: 2 ** 32 - 65_536 });
using guest = window.instantiate(guestPath);

const rows: string[][] = [["file", "bytes", "guest crc32", "host crc32", "match", "guest GB/s"]];
let mismatches = 0;
for (const path of files) {
  using region = window.mapFile(path, { name: "input" });
  const started = Bun.nanoseconds();
  const fromGuest = (guest.call("crc32", region.id) as number) >>> 0;
  const seconds = (Bun.nanoseconds() - started) / 1e9;
  // The oracle: zlib's CRC-32 over the file's bytes read the ordinary way.
  const fromHost = crc32(await Bun.file(path).bytes()) >>> 0;
  const match = fromGuest === fromHost;
  if (!match) mismatches++;
  rows.push([path, String(region.length), hex(fromGuest), hex(fromHost), match ? "yes" : "NO", (region.length / seconds / 1e9).toFixed(2)]);
}
printTable(rows);
if (mismatches > 0) {
  console.error(`${mismatches} checksum(s) differ`);
  process.exit(1);
}

function hex(value: number): string {
  return value.toString(16).padStart(8, "0");
}

function printTable(table: string[][]): void {
  const widths = table[0]!.map((_, column) => Math.max(...table.map((row) => row[column]!.length)));
  for (const row of table) console.log(row.map((cell, column) => cell.padEnd(widths[column]!)).join("  "));
}
