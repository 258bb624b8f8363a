// A minimal reader for Windows PE32+ images (DLLs): machine, DLL flag, exported names, and the
// functions imported from each DLL. tools/cross-build-package.ts turns Wasmtime's export list into
// an import library (Wasmtime's wheel ships wasmtime.dll without one); tests/platform-packages.test.ts
// checks the Windows package's libraries against each other with it.

export interface PeImage {
  /** IMAGE_FILE_HEADER.Machine: 0x8664 for x86-64, 0xaa64 for arm64. */
  machine: number;
  /** IMAGE_FILE_DLL is set. */
  dll: boolean;
  /** Exported names, in the export table's (sorted) order. */
  exports: string[];
  /** Imported DLL name -> the functions imported from it: by name, or `#N` by ordinal N. Delay-load
   * imports are included. */
  imports: Map<string, string[]>;
}

const DIRECTORY_EXPORT = 0;
const DIRECTORY_IMPORT = 1;
const DIRECTORY_DELAY_IMPORT = 13;

export function readPe(bytes: Uint8Array, what = "image"): PeImage {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u16 = (at: number) => view.getUint16(at, true);
  const u32 = (at: number) => view.getUint32(at, true);
  if (u16(0) !== 0x5a4d) throw new Error(`${what}: no MZ header`);
  const pe = u32(0x3c);
  if (u32(pe) !== 0x00004550) throw new Error(`${what}: no PE signature`);
  const machine = u16(pe + 4);
  const sectionCount = u16(pe + 6);
  const optionalSize = u16(pe + 20);
  const characteristics = u16(pe + 22);
  const optional = pe + 24;
  if (u16(optional) !== 0x20b) throw new Error(`${what}: not PE32+ (64-bit)`);
  const directories = optional + 112;
  const directoryCount = u32(optional + 108); // NumberOfRvaAndSizes
  const sections: { address: number; size: number; offset: number }[] = [];
  for (let i = 0; i < sectionCount; i++) {
    const at = optional + optionalSize + i * 40;
    sections.push({ address: u32(at + 12), size: Math.max(u32(at + 8), u32(at + 16)), offset: u32(at + 20) });
  }
  const offsetOf = (rva: number) => {
    const section = sections.find((s) => rva >= s.address && rva < s.address + s.size);
    if (!section) throw new Error(`${what}: address 0x${rva.toString(16)} is in no section`);
    return rva - section.address + section.offset;
  };
  const cString = (rva: number) => {
    const start = offsetOf(rva);
    const end = bytes.indexOf(0, start);
    if (end < 0) throw new Error(`${what}: unterminated string at 0x${rva.toString(16)}`);
    return new TextDecoder("latin1").decode(bytes.subarray(start, end));
  };
  const directory = (index: number) =>
    index < directoryCount ? { rva: u32(directories + index * 8), size: u32(directories + index * 8 + 4) } : { rva: 0, size: 0 };
  /** The functions an import lookup table names (64-bit thunks, zero-terminated). */
  const lookupTable = (rva: number) => {
    const functions: string[] = [];
    for (let thunk = offsetOf(rva); ; thunk += 8) {
      const entry = view.getBigUint64(thunk, true);
      if (entry === 0n) return functions;
      functions.push((entry >> 63n) === 1n ? `#${Number(entry & 0xffffn)}` : cString(Number(entry & 0x7fffffffn) + 2)); // + 2: the hint
    }
  };

  const exports: string[] = [];
  const exportDirectory = directory(DIRECTORY_EXPORT);
  if (exportDirectory.rva !== 0) {
    const at = offsetOf(exportDirectory.rva);
    const nameCount = u32(at + 24);
    const names = offsetOf(u32(at + 32));
    for (let i = 0; i < nameCount; i++) exports.push(cString(u32(names + 4 * i)));
  }

  const imports = new Map<string, string[]>();
  const importDirectory = directory(DIRECTORY_IMPORT);
  if (importDirectory.rva !== 0) {
    // IMAGE_IMPORT_DESCRIPTOR (20 bytes): the lookup table (OriginalFirstThunk), or the address
    // table if there is none, and the DLL's name.
    for (let at = offsetOf(importDirectory.rva); u32(at + 12) !== 0; at += 20) {
      imports.set(cString(u32(at + 12)), lookupTable(u32(at) !== 0 ? u32(at) : u32(at + 16)));
    }
  }
  const delayDirectory = directory(DIRECTORY_DELAY_IMPORT);
  if (delayDirectory.rva !== 0) {
    // IMAGE_DELAYLOAD_DESCRIPTOR (32 bytes): the DLL's name, then (at 16) its name table.
    for (let at = offsetOf(delayDirectory.rva); u32(at + 4) !== 0; at += 32) {
      const name = cString(u32(at + 4));
      imports.set(name, [...(imports.get(name) ?? []), ...lookupTable(u32(at + 16))]);
    }
  }
  return { machine, dll: (characteristics & 0x2000) !== 0, exports, imports };
}

/** A module-definition (.def) file exporting `names` from `library`, for `zig dlltool`. */
export function moduleDefinition(library: string, names: readonly string[]): string {
  return `LIBRARY ${library}\nEXPORTS\n${names.map((name) => `  ${name}\n`).join("")}`;
}
