// Finds libvmwindow for this platform: $VMWINDOW_LIB, then a from-source build when running inside
// the vmwindow repository (native/zig-out/lib), then the platform's optional npm package.
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const suffix = process.platform === "darwin" ? "dylib" : process.platform === "win32" ? "dll" : "so";
const fileName = process.platform === "win32" ? "vmwindow.dll" : `libvmwindow.${suffix}`;

/**
 * The npm package that carries the prebuilt library for a platform (this one by default):
 * @vmwindow/linux-x64-gnu, @vmwindow/linux-arm64-gnu, @vmwindow/darwin-arm64 (Linux names carry the
 * C library, glibc). Other platforms get a name of the same shape, which no package has yet.
 */
export function platformPackageName(platform: string = process.platform, arch: string = process.arch): string {
  const libc = platform === "linux" ? "-gnu" : "";
  return `@vmwindow/${platform}-${arch}${libc}`;
}

export function findLibrary(): string {
  const tried: string[] = [];
  const fromEnv = process.env.VMWINDOW_LIB;
  if (fromEnv) {
    if (existsSync(fromEnv)) return fromEnv;
    tried.push(`$VMWINDOW_LIB=${fromEnv}`);
  }
  // Inside the vmwindow repository (this file at packages/bun/src), the library just built from
  // source wins over the platform package's copy of it, which is only refreshed by `./dev build`.
  const fromSource = fileURLToPath(new URL(`../../../native/zig-out/lib/${fileName}`, import.meta.url));
  if (existsSync(fromSource)) return fromSource;
  tried.push(fromSource);
  try {
    const require = createRequire(import.meta.url);
    const platformPackage: { libraryPath?: string } = require(platformPackageName());
    if (platformPackage.libraryPath && existsSync(platformPackage.libraryPath)) return platformPackage.libraryPath;
    tried.push(`${platformPackageName()} (${platformPackage.libraryPath ?? "no libraryPath"} is missing)`);
  } catch {
    tried.push(platformPackageName());
  }
  throw new Error(
    `vmwindow: cannot find ${fileName} (tried ${tried.join(", ")}). ` +
      `Install ${platformPackageName()}, set VMWINDOW_LIB, or build from source with ./dev build.`,
  );
}
