// The examples a user copies, run the way their READMEs say (a `bun examples/<name>/host.ts`
// subprocess), checked against independent oracles: a JavaScript Game of Life, the known motion
// of a glider, a PNG decoded by hand; the scheduler's totals recomputed here; zlib's CRC-32.
import { describe, expect, test } from "bun:test";
import { closeSync, openSync, readFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { crc32, inflateSync } from "node:zlib";
import { patternBytes, tempDir, tempFile, xorshift32 } from "./helpers.ts";

const EXAMPLES = join(import.meta.dir, "..", "examples");
let counter = 0;
const tempPath = (name: string) => join(tempDir(), `example-${counter++}-${name}`);

async function run(script: string, args: string[], options: { onStart?: (child: Bun.Subprocess) => Promise<void> } = {}) {
  const child = Bun.spawn([process.execPath, join(EXAMPLES, script), ...args], { stdout: "pipe", stderr: "pipe", env: { ...process.env, BUN_DEBUG_QUIET_LOGS: "1" } });
  const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  await options.onStart?.(child);
  const [stdout, stderr, exitCode] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  clearTimeout(timer);
  return { stdout, stderr, exitCode };
}

// Game of Life ----------------------------------------------------------------------------------

interface LifeState {
  width: number;
  height: number;
  generation: bigint;
  current: number;
  cells: Uint8Array;
}

function readLife(path: string): LifeState {
  const bytes = readFileSync(path);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  expect(view.getUint32(0, true)).toBe(0x4546494c); // "LIFE"
  const width = view.getUint32(8, true);
  const height = view.getUint32(12, true);
  const current = view.getUint32(24, true);
  const start = 64 + current * width * height;
  return { width, height, generation: view.getBigUint64(16, true), current, cells: Uint8Array.from(bytes.subarray(start, start + width * height)) };
}

/** The oracle: a plain JavaScript Life on a torus. */
function lifeSteps(cells: Uint8Array, width: number, height: number, steps: number): Uint8Array {
  let grid = Uint8Array.from(cells);
  for (let s = 0; s < steps; s++) {
    const next = new Uint8Array(grid.length);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        let n = 0;
        for (let dy = -1; dy <= 1; dy++) {
          for (let dx = -1; dx <= 1; dx++) {
            if (dx || dy) n += grid[((y + dy + height) % height) * width + ((x + dx + width) % width)]!;
          }
        }
        next[y * width + x] = n === 3 || (n === 2 && grid[y * width + x]) ? 1 : 0;
      }
    }
    grid = next;
  }
  return grid;
}

/** A glider with its bounding box's top-left corner at (x, y). */
function glider(width: number, height: number, x: number, y: number): Uint8Array {
  const cells = new Uint8Array(width * height);
  for (const [dx, dy] of [[1, 0], [2, 1], [0, 2], [1, 2], [2, 2]] as const) cells[((y + dy) % height) * width + ((x + dx) % width)] = 1;
  return cells;
}

