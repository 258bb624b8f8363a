// Host functions a guest imports: the JS functions given in `imports`, the built-ins bound to the
// options (vmw.log, vmw.map), and their wiring to the native side through one JSCallback that
// dispatches on the import's index and passes values through the host value-slot array.
import { JSCallback, FFIType, type Pointer } from "bun:ffi";
import { ACCESS, HOST_RESULT } from "./abi.ts";
import { callbackArgument, optionsArgument, shown, utf8 } from "./arguments.ts";
import { VmwindowError } from "./errors.ts";
import { lib } from "./ffi.ts";
import type { HostFunction, InstantiateOptions } from "./guest-options.ts";
import { Region } from "./region.ts";
import { KIND_CODES, slotExpression, type ValueKind, type Views } from "./values.ts";

/** What `vmw.map` returns to the guest when the host refuses (VMW_HOST_REFUSED). */
const HOST_REFUSED = HOST_RESULT.REFUSED;

/** One import to define, in the order the native side numbers them. */
export interface ImportSpec {
  module: string;
  name: string;
  params: readonly ValueKind[];
  results: readonly ValueKind[];
  fn?: HostFunction["fn"];
  /** Built-ins (vmw.log, vmw.map) read guest memory, so they are bound to the guest once it exists. */
  builtin?: (memory: GuestMemory) => HostFunction["fn"];
}

/** The guest's own area, as the built-ins read it. */
export interface GuestMemory {
  /** Guest-area bytes `[address, address + length)`, or null if outside the guest area. */
  guestBytes(address: number, length: number): Uint8Array | null;
  /** Whether `region` is a live region of the guest's window. */
  ownsRegion(region: unknown): boolean;
}

/** Checks `options.imports` and lists them, plus the built-ins the options ask for and do not replace. */
export function collectImports(options: InstantiateOptions): ImportSpec[] {
  const specs: ImportSpec[] = [];
  for (const [module, functions] of Object.entries(optionsArgument("imports", options.imports ?? undefined))) {
    for (const [name, fn] of Object.entries(optionsArgument(`imports.${module}`, functions))) {
      const what = `import ${module}.${name}`;
      if (typeof fn !== "object" || fn === null) throw new VmwindowError("INVALID_ARGUMENT", `${what} must be { params, results, fn }, got ${shown(fn)}`);
      if (!Array.isArray(fn.params)) throw new VmwindowError("INVALID_ARGUMENT", `${what}: params must be an array of value kinds, got ${shown(fn.params)}`);
      if (!Array.isArray(fn.results)) throw new VmwindowError("INVALID_ARGUMENT", `${what}: results must be an array of value kinds, got ${shown(fn.results)}`);
      if (typeof fn.fn !== "function") throw new VmwindowError("INVALID_ARGUMENT", `${what}: fn must be a function, got ${shown(fn.fn)}`);
      for (const kind of [...fn.params, ...fn.results]) {
        if (typeof kind !== "string" || !Object.hasOwn(KIND_CODES, kind)) throw new VmwindowError("INVALID_ARGUMENT", `${what}: unknown value kind ${shown(kind)}`);
      }
      specs.push({ module, name, params: fn.params, results: fn.results, fn: fn.fn });
    }
  }
  const has = (module: string, name: string) => specs.some((s) => s.module === module && s.name === name);
  const log = callbackArgument("log", options.log);
  const map = callbackArgument("map", options.map);
  if (log && !has("vmw", "log")) {
    specs.push({ module: "vmw", name: "log", params: ["i32", "i32", "i32"], results: [], builtin: (memory) => logBuiltin(memory, log) });
  }
  if (map && !has("vmw", "map")) {
    specs.push({ module: "vmw", name: "map", params: ["i32", "i32", "i32"], results: ["i32"], builtin: (memory) => mapBuiltin(memory, map) });
  }
  return specs;
}

/** A guest's linked imports: the callback the native side calls, and the handlers it runs. */
export interface LinkedImports {
  /** Closed by the guest's owner when the native guest is gone. */
  readonly callback: JSCallback;
  /**
   * What the callback runs, held by the guest: the callback (a garbage-collection root until it is
   * closed) holds it only weakly, so host functions that close over their window, its regions or
   * the guest do not keep a window dropped without close() from being collected and released. A
   * guest's call holds the guest, so the handlers are there whenever the callback runs.
   */
  readonly handlers: readonly (() => void)[];
}

/**
 * Defines `imports` on the compiled guest `handle` (before instantiation) and installs the
 * callback that runs them. A host function's exception goes to `onError` (the guest's call then
 * fails). The caller holds the returned handlers for as long as the guest can call them, and
 * closes the callback with the guest.
 */
