// Peak RSS of one CSV group-by contender (bench/workloads/written.ts), in a process of its own:
//   bun bench/workloads/csv-child.ts <guest|js-bytes|js-idiomatic> FILE WARM_FILE GUEST.wasm
// Warms up on WARM_FILE, resets the peak (/proc/self/clear_refs), groups FILE once and prints
// {"hwm_kb": N, "result": "..."}: VmHWM counts the file's mapped pages as well as private memory.
import { Window } from "@vmwindow/bun";
import { memoryStatus, resetPeakRss } from "../lib/libc.ts";
import { formatGroups, groupByBytesJs, groupByIdiomaticJs, readGuestGroups } from "../lib/csv.ts";

const [contender, path, warmPath, guestPath] = process.argv.slice(2) as [string, string, string, string];
let run: (file: string) => string;
if (contender === "guest") {
  const window = Window.create({ sizeBytes: 2 ** 32 - 65_536 });
  const guest = window.instantiate(guestPath);
  const out = window.mapAnonymous(65_536);
  const group = guest.exports.csv_group_by as (id: number, out: number) => number;
  run = (file) => {
    const region = window.mapFile(file);
    const n = group(region.id, out.id);
    region.unmap();
    return formatGroups(readGuestGroups(out.bytes, n));
  };
} else if (contender === "js-bytes") {
  run = (file) => formatGroups(groupByBytesJs(Bun.mmap(file, { shared: true })));
} else if (contender === "js-idiomatic") {
  run = (file) => formatGroups(groupByIdiomaticJs(Bun.mmap(file, { shared: true })));
} else {
  throw new Error(`unknown contender ${contender}`);
}
for (let i = 0; i < 2; i++) run(warmPath);
Bun.gc(true);
resetPeakRss();
const result = run(path);
process.stdout.write(JSON.stringify({ hwm_kb: memoryStatus().VmHWM ?? 0, result }) + "\n");
