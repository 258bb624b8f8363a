// Game of Life whose whole state lives in a mapped file: the guest steps the simulation inside
// the file (a read-write region), the host draws it straight from the same memory (region.bytes).
// Stop it any time (Ctrl-C) and run it again: it resumes from the generation in the file.
//
//   bun examples/life/host.ts [--steps N] [--state FILE] [--png out.png]
//       [--size WxH] [--pattern random|glider|r-pentomino|acorn] [--seed N] [--reset]
//       [--delay MS] [--show] [--quiet]
import { existsSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Window } from "@vmwindow/bun";
import { encodeGrayPng } from "./png.ts";

export const MAGIC = 0x4546494c; // "LIFE"
export const HEADER_BYTES = 64;
const guestPath = fileURLToPath(new URL("./build/guest.wasm", import.meta.url));

export const PATTERNS: Record<string, [number, number][]> = {
  glider: [[1, 0], [2, 1], [0, 2], [1, 2], [2, 2]],
  "r-pentomino": [[1, 0], [2, 0], [0, 1], [1, 1], [1, 2]],
  acorn: [[1, 0], [3, 1], [0, 2], [1, 2], [4, 2], [5, 2], [6, 2]],
};

/** A fresh state file's bytes: header, generation 0 in buffer 0, buffer 1 zero. */
export function newState(width: number, height: number, pattern: string, seed = 1): Uint8Array {
  const cells = width * height;
  const bytes = new Uint8Array(HEADER_BYTES + 2 * cells);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, 1, true);
  view.setUint32(8, width, true);
  view.setUint32(12, height, true);
  const grid = bytes.subarray(HEADER_BYTES, HEADER_BYTES + cells);
  if (pattern === "random") {
    let state = seed >>> 0 || 1;
    for (let i = 0; i < cells; i++) {
      state ^= state << 13;
      state >>>= 0;
      state ^= state >>> 17;
      state ^= state << 5;
      state >>>= 0;
      grid[i] = state % 4 === 0 ? 1 : 0; // ~25% alive
    }
  } else {
    const shape = PATTERNS[pattern];
    if (!shape) throw new Error(`unknown pattern ${JSON.stringify(pattern)} (random, ${Object.keys(PATTERNS).join(", ")})`);
    const width0 = Math.max(...shape.map(([x]) => x)) + 1;
    const height0 = Math.max(...shape.map(([, y]) => y)) + 1;
    // Gliders start in the top-left corner; the others in the middle.
    const ox = pattern === "glider" ? 1 : Math.floor((width - width0) / 2);
    const oy = pattern === "glider" ? 1 : Math.floor((height - height0) / 2);
    for (const [x, y] of shape) grid[((oy + y) % height) * width + ((ox + x) % width)] = 1;
  }
  return bytes;
}

/** The header and the current generation's cells, read in place from a state's bytes. */
export function readState(bytes: Uint8Array) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const width = view.getUint32(8, true);
  const height = view.getUint32(12, true);
  const current = view.getUint32(24, true) & 1;
  const cells = bytes.subarray(HEADER_BYTES + current * width * height, HEADER_BYTES + (current + 1) * width * height);
  return { magic: view.getUint32(0, true), width, height, generation: view.getBigUint64(16, true), cells };
}

/** Two rows of cells per text line with half-block characters, cropped to `columns x lines`. */
export function renderText(cells: Uint8Array, width: number, height: number, columns = width, lines = Math.ceil(height / 2)): string {
  const out: string[] = [];
  for (let y = 0; y < Math.min(height, lines * 2); y += 2) {
    let line = "";
    for (let x = 0; x < Math.min(width, columns); x++) {
      const top = cells[y * width + x] !== 0;
      const bottom = y + 1 < height && cells[(y + 1) * width + x] !== 0;
      line += top && bottom ? "█" : top ? "▀" : bottom ? "▄" : " ";
    }
    out.push(line.trimEnd());
  }
  return out.join("\n");
}

/** Cells as a PNG: live cells black on white, `scale` pixels per cell. */
export function renderPng(cells: Uint8Array, width: number, height: number, scale = 4): Uint8Array {
  const pixels = new Uint8Array(width * scale * height * scale);
  for (let y = 0; y < height * scale; y++) {
    for (let x = 0; x < width * scale; x++) {
      pixels[y * width * scale + x] = cells[Math.floor(y / scale) * width + Math.floor(x / scale)] ? 0 : 255;
    }
  }
  return encodeGrayPng(pixels, width * scale, height * scale);
}

