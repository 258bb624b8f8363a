// docs/abi.md is the one description of the window layout and the region table. This test reads
// it and checks the three implementations against it: the C header's constants, the guest SDK's
// constants (guest-sdk/assembly/abi.ts), and the bytes libvmwindow really publishes in a window.
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { toArrayBuffer } from "bun:ffi";
import { Window } from "@vmwindow/bun";
import { windowBasePointer } from "../packages/bun/src/window.ts";
import { patternBytes, smallWindow, tempFile } from "./helpers.ts";

const root = join(import.meta.dir, "..");
const doc = readFileSync(join(root, "docs", "abi.md"), "utf8");
const header = readFileSync(join(root, "native", "include", "vmwindow.h"), "utf8");
const sdk = readFileSync(join(root, "guest-sdk", "assembly", "abi.ts"), "utf8");

function parseNumber(text: string): number {
  const token = text.trim().split(/\s+/)[0]!.replace(/[_,`]/g, "");
  if (/GiB/.test(text) && /^\d+$/.test(token)) return Number(token) * 2 ** 30;
  return Number(token);
}

/** `| \`VMW_NAME\` ... | value |` rows of the constants table. */
function docConstants(): Map<string, number> {
  const constants = new Map<string, number>();
  for (const match of doc.matchAll(/^\| `(VMW_[A-Z_]+)`[^|]*\| ([^|]+) \|$/gm)) constants.set(match[1]!, parseNumber(match[2]!));
  return constants;
}

/** `| offset | type | \`field\` | meaning |` rows of the table after `heading`. */
function docFields(heading: string): { offset: number; type: string; field: string }[] {
  const section = doc.slice(doc.indexOf(heading));
  const table = section.slice(0, section.indexOf("\n\n", section.indexOf("| ---")));
  return [...table.matchAll(/^\| (\d+) \| (u8\[\d+\]|u\d+) \| `(\w+)` \|/gm)].map((m) => ({ offset: Number(m[1]), type: m[2]!, field: m[3]! }));
}

function cDefine(name: string): number {
  const match = header.match(new RegExp(`#define ${name} (0x[0-9a-fA-F]+|\\d+)u?(ll)?`));
  if (!match) throw new Error(`vmwindow.h has no ${name}`);
  return Number(match[1]);
}

function sdkConstant(name: string): number {
  const match = sdk.match(new RegExp(`export const ${name}: \\w+ = (0x[0-9a-fA-F_]+|[\\d_]+)`));
  if (!match) throw new Error(`guest-sdk/assembly/abi.ts has no ${name}`);
  return Number(match[1]!.replace(/_/g, ""));
}

const constants = docConstants();
const headerFields = docFields("### Header (64 bytes)");
const entryFields = docFields("### Entry (64 bytes)");

test("the doc's tables parse (so the checks below check something)", () => {
  expect([...constants.keys()].sort()).toEqual([
    "VMW_ABI_VERSION", "VMW_ENTRY_BYTES", "VMW_GUEST_BASE", "VMW_HEADER_BYTES", "VMW_NAME_MAX_BYTES", "VMW_PAGE_BYTES",
    "VMW_TABLE_MAGIC", "VMW_TABLE_MAX_BYTES", "VMW_TABLE_MAX_CAPACITY", "VMW_TABLE_OFFSET", "VMW_WINDOW_MAX_BYTES",
  ]);
  expect(constants.get("VMW_WINDOW_MAX_BYTES")).toBe(2 ** 32);
  expect(headerFields.map((f) => f.field)).toEqual([
    "magic", "abi_version", "header_bytes", "entry_bytes", "capacity", "count", "generation", "reserved0",
    "window_bytes", "guest_base", "guest_bytes", "slots_base",
  ]);
  expect(entryFields.map((f) => f.field)).toEqual(["offset_bytes", "length_bytes", "slot_bytes", "id", "generation", "state", "access", "name"]);
});

test("the fields tile their 64-byte records with no gap or overlap", () => {
  for (const fields of [headerFields, entryFields]) {
    let next = 0;
    for (const { offset, type } of fields) {
      expect(offset).toBe(next);
      next += type.startsWith("u8[") ? Number(type.slice(3, -1)) : Number(type.slice(1)) / 8;
    }
    expect(next).toBe(64);
  }
});

test("C header and guest SDK constants equal the doc's", () => {
  for (const [name, value] of constants) {
    expect({ name, value: cDefine(name) }).toEqual({ name, value });
    const sdkName = name === "VMW_TABLE_MAGIC" ? "MAGIC" : name.replace(/^VMW_/, "");
    expect({ name, value: sdkConstant(sdkName) }).toEqual({ name, value });
  }
});

test("guest SDK field offsets equal the doc's", () => {
  for (const { offset, field } of headerFields) {
    expect({ field, offset: sdkConstant(`HEADER_${field.toUpperCase()}`) }).toEqual({ field, offset });
  }
  for (const { offset, field } of entryFields) {
    expect({ field, offset: sdkConstant(`ENTRY_${field.toUpperCase()}`) }).toEqual({ field, offset });
  }
});

test("libvmwindow publishes exactly the documented bytes", () => {
  using window = Window.create(smallWindow);
  const contents = patternBytes(100_000);
  using region = window.mapFile(tempFile(contents), { access: "readwrite", name: "abi-test" });
  const layout = window.layout;
  const table = new DataView(toArrayBuffer(windowBasePointer(window), layout.tableOffset, layout.tableBytes));
  const read = (base: number, fields: typeof headerFields, field: string): number | bigint | string => {
    const { offset, type } = fields.find((f) => f.field === field)!;
    if (type === "u32") return table.getUint32(base + offset, true);
    if (type === "u64") return table.getBigUint64(base + offset, true);
    const bytes = new Uint8Array(table.buffer, base + offset, Number(type.slice(3, -1)));
    return new TextDecoder().decode(bytes.subarray(0, bytes.indexOf(0) < 0 ? bytes.length : bytes.indexOf(0)));
  };
  expect(layout.tableOffset).toBe(constants.get("VMW_TABLE_OFFSET")!);
  expect(layout.guestBase).toBe(constants.get("VMW_GUEST_BASE")!);
  expect(read(0, headerFields, "magic")).toBe(0x54574d56);
  expect(new TextDecoder().decode(new Uint8Array(table.buffer, 0, 4))).toBe("VMWT");
  expect(read(0, headerFields, "abi_version")).toBe(1);
  expect(read(0, headerFields, "header_bytes")).toBe(constants.get("VMW_HEADER_BYTES")!);
  expect(read(0, headerFields, "entry_bytes")).toBe(constants.get("VMW_ENTRY_BYTES")!);
  expect(read(0, headerFields, "capacity")).toBe(layout.capacity);
  expect(read(0, headerFields, "count")).toBe(1);
  expect(Number(read(0, headerFields, "generation")) % 2).toBe(0);
  expect(read(0, headerFields, "window_bytes")).toBe(BigInt(layout.sizeBytes));
  expect(read(0, headerFields, "guest_base")).toBe(BigInt(layout.guestBase));
  expect(read(0, headerFields, "guest_bytes")).toBe(BigInt(layout.guestBytes));
  expect(read(0, headerFields, "slots_base")).toBe(BigInt(layout.slotsBase));

  const entry = constants.get("VMW_HEADER_BYTES")! + (region.id - 1) * constants.get("VMW_ENTRY_BYTES")!;
  expect(read(entry, entryFields, "offset_bytes")).toBe(BigInt(region.offset));
  expect(read(entry, entryFields, "length_bytes")).toBe(100_000n);
  expect(read(entry, entryFields, "slot_bytes")).toBe(2n * 65_536n);
  expect(read(entry, entryFields, "id")).toBe(region.id);
  expect(read(entry, entryFields, "generation")).toBe(region.generation);
  expect(read(entry, entryFields, "state")).toBe(1);
  expect(read(entry, entryFields, "access")).toBe(3);
  expect(read(entry, entryFields, "name")).toBe("abi-test");
});
