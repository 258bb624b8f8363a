// Command-line parsing for `vmwindow run` and `vmwindow inspect`: options, sizes, region names,
// and --call arguments converted per the export's signature. Bad input throws UsageError.
import { NAME_MAX_BYTES, PAGE_BYTES, DEFAULT_GUEST_BYTES, type ValueKind } from "../index.ts";
import type { IntegerFormat } from "./format.ts";

/** A command line the command cannot use (exit status 2). */
export class UsageError extends Error {}

/** The largest window (4 GiB), and `run`'s default. */
export const MAX_WINDOW_BYTES = 2 ** 32;

export interface MapSpec {
  name: string;
  path: string;
  access: "read" | "readwrite";
  /** `:rw:SIZE`: an output file, created (or extended) to SIZE bytes. */
  createBytes: number | undefined;
}

/** One `--call FN [ARG...]`, run in the order given. */
export interface CallSpec {
  fn: string;
  args: string[];
}

/** What `--print NAME[:TYPE]` shows of a region after the calls. */
export type PrintType = "hex" | "u8" | "i8" | "u16" | "i16" | "u32" | "i32" | "u64" | "i64" | "f32" | "f64";
const PRINT_TYPES: readonly PrintType[] = ["hex", "u8", "i8", "u16", "i16", "u32", "i32", "u64", "i64", "f32", "f64"];

export interface PrintSpec {
  name: string;
  type: PrintType;
}

export interface RunOptions {
  guest: string;
  maps: MapSpec[];
  scratch: { name: string; bytes: number }[];
  calls: CallSpec[];
  prints: PrintSpec[];
  timeoutMs: number;
  fuel: bigint | undefined;
  windowBytes: number;
  guestBytes: number;
  format: IntegerFormat;
  progress: boolean;
}

export function parseRun(argv: string[]): RunOptions {
  const options: RunOptions = {
    guest: "",
    maps: [],
    scratch: [],
    calls: [],
    prints: [],
    timeoutMs: 0,
    fuel: undefined,
    windowBytes: MAX_WINDOW_BYTES,
    guestBytes: DEFAULT_GUEST_BYTES,
    format: "signed",
    progress: process.stderr.isTTY === true,
  };
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i]!;
    let inline: string | undefined;
    if (arg.startsWith("--") && arg.includes("=")) {
      inline = arg.slice(arg.indexOf("=") + 1);
      arg = arg.slice(0, arg.indexOf("="));
    }
    const value = (): string => {
      if (inline !== undefined) return inline;
      const next = argv[++i];
      if (next === undefined) throw new UsageError(`${arg} needs a value`);
      return next;
    };
    switch (arg) {
      case "--map":
        options.maps.push(parseMap(value()));
        break;
      case "--scratch":
        options.scratch.push(parseScratch(value()));
        break;
      case "--call": {
        const call: CallSpec = { fn: value(), args: [] };
        // Everything up to the next --option is an argument (so negative numbers work).
        while (i + 1 < argv.length && !argv[i + 1]!.startsWith("--")) call.args.push(argv[++i]!);
        options.calls.push(call);
        break;
      }
      case "--print":
        options.prints.push(parsePrint(value()));
        break;
      case "--timeout":
        options.timeoutMs = parseInteger("--timeout", value(), 1, 2 ** 31 - 1);
        break;
      case "--fuel": {
        const text = value();
        if (!/^\d+$/.test(text) || BigInt(text) === 0n || BigInt(text) >= 1n << 63n) throw new UsageError(`--fuel expects a positive integer, got ${JSON.stringify(text)}`);
        options.fuel = BigInt(text);
        break;
      }
      case "--window-bytes":
        options.windowBytes = parseSize("--window-bytes", value());
        break;
      case "--guest-bytes":
        options.guestBytes = parseSize("--guest-bytes", value());
        break;
      case "--format": {
        const format = value();
        if (format !== "signed" && format !== "unsigned" && format !== "hex") throw new UsageError(`--format must be signed, unsigned or hex, got ${JSON.stringify(format)}`);
        options.format = format;
        break;
      }
      case "--progress":
        options.progress = true;
        break;
      case "--quiet":
        options.progress = false;
        break;
      default:
        if (arg.startsWith("--")) throw new UsageError(`unknown option ${arg}`);
        positional.push(arg);
    }
  }
  if (positional.length === 0) throw new UsageError("run needs a guest module (vmwindow run GUEST.wasm ...)");
  if (positional.length > 1) throw new UsageError(`unexpected argument ${JSON.stringify(positional[1])} (arguments go after --call FN)`);
  options.guest = positional[0]!;
  const names = new Set<string>();
  for (const { name } of [...options.maps, ...options.scratch]) {
    if (names.has(name)) throw new UsageError(`region name ${JSON.stringify(name)} is used twice`);
    names.add(name);
  }
  for (const { name } of options.prints) {
    if (!names.has(name)) throw new UsageError(`--print ${name}: no region named ${JSON.stringify(name)} (give it with --map ${name}=PATH or --scratch ${name}=SIZE)`);
  }
  return options;
}