function parseArgs(argv: string[]) {
  const options = { steps: 100, state: "life.state", width: 64, height: 32, pattern: "random", seed: 1, reset: false, delay: 30, png: "", scale: 4, show: false, quiet: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = () => {
      const next = argv[++i];
      if (next === undefined) usage(`${arg} needs a value`);
      return next!;
    };
    const count = (text: string, min = 0) => {
      const n = Number(text);
      if (!Number.isSafeInteger(n) || n < min) usage(`${arg} expects an integer >= ${min}, got ${JSON.stringify(text)}`);
      return n;
    };
    if (arg === "--steps") options.steps = count(value());
    else if (arg === "--state") options.state = value();
    else if (arg === "--size") {
      const match = /^(\d+)x(\d+)$/.exec(value());
      if (!match) usage("--size expects WxH, e.g. 64x32");
      options.width = count(match![1]!, 3);
      options.height = count(match![2]!, 3);
    } else if (arg === "--pattern") options.pattern = value();
    else if (arg === "--seed") options.seed = count(value());
    else if (arg === "--reset") options.reset = true;
    else if (arg === "--delay") options.delay = count(value());
    else if (arg === "--png") options.png = value();
    else if (arg === "--scale") options.scale = count(value(), 1);
    else if (arg === "--show") options.show = true;
    else if (arg === "--quiet") options.quiet = true;
    else usage(`unknown argument ${JSON.stringify(arg)}`);
  }
  return options;
}

function usage(message: string): never {
  console.error(`life: ${message}\nusage: bun examples/life/host.ts [--steps N] [--state FILE] [--png out.png] [--size WxH] [--pattern random|glider|r-pentomino|acorn] [--seed N] [--reset] [--delay MS] [--show] [--quiet]`);
  process.exit(2);
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  if (options.reset || !existsSync(options.state)) {
    writeFileSync(options.state, newState(options.width, options.height, options.pattern, options.seed));
  }
  using window = Window.create({ sizeBytes: 1024 * 2 ** 20, guestBytes: 2 ** 20 });
  using state = window.mapFile(options.state, { access: "readwrite", name: "life" });
  using guest = window.instantiate(guestPath);
  const step = guest.fn("step");

  const animate = process.stdout.isTTY === true && !options.quiet;
  let stop = false;
  process.on("SIGINT", () => (stop = true)); // finish the current step, then save and exit
  if (animate) process.stdout.write("\x1b[?25l\x1b[2J");
  const start = readState(state.bytes).generation;
  let done = 0;
  try {
    while (done < options.steps && !stop) {
      // Animated: one generation per frame. Otherwise: big batches, yielding so Ctrl-C gets through.
      // (~4 million cells per call: a few ms, so Ctrl-C is answered quickly on any grid size).
      const batch = animate ? 1 : Math.min(options.steps - done, Math.max(1, Math.floor(4_000_000 / (state.length / 2))));
      step(state.id, batch);
      done += batch;
      if (animate) {
        const { cells, width, height, generation } = readState(state.bytes);
        const lines = (process.stdout.rows ?? 24) - 2;
        process.stdout.write(`\x1b[H${renderText(cells, width, height, process.stdout.columns ?? 80, lines).replaceAll("\n", "\x1b[K\n")}\x1b[K\n\x1b[Kgeneration ${generation}  (Ctrl-C stops; run again to resume)\x1b[J`);
        await Bun.sleep(options.delay);
      } else {
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
  } finally {
    if (animate) process.stdout.write("\x1b[?25h\n");
  }
  state.flush();
  const { cells, width, height, generation } = readState(state.bytes);
  if (options.show && !animate) console.log(renderText(cells, width, height));
  if (options.png) writeFileSync(options.png, renderPng(cells, width, height, options.scale));
  const population = guest.call("population", state.id);
  console.log(
    `${stop ? "stopped at" : "reached"} generation ${generation} (${generation - start} steps this run), ${population} alive, ${width}x${height}, state in ${options.state}` +
      (options.png ? `, picture in ${options.png}` : ""),
  );
}

if (import.meta.main) await main();
