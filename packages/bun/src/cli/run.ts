// `vmwindow run`: maps the given files into a window, instantiates the guest, calls one export
// and prints its results.
import { statSync } from "node:fs";
import { basename } from "node:path";
import { Window, type Region } from "../index.ts";
import { convertArgument, UsageError, type RunOptions } from "./args.ts";
import { formatBytes, formatValue } from "./format.ts";
import { progress } from "./progress.ts";

/** Runs the command; the guest's errors (traps, deadlines, ...) propagate to the caller. */
export function run(options: RunOptions): void {
  progress.enabled = options.progress;
  using window = Window.create({ sizeBytes: options.windowBytes, guestBytes: options.guestBytes });
  const byName = new Map<string, Region>();
  for (const spec of options.maps) {
    const size = statSync(spec.path, { throwIfNoEntry: false })?.size;
    progress.start(`mapping ${basename(spec.path)}${size === undefined ? "" : ` (${formatBytes(size)})`}${spec.access === "readwrite" ? " read-write" : ""}`);
    byName.set(spec.name, window.mapFile(spec.path, { name: spec.name, access: spec.access }));
    progress.done();
  }
  for (const spec of options.scratch) byName.set(spec.name, window.mapAnonymous(spec.bytes, { name: spec.name }));

  progress.start(`compiling ${basename(options.guest)}`);
  using guest = window.instantiate(options.guest, {
    timeoutMs: options.timeoutMs,
    ...(options.fuel === undefined ? {} : { fuel: options.fuel }),
    allowFlush: true,
    log: (level, text) => {
      progress.clear();
      process.stderr.write(`[guest${level ? ` ${level}` : ""}] ${text}\n`);
    },
    // regions.request(name) from the guest: the regions given with --map/--scratch, by name.
    map: (name) => byName.get(name) ?? null,
  });
  progress.done();

  if (options.call !== undefined) {
    const signature = guest.signature(options.call);
    if (options.args.length !== signature.params.length) {
      throw new UsageError(
        `${options.call} takes ${signature.params.length} argument${signature.params.length === 1 ? "" : "s"} (${signature.params.join(", ") || "none"}), got ${options.args.length}`,
      );
    }
    const args = options.args.map((text, i) => convertArgument(text, signature.params[i]!, i, options.call!, byName));
    progress.start(`running ${options.call}(${options.args.join(", ")})`);
    const result = guest.call(options.call, ...args);
    progress.done();
    const results = result === undefined ? [] : Array.isArray(result) ? result : [result];
    if (results.length > 0) console.log(results.map((value, i) => formatValue(value, signature.results[i]!, options.format)).join(" "));
  }
  for (const region of byName.values()) if (region.kind === "file" && region.access === "readwrite") region.flush();
}
