// Packaging as a new user meets it: `bun pm pack` the host package, the Linux x86-64 platform
// package and the guest SDK; install the tarballs into a fresh project with no access to any
// registry; compile a guest against the installed SDK; run a host script that maps a file and calls
// the guest. The host must load libvmwindow from the installed platform package (never this
// repository's native/zig-out) and print the oracle's byte sum.
import { expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, realpathSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { patternBytes, tempDir } from "./helpers.ts";

const repo = join(import.meta.dir, "..");
// Linux x64 natively, and linux-arm64 under qemu-user (tools/test-arm64.sh): this platform's package.
const supported = process.platform === "linux" && (process.arch === "x64" || process.arch === "arm64");
const platformDir = `linux-${process.arch}-gnu`;

function run(command: string[], cwd: string, env: Record<string, string | undefined> = {}): string {
  const merged: Record<string, string> = {};
  for (const [key, value] of Object.entries({ ...process.env, ...env })) if (value !== undefined) merged[key] = value;
  const result = Bun.spawnSync(command, { cwd, env: merged, stdout: "pipe", stderr: "pipe" });
  const stdout = result.stdout.toString();
  if (result.exitCode !== 0) {
    throw new Error(`${command.join(" ")} (in ${cwd}) exited ${result.exitCode}\n${stdout}\n${result.stderr.toString()}`);
  }
  return stdout;
}

function pack(packageDir: string, destination: string): string {
  const before = new Set(readdirSync(destination));
  run(["bun", "pm", "pack", "--destination", destination], join(repo, packageDir));
  const made = readdirSync(destination).filter((name) => name.endsWith(".tgz") && !before.has(name));
  expect(made).toHaveLength(1);
  return join(destination, made[0]!);
}

const guestSource = `import { regions } from "@vmwindow/guest";

export function sum(id: u32): u64 {
  const bytes = regions.get(id).view<u8>();
  let total: u64 = 0;
  for (let i: usize = 0; i < bytes.length; i++) total += <u64>bytes[i];
  return total;
}
`;

const hostSource = `import { readFileSync } from "node:fs";
import { Window, libraryPath } from "@vmwindow/bun";

const [wasm, file] = process.argv.slice(2);
using window = Window.create({ sizeBytes: 64 * 2 ** 20, guestBytes: 2 ** 20 });
using guest = window.instantiate(wasm);
using region = window.mapFile(file, { name: "input" });
const sum = guest.call("sum", region.id);
// The libvmwindow.so this process really loaded.
const loaded = readFileSync("/proc/self/maps", "utf8").split("\\n")
  .map((line) => line.slice(line.indexOf("/")))
  .filter((path) => path.endsWith("/libvmwindow.so"));
console.log(JSON.stringify({ sum: String(sum), libraryPath, loaded: [...new Set(loaded)] }));
`;

test.skipIf(!supported)(
  "packed tarballs install offline into a fresh project and run a guest",
  () => {
    const platformLib = join(repo, "packages", platformDir, "lib", "libvmwindow.so");
    if (!existsSync(platformLib)) throw new Error(`${platformLib} is missing: build first (./dev build)`);

    const root = join(tempDir(), `packaging-${process.pid}`);
    const tarballs = join(root, "tarballs");
    const app = join(root, "app");
    mkdirSync(tarballs, { recursive: true });
    mkdirSync(app, { recursive: true });
    const host = pack("packages/bun", tarballs);
    const platform = pack(`packages/${platformDir}`, tarballs);
    const sdk = pack("guest-sdk", tarballs);

    // The platform package arrives the way it does for a user: as @vmwindow/bun's optional
    // dependency ("0.1.0" in the packed manifest), here overridden to the local tarball.
    writeFileSync(
      join(app, "package.json"),
      JSON.stringify(
        {
          name: "vmwindow-packaging-check",
          private: true,
          type: "module",
          dependencies: { "@vmwindow/bun": `file:${host}`, "@vmwindow/guest": `file:${sdk}` },
          overrides: { [`@vmwindow/${platformDir}`]: `file:${platform}` },
        },
        null,
        2,
      ),
    );
    // No registry: any attempt to reach one fails at once. A private cache: nothing from the user's.
    const offline = {
      BUN_CONFIG_REGISTRY: "http://127.0.0.1:9/",
      NPM_CONFIG_REGISTRY: "http://127.0.0.1:9/",
      BUN_INSTALL_CACHE_DIR: join(root, "cache"),
      VMWINDOW_LIB: undefined,
    };
    run(["bun", "install"], app, offline);
    const installed = join(app, "node_modules", "@vmwindow", platformDir, "lib");
    expect(existsSync(join(installed, "libvmwindow.so"))).toBe(true);
    expect(existsSync(join(installed, "libwasmtime.so"))).toBe(true);

    // The guest, compiled with this repository's asc against the *installed* SDK (its preset
    // names node_modules/@vmwindow/guest/runtime/stub, relative to the working directory).
    writeFileSync(join(app, "guest.ts"), guestSource);
    run(
      [join(repo, "node_modules", ".bin", "asc"), "guest.ts", "--config", "node_modules/@vmwindow/guest/asconfig.json", "-o", "guest.wasm"],
      app,
    );

    const bytes = patternBytes(200_003, 7);
    const input = join(root, "input.bin");
    writeFileSync(input, bytes);
    writeFileSync(join(app, "host.ts"), hostSource);
    const output = run(["bun", "host.ts", "guest.wasm", input], app, offline);
    const result = JSON.parse(output.trim().split("\n").at(-1)!) as { sum: string; libraryPath: string; loaded: string[] };

    let oracle = 0n;
    for (const byte of bytes) oracle += BigInt(byte);
    expect(result.sum).toBe(String(oracle));
    const expected = realpathSync(join(installed, "libvmwindow.so"));
    expect(realpathSync(result.libraryPath)).toBe(expected);
    expect(result.loaded.map((path) => realpathSync(path))).toEqual([expected]);
  },
  180_000,
);
