// A WebAssembly guest running over a window: exports resolved once into typed callables that
// write arguments into a fixed native array and call the native unchecked fast path (no
// per-call allocation except what JS itself needs: a bigint for an i64 result, an array for
// several results), host functions written in JS, a per-call deadline.
import { JSCallback, FFIType, toArrayBuffer, type Pointer } from "bun:ffi";
import { closedError, throwResult, VmwindowError } from "./errors.ts";
import { native, Result, takeHandle, utf8 } from "./ffi.ts";
import { readFileSync } from "node:fs";

export type WasmValue = number | bigint;
export type ValueKind = "i32" | "i64" | "f32" | "f64";

const kinds: readonly ValueKind[] = ["i32", "i64", "f32", "f64"];
const KIND_CODES: Record<ValueKind, number> = { i32: 0, i64: 1, f32: 2, f64: 3 };
const VALUES_MAX = 16;
const VALUE_BYTES = 16;
const EXPORT_INFO_BYTES = 48;
const EXPORT_NAME_MAX_BYTES = 4096;
const EXTERN_FUNC = 0;
const POLICY_FLUSH = 1;
const GUEST_INTERRUPTIBLE = 1;
const GUEST_METERED = 2;
/** What `vmw.map` returns to the guest when the host refuses (VMW_HOST_REFUSED). */
const HOST_REFUSED = -1;
const TIMEOUT_MAX_MS = 2 ** 31 - 1;

export interface ExportSignature {
  readonly name: string;
  readonly params: readonly ValueKind[];
  readonly results: readonly ValueKind[];
}

interface ResolvedExport extends ExportSignature {
  readonly index: number;
}

/** A JS function a guest imports, with its wasm signature. */
export interface HostFunction {
  readonly params: readonly ValueKind[];
  readonly results: readonly ValueKind[];
  /** Called synchronously on the JS thread while the guest waits. i64 arguments arrive as bigints. */
  readonly fn: (...args: any[]) => WasmValue | WasmValue[] | void;
}

/** `{ module: { name: HostFunction } }`, e.g. `{ env: { now: { params: [], results: ["f64"], fn: () => performance.now() } } }`. */
export type HostImports = Record<string, Record<string, HostFunction>>;

/** What the guest gets for `vmw.map(name, access)`: a region (its id), or null to refuse. */
export type MapRequestHandler = (name: string, access: "read" | "readwrite") => { readonly id: number } | null | undefined;

export interface InstantiateOptions {
  /** The guest's own imports, implemented in JS. They replace built-ins of the same name. */
  imports?: HostImports;
  /** Every call gets this deadline; one still running then throws GuestTimeout. Default: none. */
  timeoutMs?: number;
  /**
   * Compile with deadline support, so `setTimeout` works later. Implied by `timeoutMs`. Costs an
   * epoch check in every loop (a tight scan runs up to ~2.5x slower), so it is off by default.
   */
  interruptible?: boolean;
  /**
   * Fuel per call: about one unit per wasm instruction; a call that uses it all throws
   * GuestTimeout ("ran out of fuel"). Deterministic, unlike a deadline, but every instruction is
   * counted, so metered guests run slower. Enables `setFuel` later. Default: not metered.
   */
  fuel?: number | bigint;
  /** Receives the guest's `log(...)` (SDK: `log`, `vmw.log`). Default: discarded. */
  log?: (level: number, text: string) => void;
  /** Decides the guest's `regions.request(name)` (`vmw.map`). Default: every request is refused. */
  map?: MapRequestHandler;
  /** Allows the guest's `region.flush()` (`vmw.flush`, msync of a read-write region). Default false. */
  allowFlush?: boolean;
}

/** What a guest needs from its window. */
export interface GuestOwner {
  releaseGuest(guest: Guest): void;
  readonly basePointer: Pointer;
  readonly layout: { readonly guestBase: number; readonly guestBytes: number };
}

/** A typed callable for one export. */
export type GuestFunction = ((...args: any[]) => any) & { readonly signature: ExportSignature };

/** Shared by a guest's generated callables: `handle` becomes null on close. */
interface CallState {
  handle: Pointer | null;
  pending: unknown;
  hasPending: boolean;
}

