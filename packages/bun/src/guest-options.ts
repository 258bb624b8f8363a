// What `Window.instantiate` accepts: InstantiateOptions and the host-function types it names
// (arguments.ts checks them).
import type { Region } from "./region.ts";
import type { ValueKind, WasmValue } from "./values.ts";

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
export type MapRequestHandler = (name: string, access: "read" | "readwrite") => Region | null | undefined;

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
  /**
   * When instantiating from bytes: a directory for compiled code, so a later process skips
   * compiling the same module (see `CompileOptions.cacheDir` in module.ts). Default: none (the
   * process's own module cache still reuses modules compiled in this process).
   */
  cacheDir?: string;
}
