// Build step: cross-links libvmwindow for Linux aarch64 (glibc 2.28, as for x86-64) against the
// aarch64 Wasmtime library that tools/bootstrap.sh fetched, in its own prefix (zig-out/ here), and
// copies the two libraries into lib/, the files this package ships. Cached by turbo (turbo.json).
import { copyFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";

const repo = join(import.meta.dir, "..", "..");
const prefix = join(import.meta.dir, "zig-out");
const zig = Bun.spawnSync(
  [
    "zig", "build", "-Doptimize=ReleaseSafe", "--summary", "none",
    "-Dtarget=aarch64-linux-gnu.2.28",
    `-Dwasmtime-lib=${join(repo, ".toolchain", "wasmtime", "linux-aarch64", "lib")}`,
    "-p", prefix,
  ],
  { cwd: join(repo, "native"), stdout: "inherit", stderr: "inherit" },
);
if (zig.exitCode !== 0) process.exit(zig.exitCode ?? 1);

const to = join(import.meta.dir, "lib");
mkdirSync(to, { recursive: true });
for (const name of ["libvmwindow.so", "libwasmtime.so"]) copyFileSync(join(prefix, "lib", name), join(to, name));
