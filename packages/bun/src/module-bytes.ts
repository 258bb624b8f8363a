// The guest module `Window.instantiate` takes: bytes, an ArrayBuffer, or a path to a .wasm file.
import { readFileSync } from "node:fs";
import { VmwindowError } from "./errors.ts";

/** The module's bytes (read from disk for a path); refuses anything else and empty modules. */
export function moduleBytes(wasm: Uint8Array | ArrayBuffer | string): Uint8Array {
  let bytes: Uint8Array;
  if (typeof wasm === "string") {
    try {
      bytes = readFileSync(wasm);
    } catch (error) {
      throw new VmwindowError("NOT_FOUND", `cannot read guest module ${wasm}: ${(error as Error).message}`);
    }
  } else if (wasm instanceof Uint8Array) {
    bytes = wasm;
  } else if (wasm instanceof ArrayBuffer) {
    bytes = new Uint8Array(wasm);
  } else {
    throw new VmwindowError("INVALID_ARGUMENT", "instantiate takes a Uint8Array, an ArrayBuffer or a path");
  }
  if (bytes.length === 0) throw new VmwindowError("BAD_MODULE", "the module is empty (0 bytes)");
  return bytes;
}
