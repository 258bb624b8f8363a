// A WebAssembly guest running over a window: its exports as typed callables (callables.ts), host
// functions written in JS (host-imports.ts), a per-call deadline or fuel (guest-options.ts).
import { toArrayBuffer, type JSCallback, type Pointer } from "bun:ffi";
import { check, closedError, throwResult, VmwindowError } from "./errors.ts";
import { native, Result, takeHandle } from "./ffi.ts";
import { exportedFunctionNames, makeCallable, resolveExport, type CallState, type ExportSignature, type GuestFunction, type ResolvedExport } from "./callables.ts";
import { fuelArgument, optionsArgument, timeoutArgument, type InstantiateOptions } from "./guest-options.ts";
import { collectImports, linkImports, type ImportSpec } from "./host-imports.ts";
import { moduleBytes } from "./module-bytes.ts";
import { guestSource, prepareGuest, type GuestSource } from "./module.ts";
import { readValue, VALUE_BYTES, VALUES_MAX, viewsOf, writeValue, type Views, type WasmValue } from "./values.ts";

/** Resolved exports by module (hash and engine flags), in index order: every guest of one module
 * has the same exports, so later guests skip resolving them one by one (~2 us each). */
const exportLists = new Map<string, readonly ResolvedExport[]>();
const EXPORT_LISTS_MAX = 256;
const resolvedCount = new Uint32Array(1);

const POLICY_FLUSH = 1;
const GUEST_INTERRUPTIBLE = 1;
const GUEST_METERED = 2;

/** What a guest needs from its window. */
export interface GuestOwner {
  releaseGuest(guest: Guest<object>): void;
  ownsRegion(region: unknown): boolean;
  readonly basePointer: Pointer;
  readonly layout: { readonly guestBase: number; readonly guestBytes: number };
}

/** The callables' state, plus a host function's exception waiting to be rethrown by the failed call. */
interface GuestState extends CallState {
  pending: unknown;
  hasPending: boolean;
}

/**
 * Compiles `wasm` for the window `windowHandle` and makes the checks that come before linking
 * (its memory import, its data segments), then drops it: nothing is linked or run.
 * @internal Use `Window.validate`.
 */
export function validateGuest(windowHandle: Pointer, wasm: Uint8Array | ArrayBuffer | string): void {
  check(native.vmw_guest_destroy(compileGuest(windowHandle, moduleBytes(wasm), 0)));
}

/** A compiled, not yet instantiated guest of the window `windowHandle` (vmw_guest_compile). */
function compileGuest(windowHandle: Pointer, bytes: Uint8Array, flags: number): Pointer {
  const { result, handle } = takeHandle((out) => native.vmw_guest_compile(windowHandle, bytes, bytes.length, flags, out));
  if (result !== Result.OK || handle === null) throwResult(result);
  return handle;
}

/**
 * Compiles, links and instantiates `wasm` over the window `windowHandle` belongs to.
 * @internal Use `Window.instantiate`.
 */
export function createGuest(owner: GuestOwner, windowHandle: Pointer, wasm: GuestSource, options: InstantiateOptions = {}): Guest {
  options = optionsArgument(options);
  const source = guestSource(wasm);
  const imports = collectImports(options);
  const timeoutMs = timeoutArgument(options.timeoutMs ?? 0);
  const fuel = options.fuel === undefined ? undefined : fuelArgument(options.fuel);
  const interruptible = options.interruptible === true || timeoutMs !== 0;
  const flags = fuel !== undefined ? GUEST_METERED : interruptible ? GUEST_INTERRUPTIBLE : 0;
  const { handle, moduleKey } = prepareGuest(windowHandle, source, flags, options.cacheDir);
  const guest = new Guest(owner, handle);
  try {
    guest._link(imports);
    // Limits and policy first: the start function (AssemblyScript's top-level code) runs under them.
    if (timeoutMs !== 0) check(native.vmw_guest_set_timeout(handle, timeoutMs));
    if (fuel !== undefined) check(native.vmw_guest_set_fuel(handle, fuel));
    if (options.allowFlush) check(native.vmw_guest_set_policy(handle, POLICY_FLUSH));
    const instantiated = native.vmw_guest_instantiate(handle);
    if (instantiated !== Result.OK) guest._fail(instantiated);
    guest._resolveAll(moduleKey);
  } catch (error) {
    owner.releaseGuest(guest);
    throw error;
  }
  return guest;
}

/**
 * A guest. `E` types `exports`: by default any name may be looked up (each may be undefined);
 * `window.instantiate<GuestExports>(...)` with the interface `vmwindow inspect --dts` writes gives
 * each export its parameter and result types.
 */
export class Guest<E extends object = Record<string, GuestFunction>> implements Disposable {
  #owner: GuestOwner;
  #state: GuestState;
  #resolved = new Map<string, ResolvedExport>();
  #functions = new Map<string, GuestFunction>();
  #exports: Record<string, GuestFunction> = Object.create(null);
  #callback: JSCallback | null = null;
  #views: Views;

