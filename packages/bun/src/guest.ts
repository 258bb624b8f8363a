// A WebAssembly guest running over a window: its exports as typed callables (callables.ts), host
// functions written in JS (host-imports.ts), a per-call deadline or fuel (guest-options.ts).
import type { JSCallback, Pointer } from "bun:ffi";
import { fuelArgument, optionsArgument, timeoutArgument, tokenArgument, type OptionNames } from "./arguments.ts";
import { closedError, VmwindowError } from "./errors.ts";
import { GUEST_INTERRUPTIBLE, GUEST_METERED, lib, RESULT_OK } from "./ffi.ts";
import { makeCallable, resolveExport, type CallState, type ExportSignature, type GuestFunction, type ResolvedExport } from "./callables.ts";
import type { InstantiateOptions } from "./guest-options.ts";
import { collectImports, linkImports, type ImportSpec } from "./host-imports.ts";
import { moduleBytes } from "./module-bytes.ts";
import { guestSource, prepareGuest, type GuestSource } from "./module.ts";
import { readValue, writeValue, type Views, type WasmValue } from "./values.ts";
import type { WindowState } from "./window-state.ts";

/** InstantiateOptions' names (an unknown one is an error, not ignored). */
const INSTANTIATE_OPTIONS: OptionNames<InstantiateOptions> = {
  imports: true,
  timeoutMs: true,
  interruptible: true,
  fuel: true,
  log: true,
  map: true,
  allowFlush: true,
  cacheDir: true,
};

/** Resolved exports by module (hash and engine flags), in index order: every guest of one module
 * has the same exports, so later guests skip resolving them one by one (~2 us each). */
const exportLists = new Map<string, readonly ResolvedExport[]>();
const EXPORT_LISTS_MAX = 256;

/** The callables' state, plus a host function's exception waiting to be rethrown by the failed call. */
interface GuestState extends CallState {
  pending: unknown;
  hasPending: boolean;
}

/** What window.ts does to guests, which is no part of a Guest's API (index.ts does not export it). */
export interface GuestFriend {
  /** Compiles, links and instantiates `wasm` over `window`; the guest is then one of its guests. */
  create(window: WindowState, wasm: GuestSource, options: InstantiateOptions | undefined): Guest<object>;
  /** The window destroyed the native guest (it closed). */
  detach(guest: Guest<object>): void;
}
export let guestFriend: GuestFriend;
let handleOf: (guest: Guest<object>) => Pointer | null;

/**
 * Compiles `wasm` for the window `windowHandle` and makes the checks that come before linking
 * (its memory import, its data segments), then drops it: nothing is linked or run.
 */
export function validateGuest(windowHandle: Pointer, wasm: Uint8Array | ArrayBuffer | string): void {
  lib.guestDestroy(lib.guestCompile(windowHandle, moduleBytes(wasm), 0));
}

/**
 * A guest. `E` types `exports`: by default any name may be looked up (each may be undefined);
 * `window.instantiate<GuestExports>(...)` with the interface `vmwindow inspect --dts` writes gives
 * each export its parameter and result types.
 */
export class Guest<E extends object = Record<string, GuestFunction>> implements Disposable {
  #window: WindowState;
  #state: GuestState;
  #resolved = new Map<string, ResolvedExport>();
  #functions = new Map<string, GuestFunction>();
  #exports: Record<string, GuestFunction> = Object.create(null);
  #callback: JSCallback | null = null;
  /** What the callback runs: it holds them only weakly (host-imports.ts, LinkedImports). */
  #handlers: readonly (() => void)[] = [];
  #views: Views;

  private constructor(window: WindowState, handle: Pointer) {
    this.#window = window;
    this.#state = { handle, pending: undefined, hasPending: false };
    this.#views = lib.guestValues(handle);
  }

  static {
    guestFriend = {
      create: (window, wasm, options) => Guest.#create(window, wasm, options),
      detach: (guest) => guest.#detach(),
    };
    handleOf = (guest) => guest.#state.handle;
  }