/**
 * Compiles, links and instantiates `wasm` over the window `windowHandle` belongs to.
 * @internal Use `Window.instantiate`.
 */
export function createGuest(owner: GuestOwner, windowHandle: Pointer, wasm: Uint8Array | ArrayBuffer | string, options: InstantiateOptions = {}): Guest {
  if (options === undefined) options = {};
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new VmwindowError("INVALID_ARGUMENT", `instantiate options must be an object, got ${options === null ? "null" : Array.isArray(options) ? "an array" : typeof options}`);
  }
  const bytes = moduleBytes(wasm);
  const imports = collectImports(options);
  const timeoutMs = options.timeoutMs ?? 0;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 0 || timeoutMs > TIMEOUT_MAX_MS) {
    throw new VmwindowError("INVALID_ARGUMENT", `timeoutMs must be an integer in 0..${TIMEOUT_MAX_MS}, got ${String(timeoutMs)}`);
  }
  const fuel = options.fuel === undefined ? undefined : fuelArgument(options.fuel);
  const interruptible = options.interruptible === true || timeoutMs !== 0;
  const flags = fuel !== undefined ? GUEST_METERED : interruptible ? GUEST_INTERRUPTIBLE : 0;
  const { result, handle } = takeHandle((out) => native.vmw_guest_compile(windowHandle, bytes, bytes.length, flags, out));
  if (result !== Result.OK || handle === null) throwResult(result);
  const guest = new Guest(owner, handle);
  try {
    guest._link(imports, options);
    const instantiated = native.vmw_guest_instantiate(handle);
    if (instantiated !== Result.OK) guest._fail(instantiated);
    if (timeoutMs !== 0) check(native.vmw_guest_set_timeout(handle, timeoutMs));
    if (fuel !== undefined) check(native.vmw_guest_set_fuel(handle, fuel));
    if (options.allowFlush) check(native.vmw_guest_set_policy(handle, POLICY_FLUSH));
    guest._resolveAll();
  } catch (error) {
    owner.releaseGuest(guest);
    throw error;
  }
  return guest;
}

export class Guest implements Disposable {
  #owner: GuestOwner;
  #state: CallState;
  #resolved = new Map<string, ResolvedExport>();
  #functions = new Map<string, GuestFunction>();
  #exports: Record<string, GuestFunction> = Object.create(null);
  #callback: JSCallback | null = null;
  #i32: Int32Array;
  #u32: Uint32Array;
  #i64: BigInt64Array;
  #f32: Float32Array;
  #f64: Float64Array;

  /** @internal Use `Window.instantiate`. */
  constructor(owner: GuestOwner, handle: Pointer) {
    this.#owner = owner;
    this.#state = { handle, pending: undefined, hasPending: false };
    const values = toArrayBuffer(native.vmw_guest_values(handle)!, 0, VALUES_MAX * VALUE_BYTES);
    this.#i32 = new Int32Array(values);
    this.#u32 = new Uint32Array(values);
    this.#i64 = new BigInt64Array(values);
    this.#f32 = new Float32Array(values);
    this.#f64 = new Float64Array(values);
  }

  get closed(): boolean {
    return this.#state.handle === null;
  }

  /** Every exported function as a typed callable, resolved at instantiation: `guest.exports.sum(1, 2)`. */
  get exports(): Readonly<Record<string, GuestFunction>> {
    return this.#exports;
  }

