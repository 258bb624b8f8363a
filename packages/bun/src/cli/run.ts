// `vmwindow run`: maps the given files into a window, instantiates the guest, calls exports in
// order and prints their results, then prints the regions asked for with --print.
import { statSync } from "node:fs";
import { basename } from "node:path";
import { Window, type Region } from "../index.ts";
import { defaultCacheDir } from "../module.ts";
import { convertArgument, UsageError, type RunOptions } from "./args.ts";
import { formatBytes, formatRegion, formatValue } from "./format.ts";
import { progress } from "./progress.ts";

/** Runs the command; the guest's errors (traps, deadlines, ...) propagate to the caller. */
export function run(options: RunOptions): void {
  progress.enabled = options.progress;
  using window = Window.create({ sizeBytes: options.windowBytes, guestBytes: options.guestBytes });
  const byName = new Map<string, Region>();
  for (const spec of options.maps) {
    const size = statSync(spec.path, { throwIfNoEntry: false })?.size;
    progress.start(`mapping ${basename(spec.path)}${size === undefined ? "" : ` (${formatBytes(size)})`}${spec.access === "readwrite" ? " read-write" : ""}`);
    const create = spec.createBytes === undefined ? {} : { create: true, length: spec.createBytes };
    byName.set(spec.name, window.mapFile(spec.path, { name: spec.name, access: spec.access, ...create }));
    progress.done();
  }
  for (const spec of options.scratch) byName.set(spec.name, window.mapAnonymous(spec.bytes, { name: spec.name }));

  progress.start(`compiling ${basename(options.guest)}`);
  using guest = window.instantiate(options.guest, {
    timeoutMs: options.timeoutMs,
    ...(options.fuel === undefined ? {} : { fuel: options.fuel }),
    allowFlush: true,
    // Compiled code is cached on disk ($VMWINDOW_CACHE_DIR, else ~/.cache/vmwindow; "off": none).
    cacheDir: defaultCacheDir(),
    log: (level, text) => {
      progress.clear();
      process.stderr.write(`[guest${level ? ` ${level}` : ""}] ${text}\n`);
    },
    // regions.request(name) from the guest: the regions given with --map/--scratch, by name.
    map: (name) => byName.get(name) ?? null,
  });
  progress.done();

  for (const call of options.calls) {
    const signature = guest.signature(call.fn);
    if (call.args.length !== signature.params.length) {
      throw new UsageError(
        `${call.fn} takes ${signature.params.length} argument${signature.params.length === 1 ? "" : "s"} (${signature.params.join(", ") || "none"}), got ${call.args.length}`,
      );
    }
    const args = call.args.map((text, i) => convertArgument(text, signature.params[i]!, i, call.fn, byName));
    progress.start(`running ${call.fn}(${call.args.join(", ")})`);
    const result = guest.call(call.fn, ...args);
    progress.done();
    const results = result === undefined ? [] : Array.isArray(result) ? result : [result];
    if (results.length > 0) console.log(results.map((value, i) => formatValue(value, signature.results[i]!, options.format)).join(" "));
  }
  for (const print of options.prints) console.log(formatRegion(print.name, byName.get(print.name)!, print.type));
  for (const region of byName.values()) if (region.kind === "file" && region.access === "readwrite") region.flush();
}
