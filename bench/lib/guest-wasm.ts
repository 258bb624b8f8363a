// Hand-assembled guests for the "many guests" rows (bench/many-guests.ts): a guest that calls a
// host import in a loop, and a large module (>= 1 MiB of code) to time Cranelift against the
// caches. Both import env.memory, as every vmwindow guest does.
import { buildModule, envMemory, I32, op, uleb } from "../../tests/wasm-builder.ts";

const block = [0x02, 0x40];
const loop = [0x03, 0x40];
const brIf = (depth: number) => [0x0d, depth];
const br = (depth: number) => [0x0c, depth];
const localSet = (index: number) => [0x21, index];
const i32GeU = [0x4f];
const i32Shl = [0x74];
const i32Mul = [0x6c];
const i32Xor = [0x73];
const i32Rotl = [0x77];

/**
 * `loop(n) -> i32`: calls the import `host.inc(i)` for i = 0..n-1 and returns the sum of its
 * results; `noop()`. The import is function 0.
 */
export function importLoopGuest(): Uint8Array {
  const body = [
    ...block,
    ...loop,
    ...op.localGet(1), ...op.localGet(0), ...i32GeU, ...brIf(1),
    ...op.localGet(2), ...op.localGet(1), ...op.call(0), ...op.i32Add, ...localSet(2),
    ...op.localGet(1), ...op.i32Const(1), ...op.i32Add, ...localSet(1),
    ...br(0),
    ...op.end,
    ...op.end,
    ...op.localGet(2),
  ];
  return buildModule({
    imports: [envMemory, { module: "host", name: "inc", kind: "func", params: [I32], results: [I32] }],
    functions: [
      { params: [I32], results: [I32], locals: [I32, I32], body, export: "loop" },
      { params: [], results: [], body: [], export: "noop" },
    ],
  });
}

/**
 * A module of `functions` functions with `steps` mixing steps each (~13 bytes per step): 1,200 x 70
 * is ~1.1 MiB. Every 100th function `f<N>(a, b)` is exported, so the module is a plausible plugin;
 * the code is straight-line integer arithmetic, which Cranelift compiles at its usual speed per byte.
 * Encoded here rather than with tests/wasm-builder.ts, which spreads arrays (too deep for 1 MiB).
 */
export function largeGuest(functions = 1200, steps = 70, salt = 0): Uint8Array {
  const out: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  const put = (bytes: number[]) => {
    for (const b of bytes) out.push(b);
  };
  const section = (id: number, payload: number[]) => {
    put([id, ...uleb(payload.length)]);
    put(payload);
  };
  const name = (text: string) => [...uleb(text.length), ...new TextEncoder().encode(text)];
  section(1, [1, 0x60, 2, I32, I32, 1, I32]); // one type: (i32, i32) -> i32
  section(2, [1, ...name("env"), ...name("memory"), 0x02, 0x00, 1]); // env.memory, min 1 page
  const declared: number[] = [...uleb(functions)];
  for (let f = 0; f < functions; f++) declared.push(0);
  section(3, declared);
  const exported: number[][] = [];
  for (let f = 0; f < functions; f += 100) exported.push([...name(`f${f}`), 0x00, ...uleb(f)]);
  section(7, [...uleb(exported.length), ...exported.flat()]);
  const code: number[] = [...uleb(functions)];
  for (let f = 0; f < functions; f++) {
    const body: number[] = [0]; // no extra locals
    for (let s = 0; s < steps; s++) {
      const c = (Math.imul(f + 1, 0x9e3779b1) ^ Math.imul(s + 1 + salt, 0x85ebca77)) | 0;
      for (const b of [...op.localGet(0), ...op.i32Const(c), ...i32Mul, ...op.localGet(1), ...i32Xor, ...op.i32Const((s % 31) + 1), ...i32Rotl, ...localSet(0)]) body.push(b);
    }
    for (const b of [...op.localGet(0), 0x0b]) body.push(b);
    for (const b of uleb(body.length)) code.push(b);
    for (const b of body) code.push(b);
  }
  section(10, code);
  return Uint8Array.from(out);
}

/**
 * The batch pattern: `batch(n, size, ring) -> i32` writes the i32 items 0..n-1 into a ring of
 * `size` slots at guest address `ring` (an anonymous region the host mapped) and calls the import
 * `host.flush(count)` once per `size` items (and once for the rest), so the host reads the items
 * from the region's bytes in place: one boundary crossing per batch instead of one per item.
 */
export function batchGuest(): Uint8Array {
  const i32Eq = [0x46];
  const localTee = (index: number) => [0x22, index];
  const ifVoid = [0x04, 0x40];
  // params: n 0, size 1, ring 2; locals: i 3, k 4
  const flush = [...op.localGet(4), ...op.call(0), ...op.drop, ...op.i32Const(0), ...localSet(4)];
  const body = [
    ...block,
    ...loop,
    ...op.localGet(3), ...op.localGet(0), ...i32GeU, ...brIf(1),
    ...op.localGet(2), ...op.localGet(4), ...op.i32Const(2), ...i32Shl, ...op.i32Add, ...op.localGet(3), ...op.i32Store(),
    ...op.localGet(4), ...op.i32Const(1), ...op.i32Add, ...localTee(4), ...op.localGet(1), ...i32Eq,
    ...ifVoid, ...flush, ...op.end,
    ...op.localGet(3), ...op.i32Const(1), ...op.i32Add, ...localSet(3),
    ...br(0),
    ...op.end,
    ...op.end,
    ...op.localGet(4), ...ifVoid, ...flush, ...op.end,
    ...op.localGet(3),
  ];
  return buildModule({
    imports: [envMemory, { module: "host", name: "flush", kind: "func", params: [I32], results: [I32] }],
    functions: [{ params: [I32, I32, I32], results: [I32], locals: [I32, I32], body, export: "batch" }],
  });
}

/** `touch(pages)`: stores one i32 into each of the first `pages` 4 KiB pages of the guest area
 * (guest address 0x210000 on), as a guest's stack, statics and heap would. `noop()`. */
export function touchGuest(): Uint8Array {
  const body = [
    ...block,
    ...loop,
    ...op.localGet(1), ...op.localGet(0), ...i32GeU, ...brIf(1),
    ...op.localGet(1), ...op.i32Const(12), ...i32Shl, ...op.i32Const(0x21_0000), ...op.i32Add, ...op.localGet(1), ...op.i32Store(),
    ...op.localGet(1), ...op.i32Const(1), ...op.i32Add, ...localSet(1),
    ...br(0),
    ...op.end,
    ...op.end,
  ];
  return buildModule({
    imports: [envMemory],
    functions: [
      { params: [I32], results: [], locals: [I32], body, export: "touch" },
      { params: [], results: [], body: [], export: "noop" },
    ],
  });
}
