// CSV group-by example: sum and count of a numeric column per value of a key column, over a CSV
// file that may be larger than the whole window. The host maps the file range by range
// (`mapFile(path, { offset, length })`, offsets a multiple of 4096), the guest aggregates the whole
// lines of each range in place (zero-copy; SIMD field search, exact parseFloat) and says where the
// next range has to start, so rows straddling two ranges are counted once. At most one range is
// mapped at a time: peak RSS stays about one range whatever the file's size.
//
//   bun examples/csv/host.ts [FILE] [--key N] [--value N] [--no-header]
//                            [--window-bytes SIZE] [--range-bytes SIZE]
//
// Without FILE it generates a 96 MiB `id,category,amount` file (in the temp directory) and groups
// it in a 64 MiB window: a file larger than the window. Prints `key<TAB>count<TAB>sum` per group,
// sorted by key (sum in JavaScript's shortest round-trip form), then a summary on stderr.
import { closeSync, existsSync, mkdirSync, openSync, renameSync, statSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Window } from "@vmwindow/bun";

const here = fileURLToPath(new URL(".", import.meta.url));
const guestPath = join(here, "build", "guest.wasm");
const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return undefined;
  const value = args[i + 1];
  args.splice(i, 2);
  return value;
};
const keyColumn = Number(option("key") ?? 1);
const valueColumn = Number(option("value") ?? 2);
const windowBytes = parseSize(option("window-bytes") ?? "64MiB");
const rangeBytes = parseSize(option("range-bytes") ?? "16MiB");
const header = !args.includes("--no-header");
if (!header) args.splice(args.indexOf("--no-header"), 1);
if (rangeBytes % 4096 !== 0 || rangeBytes < 4096) throw new Error("--range-bytes must be a multiple of 4096");
const path = args[0] ?? generate(96 * 2 ** 20);

if (!existsSync(guestPath)) {
  const built = Bun.spawnSync(["bun", "run", "build"], { cwd: here, stdout: "inherit", stderr: "inherit" });
  if (built.exitCode !== 0) process.exit(1);
}

using window = Window.create({ sizeBytes: windowBytes, guestBytes: 2 ** 20 });
using guest = window.instantiate(guestPath);
using out = window.mapAnonymous(65_536);
const { reset, add_range: addRange, write_groups: writeGroups, skipped_rows: skippedRows } = guest.exports as Record<string, (...args: any[]) => any>;

const size = statSync(path).size;
const started = Bun.nanoseconds();
reset!(keyColumn, valueColumn);
let pos = 0; // first byte not aggregated yet
let ranges = 0;
while (pos < size) {
  const start = pos - (pos % 4096);
  const length = Math.min(rangeBytes, size - start);
  const last = start + length >= size;
  const region = window.mapFile(path, { offset: start, length });
  const consumed = Number(addRange!(region.id, pos - start, last ? 1 : 0, header && pos === 0 ? 1 : 0));
  region.unmap();
  ranges++;
  if (!last && consumed <= pos - start) throw new Error(`a line at byte ${pos} is longer than --range-bytes`);
  pos = last ? size : start + consumed;
}
const count = writeGroups!(out.id) as number;
const seconds = (Bun.nanoseconds() - started) / 1e9;

const dv = new DataView(out.bytes.buffer, out.bytes.byteOffset, out.bytes.byteLength);
const groups: [string, number, number][] = [];
for (let k = 0; k < count; k++) {
  const at = k * 56;
  const keyLength = dv.getUint32(at, true) - 1;
  const key = new TextDecoder().decode(out.bytes.subarray(at + 4, at + 4 + keyLength));
  groups.push([key, Number(dv.getBigUint64(at + 40, true)), dv.getFloat64(at + 48, true)]);
}
groups.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
console.log(groups.map(([key, n, sum]) => `${key}\t${n}\t${sum}`).join("\n"));
const rss = /VmHWM:\s*(\d+)/.exec(await Bun.file("/proc/self/status").text().catch(() => ""))?.[1];
console.error(
  `${path}: ${(size / 2 ** 20).toFixed(1)} MiB in a ${(windowBytes / 2 ** 20).toFixed(0)} MiB window, ${ranges} ranges of ` +
    `${(rangeBytes / 2 ** 20).toFixed(0)} MiB, ${count} groups, ${skippedRows!()} rows skipped, ` +
    `${(seconds * 1000).toFixed(0)} ms (${(size / seconds / 1e9).toFixed(2)} GB/s)${rss ? `, peak RSS ${(Number(rss) / 1024).toFixed(0)} MiB` : ""}`,
);

function parseSize(text: string): number {
  const m = /^(\d+)(KiB|MiB|GiB)?$/.exec(text.trim());
  if (!m) throw new Error(`bad size ${text} (e.g. 268435456, 64MiB, 1GiB)`);
  return Number(m[1]) * (m[2] === "GiB" ? 2 ** 30 : m[2] === "MiB" ? 2 ** 20 : m[2] === "KiB" ? 1024 : 1);
}

/** A deterministic `id,category,amount` file of about `bytes` bytes in the temp directory. */
function generate(bytes: number): string {
  const dir = join(tmpdir(), "vmwindow-csv-example");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `sales-${bytes / 2 ** 20}MiB.csv`);
  if (existsSync(file) && statSync(file).size >= bytes) return file;
  const categories = ["books", "music", "games", "garden", "tools", "toys", "food", "drinks", "shoes", "clothes"];
  let x = 0x1234567;
  const next = () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x; };
  const fd = openSync(file + ".tmp", "w");
  let written = writeSync(fd, "id,category,amount\n");
  for (let row = 0; written < bytes; ) {
    const lines: string[] = [];
    for (let k = 0; k < 10_000; k++, row++) {
      const cents = next() % 1_000_000;
      lines.push(`${row},${categories[next() % categories.length]},${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, "0")}\n`);
    }
    written += writeSync(fd, lines.join(""));
  }
  closeSync(fd);
  renameSync(file + ".tmp", file);
  return file;
}
