// A guest's exports as typed callables: each export's signature read from the native side, and a
// callable generated per signature that writes its arguments into the fixed value-slot array and
// calls the native unchecked fast path (no per-call allocation except what JS itself needs: a
// bigint for an i64 result, an array for several results).
import type { Pointer } from "bun:ffi";
import { exportNameArgument } from "./arguments.ts";
import { closedError, VmwindowError } from "./errors.ts";
import { lib, RESULT_OK, type ExportInfo } from "./ffi.ts";
import { slotExpression, type ValueKind, type Views } from "./values.ts";

export interface ExportSignature {
  readonly name: string;
  readonly params: readonly ValueKind[];
  readonly results: readonly ValueKind[];
}

/** An export's signature and its index for the native call. */
export type ResolvedExport = ExportInfo;

/** A typed callable for one export. */
export type GuestFunction = ((...args: any[]) => any) & { readonly signature: ExportSignature };

/** What a guest's callables share: `handle` becomes null on close. */
export interface CallState {
  handle: Pointer | null;
}

/** Looks up exported function `name` of the guest `handle`. */
export function resolveExport(handle: Pointer, name: string): ResolvedExport {
  return lib.guestExport(handle, name, exportNameArgument(name));
}

/**
 * Generates a callable specialised to one signature: one typed-array store per argument, one
 * native call, one load per result. Conversions follow the WebAssembly JS API: i32 arguments are
 * ToInt32'd, f32/f64 ToNumber'd, i64 take a bigint (or an integer number); an i64 result is a
 * bigint, an i32 result a signed number.
 */
export function makeCallable(target: ResolvedExport, state: CallState, views: Views, fail: (result: number) => never): GuestFunction {
  const shared = sharedParts(target);
  const callable = shared.factory(state, lib.guestCall, fail, throwClosed, shared.badArgument, views.i32, views.i64, views.f32, views.f64) as GuestFunction;
  Object.defineProperty(callable, "signature", { value: shared.signature });
  return callable;
}

function throwClosed(): never {
  throw closedError("guest");
}

/** What every callable of one export shares (guests of one module share their ResolvedExports). */
interface SharedParts {
  factory: CallableFactory;
  signature: ExportSignature;
  badArgument: (error: unknown) => never;
}
const shared = new WeakMap<ResolvedExport, SharedParts>();

function sharedParts(target: ResolvedExport): SharedParts {
  const known = shared.get(target);
  if (known) return known;
  const parts: SharedParts = {
    factory: callableFactory(target),
    signature: Object.freeze({ name: target.name, params: target.params, results: target.results }),
    badArgument: (error: unknown) => {
      throw new VmwindowError("INVALID_ARGUMENT", `${target.name}(${target.params.join(", ")}): ${(error as Error)?.message ?? String(error)}`);
    },
  };
  shared.set(target, parts);
  return parts;
}

type CallableFactory = (...bindings: unknown[]) => GuestFunction;

/** Generated factories by export name, index and signature: every guest of one module has the
 * same exports, so only the first guest pays for `new Function` (~10 us per export). */
const factories = new Map<string, CallableFactory>();
const FACTORIES_MAX = 4096;

function callableFactory(target: ResolvedExport): CallableFactory {
  const key = `${target.index} ${target.params.join(",")} ${target.results.join(",")} ${target.name}`;
  const cached = factories.get(key);
  if (cached) return cached;
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
  lines.push(`const r = call(handle, ${target.index}); if (r !== ${RESULT_OK}) fail(r);`);
  if (target.results.length === 1) lines.push(`return ${slotExpression(target.results[0]!, 0)};`);
  else if (target.results.length > 1) lines.push(`return [${target.results.map((kind, i) => slotExpression(kind, i)).join(", ")}];`);
  const source = `return function ${safeIdentifier(target.name)}(${params.join(", ")}) {\n  ${lines.join("\n  ")}\n};`;
  const factory = new Function("state", "call", "fail", "closed", "badArgument", "I32", "I64", "F32", "F64", source) as CallableFactory;
  if (factories.size >= FACTORIES_MAX) factories.clear();
  factories.set(key, factory);
  return factory;
}

/** A JS identifier close to an export's name, so stack traces name the export. */
function safeIdentifier(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9_$]/g, "_");
  return /^[A-Za-z_$]/.test(cleaned) ? cleaned : `_${cleaned}`;
}
