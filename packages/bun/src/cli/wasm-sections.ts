// A small WebAssembly binary reader: what `vmwindow inspect` shows (imports, exports with
// signatures, memories, active data segments), read from the module's sections.
import { VmwindowError } from "../index.ts";

export interface Limits {
  min: number;
  max: number | undefined;
  shared: boolean;
  memory64: boolean;
}

export interface ModuleInfo {
  imports: { module: string; name: string; kind: string; type: string; limits?: Limits }[];
  exports: { name: string; kind: string; type: string; params?: string[]; results?: string[] }[];
  /** The imported env.memory, if any. */
  memoryImport: Limits | undefined;
  /** Memories the module defines itself. */
  ownMemories: Limits[];
  /** Active data segments: [start, end) guest addresses (undefined start: a non-constant offset). */
  data: { start: number | undefined; length: number }[];
  passiveDataBytes: number;
  start: boolean;
}

/** Reads what `inspect` shows from the module's bytes (types, imports, functions, memories, exports, data). */
export function parseModule(bytes: Uint8Array): ModuleInfo {
  const r = new Reader(bytes);
  if (bytes.length < 8 || r.u32le() !== 0x6d736100) throw new VmwindowError("BAD_MODULE", "not a WebAssembly module (no \\0asm magic)");
  const version = r.u32le();
  if (version !== 1) throw new VmwindowError("BAD_MODULE", `unsupported WebAssembly binary version ${version} (a component?)`);
  const types: { params: string[]; results: string[] }[] = [];
  const functionTypes: number[] = [];
  const info: ModuleInfo = { imports: [], exports: [], memoryImport: undefined, ownMemories: [], data: [], passiveDataBytes: 0, start: false };
  let globalImports = 0;
  while (!r.done) {
    const id = r.byte();
    const size = r.leb();
    const end = r.pos + size;
    if (end > bytes.length) throw new VmwindowError("BAD_MODULE", `section ${id} runs past the end of the module`);
    const s = new Reader(bytes.subarray(r.pos, end));
    switch (id) {
      case 1: // types
        for (let n = s.leb(); n > 0; n--) {
          const form = s.byte();
          if (form !== 0x60) throw new VmwindowError("UNSUPPORTED", `type form 0x${form.toString(16)} (GC types) is not supported`);
          const params = s.vec(() => valueType(s.byte()));
          const results = s.vec(() => valueType(s.byte()));
          types.push({ params, results });
        }
        break;
      case 2: // imports
        for (let n = s.leb(); n > 0; n--) {
          const module = s.name();
          const name = s.name();
          const kind = s.byte();
          if (kind === 0) {
            const type = s.leb();
            functionTypes.push(type);
            info.imports.push({ module, name, kind: "function", type: signatureText(types[type]) });
          } else if (kind === 1) {
            s.byte();
            const limits = s.limits();
            info.imports.push({ module, name, kind: "table", type: limitsText(limits, "elements") });
          } else if (kind === 2) {
            const limits = s.limits();
            info.imports.push({ module, name, kind: "memory", type: limitsText(limits, "pages"), limits });
            if (module === "env" && name === "memory") info.memoryImport = limits;
          } else if (kind === 3) {
            const type = valueType(s.byte());
            const mutable = s.byte() === 1;
            info.imports.push({ module, name, kind: "global", type: `${mutable ? "mut " : ""}${type}` });
            globalImports++;
          } else if (kind === 4) {
            s.byte();
            const type = s.leb();
            info.imports.push({ module, name, kind: "tag", type: signatureText(types[type]) });
          } else {
            throw new VmwindowError("BAD_MODULE", `unknown import kind ${kind}`);
          }
        }
        break;
      case 3: // functions
        for (let n = s.leb(); n > 0; n--) functionTypes.push(s.leb());
        break;
      case 5: // memories
        for (let n = s.leb(); n > 0; n--) info.ownMemories.push(s.limits());
        break;
      case 7: // exports
        for (let n = s.leb(); n > 0; n--) {
          const name = s.name();
          const kind = s.byte();
          const index = s.leb();
          if (kind === 0) {
            const type = types[functionTypes[index]!];
            info.exports.push({ name, kind: "function", type: signatureText(type), params: type?.params, results: type?.results });
          } else {
            info.exports.push({ name, kind: ["function", "table", "memory", "global", "tag"][kind] ?? `kind ${kind}`, type: "" });
          }
        }
        break;
      case 8:
        info.start = true;
        break;
      case 11: // data
        for (let n = s.leb(); n > 0; n--) {
          const flags = s.leb();
          if (flags === 1) {
            info.passiveDataBytes += s.skipBytes();
            continue;
          }
          if (flags === 2) s.leb(); // memory index
          const start = s.constExpr();
          info.data.push({ start, length: s.skipBytes() });
        }
        break;
    }
    r.pos = end;
  }
  void globalImports;
  return info;
}

