// Compiled guest modules: compile once (or load compiled code from an on-disk cache), then
// instantiate in any window of the process without compiling again (`window.instantiate(module)`).
import type { Pointer } from "bun:ffi";
import { homedir } from "node:os";
import { join } from "node:path";
import { closedError, throwResult, VmwindowError } from "./errors.ts";
import { native, Result, takeHandle, utf8 } from "./ffi.ts";
import { moduleBytes } from "./module-bytes.ts";

/** vmw_guest_compile / vmw_module_compile flags. */
export const GUEST_INTERRUPTIBLE = 1;
export const GUEST_METERED = 2;
const HASH_BYTES = 32;

export interface CompileOptions {
  /** Compile with deadline support (epoch checks), for guests given `timeoutMs` or `interruptible`. */
  interruptible?: boolean;
  /** Compile with fuel metering, for guests given `fuel` (implies `interruptible`). */
  metered?: boolean;
  /**
   * A directory for compiled code (created if missing): a later process compiling the same bytes
   * with the same options loads it instead of compiling. Files are checked (header, checksum of the
   * contents, owner and mode) before use, and a bad one is recompiled and replaced. Use a
   * directory only you can write. Default: no on-disk cache.
   */
  cacheDir?: string;
}

/** Where a module came from. */
export type ModuleSource = "compiled" | "process-cache" | "disk-cache";
const SOURCES: readonly ModuleSource[] = ["compiled", "process-cache", "disk-cache"];

const registry = new FinalizationRegistry<Pointer>((handle) => native.vmw_module_destroy(handle));

/**
 * A guest module compiled for this process: `window.instantiate(module, options)` makes a guest of
 * it in any window without compiling again. Compiling the same bytes twice returns the process's
 * cached copy (`source` "process-cache"). Close it when done (`using` works); guests made from it
 * keep what they need.
 */
export class GuestModule implements Disposable {
  #handle: Pointer | null;
  /** BLAKE3 hash of the module's bytes, hex. */
  readonly hash: string;
  /** Compiled now, taken from the process's module cache, or loaded from `cacheDir`. */
  readonly source: ModuleSource;
  readonly interruptible: boolean;
  readonly metered: boolean;

  private constructor(handle: Pointer, source: ModuleSource) {
    this.#handle = handle;
    this.source = source;
    const hash = new Uint8Array(HASH_BYTES);
    const flags = new Uint32Array(1);
    native.vmw_module_info(handle, hash, flags);
    this.hash = Buffer.from(hash).toString("hex");
    this.metered = (flags[0]! & GUEST_METERED) !== 0;
    this.interruptible = this.metered || (flags[0]! & GUEST_INTERRUPTIBLE) !== 0;
    registry.register(this, handle, this);
  }

  /** Compiles a module (bytes, or a path to a .wasm file) with the checks every guest gets. */
  static compile(wasm: Uint8Array | ArrayBuffer | string, options: CompileOptions = {}): GuestModule {
    if (typeof options !== "object" || options === null || Array.isArray(options)) {
      throw new VmwindowError("INVALID_ARGUMENT", `compile options must be an object, got ${options === null ? "null" : typeof options}`);
    }
    const flags = options.metered ? GUEST_METERED : options.interruptible ? GUEST_INTERRUPTIBLE : 0;
    const { handle, source } = compileModule(moduleBytes(wasm), flags, options.cacheDir);
    return new GuestModule(handle, source);
  }

  /** Empties the process's module cache (modules still in use live on); returns how many it held. */
  static clearProcessCache(): number {
    return native.vmw_module_cache_clear();
  }

  get closed(): boolean {
    return this.#handle === null;
  }

  /** @internal What identifies the compiled code: the hash and the engine flags. */
  get key(): string {
    return moduleKey(this.hash, this.metered ? GUEST_METERED : this.interruptible ? GUEST_INTERRUPTIBLE : 0);
  }

