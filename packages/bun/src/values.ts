// Wasm values on the JS side: the four value kinds, the native value-slot array they pass
// through (as typed-array views), and the checked conversions `Guest.call` uses.
import { VALUE_KIND, VALUES_MAX } from "./abi.ts";
import { shown } from "./arguments.ts";
import { VmwindowError } from "./errors.ts";

export type WasmValue = number | bigint;
export type ValueKind = "i32" | "i64" | "f32" | "f64";

/** Value kinds by their native code (vmw_kind_t). */
export const kinds: readonly ValueKind[] = ["i32", "i64", "f32", "f64"];
export const KIND_CODES: Record<ValueKind, number> = VALUE_KIND;
/** A value-slot array: VALUES_MAX slots of VALUE_BYTES each. */
export { VALUES_MAX };
export const VALUE_BYTES = 16;

/** Views of one value-slot array; slot `n` is element `n * 4` (32-bit) or `n * 2` (64-bit). */
export interface Views {
  readonly i32: Int32Array;
  readonly u32: Uint32Array;
  readonly i64: BigInt64Array;
  readonly f32: Float32Array;
  readonly f64: Float64Array;
}

export function viewsOf(buffer: ArrayBuffer): Views {
  return { i32: new Int32Array(buffer), u32: new Uint32Array(buffer), i64: new BigInt64Array(buffer), f32: new Float32Array(buffer), f64: new Float64Array(buffer) };
}

/** Where value slot `slot` of kind `kind` lives, as source for generated code: the typed array and its element index. */
export function slotExpression(kind: ValueKind, slot: number): string {
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

/** Checks argument `slot` of export `name` against `kind` and stores it. */
export function writeValue(views: Views, slot: number, kind: ValueKind, value: WasmValue | undefined, name: string): void {
  switch (kind) {
    case "i32":
      if (typeof value !== "number" || !Number.isInteger(value) || value < -0x8000_0000 || value > 0xffff_ffff) {
        throw argumentError(name, slot, "an integer in i32/u32 range", value);
      }
      views.i32[slot * 4] = value | 0;
      return;
    case "i64": {
      let big: bigint;
      if (typeof value === "bigint") big = value;
      else if (typeof value === "number" && Number.isSafeInteger(value)) big = BigInt(value);
      else throw argumentError(name, slot, "a bigint (or a safe integer)", value);
      if (big < -(1n << 63n) || big >= 1n << 64n) throw argumentError(name, slot, "a bigint in i64/u64 range", value);
      views.i64[slot * 2] = BigInt.asIntN(64, big);
      return;
    }
    case "f32":
      if (typeof value !== "number") throw argumentError(name, slot, "a number", value);
      views.f32[slot * 4] = value;
      views.u32[slot * 4 + 1] = 0;
      return;
    case "f64":
      if (typeof value !== "number") throw argumentError(name, slot, "a number", value);
      views.f64[slot * 2] = value;
      return;
  }
}

export function readValue(views: Views, slot: number, kind: ValueKind): WasmValue {
  switch (kind) {
    case "i32":
      return views.i32[slot * 4]!;
    case "i64":
      return views.i64[slot * 2]!;
    case "f32":
      return views.f32[slot * 4]!;
    case "f64":
      return views.f64[slot * 2]!;
  }
}

function argumentError(name: string, slot: number, expected: string, value: unknown): VmwindowError {
  return new VmwindowError("INVALID_ARGUMENT", `${name}: argument ${slot + 1} must be ${expected}, got ${shown(value)}`);
}
