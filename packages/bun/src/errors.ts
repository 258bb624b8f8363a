// The errors vmwindow throws: one class, a `code` naming the native result, and GuestTrap for traps.
import { lastErrorMessage, Result, resultName, type ResultName } from "./ffi.ts";

export type ErrorCode = ResultName | "CLOSED";

export class VmwindowError extends Error {
  override name = "VmwindowError";
  /** Which failure this is; stable across releases (the C ABI's vmw_result_t names). */
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/** The guest trapped (out-of-bounds access, a write to a read-only region, unreachable, abort...). */
export class GuestTrap extends VmwindowError {
  override name = "GuestTrap";
  /** The trap's reason: the first line of the message, e.g. "out of bounds memory access (...)". */
  readonly reason: string;
  /** Wasmtime's full report, including the wasm backtrace. */
  readonly details: string;

  constructor(message: string) {
    const newline = message.indexOf("\n");
    const reason = (newline < 0 ? message : message.slice(0, newline)).replace(/^guest trapped: /, "");
    super("TRAP", `guest trapped: ${reason}`);
    this.reason = reason;
    this.details = message;
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

/** Throws the error for a failed native call, using the thread's last native error message. */
export function throwResult(result: number, context?: string): never {
  const message = lastErrorMessage() || `native call failed with result ${result}`;
  const code = resultName(result);
  if (code === "TRAP") throw new GuestTrap(message);
  if (code === "TIMEOUT") throw new GuestTimeout(message);
  if (code === "INTERRUPTED") throw new GuestInterrupted(message);
  throw new VmwindowError(code, context ? `${context}: ${message}` : message);
}

/** Throws (see throwResult) unless `result` is OK. */
export function check(result: number): void {
  if (result !== Result.OK) throwResult(result);
}

export function closedError(what: string): VmwindowError {
  return new VmwindowError("CLOSED", `${what} is closed`);
}
