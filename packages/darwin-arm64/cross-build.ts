// Build step: cross-links libvmwindow for macOS arm64 (macOS 11, as Wasmtime's library) against the
// arm64 Wasmtime library that tools/bootstrap.sh fetched, in its own prefix (zig-out/ here), and
// copies the two libraries into lib/, the files this package ships. Cached by turbo (turbo.json).
import { copyFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";

const repo = join(import.meta.dir, "..", "..");
const prefix = join(import.meta.dir, "zig-out");
const zig = Bun.spawnSync(
  [
    "zig", "build", "-Doptimize=ReleaseSafe", "--summary", "none",
    "-Dtarget=aarch64-macos.11.0",
    `-Dwasmtime-lib=${join(repo, ".toolchain", "wasmtime", "darwin-aarch64", "lib")}`,
    "-p", prefix,
  ],
  { cwd: join(repo, "native"), stdout: "inherit", stderr: "inherit" },
);
if (zig.exitCode !== 0) process.exit(zig.exitCode ?? 1);

const to = join(import.meta.dir, "lib");
mkdirSync(to, { recursive: true });
for (const name of ["libvmwindow.dylib", "libwasmtime.dylib"]) copyFileSync(join(prefix, "lib", name), join(to, name));