  /** See `Window.instantiate`. Limits and policy are set first: the start function runs under them. */
  static #create(window: WindowState, wasm: GuestSource, options: InstantiateOptions | undefined): Guest<object> {
    const windowHandle = window.open();
    options = optionsArgument("instantiate options", options, INSTANTIATE_OPTIONS);
    const source = guestSource(wasm);
    const imports = collectImports(options);
    const timeoutMs = timeoutArgument(options.timeoutMs ?? 0);
    const fuel = options.fuel === undefined ? undefined : fuelArgument(options.fuel);
    const interruptible = options.interruptible === true || timeoutMs !== 0;
    const flags = fuel !== undefined ? GUEST_METERED : interruptible ? GUEST_INTERRUPTIBLE : 0;
    const { handle, moduleKey } = prepareGuest(windowHandle, source, flags, options.cacheDir);
    const guest = new Guest(window, handle);
    try {
      guest.#link(imports);
      if (timeoutMs !== 0) lib.guestSetTimeout(handle, timeoutMs);
      if (fuel !== undefined) lib.guestSetFuel(handle, fuel);
      if (options.allowFlush) lib.guestAllowFlush(handle);
      const instantiated = lib.guestInstantiate(handle);
      if (instantiated !== RESULT_OK) guest.#fail(instantiated);
      guest.#resolveAll(moduleKey);
    } catch (error) {
      guest.close();
      throw error;
    }
    window.guests.add(guest);
    return guest;
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
    const made = makeCallable(this.#resolve(name), this.#state, this.#views, (result) => this.#fail(result));
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
    const result = lib.guestCall(this.#state.handle!, target.index);
    if (result !== RESULT_OK) this.#fail(result);
    const count = target.results.length;
    if (count === 0) return undefined;
    if (count === 1) return readValue(this.#views, 0, target.results[0]!);
    const results: WasmValue[] = [];
    for (let i = 0; i < count; i++) results.push(readValue(this.#views, i, target.results[i]!));
    return results;
  }

  /** Changes the fuel each call starts with (only for guests instantiated with `fuel`). */
  setFuel(fuel: number | bigint): void {
    lib.guestSetFuel(this.#open(), fuelArgument(fuel));
  }

  /**
   * A number that stops this guest's running call from any thread: post it to a Worker (or keep
   * it on this thread for a host function) and call `interruptGuest(token)` there; the call throws
   * GuestInterrupted within ~10 ms and the guest stays usable. A request made while no call runs
   * is dropped. Needs a guest instantiated with `interruptible: true` or `timeoutMs` (UNSUPPORTED
   * otherwise). `worker.terminate()` cannot stop a running guest call; this can.
   */
  interruptToken(): number {
    return lib.guestInterruptToken(this.#open());
  }

  /** Changes the per-call deadline (0: none). */
  setTimeout(timeoutMs: number): void {
    lib.guestSetTimeout(this.#open(), timeoutArgument(timeoutMs));
  }

  /** Closes the guest. Throws BUSY, closing nothing, from inside a host function of its window's guests. */
  close(): void {
    const handle = this.#state.handle;
    if (handle === null) return;
    lib.guestDestroy(handle);
    this.#detach();
    this.#window.guests.delete(this);
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** The native guest is gone. */
  #detach(): void {
    this.#state.handle = null;
    this.#resolved.clear();
    if (this.#callback !== null) {
      this.#window.callbacks.delete(this.#callback);
      this.#callback.close();
    }
    this.#callback = null;
    this.#handlers = [];
  }

  /** Throws for a failed call: a host function's own exception first, else the native error. */
  #fail(result: number): never {
    const state = this.#state;
    if (state.hasPending) {
      const pending = state.pending;
      state.pending = undefined;
      state.hasPending = false;
      throw pending;
    }
    lib.throwResult(result);
  }

  /** Defines host imports (before instantiation). */
  #link(imports: ImportSpec[]): void {
    if (imports.length === 0) return;
    const state = this.#state;
    const { callback, handlers } = linkImports(this.#open(), imports, this.#window, (error) => {
      state.pending = error;
      state.hasPending = true;
    });
    this.#callback = callback;
    this.#handlers = handlers;
    this.#window.callbacks.add(callback);
  }

  /**
   * Resolves every exported function into `exports`. Guests of a module seen before
   * (`moduleKey`) take its export list and resolve natively in one call.
   */
  #resolveAll(moduleKey: string): void {
    const handle = this.#open();
    const known = exportLists.get(moduleKey);
    if (known !== undefined) {
      const count = lib.guestResolveAll(handle);
      if (count !== known.length) throw new VmwindowError("WASMTIME", `module ${moduleKey} resolved ${count} exports, ${known.length} before`);
      for (const target of known) {
        this.#resolved.set(target.name, target);
        this.#exports[target.name] = this.fn(target.name);
      }
      Object.freeze(this.#exports);
      return;
    }
    for (const name of lib.guestExportedFunctionNames(handle)) {
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
 * The native guest of `guest`, for benchmarks that measure the native paths directly (not part of
 * the package's API: index.ts does not export it).
 */
export function guestHandle(guest: Guest<object>): Pointer | null {
  return handleOf(guest);
}

/**
 * Stops the running call of the guest whose `interruptToken()` this is, from any thread (a Worker
 * that imports @vmwindow/bun too). Returns false if that guest was closed.
 */
export function interruptGuest(token: number): boolean {
  return lib.interrupt(tokenArgument(token));
}
