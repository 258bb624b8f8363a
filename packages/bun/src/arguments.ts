// The checks of public calls' arguments that belong to JS: types, integers, strings a C call can
// take. Domain rules (64 KiB multiples, name lengths, the longest deadline, empty modules, what a
// path is) are the native layer's, with its one message; these only make sure a value reaches it.
import { VmwindowError } from "./errors.ts";
import type { Access } from "./ffi.ts";

/** What the C calls take as a u32 (a deadline in milliseconds, a capacity). */
const U32_MAX = 2 ** 32 - 1;

const encoder = new TextEncoder();

/** `text` as UTF-8, as the C calls take strings. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** An options argument: undefined (defaults) or a plain object. */
export function optionsArgument<T extends object>(what: string, value: T | undefined, known?: OptionNames<T>): T {
  if (value === undefined) return {} as T;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw invalid(`${what} must be an object, got ${value === null ? "null" : Array.isArray(value) ? "an array" : typeof value}`);
  }
  if (known !== undefined) {
    // A misspelt option (`lenght`) would otherwise be ignored and its default used in silence.
    for (const key in value) {
      if (Object.hasOwn(value, key) && !Object.hasOwn(known, key)) {
        throw invalid(`${what}: unknown option ${shown(key)} (known: ${Object.keys(known).join(", ")})`);
      }
    }
  }
  return value;
}

/** Every option name of an options type, each once: a table the compiler checks is complete. */
export type OptionNames<T> = { readonly [K in keyof Required<T>]: true };

/** An optional callback (`log`, `map`): undefined or null (none), or a function. */
export function callbackArgument<T extends Function>(what: string, value: T | null | undefined): T | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "function") throw invalid(`${what} must be a function, got ${shown(value)}`);
  return value;
}

/** An optional switch (`shared`, `create`): undefined (false), true or false. */
export function booleanArgument(what: string, value: unknown): boolean {
  if (value !== undefined && typeof value !== "boolean") throw invalid(`${what} must be true or false, got ${shown(value)}`);
  return value === true;
}

// The last path encoded and its bytes: hosts often map or remap the same file again.
let lastPath: string | null = null;
let lastPathBytes = new Uint8Array(0);

/** A file path as UTF-8 bytes: a non-empty string. The same bytes when the path repeats. */
export function pathArgument(path: unknown): Uint8Array {
  if (typeof path === "string" && path === lastPath) return lastPathBytes;
  if (typeof path !== "string" || path.length === 0) throw invalid(`path must be a non-empty string, got ${shown(path)}`);
  lastPathBytes = encoder.encode(path);
  lastPath = path;
  return lastPathBytes;
}

/** A directory for compiled code as UTF-8 bytes (undefined: none). */
export function cacheDirArgument(cacheDir: unknown): Uint8Array | null {
  if (cacheDir === undefined) return null;
  if (typeof cacheDir !== "string" || cacheDir.length === 0 || cacheDir.includes("\0")) {
    throw invalid(`cacheDir must be a non-empty path, got ${shown(cacheDir)}`);
  }
  return encoder.encode(cacheDir);
}

export function accessArgument(access: unknown): Access {
  if (access !== "read" && access !== "readwrite") throw invalid(`access must be "read" or "readwrite", got ${shown(access)}`);
  return access;
}

/** A region name as UTF-8 bytes (undefined or empty: none). Its length is the native layer's rule. */
export function nameArgument(name: unknown): Uint8Array | null {
  if (name === undefined) return null;
  if (typeof name !== "string") throw invalid(`name must be a string, got ${typeof name}`);
  // UTF-8 has no encoding for a lone surrogate: it would be stored as U+FFFD, another name.
  if (!name.isWellFormed()) throw invalid(`region name ${JSON.stringify(name)} has a lone surrogate (not valid Unicode)`);
  const bytes = encoder.encode(name);
  return bytes.length > 0 ? bytes : null;
}

