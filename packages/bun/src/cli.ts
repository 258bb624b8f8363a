#!/usr/bin/env bun
// The `vmwindow` command (bin of @vmwindow/bun):
//
//   vmwindow run GUEST.wasm [--map NAME=PATH[:ro|:rw]]... [--scratch NAME=SIZE]... [--call FN [ARG...]]
//                           [--timeout MS] [--fuel N] [--window-bytes SIZE] [--guest-bytes SIZE] [--format signed|unsigned|hex]
//   vmwindow inspect GUEST.wasm [--json]
//
// Errors are one line on stderr and a non-zero exit status: 2 for usage errors, 10 + the native
// result code for a VmwindowError (see EXIT_CODES and docs/troubleshooting.md), 1 for anything else.
import { statSync } from "node:fs";
import { basename } from "node:path";
import { Window, VmwindowError, GuestTrap, type Region, type ValueKind, type ErrorCode } from "./index.ts";
import { Result } from "./ffi.ts";
import { DEFAULT_GUEST_BYTES, NAME_MAX_BYTES, PAGE_BYTES } from "./window.ts";

const VERSION = "0.1.0";
const GUEST_BASE = 0x21_0000;
const MAX_WINDOW_BYTES = 2 ** 32;
/** Built into every guest by libvmwindow; other imports need host functions `run` cannot give. */
const BUILTIN_IMPORTS = new Set(["env.abort", "env.seed", "vmw.log", "vmw.flush", "vmw.map"]);

/** Exit status for each error code: 10 + vmw_result_t (CLOSED, a binding-only code, is 16 too). */
export const EXIT_USAGE = 2;
export const EXIT_INTERNAL = 1;
export const EXIT_CODES: Record<ErrorCode, number> = Object.fromEntries(
  Object.entries(Result).map(([name, value]) => [name, value === 0 ? 0 : 10 + value]),
) as Record<ErrorCode, number>;

const USAGE = `usage:
  vmwindow run GUEST.wasm [options]       map files into a window, instantiate the guest, call an export
      --map NAME=PATH[:ro|:rw]            map PATH as region NAME (read-only unless :rw); repeatable
      --scratch NAME=SIZE                 map SIZE bytes of zeroed scratch memory as region NAME
      --call FN [ARG...]                  call export FN; ARGs are converted per its signature
                                          (i64 as bigint); @NAME is the id of region NAME
      --timeout MS                        deadline for the call (GuestTimeout past it)
      --fuel N                            fuel for the call (~1 unit per wasm instruction; TIMEOUT when spent)
      --window-bytes SIZE                 window size (default 4GiB); SIZE like 65536, 64MiB, 1GiB
      --guest-bytes SIZE                  the guest's own area (default 16MiB)
      --format signed|unsigned|hex        how integer results print (default signed)
      --progress / --quiet                force / silence progress on stderr (default: when a terminal)
  vmwindow inspect GUEST.wasm [--json]    imports, exports with signatures, memory, whether it fits a window
  vmwindow --help | --version
exit status: 0 ok, 2 usage, 10 + the native result code for vmwindow errors (e.g. 12 NOT_FOUND,
21 TRAP, 31 TIMEOUT), 1 otherwise`;

class UsageError extends Error {}

// Entry -----------------------------------------------------------------------------------------

export async function main(argv: string[]): Promise<number> {
  try {
    const [command, ...rest] = argv;
    switch (command) {
      case "run":
        return run(parseRun(rest));
      case "inspect":
        return await inspect(rest);
      case "--version":
      case "-V":
        console.log(VERSION);
        return 0;
      case "--help":
      case "-h":
      case "help":
        console.log(USAGE);
        return 0;
      case undefined:
        process.stderr.write(`${USAGE}\n`);
        return EXIT_USAGE;
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    }
  } catch (error) {
    return report(error);
  }
}

function report(error: unknown): number {
  progress.clear();
  if (error instanceof UsageError) {
    process.stderr.write(`vmwindow: ${error.message} (vmwindow --help for usage)\n`);
    return EXIT_USAGE;
  }
  if (error instanceof VmwindowError) {
    // Traps carry Wasmtime's backtrace after the first line; one line is the contract.
    const line = firstLine(error instanceof GuestTrap ? `guest trapped: ${error.reason}` : error.message);
    process.stderr.write(`vmwindow: ${line} [${error.code}]\n`);
    return EXIT_CODES[error.code] ?? EXIT_INTERNAL;
  }
  process.stderr.write(`vmwindow: ${firstLine(error instanceof Error ? error.message : String(error))}\n`);
  return EXIT_INTERNAL;
}

