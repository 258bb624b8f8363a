// The guest module `Window.instantiate` takes: bytes, an ArrayBuffer, or a path to a .wasm file.
import { closeSync, constants, fstatSync, openSync, readFileSync } from "node:fs";
import { VmwindowError, type ErrorCode } from "./errors.ts";

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
  // As libvmwindow says for a file to map (a C path ends at its first NUL).
  if (path.includes("\0")) throw new VmwindowError("INVALID_ARGUMENT", "path contains a NUL byte");
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (error) {
    const [code, why] = openFailure(error as NodeJS.ErrnoException);
    throw new VmwindowError(code, `cannot read guest module ${path}: ${why}`);
  }
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

/** Why opening a module file failed, in the words libvmwindow uses for a file to map. */
function openFailure(error: NodeJS.ErrnoException): [ErrorCode, string] {
  switch (error.code) {
    case "ENOENT":
      return ["NOT_FOUND", "no such file"];
    case "ENOTDIR":
      return ["NOT_FOUND", "no such file (a part of the path is not a directory)"];
    case "ELOOP":
      return ["NOT_FOUND", "too many levels of symbolic links (a symlink loop?)"];
    case "EACCES":
    case "EPERM":
      return ["ACCESS_DENIED", "permission denied"];
    case "ENXIO":
      return ["INVALID_ARGUMENT", "it is a socket, not a regular file"];
    case "ENAMETOOLONG":
      return ["INVALID_ARGUMENT", "the path is too long"];
    case "EMFILE":
    case "ENFILE":
      return ["OUT_OF_MEMORY", "out of file descriptors"];
    default:
      return ["IO", error.message];
  }
}