  /** The typed callable for export `name` (the same function every time). */
  fn(name: string): GuestFunction {
    const cached = this.#functions.get(name);
    if (cached) return cached;
    const made = makeCallable(this.#resolve(name), this.#state, this.#views(), (r) => this._fail(r));
    this.#functions.set(name, made);
    return made;
  }

  /** The signature of an exported function (resolving it if needed). */
  signature(name: string): ExportSignature {
    const { index: _, ...signature } = this.#resolve(name);
    return signature;
  }

  /**
   * Calls exported function `name`, checking every argument. i32/f32/f64 arguments and results are
   * numbers, i64 are bigints (a safe-integer number is accepted as an i64 argument). Returns
   * undefined for no result, the value for one, an array for several. A trap throws GuestTrap, a
   * deadline GuestTimeout; the guest stays usable. For speed, use `exports` / `fn(name)`.
   */
  call(name: string, ...args: WasmValue[]): WasmValue | WasmValue[] | undefined {
    const target = this.#resolve(name);
    if (args.length !== target.params.length) {
      throw new VmwindowError(
        "INVALID_ARGUMENT",
        `${name} takes ${target.params.length} argument${target.params.length === 1 ? "" : "s"} (${target.params.join(", ")}), got ${args.length}`,
      );
    }
    for (let i = 0; i < args.length; i++) this.#write(i, target.params[i]!, args[i], name);
    const result = native.vmw_guest_call(this.#state.handle!, target.index);
    if (result !== Result.OK) this._fail(result);
    const count = target.results.length;
    if (count === 0) return undefined;
    if (count === 1) return this.#read(0, target.results[0]!);
    const results: WasmValue[] = [];
    for (let i = 0; i < count; i++) results.push(this.#read(i, target.results[i]!));
    return results;
  }

  /** Changes the fuel each call starts with (only for guests instantiated with `fuel`). */
  setFuel(fuel: number | bigint): void {
    check(native.vmw_guest_set_fuel(this.#open(), fuelArgument(fuel)));
  }

  /** Changes the per-call deadline (0: none). */
  setTimeout(timeoutMs: number): void {
    if (!Number.isInteger(timeoutMs) || timeoutMs < 0 || timeoutMs > TIMEOUT_MAX_MS) {
      throw new VmwindowError("INVALID_ARGUMENT", `timeoutMs must be an integer in 0..${TIMEOUT_MAX_MS}, got ${String(timeoutMs)}`);
    }
    check(native.vmw_guest_set_timeout(this.#open(), timeoutMs));
  }

  close(): void {
    if (this.#state.handle === null) return;
    this.#owner.releaseGuest(this);
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** @internal The native handle, for the owning window. */
  get handle(): Pointer | null {
    return this.#state.handle;
  }

  /** @internal Called by the window after destroying the native guest. */
  detach(): void {
    this.#state.handle = null;
    this.#resolved.clear();
    this.#callback?.close();
    this.#callback = null;
  }

  /** @internal Throws for a failed call: a host function's own exception first, else the native error. */
  _fail(result: number): never {
    const state = this.#state;
    if (state.hasPending) {
      const pending = state.pending;
      state.pending = undefined;
      state.hasPending = false;
      throw pending;
    }
    throwResult(result);
  }

  /** @internal Defines host imports (before instantiation). */
  _link(imports: ImportSpec[], options: InstantiateOptions): void {
    if (imports.length === 0) return;
    const handle = this.#open();
    const hostValues = toArrayBuffer(native.vmw_guest_host_values(handle)!, 0, VALUES_MAX * VALUE_BYTES);
    const views = viewsOf(hostValues);
    const handlers: (() => void)[] = [];
    const indexOut = new Uint32Array(1);
    for (const spec of imports) {
      const moduleBytes = utf8(spec.module);
      const nameBytes = utf8(spec.name);
      const params = Uint8Array.from(spec.params, (k) => KIND_CODES[k]);
      const results = Uint8Array.from(spec.results, (k) => KIND_CODES[k]);
      check(
        native.vmw_guest_define_import(handle, moduleBytes, moduleBytes.length, nameBytes, nameBytes.length, params.length ? params : null, params.length, results.length ? results : null, results.length, indexOut),
      );
      if (indexOut[0] !== handlers.length) throw new Error(`vmwindow: import index ${indexOut[0]} out of order`);
      const fn = spec.builtin ? spec.builtin(this, options) : spec.fn!;
      handlers.push(makeHostHandler(spec, fn, views));
    }
    const state = this.#state;
    this.#callback = new JSCallback(
      (_userData: Pointer, index: number): number => {
        try {
          handlers[index]!();
          return 0;
        } catch (error) {
          state.pending = error;
          state.hasPending = true;
          return 1;
        }
      },
      { args: [FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
    );
    native.vmw_guest_set_host_callback(handle, this.#callback.ptr, null);
  }

  /** @internal Resolves every exported function into `exports`. */
  _resolveAll(): void {
    const handle = this.#open();
    const nameBuffer = new Uint8Array(EXPORT_NAME_MAX_BYTES);
    const lengthOut = new BigUint64Array(1);
    const kindOut = new Uint32Array(1);
    const decoder = new TextDecoder();
    for (let index = 0; ; index++) {
      const result = native.vmw_guest_export_nth(handle, index, nameBuffer, nameBuffer.length, lengthOut, kindOut);
      if (result === Result.NOT_FOUND) break;
      if (result !== Result.OK) throwResult(result);
      if (kindOut[0] !== EXTERN_FUNC) continue;
      const name = decoder.decode(nameBuffer.subarray(0, Number(lengthOut[0])));
      try {
        this.#exports[name] = this.fn(name);
      } catch (error) {
        // Exports with v128/reference types cannot be called from here; leave them out.
        if (!(error instanceof VmwindowError && error.code === "UNSUPPORTED")) throw error;
      }
    }
    Object.freeze(this.#exports);
  }

  /** @internal Guest-area bytes `[address, address + length)`, or null if outside the guest area. */
  _guestBytes(address: number, length: number): Uint8Array | null {
    const { guestBase, guestBytes } = this.#owner.layout;
    if (address < guestBase || length < 0 || address + length > guestBase + guestBytes) return null;
    if (length === 0) return new Uint8Array(0);
    return new Uint8Array(toArrayBuffer(this.#owner.basePointer, address, length));
  }

  #open(): Pointer {
    if (this.#state.handle === null) throw closedError("guest");
    return this.#state.handle;
  }

  #views(): Views {
    return { i32: this.#i32, u32: this.#u32, i64: this.#i64, f32: this.#f32, f64: this.#f64 };
  }

  #resolve(name: string): ResolvedExport {
    const handle = this.#open();
    const cached = this.#resolved.get(name);
    if (cached) return cached;
    if (typeof name !== "string") throw new VmwindowError("INVALID_ARGUMENT", `export name must be a string, got ${typeof name}`);
    const info = new Uint8Array(EXPORT_INFO_BYTES);
    const nameBytes = utf8(name);
    const result = native.vmw_guest_export(handle, nameBytes, nameBytes.length, info);
    if (result !== Result.OK) throwResult(result);
    const words = new Uint32Array(info.buffer, 0, 4);
    const resolved: ResolvedExport = {
      name,
      index: words[0]!,
      params: Object.freeze(Array.from(info.subarray(16, 16 + words[1]!), (kind) => kinds[kind]!)),
      results: Object.freeze(Array.from(info.subarray(32, 32 + words[2]!), (kind) => kinds[kind]!)),
    };
    this.#resolved.set(name, resolved);
    return resolved;
  }

  #write(slot: number, kind: ValueKind, value: WasmValue | undefined, name: string): void {
    switch (kind) {
      case "i32":
        if (typeof value !== "number" || !Number.isInteger(value) || value < -0x8000_0000 || value > 0xffff_ffff) {
          throw argumentError(name, slot, "an integer in i32/u32 range", value);
        }
        this.#i32[slot * 4] = value | 0;
        return;
      case "i64": {
        let big: bigint;
        if (typeof value === "bigint") big = value;
        else if (typeof value === "number" && Number.isSafeInteger(value)) big = BigInt(value);
        else throw argumentError(name, slot, "a bigint (or a safe integer)", value);
        if (big < -(1n << 63n) || big >= 1n << 64n) throw argumentError(name, slot, "a bigint in i64/u64 range", value);
        this.#i64[slot * 2] = BigInt.asIntN(64, big);
        return;
      }
      case "f32":
        if (typeof value !== "number") throw argumentError(name, slot, "a number", value);
        this.#f32[slot * 4] = value;
        this.#u32[slot * 4 + 1] = 0;
        return;
      case "f64":
        if (typeof value !== "number") throw argumentError(name, slot, "a number", value);
        this.#f64[slot * 2] = value;
        return;
    }
  }

  #read(slot: number, kind: ValueKind): WasmValue {
    switch (kind) {
      case "i32":
        return this.#i32[slot * 4]!;
      case "i64":
        return this.#i64[slot * 2]!;
      case "f32":
        return this.#f32[slot * 4]!;
      case "f64":
        return this.#f64[slot * 2]!;
    }
  }
}

// Typed callables --------------------------------------------------------------------------------

interface Views {
  i32: Int32Array;
  u32: Uint32Array;
  i64: BigInt64Array;
  f32: Float32Array;
  f64: Float64Array;
}

function viewsOf(buffer: ArrayBuffer): Views {
  return { i32: new Int32Array(buffer), u32: new Uint32Array(buffer), i64: new BigInt64Array(buffer), f32: new Float32Array(buffer), f64: new Float64Array(buffer) };
}

/** Where value slot `slot` of kind `kind` lives: the typed array and its element index. */
function slotExpression(kind: ValueKind, slot: number): string {
  switch (kind) {
    case "i32":
      return `I32[${slot * 4}]`;
    case "i64":
      return `I64[${slot * 2}]`;
    case "f32":
      return `F32[${slot * 4}]`;
    case "f64":
      return `F64[${slot * 2}]`;
  }
}

/**
 * Generates a callable specialised to one signature: one typed-array store per argument, one
 * native call, one load per result. Conversions follow the WebAssembly JS API: i32 arguments are
 * ToInt32'd, f32/f64 ToNumber'd, i64 take a bigint (or an integer number); an i64 result is a
 * bigint, an i32 result a signed number.
 */
function makeCallable(target: ResolvedExport, state: CallState, views: Views, fail: (result: number) => never): GuestFunction {
  const params = target.params.map((_, i) => `a${i}`);
  const lines: string[] = [];
  lines.push(`const handle = state.handle; if (handle === null) closed();`);
  // A conversion that JS refuses (a bigint to i32, 1.5 or a string to i64, a symbol) becomes an
  // INVALID_ARGUMENT VmwindowError; the try costs nothing when nothing throws.
  if (target.params.length > 0) lines.push(`try {`);
  target.params.forEach((kind, i) => {
    if (kind === "i64") lines.push(`  ${slotExpression(kind, i)} = typeof a${i} === "bigint" ? a${i} : BigInt(a${i});`);
    else lines.push(`  ${slotExpression(kind, i)} = a${i};`);
  });
  if (target.params.length > 0) lines.push(`} catch (error) { badArgument(error); }`);
  lines.push(`const r = call(handle, ${target.index}); if (r !== 0) fail(r);`);
  if (target.results.length === 1) lines.push(`return ${slotExpression(target.results[0]!, 0)};`);
  else if (target.results.length > 1) lines.push(`return [${target.results.map((kind, i) => slotExpression(kind, i)).join(", ")}];`);
  const source = `return function ${safeIdentifier(target.name)}(${params.join(", ")}) {\n  ${lines.join("\n  ")}\n};`;
  const factory = new Function("state", "call", "fail", "closed", "badArgument", "I32", "I64", "F32", "F64", source);
  const badArgument = (error: unknown) => {
    throw new VmwindowError("INVALID_ARGUMENT", `${target.name}(${target.params.join(", ")}): ${(error as Error)?.message ?? String(error)}`);
  };
  const callable = factory(state, native.vmw_guest_call, fail, () => {
    throw closedError("guest");
  }, badArgument, views.i32, views.i64, views.f32, views.f64) as GuestFunction;
  Object.defineProperty(callable, "signature", { value: Object.freeze({ name: target.name, params: target.params, results: target.results }) });
  return callable;
}

function safeIdentifier(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9_$]/g, "_");
  return /^[A-Za-z_$]/.test(cleaned) ? cleaned : `_${cleaned}`;
}

// Host functions ---------------------------------------------------------------------------------

interface ImportSpec {
  module: string;
  name: string;
  params: readonly ValueKind[];
  results: readonly ValueKind[];
  fn?: HostFunction["fn"];
  /** Built-ins (vmw.log, vmw.map) are bound to the guest once it exists. */
  builtin?: (guest: Guest, options: InstantiateOptions) => HostFunction["fn"];
}

function collectImports(options: InstantiateOptions): ImportSpec[] {
  const specs: ImportSpec[] = [];
  for (const [module, functions] of Object.entries(options.imports ?? {})) {
    for (const [name, fn] of Object.entries(functions)) {
      if (!fn || typeof fn.fn !== "function" || !Array.isArray(fn.params) || !Array.isArray(fn.results)) {
        throw new VmwindowError("INVALID_ARGUMENT", `import ${module}.${name} must be { params, results, fn }`);
      }
      for (const kind of [...fn.params, ...fn.results]) {
        if (!(kind in KIND_CODES)) throw new VmwindowError("INVALID_ARGUMENT", `import ${module}.${name}: unknown value kind ${JSON.stringify(kind)}`);
      }
      specs.push({ module, name, params: fn.params, results: fn.results, fn: fn.fn });
    }
  }
  const has = (module: string, name: string) => specs.some((s) => s.module === module && s.name === name);
  if (options.log && !has("vmw", "log")) {
    specs.push({ module: "vmw", name: "log", params: ["i32", "i32", "i32"], results: [], builtin: logBuiltin });
  }
  if (options.map && !has("vmw", "map")) {
    specs.push({ module: "vmw", name: "map", params: ["i32", "i32", "i32"], results: ["i32"], builtin: mapBuiltin });
  }
  return specs;
}

const decoder = new TextDecoder();

function guestText(guest: Guest, what: string, address: number, length: number): string {
  const bytes = guest._guestBytes(address >>> 0, length >>> 0);
  if (bytes === null) throw new VmwindowError("INVALID_ARGUMENT", `${what}: text at ${address >>> 0} (${length >>> 0} bytes) is outside the guest area`);
  return decoder.decode(bytes);
}

function logBuiltin(guest: Guest, options: InstantiateOptions): HostFunction["fn"] {
  const log = options.log!;
  return (level: number, address: number, length: number) => log(level, guestText(guest, "vmw.log", address, length));
}

function mapBuiltin(guest: Guest, options: InstantiateOptions): HostFunction["fn"] {
  const map = options.map!;
  return (address: number, length: number, access: number) => {
    const name = guestText(guest, "vmw.map", address, length);
    const region = map(name, (access & 2) !== 0 ? "readwrite" : "read");
    return region ? region.id : HOST_REFUSED;
  };
}

/** Reads the arguments from the host-values array, calls `fn`, writes its results back. */
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
      throw new VmwindowError("INVALID_ARGUMENT", `host function ${label} must return an array of ${spec.results.length} values, got ${String(r)}`);
    },
    views.i32,
    views.i64,
    views.f32,
    views.f64,
  );
}

// Helpers ----------------------------------------------------------------------------------------

function moduleBytes(wasm: Uint8Array | ArrayBuffer | string): Uint8Array {
  let bytes: Uint8Array;
  if (typeof wasm === "string") {
    try {
      bytes = readFileSync(wasm);
    } catch (error) {
      throw new VmwindowError("NOT_FOUND", `cannot read guest module ${wasm}: ${(error as Error).message}`);
    }
  } else if (wasm instanceof Uint8Array) {
    bytes = wasm;
  } else if (wasm instanceof ArrayBuffer) {
    bytes = new Uint8Array(wasm);
  } else {
    throw new VmwindowError("INVALID_ARGUMENT", "instantiate takes a Uint8Array, an ArrayBuffer or a path");
  }
  if (bytes.length === 0) throw new VmwindowError("BAD_MODULE", "the module is empty (0 bytes)");
  return bytes;
}

function check(result: number): void {
  if (result !== Result.OK) throwResult(result);
}

function argumentError(name: string, slot: number, expected: string, value: unknown): VmwindowError {
  const shown = typeof value === "bigint" ? `${value}n` : typeof value === "string" ? JSON.stringify(value) : String(value);
  return new VmwindowError("INVALID_ARGUMENT", `${name}: argument ${slot + 1} must be ${expected}, got ${shown}`);
}

function fuelArgument(fuel: unknown): bigint {
  const value = typeof fuel === "number" && Number.isSafeInteger(fuel) ? BigInt(fuel) : fuel;
  if (typeof value !== "bigint" || value <= 0n || value >= 2n ** 63n) {
    throw new VmwindowError("INVALID_ARGUMENT", `fuel must be a positive integer (number or bigint) below 2**63, got ${String(fuel)}`);
  }
  return value;
}