/** NAME=PATH, NAME=PATH:ro, NAME=PATH:rw, NAME=PATH:rw:SIZE (a path may itself contain ':' and '='). */
export function parseMap(spec: string): MapSpec {
  const equals = spec.indexOf("=");
  if (equals <= 0 || equals === spec.length - 1) throw new UsageError(`--map expects NAME=PATH[:ro|:rw|:rw:SIZE], got ${JSON.stringify(spec)}`);
  const name = regionName(spec.slice(0, equals), "--map");
  let path = spec.slice(equals + 1);
  let access: MapSpec["access"] = "read";
  const sized = /:rw:([^:]+)$/.exec(path);
  if (sized) {
    const createBytes = parseSize(`--map ${name}`, sized[1]!, 1);
    path = path.slice(0, sized.index);
    if (path.length === 0) throw new UsageError(`--map expects NAME=PATH:rw:SIZE, got ${JSON.stringify(spec)}`);
    return { name, path, access: "readwrite", createBytes };
  }
  if (path.endsWith(":rw")) {
    access = "readwrite";
    path = path.slice(0, -3);
  } else if (path.endsWith(":ro")) {
    path = path.slice(0, -3);
  }
  if (path.length === 0) throw new UsageError(`--map expects NAME=PATH[:ro|:rw|:rw:SIZE], got ${JSON.stringify(spec)}`);
  return { name, path, access, createBytes: undefined };
}

/** NAME or NAME:TYPE (hex by default). */
function parsePrint(spec: string): PrintSpec {
  const colon = spec.lastIndexOf(":");
  const type = colon < 0 ? "hex" : spec.slice(colon + 1);
  const name = colon < 0 ? spec : spec.slice(0, colon);
  if (!PRINT_TYPES.includes(type as PrintType)) throw new UsageError(`--print expects NAME[:${PRINT_TYPES.join("|")}], got ${JSON.stringify(spec)}`);
  return { name: regionName(name, "--print"), type: type as PrintType };
}

function parseScratch(spec: string): { name: string; bytes: number } {
  const equals = spec.indexOf("=");
  if (equals <= 0) throw new UsageError(`--scratch expects NAME=SIZE, got ${JSON.stringify(spec)}`);
  return { name: regionName(spec.slice(0, equals), "--scratch"), bytes: parseSize("--scratch", spec.slice(equals + 1), 1) };
}

function regionName(name: string, option: string): string {
  const bytes = new TextEncoder().encode(name).length;
  if (bytes > NAME_MAX_BYTES) throw new UsageError(`${option}: region name ${JSON.stringify(name)} is ${bytes} bytes; at most ${NAME_MAX_BYTES}`);
  return name;
}

