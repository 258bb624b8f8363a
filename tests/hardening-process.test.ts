// Hardening across processes (each case runs a child `bun` from tests/fixtures/):
// - durability: bytes a guest wrote into a read-write region are in the file after the process is
//   SIGKILLed right after the call (no flush, no unmap), and after flush();
// - two processes mapping one file read-write see each other's writes, both ways;
// - Bun's own WebAssembly still traps correctly with vmwindow's engine in the same process;
// - a genuine host segfault is still reported by Bun's crash handler (not swallowed, no hang).
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Window } from "@vmwindow/bun";
import { guests, patternBytes, smallWindow, tempFile } from "./helpers.ts";

const FIXTURES = join(import.meta.dir, "fixtures");

async function run(args: string[], timeoutMs = 20_000) {
  const child = Bun.spawn([process.execPath, ...args], { cwd: import.meta.dir, stdout: "pipe", stderr: "pipe", env: { ...process.env, BUN_DEBUG_QUIET_LOGS: "1" } });
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const [stdout, stderr, exitCode] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  clearTimeout(timer);
  return { stdout, stderr, exitCode, signalCode: child.signalCode };
}

describe("durability after SIGKILL", () => {
  for (const mode of ["noflush", "flush"] as const) {
    test(`guest writes are in the file after SIGKILL right after the call (${mode})`, async () => {
      const size = 3 * 65_536 + 123;
      const original = patternBytes(size, 8);
      const path = tempFile(original);
      const count = 500;
      const stride = Math.floor(size / count);
      const seed = mode === "flush" ? 3 : 5;
      const { stdout, exitCode, signalCode } = await run([join(FIXTURES, "durability.ts"), path, String(seed), String(count), String(stride), mode]);
      expect(stdout).toBe("written\n");
      expect(signalCode).toBe("SIGKILL");
      expect(exitCode === null || exitCode === 128 + 9).toBe(true); // Bun reports a signal death as 128 + signal
      const expected = Uint8Array.from(original);
      for (let i = 0; i < count; i++) expected[i * stride] = (i * 7 + seed) & 255;
      const onDisk = readFileSync(path);
      expect(onDisk.length).toBe(size);
      let wrong = 0;
      for (let i = 0; i < size; i++) if (onDisk[i] !== expected[i]) wrong++;
      expect(wrong).toBe(0);
    });
  }
});

describe("two processes, one file", () => {
  test("a parent and a child mapping the same file read-write see each other's guest writes", async () => {
    const path = tempFile(new Uint8Array(200_000));
    using window = Window.create(smallWindow);
    using guest = window.instantiate(guests.probe);
    using region = window.mapFile(path, { access: "readwrite" });
    const child = Bun.spawn([process.execPath, join(FIXTURES, "shared-peer.ts"), path], { cwd: import.meta.dir, stdin: "pipe", stdout: "pipe", stderr: "inherit" });
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    const reader = child.stdout.getReader();
    let buffered = "";
    const decoder = new TextDecoder();
    const nextLine = async (): Promise<string> => {
      for (;;) {
        const newline = buffered.indexOf("\n");
        if (newline >= 0) {
          const line = buffered.slice(0, newline);
          buffered = buffered.slice(newline + 1);
          return line;
        }
        const { value, done } = await reader.read();
        if (done) throw new Error(`child closed stdout; had ${JSON.stringify(buffered)}`);
        buffered += decoder.decode(value);
      }
    };
    const ask = async (command: string) => {
      child.stdin.write(`${command}\n`);
      child.stdin.flush();
      return nextLine();
    };
    expect(await nextLine()).toMatch(/^ready \d+$/);
    for (let round = 0; round < 20; round++) {
      const offset = (round * 9973) % 200_000;
      // The child's guest writes; this process's guest and host view read it.
      expect(await ask(`write ${offset} ${(round * 11 + 1) & 255}`)).toBe("ok");
      expect(guest.call("load_u8", region.offset + offset)).toBe((round * 11 + 1) & 255);
      expect(region.bytes[offset]).toBe((round * 11 + 1) & 255);
      // This process's guest writes; the child's guest reads it.
      guest.call("store_u8", region.offset + offset + 1, (round * 13 + 2) & 255);
      expect(await ask(`read ${offset + 1}`)).toBe(String((round * 13 + 2) & 255));
    }
    child.stdin.write("quit\n");
    child.stdin.end();
    expect(await child.exited).toBe(0);
    clearTimeout(timer);
    region.flush();
    const onDisk = readFileSync(path);
    expect(onDisk[(19 * 9973) % 200_000]).toBe((19 * 11 + 1) & 255);
  });
});

describe("coexistence with Bun", () => {
  for (const order of ["vmwindow-first", "js-first"]) {
    test(`Bun's WebAssembly still throws RuntimeError out of bounds (${order})`, async () => {
      const { stdout, exitCode } = await run([join(FIXTURES, "wasm-coexist.ts"), order]);
      expect(exitCode).toBe(0);
      const outcomes: string[] = JSON.parse(stdout);
      const js = outcomes.filter((o) => o.startsWith("js ") && !o.startsWith("js in bounds"));
      const vmw = outcomes.filter((o) => o.startsWith("vmw "));
      expect(js.length).toBe(order === "js-first" ? 3 : 2);
      for (const o of js) expect(o).toMatch(/^js RuntimeError: Out of bounds memory access/);
      expect(vmw).toEqual(["vmw GuestTrap: out of bounds memory access", "vmw GuestTrap: out of bounds memory access"]);
    });
  }

  for (const where of ["address 8", "window"]) {
    test(`a host segfault after a guest trap is Bun's crash, not a trap and not a hang (${where})`, async () => {
      const started = performance.now();
      const { stdout, stderr, exitCode, signalCode } = await run([join(FIXTURES, "segfault.ts"), where === "window" ? "window" : "8"]);
      expect(performance.now() - started).toBeLessThan(15_000);
      expect(stdout).toContain("trapped: out of bounds memory access");
      expect(stdout).not.toContain("survived");
      expect(exitCode !== 0 || signalCode !== null).toBe(true);
      expect(signalCode ?? "").toMatch(/^(SIGSEGV|SIGBUS|SIGABRT|SIGTRAP|)$/);
      expect(stdout + stderr).toMatch(/Segmentation fault at address 0x[0-9A-Fa-f]+/);
      if (where !== "window") expect(stdout + stderr).toContain("Segmentation fault at address 0x8");
      // Inside a window vmwindow explains first; elsewhere it stays silent.
      const explained = "vmwindow: host code touched a protected page of a window at window offset 0x";
      if (where === "window") expect(stderr).toContain(explained);
      else expect(stderr).not.toContain(explained);
    });
  }

  test("a write through a read-only region's bytes: vmwindow names the mistake, then Bun's crash report", async () => {
    const { stdout, stderr, exitCode, signalCode } = await run([join(FIXTURES, "segfault.ts"), "readonly"]);
    const offset = Number(/window offset (\d+)/.exec(stdout)?.[1]);
    expect(offset).toBeGreaterThan(0);
    expect(stdout).not.toContain("survived");
    expect(exitCode !== 0 || signalCode !== null).toBe(true);
    expect(stderr).toContain(`vmwindow: host code touched a protected page of a window at window offset 0x${offset.toString(16)}: a write through region.bytes of a region mapped "read"`);
    expect(stdout + stderr).toMatch(/Segmentation fault at address 0x[0-9A-Fa-f]+/);
    // The file is untouched (it is the probe guest, which the next tests still load).
    expect(readFileSync(join(import.meta.dir, "build", "probe.wasm"))[0]).toBe(0);
  });
});
