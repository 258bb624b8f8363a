// The guest module `Window.instantiate` takes: bytes, an ArrayBuffer, or a path to a .wasm file.
import { closeSync, constants, fstatSync, readFileSync } from "node:fs";
import { VmwindowError } from "./errors.ts";
import { openFile } from "./open-file.ts";

/** The module's bytes (read from disk for a path); refuses anything else. */
export function moduleBytes(wasm: Uint8Array | ArrayBuffer | string): Uint8Array {
  let bytes: Uint8Array;
  if (typeof wasm === "string") {
    bytes = readModuleFile(wasm);
  } else if (wasm instanceof Uint8Array) {
    bytes = wasm;
  } else if (wasm instanceof ArrayBuffer) {
    bytes = new Uint8Array(wasm);
  } else {
    throw new VmwindowError("INVALID_ARGUMENT", "instantiate takes a Uint8Array, an ArrayBuffer or a path");
  }
  // An empty module is the native layer's to refuse ("the module is empty (0 bytes)").
  return bytes;
}

/**
 * A guest module file's bytes. Opened non-blocking and checked to be a regular file before it is
 * read, so a FIFO, socket or device path fails at once with its type named instead of hanging.
 */
export function readModuleFile(path: string): Uint8Array {
  const fd = openFile(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY, undefined, "cannot read guest module");
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) {
      const kind = stat.isDirectory() ? "a directory" : stat.isFIFO() ? "a named pipe (FIFO)" : stat.isSocket() ? "a socket" : stat.isCharacterDevice() ? "a character device" : stat.isBlockDevice() ? "a block device" : "not a regular file";
      throw new VmwindowError("INVALID_ARGUMENT", `cannot read guest module ${path}: it is ${kind}, not a regular file`);
    }
    return readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}
