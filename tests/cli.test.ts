// The `vmwindow` command, run as a subprocess over real files: `run` computes CRC-32 with the
// checksum guest (oracle: zlib's crc32 of the file read from disk), `inspect` reports what the
// module's bytes say; errors are one line on stderr with the documented exit status.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import { guests, patternBytes, tempFile, vmwindow } from "./helpers.ts";
import { buildModule, envMemory, I32, op } from "./wasm-builder.ts";

/** stderr is exactly one line "vmwindow: ..." */
function oneLine(stderr: string): string {
  expect(stderr.endsWith("\n")).toBe(true);
  const lines = stderr.trimEnd().split("\n");
  expect(lines).toHaveLength(1);
  expect(lines[0]!.startsWith("vmwindow: ")).toBe(true);
  return lines[0]!;
}

describe("vmwindow run", () => {
  test("CRC-32 of mapped files equals zlib's (by @name and by region lookup)", async () => {
    const a = tempFile(patternBytes(3 * 65_536 + 17, 5));
    const b = tempFile(patternBytes(1, 9));
    for (const [path, args] of [
      [a, ["--map", `input=${a}`, "--call", "crc32", "@input"]],
      [b, ["--map", `first=${a}:ro`, "--map", `second=${b}`, "--call", "crc32", "@second"]],
    ] as const) {
      const { stdout, stderr, exitCode } = await vmwindow("run", guests.checksum, ...args, "--format", "unsigned");
      expect(stderr).toBe("");
      expect(exitCode).toBe(0);
      expect(stdout).toBe(`${crc32(readFileSync(path)) >>> 0}\n`);
    }
  });

  test("results print as the export's type: signed by default, hex on request; i64 arguments as bigints", async () => {
    const path = tempFile(patternBytes(4096, 3));
    const expected = crc32(readFileSync(path)) >>> 0;
    const signed = await vmwindow("run", guests.checksum, "--map", `input=${path}`, "--call", "crc32", "@input");
    expect(signed.stdout).toBe(`${expected | 0}\n`);
    const hex = await vmwindow("run", guests.checksum, "--map", `input=${path}`, "--call=crc32", "@input", "--format=hex");
    expect(hex.stdout).toBe(`0x${expected.toString(16).padStart(8, "0")}\n`);
    const big = await vmwindow("run", guests.probe, "--call", "add_i64", "9007199254740993", "-2");
    expect(big.exitCode).toBe(0);
    expect(big.stdout).toBe("9007199254740991\n");
    const float = await vmwindow("run", guests.probe, "--call", "add_f64", "0.5", "-2.25");
    expect(float.stdout).toBe("-1.75\n");
  });

  test("a guest writes a read-write mapping (:rw), and the file has the bytes afterwards", async () => {
    const path = tempFile(new Uint8Array(65_536));
    // store_u8(address, value) into the region's first byte: the region starts at its window offset,
    // which the guest learns from the table; here we use the probe's view setter by region id.
    const { exitCode, stderr } = await vmwindow("run", guests.probe, "--map", `out=${path}:rw`, "--call", "region_view_set_u8", "@out", "100", "231");
    expect(stderr).toBe("");
    expect(exitCode).toBe(0);
    expect(readFileSync(path)[100]).toBe(231);
  });

  test("--progress reports mapping and the call on stderr", async () => {
    const path = tempFile(patternBytes(100_000, 1));
    const { stdout, stderr, exitCode } = await vmwindow("run", guests.checksum, "--map", `input=${path}`, "--call", "crc32", "@input", "--progress");
    expect(exitCode).toBe(0);
    expect(stdout).toBe(`${crc32(readFileSync(path)) | 0}\n`);
    expect(stderr).toContain("mapping file-");
    expect(stderr).toContain("(97.7 KiB)");
    expect(stderr).toMatch(/running crc32\(@input\): [\d.]+ (ms|s)/);
  });

  const errorCases: [string, () => string[], number, RegExp][] = [
    ["a missing file", () => ["run", guests.checksum, "--map", "input=/no/such/file.bin", "--call", "crc32", "@input"], 12, /no such file: \/no\/such\/file\.bin \[NOT_FOUND\]$/],
    ["a missing guest module", () => ["run", "/no/such/guest.wasm"], 12, /cannot read guest module \/no\/such\/guest\.wasm.*\[NOT_FOUND\]$/],
    ["an unknown export", () => ["run", guests.checksum, "--call", "crc64", "1"], 12, /no export named "crc64" \[NOT_FOUND\]$/],
    ["bad --map syntax", () => ["run", guests.checksum, "--map", "input", "--call", "crc32", "1"], 2, /--map expects NAME=PATH\[:ro\|:rw\|:rw:SIZE\], got "input"/],
    ["an unknown @name", () => ["run", guests.checksum, "--call", "crc32", "@nope"], 2, /no region named "nope"/],
    ["a wrong argument count", () => ["run", guests.checksum, "--call", "crc32"], 2, /crc32 takes 1 argument \(i32\), got 0/],
    ["an unknown option", () => ["run", guests.checksum, "--frobnicate"], 2, /unknown option --frobnicate/],
    ["a trap (region not mapped)", () => ["run", guests.checksum, "--call", "crc32", "7"], 21, /^vmwindow: guest trapped: abort: vmwindow: region 7 is not mapped.*\[TRAP\]$/],
    ["a trap (null page)", () => ["run", guests.probe, "--call", "load_u8", "0"], 21, /guest trapped: out of bounds memory access.*\[TRAP\]$/],
    ["a deadline", () => ["run", join(import.meta.dir, "build", "host.wasm"), "--call", "spin", "--timeout", "50"], 31, /timed out: it ran past its 50 ms deadline.*\[TIMEOUT\]$/],
    ["fuel spent", () => ["run", join(import.meta.dir, "build", "host.wasm"), "--call", "spin", "--fuel", "100000"], 31, /ran out of fuel: it used all 100000 units.*\[TIMEOUT\]$/],
    ["not a module", () => ["run", tempFile("hello")], 19, /\[BAD_MODULE\]$/],
  ];
  test.each(errorCases)("%s: exit status and one line on stderr", async (_, args, status, message) => {
    const { stdout, stderr, exitCode } = await vmwindow(...args());
    expect(oneLine(stderr)).toMatch(message);
    expect(exitCode).toBe(status);
    expect(stdout).toBe("");
  });
});

