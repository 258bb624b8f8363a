// The errors vmwindow throws: one class, a `code` naming the native result, and GuestTrap for
// traps. Plain classes: the FFI layer (ffi.ts) reads the native message and fault and builds them.
import { sep } from "node:path";
import { FAULT_FREE_SLOT, FAULT_GUEST_AREA, FAULT_NULL_PAGE, FAULT_PAST_REGION_END, FAULT_PAST_WINDOW, FAULT_READ_ONLY_REGION, FAULT_RESERVED, FAULT_TABLE, FAULT_TRUNCATED_FILE, RESULT } from "./abi.ts";

/** `vmw_result_t` names (generated from abi/vmwindow-abi.json into abi.ts). */
export type ResultName = keyof typeof RESULT;
const resultNames = Object.fromEntries(Object.entries(RESULT).map(([name, value]) => [value, name])) as Record<number, ResultName>;

export type ErrorCode = ResultName | "CLOSED";

export class VmwindowError extends Error {
  /** Which failure this is; stable across releases (the C ABI's vmw_result_t names). */
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string) {
    // The stack comes from `origin` below, made into text only when read: the engine's own would
    // be made again to be trimmed (~4 us per error with 20 frames; this way ~0.3 us).
    const limit = Error.stackTraceLimit;
    let quiet = false;
    try {
      Error.stackTraceLimit = 0;
      quiet = true;
    } catch {
      // A frozen `Error`: the engine's stack is made as usual.
    }
    try {
      super(message);
    } finally {
      // Even if super() threw (a stack overflow), and with no call here that could overflow
      // again: the process's other errors keep their stacks.
      if (quiet) Error.stackTraceLimit = limit;
    }
    this.code = code;
    const origin = new Error();
    let stack: string | undefined;
    Object.defineProperty(this, "stack", {
      get: () => (stack ??= stackText(this, origin)),
      set: (value: string) => void (stack = value),
      configurable: true,
      enumerable: false,
    });
  }
}
// On the prototype, as Error's own `name` is: a class field would make super() above unmovable
// into its try.
Object.defineProperty(VmwindowError.prototype, "name", { value: "VmwindowError", writable: true, configurable: true });

/** An error's stack text: its first line, then `origin`'s frames from the caller's on. */
function stackText(error: Error, origin: Error): string {
  const raw: unknown = origin.stack;
  // An `Error.prepareStackTrace` of the application's may make something else: keep what it made.
  if (typeof raw !== "string") return raw as string;
  return `${error.name}: ${error.message}\n${fromCaller(raw)}`;
}

/** This package's source files (errors.ts is in src/; the CLI in src/cli/). In a bundle (`bun
 * build`), where this is not errors.ts, the caller's frames would match too: nothing is left out. */
const packageFiles = import.meta.path.endsWith(`${sep}errors.ts`) ? `${import.meta.dir}${sep}` : undefined;

/**
 * The frames of a stack without its leading ones inside this package, so the first frame, the one
 * Bun shows the source of for an uncaught error, is the caller's line (`window.mapFile(...)`)
 * rather than the line in errors.ts that built the error. Frames further down are kept. A frame
 * without a function name (`at /app.ts:3:3`, module code) is written `at <anonymous> (/app.ts:3:3)`:
 * Bun reads a stack given as text back only in that form.
 */
function fromCaller(stack: string): string {
  const frames = stack
    .split("\n")
    .filter((line) => line.startsWith("    at "))
    .map((line) => line.replace(/^    at ([^()]+:\d+:\d+)$/, "    at <anonymous> ($1)"));
  let first = 0;
  while (packageFiles !== undefined && first < frames.length && frames[first]!.includes(packageFiles)) first++;
  // Only library frames (called from nowhere else, e.g. a finalizer): keep them all.
  return (first === frames.length ? frames : frames.slice(first)).join("\n");
}

/** What a guest's memory fault hit (`vmw_fault_t.kind`). */
export type GuestFaultKind = "null-page" | "table" | "reserved" | "guest-area" | "read-only-region" | "past-region-end" | "free-slot" | "past-window" | "truncated-file";

/** Fault kinds by their native code (`vmw_fault_t.kind`; FAULT_NONE is absent). */
export const FAULT_KINDS: Readonly<Record<number, GuestFaultKind>> = {
  [FAULT_NULL_PAGE]: "null-page",
  [FAULT_TABLE]: "table",
  [FAULT_RESERVED]: "reserved",
  [FAULT_GUEST_AREA]: "guest-area",
  [FAULT_READ_ONLY_REGION]: "read-only-region",
  [FAULT_PAST_REGION_END]: "past-region-end",
  [FAULT_FREE_SLOT]: "free-slot",
  [FAULT_PAST_WINDOW]: "past-window",
  [FAULT_TRUNCATED_FILE]: "truncated-file",
};

/** Where a trap's memory fault was: the facts the message gives in words, as fields. */
export interface GuestFault {
  /** The wasm address (= the window offset) that faulted. */
  readonly address: number;
  readonly kind: GuestFaultKind;
  /** The region it is in, or past the end of (in its slot); undefined for none. */
  readonly regionId: number | undefined;
  /** "past-region-end": how many bytes past the region's last byte. */
  readonly bytesPastEnd: number;
}

/** The guest trapped (out-of-bounds access, a write to a read-only region, unreachable, abort...). */
export class GuestTrap extends VmwindowError {
  override name = "GuestTrap";
  /** The trap's reason: the first line of the message, e.g. "out of bounds memory access (...)". */
  readonly reason: string;
  /** Wasmtime's full report, including the wasm backtrace. */
  readonly details: string;
  /** A memory fault in the window: where, and what is there; undefined for other traps. */
  readonly fault: GuestFault | undefined;

  constructor(message: string, fault?: GuestFault) {
    const newline = message.indexOf("\n");
    const reason = (newline < 0 ? message : message.slice(0, newline)).replace(/^guest trapped: /, "");
    super("TRAP", `guest trapped: ${reason}`);
    this.reason = reason;
    this.details = message;
    this.fault = fault;
  }
}

/** A guest call ran past its deadline (`timeoutMs`) and was interrupted; the guest stays usable. */
export class GuestTimeout extends VmwindowError {
  override name = "GuestTimeout";
  constructor(message: string) {
    super("TIMEOUT", message);
  }
}

/** Another thread stopped the guest call (`interruptGuest(guest.interruptToken())`); the guest stays usable. */
export class GuestInterrupted extends VmwindowError {
  override name = "GuestInterrupted";
  constructor(message: string) {
    super("INTERRUPTED", message);
  }
}

/**
 * The error for native result `result` (not OK) with the native layer's `message`, and for a trap
 * the memory fault it was, if any.
 */
export function errorFor(result: number, message: string, fault: GuestFault | undefined): VmwindowError {
  const code: ResultName = resultNames[result] ?? "WASMTIME";
  const text = message || `native call failed with result ${result}`;
  if (code === "TRAP") return new GuestTrap(text, fault);
  if (code === "TIMEOUT") return new GuestTimeout(text);
  if (code === "INTERRUPTED") return new GuestInterrupted(text);
  return new VmwindowError(code, text);
}

export function closedError(what: string, why?: string): VmwindowError {
  return new VmwindowError("CLOSED", why === undefined ? `${what} is closed` : `${what} is closed: ${why}`);
}
