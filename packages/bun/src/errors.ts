// The errors vmwindow throws: one class, a `code` naming the native result, and GuestTrap for traps.
import { FAULT, FAULT_BYTES, FAULT_FREE_SLOT, FAULT_GUEST_AREA, FAULT_NULL_PAGE, FAULT_PAST_REGION_END, FAULT_PAST_WINDOW, FAULT_READ_ONLY_REGION, FAULT_RESERVED, FAULT_TABLE, FAULT_TRUNCATED_FILE } from "./abi.ts";
import { lastErrorMessage, native, Result, resultName, type ResultName } from "./ffi.ts";

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

/** What a guest's memory fault hit (`vmw_fault_t.kind`). */
export type GuestFaultKind = "null-page" | "table" | "reserved" | "guest-area" | "read-only-region" | "past-region-end" | "free-slot" | "past-window" | "truncated-file";

const FAULT_KINDS: Record<number, GuestFaultKind> = {
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

/** The last trap's fault on this thread, from the native side (vmw_last_fault). */
function lastFault(): GuestFault | undefined {
  const bytes = new Uint8Array(FAULT_BYTES);
  if (native.vmw_last_fault(bytes) !== Result.OK) return undefined;
  const fields = new DataView(bytes.buffer);
  const kind = FAULT_KINDS[fields.getUint32(FAULT.kind, true)];
  if (kind === undefined) return undefined;
  const regionId = fields.getUint32(FAULT.regionId, true);
  return Object.freeze({
    address: Number(fields.getBigUint64(FAULT.address, true)),
    kind,
    regionId: regionId === 0 ? undefined : regionId,
    bytesPastEnd: Number(fields.getBigUint64(FAULT.bytesPastEnd, true)),
  });
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
  if (code === "TRAP") throw new GuestTrap(message, lastFault());
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
