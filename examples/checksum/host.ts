// Checksum example: an AssemblyScript guest computes CRC-32 of files mapped into its window
// (zero-copy), and the host prints it next to an independently computed CRC-32 of the same file.
// The host has the guest checksum 16 MiB at a time and gives each chunk back to the system once it
// is read (`region.releasePages`), so a file of any size that fits the window is checksummed with
// about 16 MiB of it in memory; the last line is the process's peak RSS.
//
//   bun examples/checksum/host.ts [--window-bytes SIZE] [FILE...]   (default: a few real files here)
//
// SIZE is the window (guest memory) size, e.g. 268435456, 256MiB or 4GiB (default: 4 GiB - 64 KiB);
// every file has to fit in it at once, so a smaller window rejects big files with WINDOW_FULL.
import { closeSync, openSync, readFileSync, readSync, statSync } from "node:fs";
import { crc32 } from "node:zlib";
import { fileURLToPath } from "node:url";
import { Window, VmwindowError, libraryPath, type Region } from "@vmwindow/bun";

const guestPath = fileURLToPath(new URL("./build/guest.wasm", import.meta.url));
const CHUNK_BYTES = 16 * 2 ** 20;
const defaults = [process.execPath, libraryPath.replace(/libvmwindow\.(so|dylib)$/, "libwasmtime.$1"), "/etc/passwd"];
const args = process.argv.slice(2);
let windowBytes = 2 ** 32 - 65_536;
const at = args.findIndex((arg) => arg === "--window-bytes" || arg.startsWith("--window-bytes="));
if (at >= 0) {
  const text = args[at]!.includes("=") ? args[at]!.slice(args[at]!.indexOf("=") + 1) : args[at + 1];
  args.splice(at, args[at]!.includes("=") ? 1 : 2);
  windowBytes = parseSize(text ?? "");
}
const files = args.length > 0 ? args : defaults.filter((path) => statSync(path, { throwIfNoEntry: false })?.isFile());

using window = Window.create({ sizeBytes: windowBytes });
using guest = window.instantiate(guestPath);
const crc32Update = guest.exports.crc32_update!; // (crc, address, length) => crc

const rows: string[][] = [["file", "bytes", "guest crc32", "host crc32", "match", "guest GB/s"]];
let mismatches = 0;
let failures = 0;
for (const path of files) {
  let mapped: Region;
  try {
    mapped = window.mapFile(path, { name: "input" });
  } catch (error) {
    if (!(error instanceof VmwindowError)) throw error;
    console.error(`${path}: ${error.message} [${error.code}]`); // e.g. NOT_FOUND, WINDOW_FULL
    failures++;
    continue;
  }
  using region = mapped;
  const started = Bun.nanoseconds();
  let fromGuest = 0;
  for (let done = 0; done < region.length; done += CHUNK_BYTES) {
    const length = Math.min(CHUNK_BYTES, region.length - done);
    fromGuest = crc32Update(fromGuest, region.offset + done, length) >>> 0;
    region.releasePages(done, length); // read once: no reason to keep these pages resident
  }
  const seconds = (Bun.nanoseconds() - started) / 1e9;
  // The oracle: zlib's CRC-32 over the file's bytes read the ordinary way.
  const fromHost = fileCrc32(path);
  const match = fromGuest === fromHost;
  if (!match) mismatches++;
  rows.push([path, String(region.length), hex(fromGuest), hex(fromHost), match ? "yes" : "NO", (region.length / seconds / 1e9).toFixed(2)]);
}
printTable(rows);
const peak = peakRssMiB();
if (peak !== undefined) console.log(`peak RSS ${peak.toFixed(0)} MiB (each ${CHUNK_BYTES / 2 ** 20} MiB released once read)`);
if (mismatches > 0) console.error(`${mismatches} checksum(s) differ`);
if (mismatches > 0 || failures > 0) process.exit(1);

/** "268435456", "256MiB", "4GiB" (binary units): a multiple of 64 KiB of at most 4 GiB. */
function parseSize(text: string): number {
  const match = /^(\d+)(|KiB|MiB|GiB)$/i.exec(text);
  const units: Record<string, number> = { "": 1, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30 };
  const bytes = match ? Number(match[1]) * units[match[2]!.toLowerCase()]! : NaN;
  if (!(bytes > 0 && bytes % 65_536 === 0 && bytes <= 2 ** 32)) {
    console.error(`--window-bytes expects a multiple of 64 KiB up to 4GiB (e.g. 256MiB), got ${JSON.stringify(text)}`);
    process.exit(2);
  }
  return bytes;
}

/** zlib's CRC-32 of a file, read with read(2) one chunk at a time into one buffer. */
function fileCrc32(path: string): number {
  const buffer = new Uint8Array(CHUNK_BYTES);
  const fd = openSync(path, "r");
  try {
    let crc = 0;
    for (let n; (n = readSync(fd, buffer, 0, buffer.length, null)) > 0; ) crc = crc32(buffer.subarray(0, n), crc);
    return crc >>> 0;
  } finally {
    closeSync(fd);
  }
}

/** The process's peak resident set (VmHWM), in MiB; undefined where /proc is not there. */
function peakRssMiB(): number | undefined {
  try {
    const kib = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"))?.[1];
    return kib === undefined ? undefined : Number(kib) / 1024;
  } catch {
    return undefined;
  }
}

function hex(value: number): string {
  return value.toString(16).padStart(8, "0");
}

function printTable(table: string[][]): void {
  const widths = table[0]!.map((_, column) => Math.max(...table.map((row) => row[column]!.length)));
  for (const row of table) console.log(row.map((cell, column) => cell.padEnd(widths[column]!)).join("  "));
}
