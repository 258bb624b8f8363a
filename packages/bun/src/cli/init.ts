// `vmwindow init [DIR] [--vendor VENDOR]`: a host + guest project that builds, runs and
// type-checks: a Bun host (src/main.ts) that maps a file and calls a typed guest export, an
// AssemblyScript guest (guest/main.ts) built with the SDK preset, and the export types generated
// from the built module (`vmwindow inspect --dts`). Files that exist are left alone.
// With --vendor (a folder of tarballs from `./dev pack`, inside DIR), the dependencies point at
// them by relative path, so the project installs without the npm registry's @vmwindow packages and
// its lockfile stays portable.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join, relative, resolve } from "node:path";
import { UsageError } from "./args.ts";

export interface InitOptions {
  dir: string;
  vendor: string | undefined;
}

export function parseInit(argv: string[]): InitOptions {
  const options: InitOptions = { dir: ".", vendor: undefined };
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--vendor") {
      const value = argv[++i];
      if (value === undefined) throw new UsageError("--vendor needs a folder of vmwindow tarballs (./dev pack DIR/vendor)");
      options.vendor = value;
    } else if (arg.startsWith("--")) {
      throw new UsageError(`unknown option ${arg}`);
    } else {
      positional.push(arg);
    }
  }
  if (positional.length > 1) throw new UsageError(`unexpected argument ${JSON.stringify(positional[1])}`);
  options.dir = positional[0] ?? ".";
  return options;
}

/** Pinned like this repository's own toolchain. */
const DEV_DEPENDENCIES = { assemblyscript: "0.28.20", typescript: "5.9.3", "@types/bun": "1.4.5" };
const PLATFORMS = ["linux-x64-gnu", "linux-arm64-gnu", "darwin-arm64", "win32-x64"];

const FILES: Record<string, string> = {
  "src/main.ts": `// The host: maps a file into a window and lets the guest count its lines in place (no copy).
import { Window } from "@vmwindow/bun";
import type { GuestExports } from "./guest-exports";

const path = process.argv[2];
if (!path) {
  console.error("usage: bun run start FILE");
  process.exit(2);
}
using window = Window.create();
using guest = window.instantiate<GuestExports>(new URL("../build/guest.wasm", import.meta.url).pathname);
using input = window.mapFile(path, { name: "input" });
console.log(\`\${path}: \${guest.exports.countLines(input.id)} lines\`);
`,
  "guest/main.ts": `// The guest (AssemblyScript, built with the @vmwindow/guest preset): it reads mapped files in place.
import { regions } from "@vmwindow/guest";

/** Newlines in region \`id\` (the host passes \`region.id\`). */
export function countLines(id: u32): u32 {
  const bytes = regions.get(id).view<u8>();
  let lines: u32 = 0;
  for (let i: usize = 0; i < bytes.length; i++) if (bytes[i] == 10) lines++;
  return lines;
}
`,
  "guest/tsconfig.json": `{
  "extends": "../node_modules/assemblyscript/std/assembly.json",
  "include": ["./**/*.ts"]
}
`,
  "tsconfig.json": `{
  "compilerOptions": {
    "target": "ESNext",
    "module": "ESNext",
    "moduleResolution": "bundler",
    "lib": ["ESNext"],
    "types": ["bun"],
    "strict": true,
    "noUncheckedIndexedAccess": true,
    "noImplicitOverride": true,
    "allowImportingTsExtensions": true,
    "noEmit": true,
    "skipLibCheck": true
  },
  "include": ["src"],
  "exclude": ["guest"]
}
`,
  ".gitignore": `node_modules/
build/
`,
};

export function init({ dir, vendor }: InitOptions): string[] {
  const root = resolve(dir);
  mkdirSync(root, { recursive: true });
  const written: string[] = [];
  for (const [path, text] of Object.entries(FILES)) {
    const target = join(root, path);
    if (existsSync(target)) continue;
    mkdirSync(join(target, ".."), { recursive: true });
    writeFileSync(target, text);
    written.push(path);
  }
  writeFileSync(join(root, "package.json"), `${JSON.stringify(manifest(root, vendor), null, 2)}\n`);
  written.push("package.json");
  return written;
}

/** The project's package.json: the existing one with what is missing added. */
function manifest(root: string, vendor: string | undefined): Record<string, unknown> {
  const path = join(root, "package.json");
  const existing = existsSync(path) ? (JSON.parse(readFileSync(path, "utf8")) as Record<string, any>) : {};
  const source = vendorSources(root, vendor);
  return {
    name: existing.name ?? basename(root).toLowerCase().replace(/[^a-z0-9-._]/g, "-"),
    private: existing.private ?? true,
    type: existing.type ?? "module",
    ...existing,
    scripts: {
      build: "asc guest/main.ts --config node_modules/@vmwindow/guest/asconfig.json -o build/guest.wasm && vmwindow inspect build/guest.wasm --dts > src/guest-exports.d.ts",
      start: "bun src/main.ts",
      typecheck: "tsc -p .",
      ...existing.scripts,
    },
    dependencies: { "@vmwindow/bun": source.bun, ...existing.dependencies },
    devDependencies: { "@vmwindow/guest": source.guest, ...DEV_DEPENDENCIES, ...existing.devDependencies },
    ...(source.overrides ? { overrides: { ...source.overrides, ...existing.overrides } } : {}),
  };
}

/** Where the @vmwindow packages come from: the registry, or `vendor`'s tarballs by relative path. */
function vendorSources(root: string, vendor: string | undefined): { bun: string; guest: string; overrides?: Record<string, string> } {
  if (vendor === undefined) return { bun: "0.1.0", guest: "0.1.0" };
  const folder = resolve(root, vendor);
  const tarballs = existsSync(folder) ? readdirSync(folder).filter((name) => name.endsWith(".tgz")) : [];
  const find = (name: string) => {
    const found = tarballs.find((file) => file.startsWith(`vmwindow-${name}-`));
    if (!found) throw new UsageError(`--vendor ${vendor}: no vmwindow-${name}-*.tgz there (make them with ./dev pack ${vendor})`);
    return `file:./${relative(root, join(folder, found)).split("\\").join("/")}`;
  };
  const overrides: Record<string, string> = {};
  // The platform packages are @vmwindow/bun's optional dependencies: pointing every one at its
  // tarball keeps the install from asking the registry for them.
  for (const platform of PLATFORMS) overrides[`@vmwindow/${platform}`] = find(platform);
  return { bun: find("bun"), guest: find("guest"), overrides };
}