function firstLine(text: string): string {
  const newline = text.indexOf("\n");
  return newline < 0 ? text : text.slice(0, newline);
}

// run -------------------------------------------------------------------------------------------

interface MapSpec {
  name: string;
  path: string;
  access: "read" | "readwrite";
}

interface RunOptions {
  guest: string;
  maps: MapSpec[];
  scratch: { name: string; bytes: number }[];
  call: string | undefined;
  args: string[];
  timeoutMs: number;
  fuel: bigint | undefined;
  windowBytes: number;
  guestBytes: number;
  format: "signed" | "unsigned" | "hex";
  progress: boolean;
}

export function parseRun(argv: string[]): RunOptions {
  const options: RunOptions = {
    guest: "",
    maps: [],
    scratch: [],
    call: undefined,
    args: [],
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
        if (options.call !== undefined) throw new UsageError("--call given twice");
        options.call = value();
        // Everything up to the next --option is an argument (so negative numbers work).
        while (i + 1 < argv.length && !argv[i + 1]!.startsWith("--")) options.args.push(argv[++i]!);
        break;
      }
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
  return options;
}

/** NAME=PATH, NAME=PATH:ro, NAME=PATH:rw (a path may itself contain ':' and '='). */
export function parseMap(spec: string): MapSpec {
  const equals = spec.indexOf("=");
  if (equals <= 0 || equals === spec.length - 1) throw new UsageError(`--map expects NAME=PATH[:ro|:rw], got ${JSON.stringify(spec)}`);
  const name = regionName(spec.slice(0, equals), "--map");
  let path = spec.slice(equals + 1);
  let access: MapSpec["access"] = "read";
  if (path.endsWith(":rw")) {
    access = "readwrite";
    path = path.slice(0, -3);
  } else if (path.endsWith(":ro")) {
    path = path.slice(0, -3);
  }
  if (path.length === 0) throw new UsageError(`--map expects NAME=PATH[:ro|:rw], got ${JSON.stringify(spec)}`);
  return { name, path, access };
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

function run(options: RunOptions): number {
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
  return 0;
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

export function formatValue(value: number | bigint, kind: ValueKind, format: RunOptions["format"]): string {
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

// Progress on a terminal ------------------------------------------------------------------------

const progress = {
  enabled: false,
  label: "",
  started: 0,
  start(label: string): void {
    if (!this.enabled) return;
    this.label = label;
    this.started = performance.now();
    process.stderr.write(`\r\x1b[K${label}...`);
  },
  done(): void {
    if (!this.enabled || this.label === "") return;
    process.stderr.write(`\r\x1b[K${this.label}: ${formatDuration(performance.now() - this.started)}\n`);
    this.label = "";
  },
  clear(): void {
    if (!this.enabled || this.label === "") return;
    process.stderr.write("\n");
    this.label = "";
  },
};

function formatDuration(ms: number): string {
  return ms < 1000 ? `${ms.toFixed(ms < 10 ? 2 : 0)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

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

// inspect ---------------------------------------------------------------------------------------

interface Limits {
  min: number;
  max: number | undefined;
  shared: boolean;
  memory64: boolean;
}

export interface ModuleInfo {
  imports: { module: string; name: string; kind: string; type: string; limits?: Limits }[];
  exports: { name: string; kind: string; type: string; params?: string[]; results?: string[] }[];
  /** The imported env.memory, if any. */
  memoryImport: Limits | undefined;
  /** Memories the module defines itself. */
  ownMemories: Limits[];
  /** Active data segments: [start, end) guest addresses (undefined start: a non-constant offset). */
  data: { start: number | undefined; length: number }[];
  passiveDataBytes: number;
  start: boolean;
}

/** Reads what `inspect` shows from the module's bytes (types, imports, functions, memories, exports, data). */
export function parseModule(bytes: Uint8Array): ModuleInfo {
  const r = new Reader(bytes);
  if (bytes.length < 8 || r.u32le() !== 0x6d736100) throw new VmwindowError("BAD_MODULE", "not a WebAssembly module (no \\0asm magic)");
  const version = r.u32le();
  if (version !== 1) throw new VmwindowError("BAD_MODULE", `unsupported WebAssembly binary version ${version} (a component?)`);
  const types: { params: string[]; results: string[] }[] = [];
  const functionTypes: number[] = [];
  const info: ModuleInfo = { imports: [], exports: [], memoryImport: undefined, ownMemories: [], data: [], passiveDataBytes: 0, start: false };
  let globalImports = 0;
  while (!r.done) {
    const id = r.byte();
    const size = r.leb();
    const end = r.pos + size;
    if (end > bytes.length) throw new VmwindowError("BAD_MODULE", `section ${id} runs past the end of the module`);
    const s = new Reader(bytes.subarray(r.pos, end));
    switch (id) {
      case 1: // types
        for (let n = s.leb(); n > 0; n--) {
          const form = s.byte();
          if (form !== 0x60) throw new VmwindowError("UNSUPPORTED", `type form 0x${form.toString(16)} (GC types) is not supported`);
          const params = s.vec(() => valueType(s.byte()));
          const results = s.vec(() => valueType(s.byte()));
          types.push({ params, results });
        }
        break;
      case 2: // imports
        for (let n = s.leb(); n > 0; n--) {
          const module = s.name();
          const name = s.name();
          const kind = s.byte();
          if (kind === 0) {
            const type = s.leb();
            functionTypes.push(type);
            info.imports.push({ module, name, kind: "function", type: signatureText(types[type]) });
          } else if (kind === 1) {
            s.byte();
            const limits = s.limits();
            info.imports.push({ module, name, kind: "table", type: limitsText(limits, "elements") });
          } else if (kind === 2) {
            const limits = s.limits();
            info.imports.push({ module, name, kind: "memory", type: limitsText(limits, "pages"), limits });
            if (module === "env" && name === "memory") info.memoryImport = limits;
          } else if (kind === 3) {
            const type = valueType(s.byte());
            const mutable = s.byte() === 1;
            info.imports.push({ module, name, kind: "global", type: `${mutable ? "mut " : ""}${type}` });
            globalImports++;
          } else if (kind === 4) {
            s.byte();
            const type = s.leb();
            info.imports.push({ module, name, kind: "tag", type: signatureText(types[type]) });
          } else {
            throw new VmwindowError("BAD_MODULE", `unknown import kind ${kind}`);
          }
        }
        break;
      case 3: // functions
        for (let n = s.leb(); n > 0; n--) functionTypes.push(s.leb());
        break;
      case 5: // memories
        for (let n = s.leb(); n > 0; n--) info.ownMemories.push(s.limits());
        break;
      case 7: // exports
        for (let n = s.leb(); n > 0; n--) {
          const name = s.name();
          const kind = s.byte();
          const index = s.leb();
          if (kind === 0) {
            const type = types[functionTypes[index]!];
            info.exports.push({ name, kind: "function", type: signatureText(type), params: type?.params, results: type?.results });
          } else {
            info.exports.push({ name, kind: ["function", "table", "memory", "global", "tag"][kind] ?? `kind ${kind}`, type: "" });
          }
        }
        break;
      case 8:
        info.start = true;
        break;
      case 11: // data
        for (let n = s.leb(); n > 0; n--) {
          const flags = s.leb();
          if (flags === 1) {
            info.passiveDataBytes += s.skipBytes();
            continue;
          }
          if (flags === 2) s.leb(); // memory index
          const start = s.constExpr();
          info.data.push({ start, length: s.skipBytes() });
        }
        break;
    }
    r.pos = end;
  }
  void globalImports;
  return info;
}

class Reader {
  pos = 0;
  constructor(readonly bytes: Uint8Array) {}
  get done(): boolean {
    return this.pos >= this.bytes.length;
  }
  byte(): number {
    if (this.pos >= this.bytes.length) throw new VmwindowError("BAD_MODULE", "the module ends in the middle of a section");
    return this.bytes[this.pos++]!;
  }
  u32le(): number {
    let value = 0;
    for (let i = 0; i < 4; i++) value += this.byte() * 2 ** (8 * i);
    return value;
  }
  /** Unsigned LEB128 (up to 64 bits, as a number: exact below 2^53). */
  leb(): number {
    let result = 0;
    let scale = 1;
    for (;;) {
      const b = this.byte();
      result += (b & 0x7f) * scale;
      scale *= 128;
      if ((b & 0x80) === 0) return result;
    }
  }
  /** Signed LEB128 (as a number). */
  sleb(): number {
    let result = 0;
    let scale = 1;
    for (;;) {
      const b = this.byte();
      result += (b & 0x7f) * scale;
      scale *= 128;
      if ((b & 0x80) === 0) return b & 0x40 ? result - scale : result;
    }
  }
  vec<T>(item: () => T): T[] {
    const out: T[] = [];
    for (let n = this.leb(); n > 0; n--) out.push(item());
    return out;
  }
  name(): string {
    const length = this.leb();
    const text = new TextDecoder().decode(this.bytes.subarray(this.pos, this.pos + length));
    this.pos += length;
    return text;
  }
  skipBytes(): number {
    const length = this.leb();
    this.pos += length;
    return length;
  }
  limits(): Limits {
    const flags = this.byte();
    const min = this.leb();
    const max = flags & 1 ? this.leb() : undefined;
    if (flags & 0x08) this.leb(); // custom page size (proposal): log2 of the page size
    return { min, max, shared: (flags & 2) !== 0, memory64: (flags & 4) !== 0 };
  }
  /** A constant offset expression: i32.const / i64.const N end, or global.get (undefined). */
  constExpr(): number | undefined {
    let value: number | undefined;
    for (;;) {
      const op = this.byte();
      if (op === 0x0b) return value;
      if (op === 0x41 || op === 0x42) value = this.sleb();
      else if (op === 0x23) {
        this.leb();
        value = undefined;
      } else {
        throw new VmwindowError("UNSUPPORTED", `data segment offset uses opcode 0x${op.toString(16)}`);
      }
    }
  }
}

function valueType(code: number): string {
  return { 0x7f: "i32", 0x7e: "i64", 0x7d: "f32", 0x7c: "f64", 0x7b: "v128", 0x70: "funcref", 0x6f: "externref" }[code] ?? `type 0x${code.toString(16)}`;
}

function signatureText(type: { params: string[]; results: string[] } | undefined): string {
  if (!type) return "(unknown type)";
  const results = type.results.length === 1 ? type.results[0]! : `(${type.results.join(", ")})`;
  return `(${type.params.join(", ")}) -> ${results}`;
}

function limitsText(limits: Limits, unit: string): string {
  const extra = [limits.memory64 ? "64-bit" : "", limits.shared ? "shared" : ""].filter(Boolean).join(", ");
  return `min ${limits.min} ${unit}, max ${limits.max ?? "none"}${extra ? ` (${extra})` : ""}`;
}

export interface FitCheck {
  ok: boolean;
  what: string;
}

/** Whether a module can run in a window with a `guestBytes` guest area (the default 16 MiB). */
export function fitChecks(info: ModuleInfo, guestBytes = DEFAULT_GUEST_BYTES): FitCheck[] {
  const checks: FitCheck[] = [];
  const memory = info.memoryImport;
  const otherMemoryImports = info.imports.filter((i) => i.kind === "memory" && !(i.module === "env" && i.name === "memory"));
  checks.push({
    ok: memory !== undefined && otherMemoryImports.length === 0,
    what: memory ? "imports env.memory (the window)" : "does not import env.memory (build with asc --importMemory, or the SDK's asconfig.json)",
  });
  if (memory) {
    checks.push({ ok: !memory.memory64, what: memory.memory64 ? "env.memory is 64-bit; windows are 32-bit memories" : "env.memory is a 32-bit memory" });
    checks.push({ ok: !memory.shared, what: memory.shared ? "env.memory is shared; the window is not" : "env.memory is not shared" });
    const minBytes = memory.min * PAGE_BYTES;
    checks.push({
      ok: minBytes <= MAX_WINDOW_BYTES,
      what: `expects at least ${memory.min} pages (${formatBytes(minBytes)}); a window of ${formatBytes(Math.max(minBytes, GUEST_BASE + guestBytes + PAGE_BYTES))} or more fits`,
    });
    if (memory.max !== undefined) {
      checks.push({ ok: true, what: `declares at most ${memory.max} pages: the window must be no larger (${formatBytes(memory.max * PAGE_BYTES)})` });
    }
  }
  checks.push({
    ok: info.ownMemories.length === 0,
    what: info.ownMemories.length === 0 ? "defines no memory of its own" : `defines ${info.ownMemories.length} memor${info.ownMemories.length === 1 ? "y" : "ies"} of its own (build with --importMemory)`,
  });
  const areaEnd = GUEST_BASE + guestBytes;
  const outside = info.data.filter((d) => d.start === undefined || d.start < GUEST_BASE || d.start + d.length > areaEnd);
  if (info.data.length > 0) {
    const low = Math.min(...info.data.map((d) => d.start ?? Infinity));
    const high = Math.max(...info.data.map((d) => (d.start ?? -Infinity) + d.length));
    const span = Number.isFinite(low) && Number.isFinite(high) ? ` at ${hex(low)}..${hex(high)}` : "";
    checks.push({
      ok: outside.length === 0,
      what:
        outside.length === 0
          ? `${info.data.length} data segment${info.data.length === 1 ? "" : "s"}${span}, inside the guest area [${hex(GUEST_BASE)}, ${hex(areaEnd)})`
          : `${outside.length} of ${info.data.length} data segments lie outside the guest area [${hex(GUEST_BASE)}, ${hex(areaEnd)})${span} (build with --memoryBase ${GUEST_BASE}, or the SDK's asconfig.json)`,
    });
  } else {
    checks.push({ ok: true, what: "no active data segments" });
  }
  const needed = info.imports.filter((i) => i.kind !== "memory" && !BUILTIN_IMPORTS.has(`${i.module}.${i.name}`));
  checks.push({
    ok: needed.length === 0,
    what:
      needed.length === 0
        ? "every other import is built in (env.abort, env.seed, vmw.log, vmw.flush, vmw.map)"
        : `needs host imports that \`vmwindow run\` cannot provide (pass them with window.instantiate(wasm, { imports })): ${needed.map((i) => `${i.module}.${i.name}`).join(", ")}`,
  });
  return checks;
}

function hex(value: number): string {
  return `0x${value.toString(16)}`;
}

async function inspect(argv: string[]): Promise<number> {
  const json = argv.includes("--json");
  const rest = argv.filter((a) => a !== "--json");
  const unknown = rest.find((a) => a.startsWith("--"));
  if (unknown) throw new UsageError(`unknown option ${unknown}`);
  if (rest.length !== 1) throw new UsageError(rest.length === 0 ? "inspect needs a guest module (vmwindow inspect GUEST.wasm)" : `unexpected argument ${JSON.stringify(rest[1])}`);
  const path = rest[0]!;
  let bytes: Uint8Array;
  try {
    bytes = await Bun.file(path).bytes();
  } catch (error) {
    throw new VmwindowError("NOT_FOUND", `cannot read guest module ${path}: ${(error as Error).message}`);
  }
  if (bytes.length === 0) throw new VmwindowError("BAD_MODULE", `${path} is empty (0 bytes)`);
  // Validation and the import/export lists from the engine; signatures and layout from our parser.
  let module: WebAssembly.Module;
  try {
    module = new WebAssembly.Module(bytes);
  } catch (error) {
    throw new VmwindowError("BAD_MODULE", `${path} is not a valid WebAssembly module: ${(error as Error).message}`);
  }
  const info = parseModule(bytes);
  const engineImports = WebAssembly.Module.imports(module);
  const engineExports = WebAssembly.Module.exports(module);
  if (engineImports.length !== info.imports.length || engineExports.length !== info.exports.length) {
    throw new VmwindowError("BAD_MODULE", `${path}: the section parser and the engine disagree on imports/exports`);
  }
  const checks = fitChecks(info);
  const fits = checks.every((c) => c.ok);
  if (json) {
    console.log(JSON.stringify({ path, bytes: bytes.length, ...info, fits, checks }, null, 2));
    return 0;
  }
  const out: string[] = [`${path}: ${formatBytes(bytes.length)}${info.start ? ", has a start function" : ""}`];
  out.push("imports:");
  for (const i of info.imports) out.push(`  ${`${i.module}.${i.name}`.padEnd(24)} ${i.kind.padEnd(8)} ${i.type}`);
  if (info.imports.length === 0) out.push("  (none)");
  out.push("exports:");
  const width = Math.max(24, ...info.exports.map((e) => e.name.length));
  for (const e of info.exports) out.push(`  ${e.name.padEnd(width)} ${e.kind.padEnd(8)} ${e.type}`);
  if (info.exports.length === 0) out.push("  (none)");
  const dataBytes = info.data.reduce((sum, d) => sum + d.length, 0);
  out.push(
    `memory: ${info.memoryImport ? `imports env.memory, min ${info.memoryImport.min} pages (${formatBytes(info.memoryImport.min * PAGE_BYTES)}), max ${info.memoryImport.max ?? "none"}` : "does not import env.memory"}; ` +
      `${info.data.length} active data segment${info.data.length === 1 ? "" : "s"} (${formatBytes(dataBytes)})`,
  );
  out.push(`fits a window: ${fits ? "yes" : "no"}`);
  for (const c of checks) out.push(`  ${c.ok ? "ok " : "NO "} ${c.what}`);
  console.log(out.join("\n"));
  return fits ? 0 : EXIT_CODES.LINK;
}

if (import.meta.main) {
  process.exitCode = await main(process.argv.slice(2));
}
