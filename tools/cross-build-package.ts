// Build step of the cross-compiled platform packages (packages/linux-arm64-gnu, darwin-arm64):
// links libvmwindow for TARGET against the Wasmtime library tools/bootstrap.sh fetched for that
// platform, in the package's own prefix (zig-out/), and copies both libraries into its lib/.
// Each package builds with its own Zig cache (.zig-cache/ in the package): turbo runs these builds
// in parallel with native/'s own, and two `zig build`s sharing one local cache race on the build
// runner executable (one writes it while the other execs it: "failed to spawn build runner: FileBusy").
//
//   bun ../../tools/cross-build-package.ts TARGET WASMTIME_PLATFORM LIBRARY_SUFFIX
//   e.g. aarch64-linux-gnu.2.28 linux-aarch64 so
import { copyFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";

const [target, wasmtimePlatform, suffix] = process.argv.slice(2);
if (!target || !wasmtimePlatform || !suffix) {
  console.error("usage: cross-build-package.ts TARGET WASMTIME_PLATFORM LIBRARY_SUFFIX");
  process.exit(2);
}
const repo = join(import.meta.dir, "..");
const packageDir = process.cwd();
const prefix = join(packageDir, "zig-out");
const zig = Bun.spawnSync(
  [
    "zig", "build", "-Doptimize=ReleaseSafe", "--summary", "none",
    `-Dtarget=${target}`,
    `-Dwasmtime-lib=${join(repo, ".toolchain", "wasmtime", wasmtimePlatform, "lib")}`,
    "-p", prefix,
    "--cache-dir", join(packageDir, ".zig-cache"),
  ],
  { cwd: join(repo, "native"), stdout: "inherit", stderr: "inherit" },
);
if (zig.exitCode !== 0) process.exit(zig.exitCode ?? 1);

const to = join(packageDir, "lib");
mkdirSync(to, { recursive: true });
for (const name of [`libvmwindow.${suffix}`, `libwasmtime.${suffix}`]) copyFileSync(join(prefix, "lib", name), join(to, name));
