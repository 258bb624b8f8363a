// Opening a file from JS (a guest module to read, an output file to create before mapping it):
// failures in the words and codes libvmwindow uses when it opens a file to map.
import { openSync } from "node:fs";
import { VmwindowError, type ErrorCode } from "./errors.ts";

/** `openSync(path, flags, mode)`; a failure throws "`doing` PATH: why" with libvmwindow's code. */
export function openFile(path: string, flags: number, mode: number | undefined, doing: string): number {
  // As libvmwindow says for a file to map (a C path ends at its first NUL).
  if (path.includes("\0")) throw new VmwindowError("INVALID_ARGUMENT", "path contains a NUL byte");
  try {
    return openSync(path, flags, mode);
  } catch (error) {
    const [code, why] = openFailure(error as NodeJS.ErrnoException);
    throw new VmwindowError(code, `${doing} ${path}: ${why}`);
  }
}

/** Why opening a file failed, in the words libvmwindow uses for a file to map. */
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
