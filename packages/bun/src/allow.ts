// A ready-made policy for guest map requests (`vmw.map`, the SDK's `regions.request(name)`):
// map files from one host folder, and nothing else.
import { realpathSync, statSync } from "node:fs";
import { isAbsolute, join, sep } from "node:path";
import { accessArgument, optionsArgument, shown, utf8, type OptionNames } from "./arguments.ts";
import { VmwindowError } from "./errors.ts";
import type { MapRequestHandler } from "./guest-options.ts";
import type { Region } from "./region.ts";
import { NAME_MAX_BYTES, Window } from "./window.ts";

export interface AllowDirectoryOptions {
  /** The most a guest may ask for: "read" (default) refuses read-write requests. */
  access?: "read" | "readwrite";
  /** Told why a request was refused (for logs); the guest only sees "refused". */
  onRefuse?: (name: string, reason: string) => void;
}

const ALLOW_OPTIONS: OptionNames<AllowDirectoryOptions> = { access: true, onRefuse: true };

/**
 * A `map` handler for `window.instantiate(wasm, { map })` that maps the file a guest names, if it
 * is a regular file inside `dir`: the name is resolved against `dir` with realpath, so `../`,
 * absolute paths elsewhere and symlinks pointing outside `dir` are refused (a symlink inside `dir`
 * to a file inside `dir` is fine). A request for the same file and access while its region is
 * still mapped returns that region. Refusals (and map failures, e.g. an empty file or a full
 * window) return null, which the guest sees as VMW_HOST_REFUSED.
 *
 * The check and the open are two steps: a process that can rename or replace entries inside
 * `dir` between them can still redirect a request. Use a folder only this process controls.
 */
export function allowDirectory(window: Window, dir: string, options: AllowDirectoryOptions = {}): MapRequestHandler {
  if (!(window instanceof Window)) throw new VmwindowError("INVALID_ARGUMENT", `allowDirectory takes the guest's Window first, got ${shown(window)}`);
  if (typeof dir !== "string" || dir.length === 0) throw new VmwindowError("INVALID_ARGUMENT", `dir must be a non-empty path, got ${shown(dir)}`);
  options = optionsArgument("allowDirectory options", options, ALLOW_OPTIONS);
  const maxAccess = accessArgument(options.access ?? "read");
  let root: string;
  try {
    root = realpathSync(dir);
  } catch (error) {
    throw new VmwindowError("NOT_FOUND", `cannot resolve ${dir}: ${(error as Error).message}`);
  }
  if (!statSync(root).isDirectory()) throw new VmwindowError("INVALID_ARGUMENT", `${dir} is not a directory`);
  const inside = (path: string) => path.startsWith(root === sep ? sep : root + sep);
  const mapped = new Map<string, Region>();

  return (name, access) => {
    const refuse = (reason: string) => {
      options.onRefuse?.(name, reason);
      return null;
    };
    if (name.length === 0 || name.includes("\0")) return refuse("empty name or NUL byte");
    if (name.split(/[\\/]/).includes("..")) return refuse("path traversal (..)");
    if (access === "readwrite" && maxAccess !== "readwrite") return refuse("read-write access is not allowed");
    const candidate = isAbsolute(name) ? name : join(root, name);
    let real: string;
    try {
      real = realpathSync(candidate);
    } catch {
      return refuse("no such file");
    }
    if (!inside(real)) return refuse(`outside ${root}`);
    try {
      if (!statSync(real).isFile()) return refuse("not a regular file");
    } catch {
      return refuse("no such file");
    }
    const key = `${access}:${real}`;
    const existing = mapped.get(key);
    if (existing?.mapped && window.region(existing.id) === existing) return existing;
    try {
      const nameBytes = utf8(name).length;
      const region = window.mapFile(real, { access, name: nameBytes <= NAME_MAX_BYTES ? name : undefined });
      mapped.set(key, region);
      return region;
    } catch (error) {
      if (error instanceof VmwindowError) return refuse(`${error.code}: ${error.message}`);
      throw error;
    }
  };
}