describe("examples/life", () => {
  test("10 steps, then 10 more in a second process, equal 20 steps in one run (and the JS oracle)", async () => {
    const split = tempPath("split.state");
    const whole = tempPath("whole.state");
    const first = await run("life/host.ts", ["--state", split, "--size", "40x24", "--pattern", "random", "--seed", "7", "--steps", "10"]);
    expect(first.exitCode).toBe(0);
    expect(first.stdout).toContain("reached generation 10 (10 steps this run)");
    const second = await run("life/host.ts", ["--state", split, "--steps", "10"]);
    expect(second.exitCode).toBe(0);
    expect(second.stdout).toContain("reached generation 20 (10 steps this run)");
    const once = await run("life/host.ts", ["--state", whole, "--size", "40x24", "--pattern", "random", "--seed", "7", "--steps", "20"]);
    expect(once.exitCode).toBe(0);
    // The whole state — header, both buffers — is byte for byte the same.
    expect(Bun.hash.crc32(readFileSync(split))).toBe(Bun.hash.crc32(readFileSync(whole)));
    expect(readFileSync(split).equals(readFileSync(whole))).toBe(true);
    const state = readLife(split);
    expect(state.generation).toBe(20n);
    const start = await run("life/host.ts", ["--state", tempPath("zero.state"), "--size", "40x24", "--pattern", "random", "--seed", "7", "--steps", "0"]);
    expect(start.exitCode).toBe(0);
    const initial = readLife(start.stdout.match(/state in (\S+)/)![1]!.replace(/,$/, ""));
    expect(initial.cells.some((c) => c === 1)).toBe(true);
    expect(state.cells).toEqual(lifeSteps(initial.cells, 40, 24, 20));
  });

  test("a glider moves one cell diagonally every 4 generations, around the torus", async () => {
    const path = tempPath("glider.state");
    const { exitCode, stdout } = await run("life/host.ts", ["--state", path, "--size", "16x12", "--pattern", "glider", "--steps", "20", "--show"]);
    expect(exitCode).toBe(0);
    expect(stdout).toContain("5 alive");
    expect(readLife(path).cells).toEqual(glider(16, 12, 1 + 5, 1 + 5));
    await run("life/host.ts", ["--state", path, "--steps", "28"]); // 48 generations: 12 cells, wrapped vertically
    expect(readLife(path).cells).toEqual(glider(16, 12, 1 + 12, (1 + 12) % 12));
    // --show drew the generation-20 grid with half blocks: rows 6..8 of the glider are text lines 3..4.
    const drawn = stdout.split("\n").slice(0, 6).join("\n");
    expect(drawn).toBe(["", "", "", "       ▀▄", "      ▀▀▀", ""].join("\n"));
  });

  test("Ctrl-C stops between steps with a consistent state; the next run resumes from it", async () => {
    const path = tempPath("interrupted.state");
    const stopped = await run("life/host.ts", ["--state", path, "--size", "96x96", "--pattern", "acorn", "--steps", "100000000"], {
      onStart: async (child) => {
        // The generation counter in the file moves while it runs: wait for it, then interrupt.
        for (let i = 0; i < 2000; i++) {
          await Bun.sleep(10);
          try {
            if (readLife(path).generation > 0n) break;
          } catch {}
        }
        child.kill("SIGINT");
      },
    });
    expect(stopped.exitCode).toBe(0);
    const reached = BigInt(stopped.stdout.match(/stopped at generation (\d+)/)![1]!);
    expect(readLife(path).generation).toBe(reached);
    const resumed = await run("life/host.ts", ["--state", path, "--steps", "5"]);
    expect(resumed.stdout).toContain(`reached generation ${reached + 5n} (5 steps this run)`);
    // Same as running that many generations in one go.
    const whole = tempPath("uninterrupted.state");
    await run("life/host.ts", ["--state", whole, "--size", "96x96", "--pattern", "acorn", "--steps", String(reached + 5n)]);
    expect(readFileSync(path).equals(readFileSync(whole))).toBe(true);
  });

  test("--png writes a valid PNG whose pixels are the cells", async () => {
    const path = tempPath("png.state");
    const png = tempPath("life.png");
    const { exitCode } = await run("life/host.ts", ["--state", path, "--size", "20x10", "--pattern", "r-pentomino", "--steps", "7", "--png", png, "--scale", "3"]);
    expect(exitCode).toBe(0);
    const bytes = readFileSync(png);
    expect([...bytes.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const chunks: Record<string, Buffer[]> = {};
    for (let at = 8; at < bytes.length; ) {
      const length = bytes.readUInt32BE(at);
      const type = bytes.subarray(at + 4, at + 8).toString("latin1");
      expect(bytes.readUInt32BE(at + 8 + length)).toBe(crc32(bytes.subarray(at + 4, at + 8 + length)) >>> 0);
      (chunks[type] ??= []).push(bytes.subarray(at + 8, at + 8 + length));
      at += 12 + length;
    }
    const ihdr = chunks.IHDR![0]!;
    expect([ihdr.readUInt32BE(0), ihdr.readUInt32BE(4), ihdr[8], ihdr[9]]).toEqual([60, 30, 8, 0]);
    expect(chunks.IEND).toHaveLength(1);
    const raw = inflateSync(Buffer.concat(chunks.IDAT!));
    const { cells } = readLife(path);
    expect(raw.length).toBe(30 * 61);
    for (let y = 0; y < 30; y++) {
      expect(raw[y * 61]).toBe(0); // filter: none
      for (let x = 0; x < 60; x++) expect(raw[y * 61 + 1 + x]).toBe(cells[Math.floor(y / 3) * 20 + Math.floor(x / 3)] ? 0 : 255);
    }
  });
});

// Scheduler -------------------------------------------------------------------------------------

/** The payload of message `seq` from `producer`, computed with BigInt (independent of both hosts' code). */
function payload(producer: number, seq: number): bigint {
  const m = (1n << 32n) - 1n;
  let x = ((BigInt(producer) * 0x9e3779b1n) & m) ^ ((BigInt(seq) * 0x85ebca77n) & m);
  x ^= x >> 15n;
  x = (x * 0x2c1b3c6dn) & m;
  x ^= x >> 12n;
  return x;
}

/** Every message the producers sent (count and checksum from `payload`) was consumed, none corrupt. */
function expectAllDelivered(report: any, producers: number, messages: number): void {
  let expected = 0n;
  for (let p = 1; p <= producers; p++) for (let s = 0; s < messages; s++) expected += payload(p, s);
  expect(report.produced).toEqual({ count: producers * messages, checksum: expected.toString() });
  expect(report.consumed).toEqual(report.produced);
  expect(report.corrupt).toBe(0);
}

describe("examples/scheduler", () => {
  test("messages consumed equal messages produced; the looping task times out without stopping the others", async () => {
    const producers = 4;
    const messages = 3000;
    const started = performance.now();
    const { stdout, stderr, exitCode } = await run("scheduler/host.ts", ["--producers", String(producers), "--consumers", "3", "--messages", String(messages), "--capacity", "8", "--budget", "5", "--deadline", "60", "--json"]);
    expect(stderr).toBe("");
    expect(exitCode).toBe(0);
    const report = JSON.parse(stdout);
    expectAllDelivered(report, producers, messages);
    // An 8-slot ring for 12,000 messages: it filled and drained many times.
    expect(report.rounds).toBeGreaterThan(100);
    const rogue = report.tasks.find((t: any) => t.kind === "rogue");
    expect(rogue.status).toBe("timed out");
    expect(rogue.calls).toBe(1);
    expect(rogue.error).toContain("60 ms deadline");
    expect(rogue.ms).toBeGreaterThanOrEqual(59);
    expect(rogue.ms).toBeLessThan(2000);
    const others = report.tasks.filter((t: any) => t.kind !== "rogue");
    expect(others).toHaveLength(7);
    for (const task of others) expect(task.status).toBe("done");
    // Consumers kept working after the rogue was stopped (it ran in the first round).
    for (const task of others.filter((t: any) => t.kind === "consumer")) expect(task.calls).toBe(report.rounds);
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  test("--window-per-task: 70 tasks, each in its own window, share the ring through one shared region mapped in every window", async () => {
    const producers = 35;
    const messages = 200;
    const { stdout, stderr, exitCode } = await run("scheduler/host.ts", ["--producers", String(producers), "--consumers", "34", "--messages", String(messages), "--capacity", "8", "--budget", "5", "--deadline", "60", "--window-per-task", "--json"]);
    expect(stderr).toBe("");
    expect(exitCode).toBe(0);
    const report = JSON.parse(stdout);
    expectAllDelivered(report, producers, messages);
    expect(report.windows).toBe(70); // more tasks than one window holds guests
    expect(report.tasks.find((t: any) => t.kind === "rogue").status).toBe("timed out");
  });
});

// Checksum --------------------------------------------------------------------------------------

describe("examples/checksum", () => {
  test("prints zlib's CRC-32 for each file; --window-bytes too small for a file fails clearly", async () => {
    const small = tempFile(patternBytes(70_000, 11));
    const big = tempFile(patternBytes(3 * 2 ** 20, 12));
    const ok = await run("checksum/host.ts", [small, big]);
    expect(ok.exitCode).toBe(0);
    for (const path of [small, big]) {
      const row = ok.stdout.split("\n").find((line) => line.startsWith(path))!;
      expect(row.split(/\s+/).slice(1, 5)).toEqual([String(readFileSync(path).length), ...Array(2).fill((crc32(readFileSync(path)) >>> 0).toString(16).padStart(8, "0")), "yes"]);
    }
    const tight = await run("checksum/host.ts", ["--window-bytes", "20MiB", small, big]);
    expect(tight.exitCode).toBe(1);
    expect(tight.stdout).toContain(small);
    expect(tight.stderr).toContain(`${big}: `);
    expect(tight.stderr).toContain("[WINDOW_FULL]");
  });

  test("a 256 MiB file is checksummed with about one 16 MiB chunk of it resident (releasePages)", async () => {
    // Written 16 MiB at a time, and the oracle computed the same way: this process never holds it.
    const path = tempFile(new Uint8Array(0));
    const chunk = patternBytes(16 * 2 ** 20, 13);
    let expected = 0;
    const fd = openSync(path, "w");
    for (let i = 0; i < 16; i++) {
      chunk[i] = i; // each chunk differs
      writeSync(fd, chunk);
      expected = crc32(chunk, expected);
    }
    closeSync(fd);
    const result = await run("checksum/host.ts", [path]);
    expect(result.exitCode).toBe(0);
    const row = result.stdout.split("\n").find((line) => line.startsWith(path))!;
    expect(row.split(/\s+/).slice(1, 5)).toEqual([String(256 * 2 ** 20), ...Array(2).fill((expected >>> 0).toString(16).padStart(8, "0")), "yes"]);
    // A Bun process is ~60 MiB; mapping the whole file without releasing would add 256 MiB.
    const peak = Number(/peak RSS (\d+) MiB/.exec(result.stdout)?.[1]);
    expect(peak).toBeGreaterThan(0);
    // Under qemu-user (tools/test-arm64.sh) VmRSS is qemu's, ~230 MiB before any file is read.
    if (process.env.VMW_EMULATED) console.log(`peak RSS ${peak} MiB not bounded under ${process.env.VMW_EMULATED} (qemu's own memory)`);
    else expect(peak).toBeLessThan(160);
  });
});

// CSV group-by ----------------------------------------------------------------------------------

describe("examples/csv", () => {
  /** The oracle: split, parseFloat and a Map over the file's text, as JavaScript would do it. */
  function groupBy(text: string, key: number, value: number): { lines: string; skipped: number } {
    const groups = new Map<string, { n: number; sum: number }>();
    let skipped = 0;
    const lines = text.split("\n");
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      if (line === "") continue;
      const fields = line.split(",");
      if (fields.length <= Math.max(key, value) || new TextEncoder().encode(fields[key]!).length > 32) {
        skipped++;
        continue;
      }
      const g = groups.get(fields[key]!) ?? { n: 0, sum: 0 };
      g.n++;
      g.sum += parseFloat(fields[value]!);
      groups.set(fields[key]!, g);
    }
    const sorted = [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return { lines: sorted.map(([k, g]) => `${k}\t${g.n}\t${g.sum}`).join("\n"), skipped };
  }

  test("a CSV larger than the window, in 1 MiB ranges: every group's count and sum equal JavaScript's", async () => {
    const keys = ["books", "toys", "garden tools", "café", "", "x".repeat(32)];
    const parts: string[] = ["id,category,amount,note\n"];
    const next = xorshift32(7);
    let bytes = 0;
    for (let row = 0; bytes < 40 * 2 ** 20; row++) {
      const r = next() % 1000;
      const amount = r < 5 ? `${next() % 1000}e-${next() % 5}` : r < 10 ? `-${next() % 100000}.${next() % 10}` : `${next() % 100000}.${String(next() % 100).padStart(2, "0")}`;
      const line =
        r === 10 ? "\n" // an empty line: not a row
        : r === 11 ? `${row},short\n` // no amount: skipped
        : r === 12 ? `${row},${"y".repeat(40)},1.5\n` // key longer than 32 bytes: skipped
        : `${row},${keys[next() % keys.length]},${amount}${r === 13 ? "\r" : ""}${r % 3 === 0 ? ",some note" : ""}\n`;
      parts.push(line);
      bytes += line.length + 1;
    }
    parts.push("99999999,books,0.25"); // the last line has no newline
    const text = parts.join("");
    const path = tempPath("sales.csv");
    await Bun.write(path, text);
    expect(text.length).toBeGreaterThan(32 * 2 ** 20); // larger than the window below
    const result = await run("csv/host.ts", [path, "--window-bytes", "32MiB", "--range-bytes", "1MiB"]);
    expect(result.exitCode).toBe(0);
    const oracle = groupBy(text, 1, 2);
    expect(result.stdout.replace(/\n$/, "")).toBe(oracle.lines); // (the empty key starts a line with a tab)
    expect(result.stderr).toContain(`${oracle.skipped} rows skipped`);
    expect(Number(/(\d+) ranges/.exec(result.stderr)?.[1])).toBeGreaterThan(32);
  }, 60_000);

  test("another key and value column, no header", async () => {
    const text = "a,1,x,2.5\nb,2,y,3\na,3,x,-1e2\nb,4,z,0.125\nshort\n";
    const path = tempPath("plain.csv");
    await Bun.write(path, text);
    const result = await run("csv/host.ts", [path, "--key", "2", "--value", "3", "--no-header"]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout.trim()).toBe("x\t2\t-97.5\ny\t1\t3\nz\t1\t0.125");
    expect(result.stderr).toContain("1 rows skipped");
  });
});
