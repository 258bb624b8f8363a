// Builds the C, Zig and Rust example guests (guest-sdk/<lang>/examples/scan.*) with exactly the
// commands docs/guest-{c,zig,rust}.md give. tests/guest-languages.test.ts uses it, and so can a
// benchmark (each guest exports `newlines_plain(id)`, the plain newline loop, and `newlines(id)`,
// the SDK's SIMD count).
// Usage: bun tools/build-guest-examples.ts [OUT_DIR]   (prints one line per language)
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { loadAbi, root as repo } from "./gen-guest-abi.ts";

const abi = loadAbi();
export const GUEST_BASE = abi.constants.find((c) => c.name === "GUEST_BASE")!.value;
export const STACK_BYTES = abi.guest_build.stack_bytes;
export const CPU = abi.guest_build.cpu;

export interface Built {
  wasm: string;
  ok: boolean;
  /** The commands and their output (for a failure message). */
  output: string;
}

function run(command: string[], cwd = repo): { ok: boolean; output: string } {
  const result = Bun.spawnSync(command, { cwd, stdout: "pipe", stderr: "pipe" });
  return { ok: result.exitCode === 0, output: `${command.join(" ")}\n${result.stdout.toString()}${result.stderr.toString()}` };
}

export const zig = Bun.which("zig") ?? join(repo, ".toolchain", "bin", "zig");

/** The C guest: docs/guest-c.md's command line. */
export function buildC(out: string): Built {
  mkdirSync(out, { recursive: true });
  const wasm = join(out, "scan-c.wasm");
  const result = run([
    zig, "cc", "--target=wasm32-freestanding", `-mcpu=${CPU}`, "-O2", "-nostdlib",
    "-Wl,--import-memory", `-Wl,--global-base=${GUEST_BASE}`, `-Wl,-z,stack-size=${STACK_BYTES}`, "-Wl,--no-entry",
    "-I", "guest-sdk/c", "guest-sdk/c/examples/scan.c", "-o", wasm,
  ]);
  return { wasm, ...result };
}

/** The Zig guest: guest-sdk/zig's build.zig (addGuest). */
export function buildZig(out: string): Built {
  mkdirSync(out, { recursive: true });
  const prefix = join(out, "zig");
  const result = run([zig, "build", "--cache-dir", join(out, "zig-cache"), "--prefix", prefix], join(repo, "guest-sdk", "zig"));
  return { wasm: join(prefix, "bin", "scan.wasm"), ...result };
}

/** A rustc that has the wasm32-unknown-unknown standard library, or undefined: $VMWINDOW_RUSTC
 * if set (only it), else Debian's /usr/bin/rustc or the one on PATH. */
export function findRustc(): string | undefined {
  const candidates = process.env.VMWINDOW_RUSTC ? [process.env.VMWINDOW_RUSTC] : ["/usr/bin/rustc", Bun.which("rustc")];
  for (const candidate of candidates) {
    if (!candidate || !existsSync(candidate)) continue;
    const libdir = Bun.spawnSync([candidate, "--print", "target-libdir", "--target", "wasm32-unknown-unknown"]).stdout.toString().trim();
    if (libdir && existsSync(libdir) && readdirSync(libdir).some((f) => f.startsWith("libcore-"))) return candidate;
  }
  return undefined;
}

export const rustMissing =
  "no rustc with the wasm32-unknown-unknown standard library " +
  "(apt-get install rustc libstd-rust-dev-wasm32 lld, see tools/guest-toolchains.sh; or set VMWINDOW_RUSTC)";

/** The Rust guest: docs/guest-rust.md's commands (the crate, the stack-reset object, the cdylib).
 * Leaves libvmwindow_guest.rlib in `out`. */
export function buildRust(out: string, rustc: string): Built {
  mkdirSync(out, { recursive: true });
  const wasm = join(out, "scan-rust.wasm");
  const common = ["--edition", "2021", "--target", "wasm32-unknown-unknown", "-O", "-C", "target-feature=+simd128", "-C", "strip=debuginfo"];
  const lib = run([rustc, ...common, "--crate-type", "rlib", "--crate-name", "vmwindow_guest", "--cfg", 'feature="panic-handler"',
    "guest-sdk/rust/src/lib.rs", "--out-dir", out]);
  if (!lib.ok) return { wasm, ...lib };
  const reset = join(out, "vmwindow_reset.o");
  const resetBuild = run([zig, "cc", "--target=wasm32-freestanding", "-mcpu=mvp", "-O2", "-c", "guest-sdk/rust/reset.c", "-o", reset]);
  if (!resetBuild.ok) return { wasm, ...resetBuild };
  const result = run([
    rustc, ...common, "--crate-type", "cdylib", "--crate-name", "scan", "guest-sdk/rust/examples/scan.rs",
    "--extern", `vmwindow_guest=${join(out, "libvmwindow_guest.rlib")}`,
    "-C", "link-arg=--import-memory", "-C", `link-arg=-zstack-size=${GUEST_BASE + STACK_BYTES}`, "-C", `link-arg=${reset}`, "-o", wasm,
  ]);
  return { wasm, ...result };
}

if (import.meta.main) {
  const out = process.argv[2] ?? join(repo, "guest-sdk", "build");
  const rustc = findRustc();
  const results: [string, Built | string][] = [
    ["C", buildC(out)],
    ["Zig", buildZig(out)],
    ["Rust", rustc ? buildRust(out, rustc) : `skipped: ${rustMissing}`],
  ];
  let failed = false;
  for (const [name, result] of results) {
    if (typeof result === "string") console.log(`${name}: ${result}`);
    else if (result.ok) console.log(`${name}: ${result.wasm}`);
    else {
      failed = true;
      console.log(`${name}: FAILED\n${result.output}`);
    }
  }
  process.exit(failed ? 1 : 0);
}
