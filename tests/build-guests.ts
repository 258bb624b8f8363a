// Compiles tests/guests/*.ts to tests/build/<name>.wasm with the SDK preset (confined stub
// runtime), plus probe.minimal.wasm / probe.incremental.wasm with the confined TLSF runtimes and
// scan-probe.nosimd.wasm with the preset without SIMD (asconfig.nosimd.json).
// Run from anywhere: `bun tests/build-guests.ts` (or `bun run build` in tests/).
import asc from "assemblyscript/asc";
import { readdirSync } from "node:fs";
import { join } from "node:path";

const dir = import.meta.dir;
process.chdir(dir); // asc resolves --runtime and package imports from the working directory

const jobs: { entry: string; out: string; extra: string[]; config?: string }[] = [];
for (const file of readdirSync(join(dir, "guests")).filter((f) => f.endsWith(".ts")).sort()) {
  const name = file.slice(0, -3);
  jobs.push({ entry: `guests/${file}`, out: `build/${name}.wasm`, extra: [] });
}
// tests/scan.test.ts runs the scanning primitives' scalar/SWAR fallbacks too.
jobs.push({ entry: "guests/scan-probe.ts", out: "build/scan-probe.nosimd.wasm", extra: [], config: "asconfig.nosimd.json" });
for (const runtime of ["minimal", "incremental"]) {
  jobs.push({
    entry: "guests/probe.ts",
    out: `build/probe.${runtime}.wasm`,
    extra: ["--runtime", `node_modules/@vmwindow/guest/runtime/${runtime}`, "--exportRuntime"],
  });
}

for (const job of jobs) {
  const { error, stderr } = await asc.main(
    [job.entry, "--config", `../guest-sdk/${job.config ?? "asconfig.json"}`, "-o", job.out, ...job.extra],
    {},
  );
  if (error) {
    console.error(stderr.toString());
    console.error(`asc failed for ${job.out}: ${error.message}`);
    process.exit(1);
  }
  console.log(`built tests/${job.out}`);
}