const SIZE_UNITS: Record<string, number> = { "": 1, b: 1, k: 2 ** 10, kib: 2 ** 10, m: 2 ** 20, mib: 2 ** 20, g: 2 ** 30, gib: 2 ** 30 };

/** "65536", "64KiB", "16M", "1GiB" (binary units); a multiple of 64 KiB unless `multiple` says otherwise. */
export function parseSize(option: string, text: string, multiple = PAGE_BYTES): number {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const unit = match ? SIZE_UNITS[match[2]!.toLowerCase()] : undefined;
  if (!match || unit === undefined) throw new UsageError(`${option} expects a size like 65536, 64KiB, 16MiB or 1GiB, got ${JSON.stringify(text)}`);
  const bytes = Number(match[1]) * unit;
  if (!Number.isSafeInteger(bytes) || bytes <= 0 || bytes % multiple !== 0) {
    throw new UsageError(`${option} must be a positive whole number of bytes${multiple > 1 ? " and a multiple of 64 KiB" : ""}, got ${JSON.stringify(text)}`);
  }
  return bytes;
}

function parseInteger(option: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(`${option} expects an integer in ${min}..${max}, got ${JSON.stringify(text)}`);
  }
  return value;
}

/** One command-line argument as a value of `kind`; `@NAME` is the id of region NAME. */
export function convertArgument(text: string, kind: ValueKind, index: number, fn: string, regions: ReadonlyMap<string, { readonly id: number }>): number | bigint {
  const where = `${fn}: argument ${index + 1} (${kind})`;
  if (text.startsWith("@")) {
    const region = regions.get(text.slice(1));
    if (!region) throw new UsageError(`${where}: no region named ${JSON.stringify(text.slice(1))} (give it with --map ${text.slice(1)}=PATH)`);
    return kind === "i64" ? BigInt(region.id) : region.id;
  }
  switch (kind) {
    case "i32": {
      const value = /^[+-]?(\d+|0x[0-9a-f]+)$/i.test(text) ? Number(text) : NaN;
      if (!Number.isInteger(value) || value < -(2 ** 31) || value > 2 ** 32 - 1) throw new UsageError(`${where} must be an integer in i32/u32 range, got ${JSON.stringify(text)}`);
      return value;
    }
    case "i64": {
      let value: bigint;
      try {
        if (!/^[+-]?(\d+|0x[0-9a-f]+)$/i.test(text)) throw new Error();
        value = text.startsWith("-") ? -BigInt(text.slice(1)) : BigInt(text.replace(/^\+/, ""));
      } catch {
        throw new UsageError(`${where} must be an integer, got ${JSON.stringify(text)}`);
      }
      if (value < -(1n << 63n) || value >= 1n << 64n) throw new UsageError(`${where} is out of i64/u64 range: ${text}`);
      return value;
    }
    case "f32":
    case "f64": {
      const value = text.trim() === "" ? NaN : Number(text);
      if (Number.isNaN(value) && text.toLowerCase() !== "nan") throw new UsageError(`${where} must be a number, got ${JSON.stringify(text)}`);
      return value;
    }
  }
}

export interface InspectOptions {
  path: string;
  json: boolean;
  /** Print the exports as a TypeScript interface instead of the report. */
  dts: boolean;
}

export function parseInspect(argv: string[]): InspectOptions {
  const json = argv.includes("--json");
  const dts = argv.includes("--dts");
  if (json && dts) throw new UsageError("--json and --dts cannot be combined");
  const rest = argv.filter((a) => a !== "--json" && a !== "--dts");
  const unknown = rest.find((a) => a.startsWith("--"));
  if (unknown) throw new UsageError(`unknown option ${unknown}`);
  if (rest.length !== 1) throw new UsageError(rest.length === 0 ? "inspect needs a guest module (vmwindow inspect GUEST.wasm)" : `unexpected argument ${JSON.stringify(rest[1])}`);
  return { path: rest[0]!, json, dts };
}