export function linkImports(handle: Pointer, imports: readonly ImportSpec[], memory: GuestMemory, onError: (error: unknown) => void): LinkedImports {
  const views = lib.guestHostValues(handle);
  const handlers: (() => void)[] = [];
  for (const spec of imports) {
    const params = spec.params.map((kind) => KIND_CODES[kind]);
    const results = spec.results.map((kind) => KIND_CODES[kind]);
    const index = lib.guestDefineImport(handle, utf8(spec.module), utf8(spec.name), params, results);
    if (index !== handlers.length) throw new Error(`vmwindow: import index ${index} out of order`);
    const fn = spec.builtin ? spec.builtin(memory) : spec.fn!;
    handlers.push(makeHostHandler(spec, fn, views));
  }
  const callback = hostCallback(new WeakRef(handlers), onError);
  lib.guestSetHostCallback(handle, callback);
  return { callback, handlers };
}

/** The callback that runs handler `index` (a function of its own: it closes over nothing else). */
function hostCallback(handlers: WeakRef<readonly (() => void)[]>, onError: (error: unknown) => void): JSCallback {
  return new JSCallback(
    (_userData: Pointer, index: number): number => {
      try {
        handlers.deref()![index]!();
        return 0;
      } catch (error) {
        onError(error);
        return 1;
      }
    },
    { args: [FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
  );
}

const decoder = new TextDecoder();

function guestText(memory: GuestMemory, what: string, address: number, length: number): string {
  const bytes = memory.guestBytes(address >>> 0, length >>> 0);
  if (bytes === null) throw new VmwindowError("INVALID_ARGUMENT", `${what}: text at ${address >>> 0} (${length >>> 0} bytes) is outside the guest area`);
  return decoder.decode(bytes);
}

function logBuiltin(memory: GuestMemory, log: NonNullable<InstantiateOptions["log"]>): HostFunction["fn"] {
  return (level: number, address: number, length: number) => log(level, guestText(memory, "vmw.log", address, length));
}

function mapBuiltin(memory: GuestMemory, map: NonNullable<InstantiateOptions["map"]>): HostFunction["fn"] {
  return (address: number, length: number, access: number) => {
    const name = guestText(memory, "vmw.map", address, length);
    const region = map(name, (access & ACCESS.WRITE) !== 0 ? "readwrite" : "read");
    if (region === null || region === undefined) return HOST_REFUSED;
    // Its id names a region of the guest's own window: a region of another window (or any other
    // object with an id) would hand the guest a different region under that id.
    if (!memory.ownsRegion(region)) {
      throw new VmwindowError("INVALID_ARGUMENT", `the map handler for ${JSON.stringify(name)} returned ${describe(region)}, not a live Region of the guest's window: return a region from this window's mapFile/mapAnonymous, or null to refuse`);
    }
    return region.id;
  };
}

/** What a map handler returned instead of one of its window's live regions. */
function describe(value: unknown): string {
  return value instanceof Region ? "a Region of another window (or an unmapped one)" : shown(value);
}

/** Reads the arguments from the host value-slot array, calls `fn`, writes its results back. */
function makeHostHandler(spec: ImportSpec, fn: HostFunction["fn"], views: Views): () => void {
  const args = spec.params.map((kind, i) => slotExpression(kind, i));
  const lines = [`const r = fn(${args.join(", ")});`];
  if (spec.results.length === 1) {
    lines.push(`${slotExpression(spec.results[0]!, 0)} = ${spec.results[0] === "i64" ? `typeof r === "bigint" ? r : BigInt(r)` : "r"};`);
  } else if (spec.results.length > 1) {
    lines.push(`if (!Array.isArray(r) || r.length !== ${spec.results.length}) bad(r);`);
    spec.results.forEach((kind, i) => lines.push(`${slotExpression(kind, i)} = ${kind === "i64" ? `typeof r[${i}] === "bigint" ? r[${i}] : BigInt(r[${i}])` : `r[${i}]`};`));
  }
  const label = `${spec.module}.${spec.name}`;
  const factory = new Function("fn", "bad", "I32", "I64", "F32", "F64", `return function () {\n  ${lines.join("\n  ")}\n};`);
  return factory(
    fn,
    (r: unknown) => {
      throw new VmwindowError("INVALID_ARGUMENT", `host function ${label} must return an array of ${spec.results.length} values, got ${shown(r)}`);
    },
    views.i32,
    views.i64,
    views.f32,
    views.f64,
  );
}