class Reader {
  pos = 0;
  constructor(readonly bytes: Uint8Array) {}
  get done(): boolean {
    return this.pos >= this.bytes.length;
  }
  byte(): number {
    if (this.pos >= this.bytes.length) throw new VmwindowError("BAD_MODULE", "the module ends in the middle of a section");
    return this.bytes[this.pos++]!;
  }
  u32le(): number {
    let value = 0;
    for (let i = 0; i < 4; i++) value += this.byte() * 2 ** (8 * i);
    return value;
  }
  /** Unsigned LEB128 (up to 64 bits, as a number: exact below 2^53). */
  leb(): number {
    let result = 0;
    let scale = 1;
    for (;;) {
      const b = this.byte();
      result += (b & 0x7f) * scale;
      scale *= 128;
      if ((b & 0x80) === 0) return result;
    }
  }
  /** Signed LEB128 (as a number). */
  sleb(): number {
    let result = 0;
    let scale = 1;
    for (;;) {
      const b = this.byte();
      result += (b & 0x7f) * scale;
      scale *= 128;
      if ((b & 0x80) === 0) return b & 0x40 ? result - scale : result;
    }
  }
  vec<T>(item: () => T): T[] {
    const out: T[] = [];
    for (let n = this.leb(); n > 0; n--) out.push(item());
    return out;
  }
  name(): string {
    const length = this.leb();
    const text = new TextDecoder().decode(this.bytes.subarray(this.pos, this.pos + length));
    this.pos += length;
    return text;
  }
  skipBytes(): number {
    const length = this.leb();
    this.pos += length;
    return length;
  }
  limits(): Limits {
    const flags = this.byte();
    const min = this.leb();
    const max = flags & 1 ? this.leb() : undefined;
    if (flags & 0x08) this.leb(); // custom page size (proposal): log2 of the page size
    return { min, max, shared: (flags & 2) !== 0, memory64: (flags & 4) !== 0 };
  }
  /** A constant offset expression: i32.const / i64.const N end, or global.get (undefined). */
  constExpr(): number | undefined {
    let value: number | undefined;
    for (;;) {
      const op = this.byte();
      if (op === 0x0b) return value;
      if (op === 0x41 || op === 0x42) value = this.sleb();
      else if (op === 0x23) {
        this.leb();
        value = undefined;
      } else {
        throw new VmwindowError("UNSUPPORTED", `data segment offset uses opcode 0x${op.toString(16)}`);
      }
    }
  }
}

function valueType(code: number): string {
  return { 0x7f: "i32", 0x7e: "i64", 0x7d: "f32", 0x7c: "f64", 0x7b: "v128", 0x70: "funcref", 0x6f: "externref" }[code] ?? `type 0x${code.toString(16)}`;
}

function signatureText(type: { params: string[]; results: string[] } | undefined): string {
  if (!type) return "(unknown type)";
  const results = type.results.length === 1 ? type.results[0]! : `(${type.results.join(", ")})`;
  return `(${type.params.join(", ")}) -> ${results}`;
}

function limitsText(limits: Limits, unit: string): string {
  const extra = [limits.memory64 ? "64-bit" : "", limits.shared ? "shared" : ""].filter(Boolean).join(", ");
  return `min ${limits.min} ${unit}, max ${limits.max ?? "none"}${extra ? ` (${extra})` : ""}`;
}
