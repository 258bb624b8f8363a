// Build step of the cross-compiled platform packages (packages/linux-arm64-gnu, darwin-arm64,
// win32-x64): links libvmwindow for TARGET against the Wasmtime library tools/bootstrap.sh fetched
// for that platform, in the package's own prefix (zig-out/), and copies both libraries into its lib/.
// Each package builds with its own Zig cache (.zig-cache/ in the package): turbo runs these builds
// in parallel with native/'s own, and two `zig build`s sharing one local cache race on the build
// runner executable (one writes it while the other execs it: "failed to spawn build runner: FileBusy").
//
// Windows: Wasmtime's wheel ships wasmtime.dll without an import library, so one is made here from
// the DLL's own export table (tools/pe.ts -> a .def file -> `zig dlltool`).
//
//   bun ../../tools/cross-build-package.ts TARGET WASMTIME_PLATFORM LIBRARY_SUFFIX
//   e.g. aarch64-linux-gnu.2.28 linux-aarch64 so
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { moduleDefinition, readPe } from "./pe.ts";

const [target, wasmtimePlatform, suffix] = process.argv.slice(2);
if (!target || !wasmtimePlatform || !suffix) {
  console.error("usage: cross-build-package.ts TARGET WASMTIME_PLATFORM LIBRARY_SUFFIX");
  process.exit(2);
}
const repo = join(import.meta.dir, "..");
const packageDir = process.cwd();
const prefix = join(packageDir, "zig-out");
const cache = join(packageDir, ".zig-cache");
const windows = suffix === "dll";
let wasmtimeLib = join(repo, ".toolchain", "wasmtime", wasmtimePlatform, "lib");

function zig(args: string[], cwd: string): void {
  const result = Bun.spawnSync(["zig", ...args], { cwd, stdout: "inherit", stderr: "inherit" });
  if (result.exitCode !== 0) process.exit(result.exitCode ?? 1);
}

if (windows) {
  // A folder with wasmtime.dll and the import library made from it (wasmtime.lib).
  const dll = join(wasmtimeLib, "wasmtime.dll");
  const image = readPe(readFileSync(dll), dll);
  const linkDir = join(cache, "wasmtime-link");
  mkdirSync(linkDir, { recursive: true });
  copyFileSync(dll, join(linkDir, "wasmtime.dll"));
  writeFileSync(join(linkDir, "wasmtime.def"), moduleDefinition("wasmtime.dll", image.exports));
  zig(["dlltool", "-m", "i386:x86-64", "-d", "wasmtime.def", "-l", "wasmtime.lib"], linkDir);
  wasmtimeLib = linkDir;
}

zig(
  [
    "build", "-Doptimize=ReleaseSafe", "--summary", "none",
    `-Dtarget=${target}`,
    `-Dwasmtime-lib=${wasmtimeLib}`,
    "-p", prefix,
    "--cache-dir", cache,
  ],
  join(repo, "native"),
);

// Zig installs DLLs in bin/ and shared libraries in lib/.
const from = join(prefix, windows ? "bin" : "lib");
const to = join(packageDir, "lib");
mkdirSync(to, { recursive: true });
const names = windows ? ["vmwindow.dll", "wasmtime.dll"] : [`libvmwindow.${suffix}`, `libwasmtime.${suffix}`];
for (const name of names) copyFileSync(join(from, name), join(to, name));
