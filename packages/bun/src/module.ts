// Compiled guest modules: compile once (or load compiled code from an on-disk cache), then
// instantiate in any window of the process without compiling again (`window.instantiate(module)`).
import type { Pointer } from "bun:ffi";
import { homedir } from "node:os";
import { join } from "node:path";
import { cacheDirArgument, optionsArgument, type OptionNames } from "./arguments.ts";
import { closedError, VmwindowError } from "./errors.ts";
import { GUEST_INTERRUPTIBLE, GUEST_METERED, lib, type ModuleSource } from "./ffi.ts";
import { moduleBytes } from "./module-bytes.ts";

export type { ModuleSource };

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

const COMPILE_OPTIONS: OptionNames<CompileOptions> = { interruptible: true, metered: true, cacheDir: true };

const registry = new FinalizationRegistry<Pointer>((handle) => lib.moduleDestroy(handle));
/** Each open module's native handle and the engine flags it was compiled with, for `prepareGuest`
 * (kept off the class: no public handle). */
const handles = new WeakMap<GuestModule, { readonly handle: Pointer; readonly flags: number }>();

/**
 * A guest module compiled for this process: `window.instantiate(module, options)` makes a guest of
 * it in any window without compiling again. Compiling the same bytes twice returns the process's
 * cached copy (`source` "process-cache"). Close it when done (`using` works); guests made from it
 * keep what they need.
 */
export class GuestModule implements Disposable {
  /** BLAKE3 hash of the module's bytes, hex. */
  readonly hash: string;
  /** Compiled now, taken from the process's module cache, or loaded from `cacheDir`. */
  readonly source: ModuleSource;
  readonly interruptible: boolean;
  readonly metered: boolean;

  private constructor(handle: Pointer, source: ModuleSource) {
    this.source = source;
    const { hash, flags } = lib.moduleInfo(handle);
    this.hash = hash;
    this.metered = (flags & GUEST_METERED) !== 0;
    this.interruptible = this.metered || (flags & GUEST_INTERRUPTIBLE) !== 0;
    handles.set(this, { handle, flags });
    registry.register(this, handle, this);
  }

  /** Compiles a module (bytes, or a path to a .wasm file) with the checks every guest gets. */
  static compile(wasm: Uint8Array | ArrayBuffer | string, options: CompileOptions = {}): GuestModule {
    options = optionsArgument("compile options", options, COMPILE_OPTIONS);
    const flags = options.metered ? GUEST_METERED : options.interruptible ? GUEST_INTERRUPTIBLE : 0;
    const { module, source } = lib.moduleCompile(moduleBytes(wasm), flags, cacheDirArgument(options.cacheDir));
    return new GuestModule(module, source);
  }

  /** Empties the process's module cache (modules still in use live on); returns how many it held. */
  static clearProcessCache(): number {
    return lib.moduleCacheClear();
  }

  get closed(): boolean {
    return !handles.has(this);
  }

  close(): void {
    const open = handles.get(this);
    if (open === undefined) return;
    handles.delete(this);
    registry.unregister(this);
    lib.moduleDestroy(open.handle);
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
 */
export function prepareGuest(windowHandle: Pointer, source: Uint8Array | GuestModule, flags: number, cacheDir: string | undefined): Prepared {
  if (source instanceof GuestModule) {
    const module = handles.get(source);
    if (module === undefined) throw closedError("module");
    if (cacheDir !== undefined) throw new VmwindowError("INVALID_ARGUMENT", "cacheDir is for compiling bytes; this module is compiled already");
    if ((flags & GUEST_METERED) !== 0 && !source.metered) {
      throw new VmwindowError("UNSUPPORTED", "this module was compiled without fuel metering: compile it with GuestModule.compile(bytes, { metered: true }) to instantiate it with fuel");
    }
    if ((flags & GUEST_INTERRUPTIBLE) !== 0 && !source.interruptible) {
      throw new VmwindowError("UNSUPPORTED", "this module was compiled without deadline support: compile it with GuestModule.compile(bytes, { interruptible: true }) to instantiate it with timeoutMs or interruptible");
    }
    return { handle: lib.guestPrepareModule(windowHandle, module.handle), moduleKey: moduleKey(source.hash, module.flags) };
  }
  // Through a module handle (the process cache makes a repeat cheap), to learn its hash.
  const { module } = lib.moduleCompile(source, flags, cacheDirArgument(cacheDir));
  try {
    const key = moduleKey(lib.moduleInfo(module).hash, flags);
    return { handle: lib.guestPrepareModule(windowHandle, module), moduleKey: key };
  } finally {
    lib.moduleDestroy(module);
  }
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
