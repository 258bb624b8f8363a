// Finds libvmwindow for this platform: $VMWINDOW_LIB, then a from-source build when running inside
// the vmwindow repository (native/zig-out/lib), then the platform's optional npm package.
import { dlopen, FFIType } from "bun:ffi";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const suffix = process.platform === "darwin" ? "dylib" : process.platform === "win32" ? "dll" : "so";
const fileName = process.platform === "win32" ? "vmwindow.dll" : `libvmwindow.${suffix}`;

/** Where libvmwindow is, and the libraries to load before it, in order (Windows, which has no run
 * paths: wasmtime.dll, so vmwindow.dll's import of it binds to the module already loaded). */
export interface LibraryLocation {
  path: string;
  preload: readonly string[];
}

/**
 * The npm package that carries the prebuilt library for a platform (this one by default):
 * @vmwindow/linux-x64-gnu, @vmwindow/linux-arm64-gnu, @vmwindow/darwin-arm64, @vmwindow/win32-x64
 * (Linux names carry the C library, glibc). Other platforms get a name of the same shape, which no
 * package has yet.
 */
export function platformPackageName(platform: string = process.platform, arch: string = process.arch): string {
  const libc = platform === "linux" ? "-gnu" : "";
  return `@vmwindow/${platform}-${arch}${libc}`;
}

export function findLibrary(): LibraryLocation {
  const tried: string[] = [];
  const fromEnv = process.env.VMWINDOW_LIB;
  if (fromEnv) {
    const found = beside(fromEnv);
    if (found) return found;
    tried.push(`$VMWINDOW_LIB=${fromEnv}`);
  }
  // Inside the vmwindow repository (this file at packages/bun/src), the library just built from
  // source wins over the platform package's copy of it, which is only refreshed by `./dev build`.
  // (Zig installs a DLL in bin/, a shared library in lib/.) Installed as a package, there is no
  // native/ beside it, and the path would only confuse the message below.
  const nativeDir = fileURLToPath(new URL("../../../native/", import.meta.url));
  if (existsSync(join(nativeDir, "build.zig"))) {
    const fromSource = join(nativeDir, "zig-out", fileName.endsWith(".dll") ? "bin" : "lib", fileName);
    const built = beside(fromSource);
    if (built) return built;
    tried.push(`${fromSource} (./dev build makes it)`);
  }
  try {
    const require = createRequire(import.meta.url);
    const platformPackage: { libraryPath?: string; preload?: string[] } = require(platformPackageName());
    if (platformPackage.libraryPath && existsSync(platformPackage.libraryPath)) {
      return { path: platformPackage.libraryPath, preload: platformPackage.preload ?? [] };
    }
    tried.push(`${platformPackageName()} (${platformPackage.libraryPath ?? "no libraryPath"} is missing)`);
  } catch {
    tried.push(platformPackageName());
  }
  throw new Error(
    `vmwindow: cannot find ${fileName} (tried ${tried.join(", ")}). ` +
      `It comes in ${platformPackageName()}, an optional dependency of @vmwindow/bun: install it (from the registry, or from its tarball as docs/install.md shows), ` +
      `or set VMWINDOW_LIB to the library's path.`,
  );
}

/** The library at `path` if it exists (and, on Windows, wasmtime.dll beside it, loaded first). */
function beside(path: string): LibraryLocation | undefined {
  if (!existsSync(path)) return undefined;
  if (process.platform !== "win32") return { path, preload: [] };
  const wasmtime = join(dirname(path), "wasmtime.dll");
  return existsSync(wasmtime) ? { path, preload: [wasmtime] } : undefined;
}

/** Loads Wasmtime's C library at `path` into the process and keeps it loaded. (bun:ffi's dlopen
 * wants at least one symbol: `wasm_engine_new` is in every Wasmtime C library.) */
export function preloadLibrary(path: string): void {
  preloaded.push(dlopen(path, { wasm_engine_new: { args: [], returns: FFIType.ptr } }));
}
/** The preloaded libraries' handles, referenced for the life of the process. */
const preloaded: unknown[] = [];
