// An outside project's first hour (issue 12), replayed from docs/install.md: in an empty folder,
// with only the pinned bun on PATH, the tarballs `./dev pack` makes, the package.json the doc
// shows and the commands it lists, in order. Oracles: the file's newline count from node:fs, tsc's
// verdict on a correct and on two wrong hosts, the lockfile's text, the install's output.
import { expect, test } from "bun:test";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { packAll } from "../tools/pack.ts";
import { tempDir } from "./helpers.ts";

const repo = join(import.meta.dir, "..");
// Linux x64 natively, and linux-arm64 under qemu-user (tools/test-arm64.sh).
const supported = process.platform === "linux" && (process.arch === "x64" || process.arch === "arm64");

/** The fenced blocks of `lang` in docs/install.md, in order. */
function blocks(lang: string): string[] {
  const text = readFileSync(join(repo, "docs", "install.md"), "utf8");
  return [...text.matchAll(new RegExp("```" + lang + "\\n([\\s\\S]*?)```", "g"))].map((m) => m[1]!);
}

function shell(command: string, cwd: string): { out: string; code: number } {
  const env = { PATH: `${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`, HOME: process.env.HOME ?? "/root", TMPDIR: process.env.TMPDIR ?? "/tmp" };
  const result = Bun.spawnSync(["bash", "-c", command], { cwd, env, stdout: "pipe", stderr: "pipe" });
  return { out: result.stdout.toString() + result.stderr.toString(), code: result.exitCode };
}

test.skipIf(!supported)(
  "docs/install.md from an empty folder: install from tarballs, scaffold, build, run, type-check",
  () => {
    const app = join(tempDir(), `first-hour-${process.pid}`);
    mkdirSync(app, { recursive: true });
    packAll(join(app, "vendor"));
    const [manifest] = blocks("json");
    writeFileSync(join(app, "package.json"), manifest!);

    // The "Then:" block: each command as the doc gives it (comments dropped).
    const commands = blocks("sh").find((block) => block.includes("vmwindow init"))!
      .split("\n").map((line) => line.replace(/\s+#.*$/, "").trim()).filter(Boolean);
    expect(commands[0]).toBe("bun install");
    const outputs: string[] = [];
    for (const command of commands) {
      const { out, code } = shell(command, app);
      if (code !== 0) throw new Error(`${command} exited ${code}:\n${out}`);
      outputs.push(out);
    }
    // No registry was asked for an @vmwindow package (Bun prints 404s for missing optional ones).
    expect(outputs.join("\n")).not.toMatch(/404|error:/i);
    // `bun run start package.json` counted the newlines of package.json as it is now.
    const lines = readFileSync(join(app, "package.json"), "utf8").split("\n").length - 1;
    expect(outputs[commands.indexOf("bun run start package.json")]).toContain(`package.json: ${lines} lines`);
    // The lockfile names the tarballs relative to the project.
    const lock = readFileSync(join(app, "bun.lock"), "utf8");
    expect(lock).toContain("file:./vendor/vmwindow-bun-0.1.0.tgz");
    expect(lock).not.toContain(app);

    // Typed exports: a wrong export name and a wrong argument type fail the type check.
    const host = readFileSync(join(app, "src", "main.ts"), "utf8");
    expect(host).toContain("instantiate<GuestExports>");
    for (const [wrong, message] of [
      [host.replace("guest.exports.countLines(input.id)", "guest.exports.countLine(input.id)"), "countLine"],
      [host.replace("guest.exports.countLines(input.id)", 'guest.exports.countLines("input")'), "string"],
    ] as const) {
      writeFileSync(join(app, "src", "main.ts"), wrong);
      const { out, code } = shell("bun run typecheck", app);
      expect(code).not.toBe(0);
      expect(out).toContain(message);
    }
    writeFileSync(join(app, "src", "main.ts"), host);
    expect(shell("bun run typecheck", app).code).toBe(0);

    // Without the platform package, the error names it and where it comes from, and no path of
    // this repository's (native/zig-out) appears.
    const platform = join(app, "node_modules", "@vmwindow", `linux-${process.arch}-gnu`);
    renameSync(platform, `${platform}.away`);
    const missing = shell("bun run start package.json", app);
    renameSync(`${platform}.away`, platform);
    expect(missing.code).not.toBe(0);
    expect(missing.out).toContain(`It comes in @vmwindow/linux-${process.arch}-gnu, an optional dependency of @vmwindow/bun`);
    expect(missing.out).not.toContain("zig-out");
  },
  300_000,
);

// Under qemu-user (tools/test-arm64.sh) each dropped 4 GiB window costs qemu 7.2 ~25 MiB of page
// descriptors until the GC finalizes it: 1,100 of them would take tens of GiB and the RSS bound
// would measure qemu. Runs natively (x64 in CI).
const EMULATED = process.env.VMW_EMULATED;
if (EMULATED) console.log(`skipped under ${EMULATED}: "a Window dropped without close() ..." (1,100 dropped 4 GiB windows cost qemu tens of GiB of page descriptors)`);
test.skipIf(!!EMULATED)("a Window dropped without close() is released; 1,100 of them never reach the 1,024-window limit", () => {
  const child = Bun.spawnSync([process.execPath, join(import.meta.dir, "fixtures", "leak-windows.ts"), "1100"], { stdout: "pipe", stderr: "pipe" });
  const stderr = child.stderr.toString();
  expect(child.exitCode).toBe(0);
  const report = JSON.parse(child.stdout.toString().trim().split("\n").at(-1)!);
  expect(report.created).toBe(1100);
  expect(report.peakRssMiB).toBeLessThan(1024);
  // Warned once, naming the fix.
  expect(stderr.match(/garbage-collected without close\(\)/g)?.length).toBe(1);
  expect(stderr).toContain("using window = Window.create()");
}, 120_000);

// The JSCallback that runs a guest's host functions is a root for the garbage collector until it is
// closed: it must not hold them, or a window whose host functions close over it stays forever.
test.skipIf(!!EMULATED)("a dropped window whose guest's host functions close over it is released too", () => {
  const child = Bun.spawnSync([process.execPath, join(import.meta.dir, "fixtures", "leak-windows.ts"), "1100", "0", "guests"], { stdout: "pipe", stderr: "pipe" });
  const stderr = child.stderr.toString();
  expect({ exitCode: child.exitCode, stderr: stderr.includes("Error") ? stderr : "" }).toEqual({ exitCode: 0, stderr: "" });
  expect(JSON.parse(child.stdout.toString().trim().split("\n").at(-1)!).created).toBe(1100);
}, 120_000);

// Window.create, out of windows, releases the dropped ones itself; the collector's finalizers for
// them run later, when new windows may have the same native handles. Each must release only its own.
test.skipIf(!!EMULATED)("windows created after dropped ones were released keep working once the dropped ones' finalizers run", () => {
  const child = Bun.spawnSync([process.execPath, join(import.meta.dir, "fixtures", "leak-windows.ts"), "1024", "40"], { stdout: "pipe", stderr: "pipe" });
  const stderr = child.stderr.toString();
  // Before the fix: a late finalizer destroyed a kept window (FRAGMENTED errors, or a segfault).
  expect({ exitCode: child.exitCode, stderr: stderr.includes("Error") ? stderr : "" }).toEqual({ exitCode: 0, stderr: "" });
  const report = JSON.parse(child.stdout.toString().trim().split("\n").at(-1)!);
  expect(report).toMatchObject({ created: 1024, kept: 40, working: 40 });
}, 120_000);