/**
 * A hand-assembled module that breaks every rule: its own memory, a data segment at address 0,
 * an import `env.now` nothing provides; exports f(i64, f32) -> i32.
 */
function misfitModule(): Uint8Array {
  const section = (id: number, body: number[]) => [id, body.length, ...body];
  const name = (s: string) => [s.length, ...new TextEncoder().encode(s)];
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [2, 0x60, 0, 1, 0x7c, 0x60, 2, 0x7e, 0x7d, 1, 0x7f]), // types: () -> f64, (i64, f32) -> i32
    ...section(2, [1, ...name("env"), ...name("now"), 0x00, 0]), // import env.now: type 0
    ...section(3, [1, 1]), // one function of type 1
    ...section(5, [1, 0x00, 1]), // its own memory, min 1 page
    ...section(7, [1, ...name("f"), 0x00, 1]), // export "f" = function 1
    ...section(10, [1, 4, 0, 0x41, 0, 0x0b]), // body: i32.const 0
    ...section(11, [1, 0, 0x41, 0, 0x0b, 3, 1, 2, 3]), // data at i32.const 0: 3 bytes
  ]);
}

describe("vmwindow inspect", () => {
  test("imports, exports with signatures, memory and data of the checksum guest", async () => {
    const { stdout, stderr, exitCode } = await vmwindow("inspect", guests.checksum);
    expect(stderr).toBe("");
    expect(exitCode).toBe(0);
    expect(stdout).toMatch(/env\.abort\s+function\s+\(i32, i32, i32, i32\) -> \(\)/);
    expect(stdout).toMatch(/env\.memory\s+memory\s+min \d+ pages, max none/);
    expect(stdout).toMatch(/crc32_update\s+function\s+\(i32, i32, i32\) -> i32/);
    expect(stdout).toMatch(/crc32\s+function\s+\(i32\) -> i32/);
    expect(stdout).toContain("fits a window: yes");
    // JSON: the same facts, checked against the engine's own view of the module.
    const json = JSON.parse((await vmwindow("inspect", guests.checksum, "--json")).stdout);
    const module = new WebAssembly.Module(readFileSync(guests.checksum));
    expect(json.imports.map((i: any) => `${i.module}.${i.name}:${i.kind}`)).toEqual(WebAssembly.Module.imports(module).map((i) => `${i.module}.${i.name}:${i.kind}`));
    expect(json.exports.map((e: any) => e.name)).toEqual(WebAssembly.Module.exports(module).map((e) => e.name));
    expect(json.fits).toBe(true);
    for (const segment of json.data) {
      expect(segment.start).toBeGreaterThanOrEqual(0x21_0000); // static data starts at the guest area
    }
    // The memory minimum covers the data: min pages * 64 KiB >= the end of the last segment.
    const end = Math.max(...json.data.map((d: any) => d.start + d.length));
    expect(json.memoryImport.min * 65_536).toBeGreaterThanOrEqual(end);
  });

  test("modules that do not fit a window are explained, exit 20 (LINK)", async () => {
    // Own memory, data at address 0, an import nothing provides.
    const own = tempFile(misfitModule());
    const { stdout, exitCode } = await vmwindow("inspect", own);
    expect(exitCode).toBe(20);
    expect(stdout).toContain("fits a window: no");
    expect(stdout).toContain("NO  does not import env.memory");
    expect(stdout).toContain("NO  defines 1 memory of its own");
    expect(stdout).toContain("NO  1 of 1 data segments lie outside the guest area");
    expect(stdout).toContain("note imports its host must give with window.instantiate(wasm, { imports }), which `vmwindow run` cannot: env.now");
    expect(stdout).toContain("NO  does not compile with vmwindow's engine: the guest does not import env.memory");
    expect(stdout).toMatch(/f\s+function\s+\(i64, f32\) -> i32/);
  });

  test("a module the engine refuses (bulk memory: table.copy) does not fit; the built-in vmw.release does", async () => {
    const tableCopy = [...op.i32Const(0), ...op.i32Const(0), ...op.i32Const(0), ...op.tableCopy];
    const table = { module: "env", name: "table", kind: "table" as const, min: 1 };
    const bulk = tempFile(buildModule({ imports: [envMemory, table], functions: [{ params: [], results: [], body: tableCopy, export: "f" }] }));
    const refused = await vmwindow("inspect", bulk);
    expect(refused.exitCode).toBe(20);
    expect(refused.stdout).toContain("NO  does not compile with vmwindow's engine: invalid WebAssembly module:");
    expect(refused.stdout).toContain("bulk memory support is not enabled (vmwindow compiles guests without bulk memory");
    const release = { module: "vmw", name: "release", kind: "func" as const, params: [I32, I32, I32], results: [I32] };
    const releasing = tempFile(buildModule({ imports: [envMemory, release] }));
    const fits = await vmwindow("inspect", releasing);
    expect(fits.stdout).toContain("ok  every other import is built in (env.abort, env.seed, vmw.log, vmw.flush, vmw.map, vmw.release, vmw.fail)");
    expect(fits.stdout).toContain("ok  compiles with vmwindow's engine");
    expect(fits.stdout).toContain("fits a window: yes");
    expect(fits.exitCode).toBe(0);
    expect(fits.stdout).not.toContain("note");
    // A function its own host gives: fits (window.instantiate(wasm, { imports }) runs it), with a
    // note for `vmwindow run`; a global no host can give: does not fit.
    const now = { module: "host", name: "now", kind: "func" as const, params: [], results: [I32] };
    const hosted = await vmwindow("inspect", tempFile(buildModule({ imports: [envMemory, now, release] })));
    expect(hosted.exitCode).toBe(0);
    expect(hosted.stdout).toContain("fits a window: yes");
    expect(hosted.stdout).toContain("note imports its host must give with window.instantiate(wasm, { imports }), which `vmwindow run` cannot: host.now\n");
    const global = { module: "env", name: "g", kind: "global" as const, type: I32 };
    const globalImport = await vmwindow("inspect", tempFile(buildModule({ imports: [envMemory, global] })));
    expect(globalImport.exitCode).toBe(20);
    expect(globalImport.stdout).toContain("NO  imports what no host can give (only functions and env.memory): env.g (global)");
    // AssemblyScript (it imports env.abort) without the SDK runtime: fits, with a note.
    const abort = { module: "env", name: "abort", kind: "func" as const, params: [I32, I32, I32, I32], results: [] };
    const stock = await vmwindow("inspect", tempFile(buildModule({ imports: [envMemory, abort] })));
    expect(stock.exitCode).toBe(0);
    expect(stock.stdout).toContain("note AssemblyScript without the SDK runtime");
    expect((await vmwindow("inspect", guests.checksum)).stdout).not.toContain("note");
  });

  test("--dts declares every function export the host can call, typed, and not the SDKs' own (__vmw_*)", async () => {
    const { stdout, exitCode } = await vmwindow("inspect", guests.probe, "--dts");
    expect(exitCode).toBe(0);
    expect(stdout).toContain("export interface GuestExports {");
    expect(stdout).toContain("  readonly load_u8: ((arg0: number) => number) & { readonly signature: ExportSignature };");
    expect(stdout).toContain("  readonly region_sum_u8: ((arg0: number) => bigint) & { readonly signature: ExportSignature };");
    expect(stdout).not.toContain("readonly __vmw_");
    // The engine's own export list (Bun's WebAssembly) is the oracle for the names.
    const names = WebAssembly.Module.exports(new WebAssembly.Module(readFileSync(guests.probe)))
      .filter((e) => e.kind === "function" && !e.name.startsWith("__vmw_"))
      .map((e) => e.name);
    const declared = [...stdout.matchAll(/^  readonly (\w+): /gm)].map((m) => m[1]);
    expect(declared).toEqual(names);
    // AssemblyScript's --exportRuntime functions are a host's to call: kept.
    const runtime = tempFile(buildModule({ imports: [envMemory], functions: [{ params: [I32, I32], results: [I32], body: [...op.localGet(0)], export: "__new" }] }));
    expect((await vmwindow("inspect", runtime, "--dts")).stdout).toContain("  readonly __new: ((arg0: number, arg1: number) => number)");
  });

  test("errors: not a module, missing file, no argument", async () => {
    const bad = await vmwindow("inspect", tempFile("not wasm at all"));
    expect(oneLine(bad.stderr)).toMatch(/is not a valid WebAssembly module.*\[BAD_MODULE\]$/);
    expect(bad.exitCode).toBe(19);
    const missing = await vmwindow("inspect", "/no/such.wasm");
    expect(oneLine(missing.stderr)).toMatch(/\[NOT_FOUND\]$/);
    expect(missing.exitCode).toBe(12);
    const none = await vmwindow("inspect");
    expect(oneLine(none.stderr)).toContain("inspect needs a guest module");
    expect(none.exitCode).toBe(2);
  });
});
