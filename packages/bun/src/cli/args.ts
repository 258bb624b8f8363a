// Command-line parsing for `vmwindow run` and `vmwindow inspect`: options, sizes, region names,
// and --call arguments converted per the export's signature. Bad input throws UsageError.
import { parseArgs, type ParseArgsOptionsConfig } from "node:util";
import { WINDOW_MAX_BYTES } from "../abi.ts";
import { utf8 } from "../arguments.ts";
import { NAME_MAX_BYTES, PAGE_BYTES, DEFAULT_GUEST_BYTES, type ValueKind } from "../index.ts";
import type { IntegerFormat } from "./format.ts";

/** A command line the command cannot use (exit status 2). */
export class UsageError extends Error {}

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

const RUN_OPTIONS = {
  map: { type: "string", multiple: true, default: [] },
  scratch: { type: "string", multiple: true, default: [] },
  print: { type: "string", multiple: true, default: [] },
  timeout: { type: "string" },
  fuel: { type: "string" },
  // The largest window (4 GiB) by default.
  "window-bytes": { type: "string", default: String(WINDOW_MAX_BYTES) },
  "guest-bytes": { type: "string", default: String(DEFAULT_GUEST_BYTES) },
  format: { type: "string", default: "signed" },
  progress: { type: "boolean" },
  quiet: { type: "boolean" },
} as const satisfies ParseArgsOptionsConfig;

export function parseRun(argv: string[]): RunOptions {
  const { rest, calls } = takeCalls(argv);
  const { values, positionals, optionTokens } = parseOptions(rest, RUN_OPTIONS);
  const lastSwitch = optionTokens.findLast(({ name }) => name === "progress" || name === "quiet");
  const run: RunOptions = {
    maps: values.map.map(parseMap),
    scratch: values.scratch.map(parseScratch),
    calls,
    prints: values.print.map(parsePrint),
    timeoutMs: values.timeout === undefined ? 0 : parseInteger("--timeout", values.timeout, 1, 2 ** 31 - 1),
    fuel: values.fuel === undefined ? undefined : parseFuel(values.fuel),
    windowBytes: parseSize("--window-bytes", values["window-bytes"]),
    guestBytes: parseSize("--guest-bytes", values["guest-bytes"]),
    format: parseFormat(values.format),
    progress: lastSwitch ? lastSwitch.name === "progress" : process.stderr.isTTY === true,
    guest: theGuest(positionals, "run"),
  };
  checkRegionNames(run);
  return run;
}

/**
 * Takes each `--call FN [ARG...]` out of argv, in order: by hand, as parseArgs gives an option one
 * value and reads `-5` as an option. The ARGs are everything up to the next `--option`.
 */
function takeCalls(argv: string[]): { rest: string[]; calls: CallSpec[] } {
  const rest: string[] = [];
  const calls: CallSpec[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg !== "--call" && !arg.startsWith("--call=")) {
      rest.push(arg);
      continue;
    }
    const fn = arg === "--call" ? argv[++i] : arg.slice("--call=".length);
    if (fn === undefined) throw new UsageError("--call needs a value");
    const args: string[] = [];
    while (i + 1 < argv.length && !argv[i + 1]!.startsWith("--")) args.push(argv[++i]!);
    calls.push({ fn, args });
  }
  return { rest, calls };
}

/**
 * parseArgs in non-strict mode, then strict mode's checks with one-line messages. Strict mode itself
 * refuses a value starting with '-' (`--timeout -5` gets --timeout's message, `--map -x=PATH` names
 * a region "-x"); and with no short options, an `-x` is an argument (a guest path may start with '-').
 * A `--` is refused, as before: a --call's ARGs end at it, so it could not mean "arguments follow".
 */
function parseOptions<const T extends ParseArgsOptionsConfig>(args: string[], config: T) {
  const { values, tokens } = parseArgs({ args, options: config, strict: false, allowPositionals: true, tokens: true });
  const optionTokens = tokens.filter((token) => token.kind === "option").filter((token) => token.rawName.startsWith("--"));
  for (const { name, rawName, value } of optionTokens) {
    const type = Object.hasOwn(config, name) ? config[name]!.type : undefined;
    if (type === undefined) throw new UsageError(`unknown option ${rawName}`);
    if (type === "string" && value === undefined) throw new UsageError(`${rawName} needs a value`);
    if (type === "boolean" && value !== undefined) throw new UsageError(`${rawName} takes no value, got ${JSON.stringify(value)}`);
  }
  if (tokens.some((token) => token.kind === "option-terminator")) throw new UsageError("unknown option --");
  const argumentIndexes = new Set(tokens.filter((token) => token.kind !== "option" || !token.rawName.startsWith("--")).map((token) => token.index));
  return { values: values as StrictValues<T>, positionals: [...argumentIndexes].map((index) => args[index]!), optionTokens };
}

/** What parseArgs returns in strict mode, which the checks in parseOptions make true. */
type StrictValues<T extends ParseArgsOptionsConfig> = ReturnType<typeof parseArgs<{ options: T; allowPositionals: true }>>["values"];

/** The one GUEST.wasm argument. */
function theGuest(positionals: string[], command: "run" | "inspect"): string {
  if (positionals.length === 0) throw new UsageError(`${command} needs a guest module (vmwindow ${command} GUEST.wasm${command === "run" ? " ..." : ""})`);
  if (positionals.length > 1) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[1])}${command === "run" ? " (arguments go after --call FN)" : ""}`);
  return positionals[0]!;
}

/** Each region name once; each --print names one of them. */
function checkRegionNames({ maps, scratch, prints }: RunOptions): void {
  const names = new Set<string>();
  for (const { name } of [...maps, ...scratch]) {
    if (names.has(name)) throw new UsageError(`region name ${JSON.stringify(name)} is used twice`);
    names.add(name);
  }
  for (const { name } of prints) {
    if (!names.has(name)) throw new UsageError(`--print ${name}: no region named ${JSON.stringify(name)} (give it with --map ${name}=PATH or --scratch ${name}=SIZE)`);
  }
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
  const bytes = utf8(name).length;
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

function parseFuel(text: string): bigint {
  if (!/^\d+$/.test(text) || BigInt(text) === 0n || BigInt(text) >= 1n << 63n) throw new UsageError(`--fuel expects a positive integer, got ${JSON.stringify(text)}`);
  return BigInt(text);
}

function parseFormat(format: string): IntegerFormat {
  if (format !== "signed" && format !== "unsigned" && format !== "hex") throw new UsageError(`--format must be signed, unsigned or hex, got ${JSON.stringify(format)}`);
  return format;
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
  const { values: { json, dts }, positionals } = parseOptions(argv, { json: { type: "boolean", default: false }, dts: { type: "boolean", default: false } });
  if (json && dts) throw new UsageError("--json and --dts cannot be combined");
  return { path: theGuest(positionals, "inspect"), json, dts };
}
