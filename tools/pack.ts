// `./dev pack [DIR]`: writes every tarball an outside project needs into DIR (default dist/):
// @vmwindow/bun, the four platform packages (their libraries built by `./dev build`) and
// @vmwindow/guest, packed as npm would publish them (`bun pm pack`: workspace versions resolved).
// Prints the file names, one per line, and how to install them (docs/install.md).
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";

const repo = resolve(import.meta.dir, "..");
const PACKAGES = [
  "packages/bun",
  "packages/linux-x64-gnu",
  "packages/linux-arm64-gnu",
  "packages/darwin-arm64",
  "packages/win32-x64",
  "guest-sdk",
] as const;

/** Packs every package into `destination`; returns the tarball paths in PACKAGES order. */
export function packAll(destination: string): string[] {
  mkdirSync(destination, { recursive: true });
  const made: string[] = [];
  for (const dir of PACKAGES) {
    const manifest = readJson(join(repo, dir, "package.json")) as { name: string; version: string; files?: string[] };
    for (const file of manifest.files ?? []) {
      if (file.includes("/lib/") || file.startsWith("lib/")) {
        if (!existsSync(join(repo, dir, file))) throw new Error(`${dir}/${file} is missing: run ./dev build first`);
      }
    }
    const tarball = `${manifest.name.replace(/^@/, "").replace("/", "-")}-${manifest.version}.tgz`;
    rmSync(join(destination, tarball), { force: true });
    const result = Bun.spawnSync(["bun", "pm", "pack", "--destination", destination, "--quiet"], { cwd: join(repo, dir), stdout: "pipe", stderr: "pipe" });
    if (result.exitCode !== 0) throw new Error(`bun pm pack in ${dir} failed:\n${result.stderr.toString()}`);
    if (!readdirSync(destination).includes(tarball)) throw new Error(`bun pm pack in ${dir} did not write ${tarball}`);
    made.push(join(destination, tarball));
  }
  return made;
}

function readJson(path: string): unknown {
  return JSON.parse(readFileSync(path, "utf8"));
}

if (import.meta.main) {
  const destination = resolve(process.argv[2] ?? join(repo, "dist"));
  for (const tarball of packAll(destination)) console.log(tarball);
  console.error(`\nInstall into a project: see docs/install.md (or ./dev new DIR for a ready host + guest project).`);
}