/** An export or import name as UTF-8 bytes. */
export function exportNameArgument(name: unknown): Uint8Array {
  if (typeof name !== "string") throw invalid(`export name must be a string, got ${typeof name}`);
  return encoder.encode(name);
}

/** A byte count or offset: a safe non-negative integer (positive unless `zeroAllowed`). */
export function byteCount(what: string, value: unknown, zeroAllowed: boolean): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0 || (value === 0 && !zeroAllowed)) {
    tooLarge(what, value, Number.MAX_SAFE_INTEGER, "2**53 - 1 bytes (Number.MAX_SAFE_INTEGER)");
    const expected = zeroAllowed ? "a non-negative" : "a positive";
    throw invalid(`${what} must be ${expected} integer number of bytes, got ${shown(value)}`);
  }
  return value;
}

/** Throws when `value` is an integer above `max`: its message says the limit, not "not an integer". */
function tooLarge(what: string, value: unknown, max: number, limit: string): void {
  if (typeof value === "number" && Number.isInteger(value) && value > max) {
    throw invalid(`${what} must be at most ${limit}, got ${BigInt(value)}`);
  }
}

/** Where to place a region (0: first fit). */
export function atArgument(at: unknown): number {
  return at === undefined ? 0 : byteCount("at", at, false);
}

/** A region table capacity as the C call takes it (a u32 above 0). */
export function capacityArgument(capacity: unknown): number {
  if (typeof capacity !== "number" || !Number.isInteger(capacity) || capacity < 1 || capacity > U32_MAX) {
    tooLarge("capacity", capacity, U32_MAX, "2**32 - 1");
    throw invalid(`capacity must be a positive integer, got ${shown(capacity)}`);
  }
  return capacity;
}

/** A per-call deadline in milliseconds (0: none), as the C call takes it (a u32). */
export function timeoutArgument(timeoutMs: unknown): number {
  if (typeof timeoutMs !== "number" || !Number.isInteger(timeoutMs) || timeoutMs < 0 || timeoutMs > U32_MAX) {
    tooLarge("timeoutMs", timeoutMs, U32_MAX, "2**32 - 1 ms (about 49.7 days)");
    throw invalid(`timeoutMs must be a non-negative integer number of milliseconds, got ${shown(timeoutMs)}`);
  }
  return timeoutMs;
}

/** Fuel per call, as the native layer takes it. */
export function fuelArgument(fuel: unknown): bigint {
  const value = typeof fuel === "number" && Number.isSafeInteger(fuel) ? BigInt(fuel) : fuel;
  if (typeof value !== "bigint" || value <= 0n || value >= 2n ** 63n) {
    throw invalid(`fuel must be a positive integer (number or bigint) below 2**63, got ${shown(fuel)}`);
  }
  return value;
}

/** A token from `guest.interruptToken()`. */
export function tokenArgument(token: unknown): number {
  if (typeof token !== "number" || !Number.isSafeInteger(token) || token < 0) {
    throw invalid(`token must be a number from guest.interruptToken(), got ${shown(token)}`);
  }
  return token;
}

/**
 * A refused value as an error message shows it. Never throws (a bigint, a symbol, an object without
 * a prototype or with a throwing toString) and never prints an object's contents.
 */
export function shown(value: unknown): string {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "bigint":
      return `${value}n`;
    case "symbol":
      return value.toString();
    case "function":
      return "a function";
    case "object": {
      if (value === null) return "null";
      let name: unknown;
      try {
        if (Array.isArray(value)) return "an array";
        name = (value as { constructor?: { name?: unknown } }).constructor?.name;
      } catch {
        // A revoked Proxy, or a constructor getter that throws.
      }
      return typeof name === "string" && name !== "" && name !== "Object" ? `an object (${name})` : "an object";
    }
    default:
      return String(value);
  }
}

function invalid(message: string): VmwindowError {
  return new VmwindowError("INVALID_ARGUMENT", message);
}