  /** @internal The native handle. */
  get handle(): Pointer {
    if (this.#handle === null) throw closedError("module");
    return this.#handle;
  }

  close(): void {
    const handle = this.#handle;
    if (handle === null) return;
    this.#handle = null;
    registry.unregister(this);
    native.vmw_module_destroy(handle);
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** What `Window.instantiate` accepts as a module. */
export type GuestSource = Uint8Array | ArrayBuffer | string | GuestModule;

/** The module as bytes (read now, so file errors come first) or the compiled module itself. */
export function guestSource(wasm: GuestSource): Uint8Array | GuestModule {
  return wasm instanceof GuestModule ? wasm : moduleBytes(wasm);
}

function compileModule(bytes: Uint8Array, flags: number, cacheDir: string | undefined): { handle: Pointer; source: ModuleSource } {
  const dir = cacheDirBytes(cacheDir);
  const sourceOut = new Uint32Array(1);
  const { result, handle } = takeHandle((out) => native.vmw_module_compile_cached(bytes, bytes.length, flags, dir, dir?.length ?? 0, out, sourceOut));
  if (result !== Result.OK || handle === null) throwResult(result);
  return { handle, source: SOURCES[sourceOut[0]!] ?? "compiled" };
}

function cacheDirBytes(cacheDir: unknown): Uint8Array | null {
  if (cacheDir === undefined) return null;
  if (typeof cacheDir !== "string" || cacheDir.length === 0 || cacheDir.includes("\0")) {
    throw new VmwindowError("INVALID_ARGUMENT", `cacheDir must be a non-empty path, got ${JSON.stringify(cacheDir)}`);
  }
  return utf8(cacheDir);
}

/** A prepared guest and the key of its compiled module (guests of one module share exports). */
export interface Prepared {
  handle: Pointer;
  moduleKey: string;
}

function moduleKey(hash: string, flags: number): string {
  return `${hash}:${flags}`;
}

/**
 * A prepared (compiled, not instantiated) guest of the window `windowHandle`: from a GuestModule
 * without compiling, or from bytes through the process's module cache (and `cacheDir`, if given).
 * @internal Used by `createGuest`.
 */
export function prepareGuest(windowHandle: Pointer, source: Uint8Array | GuestModule, flags: number, cacheDir: string | undefined): Prepared {
  if (source instanceof GuestModule) {
    if (cacheDir !== undefined) throw new VmwindowError("INVALID_ARGUMENT", "cacheDir is for compiling bytes; this module is compiled already");
    if ((flags & GUEST_METERED) !== 0 && !source.metered) {
      throw new VmwindowError("UNSUPPORTED", "this module was compiled without fuel metering: compile it with GuestModule.compile(bytes, { metered: true }) to instantiate it with fuel");
    }
    if ((flags & GUEST_INTERRUPTIBLE) !== 0 && !source.interruptible) {
      throw new VmwindowError("UNSUPPORTED", "this module was compiled without deadline support: compile it with GuestModule.compile(bytes, { interruptible: true }) to instantiate it with timeoutMs or interruptible");
    }
    return { handle: takePrepared((out) => native.vmw_guest_prepare_module(windowHandle, source.handle, out)), moduleKey: source.key };
  }
  // Through a module handle (the process cache makes a repeat cheap), to learn its hash.
  const { handle: module } = compileModule(source, flags, cacheDir);
  try {
    native.vmw_module_info(module, hashOut, null);
    const key = moduleKey(Buffer.from(hashOut).toString("hex"), flags);
    return { handle: takePrepared((out) => native.vmw_guest_prepare_module(windowHandle, module, out)), moduleKey: key };
  } finally {
    native.vmw_module_destroy(module);
  }
}

const hashOut = new Uint8Array(HASH_BYTES);

function takePrepared(call: (out: BigUint64Array) => number): Pointer {
  const { result, handle } = takeHandle(call);
  if (result !== Result.OK || handle === null) throwResult(result);
  return handle;
}

/**
 * The on-disk cache `vmwindow run` uses: `$VMWINDOW_CACHE_DIR` ("off" or empty: none), else
 * `$XDG_CACHE_HOME/vmwindow`, else `~/.cache/vmwindow`.
 */
export function defaultCacheDir(env: Record<string, string | undefined> = process.env): string | undefined {
  const explicit = env.VMWINDOW_CACHE_DIR;
  if (explicit !== undefined) return explicit === "" || explicit === "off" ? undefined : explicit;
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, "vmwindow");
  const home = env.HOME || homedir();
  return home ? join(home, ".cache", "vmwindow") : undefined;
}
