// A WebAssembly guest running over a window: exports resolved once, calls through the native
// unchecked fast path with arguments and results in a fixed native array (no per-call allocation
// beyond what the JS calling convention itself does).
import { toArrayBuffer, type Pointer } from "bun:ffi";
import { closedError, throwResult, VmwindowError } from "./errors.ts";
import { native, Result, utf8 } from "./ffi.ts";

export type WasmValue = number | bigint;
export type ValueKind = "i32" | "i64" | "f32" | "f64";

const kinds: readonly ValueKind[] = ["i32", "i64", "f32", "f64"];
const VALUES_MAX = 16;
const VALUE_BYTES = 16;
const EXPORT_INFO_BYTES = 48;

export interface ExportSignature {
  readonly name: string;
  readonly params: readonly ValueKind[];
  readonly results: readonly ValueKind[];
}

interface ResolvedExport extends ExportSignature {
  readonly index: number;
}

/** What a guest needs from its window. */
export interface GuestOwner {
  releaseGuest(guest: Guest): void;
}

export class Guest implements Disposable {
  #owner: GuestOwner;
  #handle: Pointer | null;
  #exports = new Map<string, ResolvedExport>();
  #i32: Int32Array;
  #u32: Uint32Array;
  #i64: BigInt64Array;
  #f32: Float32Array;
  #f64: Float64Array;

  /** @internal Use `Window.instantiate`. */
  constructor(owner: GuestOwner, handle: Pointer) {
    this.#owner = owner;
    this.#handle = handle;
    const values = toArrayBuffer(native.vmw_guest_values(handle)!, 0, VALUES_MAX * VALUE_BYTES);
    this.#i32 = new Int32Array(values);
    this.#u32 = new Uint32Array(values);
    this.#i64 = new BigInt64Array(values);
    this.#f32 = new Float32Array(values);
    this.#f64 = new Float64Array(values);
  }

  get closed(): boolean {
    return this.#handle === null;
  }

  /** The signature of an exported function (resolving it if needed). */
  signature(name: string): ExportSignature {
    const { index: _, ...signature } = this.#resolve(name);
    return signature;
  }

  /**
   * Calls exported function `name`. i32/f32/f64 arguments and results are numbers, i64 are
   * bigints (a safe-integer number is accepted as an i64 argument). Returns undefined for no
   * result, the value for one, an array for several. A trap throws GuestTrap; the guest stays usable.
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
    const result = native.vmw_guest_call(this.#handle!, target.index);
    if (result !== Result.OK) throwResult(result);
    const count = target.results.length;
    if (count === 0) return undefined;
    if (count === 1) return this.#read(0, target.results[0]!);
    const results: WasmValue[] = [];
    for (let i = 0; i < count; i++) results.push(this.#read(i, target.results[i]!));
    return results;
  }

  close(): void {
    if (this.#handle === null) return;
    this.#owner.releaseGuest(this);
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** @internal The native handle, for the owning window. */
  get handle(): Pointer | null {
    return this.#handle;
  }

  /** @internal Called by the window after destroying the native guest. */
  detach(): void {
    this.#handle = null;
    this.#exports.clear();
  }

  #resolve(name: string): ResolvedExport {
    if (this.#handle === null) throw closedError("guest");
    const cached = this.#exports.get(name);
    if (cached) return cached;
    if (typeof name !== "string") throw new VmwindowError("INVALID_ARGUMENT", `export name must be a string, got ${typeof name}`);
    const info = new Uint8Array(EXPORT_INFO_BYTES);
    const nameBytes = utf8(name);
    const result = native.vmw_guest_export(this.#handle, nameBytes, nameBytes.length, info);
    if (result !== Result.OK) throwResult(result);
    const words = new Uint32Array(info.buffer, 0, 4);
    const resolved: ResolvedExport = {
      name,
      index: words[0]!,
      params: Array.from(info.subarray(16, 16 + words[1]!), (kind) => kinds[kind]!),
      results: Array.from(info.subarray(32, 32 + words[2]!), (kind) => kinds[kind]!),
    };
    this.#exports.set(name, resolved);
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

function argumentError(name: string, slot: number, expected: string, value: unknown): VmwindowError {
  const shown = typeof value === "bigint" ? `${value}n` : typeof value === "string" ? JSON.stringify(value) : String(value);
  return new VmwindowError("INVALID_ARGUMENT", `${name}: argument ${slot + 1} must be ${expected}, got ${shown}`);
}
