// A tiny WebAssembly binary encoder for tests: enough sections (type, import, function, memory,
// export, start, code, custom) to hand-assemble small modules with exact opcodes, since Bun has no
// wat2wasm. Bodies are raw instruction bytes; `op` has helpers for the ones the tests use.

export const I32 = 0x7f;
export const I64 = 0x7e;
export const F32 = 0x7d;
export const F64 = 0x7c;

export function uleb(value: number | bigint): number[] {
  let v = BigInt(value);
  const out: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v !== 0n) byte |= 0x80;
    out.push(byte);
  } while (v !== 0n);
  return out;
}

export function sleb(value: number | bigint): number[] {
  let v = BigInt(value);
  const out: number[] = [];
  for (;;) {
    const byte = Number(v & 0x7fn);
    v >>= 7n;
    const done = (v === 0n && (byte & 0x40) === 0) || (v === -1n && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

const text = (s: string) => {
  const bytes = [...new TextEncoder().encode(s)];
  return [...uleb(bytes.length), ...bytes];
};
const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()];

/** Instruction helpers (the bytes of one instruction each). */
export const op = {
  unreachable: [0x00],
  end: [0x0b],
  drop: [0x1a],
  call: (index: number) => [0x10, ...uleb(index)],
  localGet: (index: number) => [0x20, ...uleb(index)],
  i32Const: (value: number) => [0x41, ...sleb(value | 0)],
  i64Const: (value: bigint) => [0x42, ...sleb(value)],
  /** i32.load8_u with a memarg: alignment 0, `offset` (u32 for a 32-bit memory). */
  i32Load8U: (offset = 0) => [0x2d, 0, ...uleb(offset)],
  i32Load: (offset = 0) => [0x28, 2, ...uleb(offset)],
  i64Load: (offset = 0) => [0x29, 3, ...uleb(offset)],
  i32Store8: (offset = 0) => [0x3a, 0, ...uleb(offset)],
  i32Store: (offset = 0) => [0x36, 2, ...uleb(offset)],
  i64Store: (offset = 0) => [0x37, 3, ...uleb(offset)],
  memorySize: [0x3f, 0],
  /** memory.fill / memory.copy (bulk memory: libvmwindow rewrites them into calls of wasm functions). */
  memoryFill: [0xfc, 0x0b, 0],
  memoryCopy: [0xfc, 0x0a, 0, 0],
  /** memory.init 0 and table.copy 0 0: bulk memory that is not rewritten (the module is refused). */
  memoryInit: [0xfc, 0x08, 0, 0],
  tableCopy: [0xfc, 0x0e, 0, 0],
  memoryGrow: [0x40, 0],
  i32Add: [0x6a],
  i32Sub: [0x6b],
  i32DivS: [0x6d],
  i32DivU: [0x6e],
  i32RemS: [0x6f],
  i64DivS: [0x7f],
  i32TruncF64S: [0xaa],
  i32Eqz: [0x45],
  /** if (result i32) ... else ... end */
  ifI32: [0x04, I32],
  else: [0x05],
};

export type MemoryLimits = { min: number; max?: number; shared?: boolean; memory64?: boolean };

export type Import =
  | { module: string; name: string; kind: "func"; params: number[]; results: number[] }
  | ({ module: string; name: string; kind: "memory" } & MemoryLimits)
  | { module: string; name: string; kind: "global"; type: number; mutable?: boolean }
  | { module: string; name: string; kind: "table"; min: number };

export interface Func {
  params: number[];
  results: number[];
  /** Extra locals, one type per local. */
  locals?: number[];
  /** Instruction bytes, without the final `end`. */
  body: number[];
  /** Export it under this name. */
  export?: string;
}

export interface ModuleSpec {
  imports?: Import[];
  functions?: Func[];
  /** The module's own memory (a guest must not have one). */
  memory?: MemoryLimits;
  /** Export the memory (own or imported, index 0) under this name. */
  exportMemory?: string;
  /** Function index (imported functions first) to run as the start function. */
  start?: number;
  /** Custom sections, written first. */
  custom?: { name: string; bytes: number[] }[];
  /** Active data segments for memory 0 at constant offsets. */
  data?: { offset: number; bytes: number[] }[];
}

function limits(m: MemoryLimits): number[] {
  const flags = (m.max !== undefined ? 1 : 0) | (m.shared ? 2 : 0) | (m.memory64 ? 4 : 0);
  return [flags, ...uleb(m.min), ...(m.max !== undefined ? uleb(m.max) : [])];
}

function section(id: number, payload: number[]): number[] {
  return [id, ...uleb(payload.length), ...payload];
}

/** Encodes `spec` as a WebAssembly binary module. */
export function buildModule(spec: ModuleSpec): Uint8Array {
  const out: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  for (const custom of spec.custom ?? []) out.push(...section(0, [...text(custom.name), ...custom.bytes]));

  // One type per function signature (imported and defined), no deduplication needed.
  const types: number[][] = [];
  const typeOf = (params: number[], results: number[]) => {
    types.push([0x60, ...vec(params.map((p) => [p])), ...vec(results.map((r) => [r]))]);
    return types.length - 1;
  };
  const imports = (spec.imports ?? []).map((imp) => {
    const head = [...text(imp.module), ...text(imp.name)];
    switch (imp.kind) {
      case "func":
        return [...head, 0x00, ...uleb(typeOf(imp.params, imp.results))];
      case "table":
        return [...head, 0x01, 0x70, 0x00, ...uleb(imp.min)];
      case "memory":
        return [...head, 0x02, ...limits(imp)];
      case "global":
        return [...head, 0x03, imp.type, imp.mutable ? 1 : 0];
    }
  });
  const functions = spec.functions ?? [];
  const funcTypes = functions.map((f) => uleb(typeOf(f.params, f.results)));
  const importedFuncs = (spec.imports ?? []).filter((i) => i.kind === "func").length;

  if (types.length) out.push(...section(1, vec(types)));
  if (imports.length) out.push(...section(2, vec(imports)));
  if (functions.length) out.push(...section(3, vec(funcTypes)));
  if (spec.memory) out.push(...section(5, vec([limits(spec.memory)])));
  const exports: number[][] = [];
  functions.forEach((f, i) => {
    if (f.export !== undefined) exports.push([...text(f.export), 0x00, ...uleb(importedFuncs + i)]);
  });
  if (spec.exportMemory !== undefined) exports.push([...text(spec.exportMemory), 0x02, 0]);
  if (exports.length) out.push(...section(7, vec(exports)));
  if (spec.start !== undefined) out.push(...section(8, uleb(spec.start)));
  if (functions.length) {
    const bodies = functions.map((f) => {
      const locals = vec((f.locals ?? []).map((t) => [1, t]));
      const body = [...locals, ...f.body, 0x0b];
      return [...uleb(body.length), ...body];
    });
    out.push(...section(10, vec(bodies)));
  }
  if (spec.data?.length) {
    const segments = spec.data.map((d) => [0x00, ...op.i32Const(d.offset), 0x0b, ...uleb(d.bytes.length), ...d.bytes]);
    out.push(...section(11, vec(segments)));
  }
  return new Uint8Array(out);
}

/** `env.memory` as a vmwindow guest imports it: 32-bit, not shared, at least one page. */
export const envMemory: Import = { module: "env", name: "memory", kind: "memory", min: 1 };
