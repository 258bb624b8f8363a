// Build step: copies the native build (native/zig-out/lib) into lib/, the files this package ships.
// turbo.json makes it run after @vmwindow/native's build.
import { copyFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";

const from = join(import.meta.dir, "..", "..", "native", "zig-out", "lib");
const to = join(import.meta.dir, "lib");
mkdirSync(to, { recursive: true });
for (const name of ["libvmwindow.so", "libwasmtime.so"]) copyFileSync(join(from, name), join(to, name));