  /** @internal Use `Window.instantiate`. */
  constructor(owner: GuestOwner, handle: Pointer) {
    this.#owner = owner;
    this.#state = { handle, pending: undefined, hasPending: false };
    this.#views = viewsOf(toArrayBuffer(native.vmw_guest_values(handle)!, 0, VALUES_MAX * VALUE_BYTES));
  }

  get closed(): boolean {
    return this.#state.handle === null;
  }

  /** Every exported function as a typed callable, resolved at instantiation: `guest.exports.sum(1, 2)`. */
  get exports(): Readonly<E> {
    return this.#exports as unknown as Readonly<E>;
  }

  /** The typed callable for export `name` (the same function every time). */
  fn(name: string): GuestFunction {
    const cached = this.#functions.get(name);
    if (cached) return cached;
    const made = makeCallable(this.#resolve(name), this.#state, this.#views, (r) => this._fail(r));
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
    for (let i = 0; i < args.length; i++) writeValue(this.#views, i, target.params[i]!, args[i], name);
    const result = native.vmw_guest_call(this.#state.handle!, target.index);
    if (result !== Result.OK) this._fail(result);
    const count = target.results.length;
    if (count === 0) return undefined;
    if (count === 1) return readValue(this.#views, 0, target.results[0]!);
    const results: WasmValue[] = [];
    for (let i = 0; i < count; i++) results.push(readValue(this.#views, i, target.results[i]!));
    return results;
  }

  /** Changes the fuel each call starts with (only for guests instantiated with `fuel`). */
  setFuel(fuel: number | bigint): void {
    check(native.vmw_guest_set_fuel(this.#open(), fuelArgument(fuel)));
  }

  /**
   * A number that stops this guest's running call from any thread: post it to a Worker (or keep
   * it on this thread for a host function) and call `interruptGuest(token)` there; the call throws
   * GuestInterrupted within ~10 ms and the guest stays usable. A request made while no call runs
   * is dropped. Needs a guest instantiated with `interruptible: true` or `timeoutMs` (UNSUPPORTED
   * otherwise). `worker.terminate()` cannot stop a running guest call; this can.
   */
  interruptToken(): number {
    const out = new BigUint64Array(1);
    check(native.vmw_guest_interrupt_token(this.#open(), out));
    return Number(out[0]!);
  }

  /** Changes the per-call deadline (0: none). */
  setTimeout(timeoutMs: number): void {
    check(native.vmw_guest_set_timeout(this.#open(), timeoutArgument(timeoutMs)));
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
  _link(imports: ImportSpec[]): void {
    if (imports.length === 0) return;
    const state = this.#state;
    this.#callback = linkImports(this.#open(), imports, this, (error) => {
      state.pending = error;
      state.hasPending = true;
    });
  }

  /**
   * @internal Resolves every exported function into `exports`. Guests of a module seen before
   * (`moduleKey`) take its export list and resolve natively in one call.
   */
  _resolveAll(moduleKey: string): void {
    const handle = this.#open();
    const known = exportLists.get(moduleKey);
    if (known !== undefined) {
      check(native.vmw_guest_resolve_all(handle, resolvedCount));
      if (resolvedCount[0] !== known.length) throw new VmwindowError("WASMTIME", `module ${moduleKey} resolved ${resolvedCount[0]} exports, ${known.length} before`);
      for (const target of known) {
        this.#resolved.set(target.name, target);
        this.#exports[target.name] = this.fn(target.name);
      }
      Object.freeze(this.#exports);
      return;
    }
    for (const name of exportedFunctionNames(handle)) {
      try {
        this.#exports[name] = this.fn(name);
      } catch (error) {
        // Exports with v128/reference types cannot be called from here; leave them out.
        if (!(error instanceof VmwindowError && error.code === "UNSUPPORTED")) throw error;
      }
    }
    Object.freeze(this.#exports);
    if (exportLists.size >= EXPORT_LISTS_MAX) exportLists.clear();
    exportLists.set(moduleKey, [...this.#resolved.values()].sort((a, b) => a.index - b.index));
  }

  /** @internal Whether `region` is a live region of this guest's window. */
  _ownsRegion(region: unknown): boolean {
    return this.#owner.ownsRegion(region);
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

  #resolve(name: string): ResolvedExport {
    const handle = this.#open();
    const cached = this.#resolved.get(name);
    if (cached) return cached;
    const resolved = resolveExport(handle, name);
    this.#resolved.set(name, resolved);
    return resolved;
  }
}

/**
 * Stops the running call of the guest whose `interruptToken()` this is, from any thread (a Worker
 * that imports @vmwindow/bun too). Returns false if that guest was closed.
 */
export function interruptGuest(token: number): boolean {
  if (!Number.isSafeInteger(token) || token < 0) throw new VmwindowError("INVALID_ARGUMENT", `token must be a number from guest.interruptToken(), got ${String(token)}`);
  const result = native.vmw_interrupt(BigInt(token));
  if (result === Result.OK) return true;
  if (result === Result.NOT_FOUND) return false;
  throwResult(result);
}
