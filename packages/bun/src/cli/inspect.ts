// `vmwindow inspect`: a module's imports, exports with signatures and memory, and whether it fits
// a window (fitChecks).
import { BUILTIN_IMPORTS, GUEST_BASE, RESET_STACK_EXPORT, WINDOW_MAX_BYTES } from "../abi.ts";
import { readModuleFile } from "../module-bytes.ts";
import { exportsDeclaration } from "./dts.ts";
import { DEFAULT_GUEST_BYTES, PAGE_BYTES, VmwindowError, Window } from "../index.ts";
import type { InspectOptions } from "./args.ts";
import { formatBytes } from "./format.ts";
import { parseModule, type ModuleInfo } from "./wasm-sections.ts";

/** Built into every guest by libvmwindow; other imports need host functions `run` cannot give. */
const BUILTINS = new Set(BUILTIN_IMPORTS);

export interface FitCheck {
  ok: boolean;
  what: string;
}

/** Whether a module can run in a window with a `guestBytes` guest area (the default 16 MiB). */
export function fitChecks(info: ModuleInfo, guestBytes = DEFAULT_GUEST_BYTES): FitCheck[] {
  const checks: FitCheck[] = [];
  const memory = info.memoryImport;
  const otherMemoryImports = info.imports.filter((i) => i.kind === "memory" && !(i.module === "env" && i.name === "memory"));
  checks.push({
    ok: memory !== undefined && otherMemoryImports.length === 0,
    what: memory ? "imports env.memory (the window)" : "does not import env.memory (build with asc --importMemory, or the SDK's asconfig.json)",
  });
  if (memory) {
    checks.push({ ok: !memory.memory64, what: memory.memory64 ? "env.memory is 64-bit; windows are 32-bit memories" : "env.memory is a 32-bit memory" });
    checks.push({ ok: !memory.shared, what: memory.shared ? "env.memory is shared; the window is not" : "env.memory is not shared" });
    const minBytes = memory.min * PAGE_BYTES;
    checks.push({
      ok: minBytes <= WINDOW_MAX_BYTES,
      what: `expects at least ${memory.min} pages (${formatBytes(minBytes)}); a window of ${formatBytes(Math.max(minBytes, GUEST_BASE + guestBytes + PAGE_BYTES))} or more fits`,
    });
    if (memory.max !== undefined) {
      checks.push({ ok: true, what: `declares at most ${memory.max} pages: the window must be no larger (${formatBytes(memory.max * PAGE_BYTES)})` });
    }
  }
  checks.push({
    ok: info.ownMemories.length === 0,
    what: info.ownMemories.length === 0 ? "defines no memory of its own" : `defines ${info.ownMemories.length} memor${info.ownMemories.length === 1 ? "y" : "ies"} of its own (build with --importMemory)`,
  });
  const areaEnd = GUEST_BASE + guestBytes;
  const outside = info.data.filter((d) => d.start === undefined || d.start < GUEST_BASE || d.start + d.length > areaEnd);
  if (info.data.length > 0) {
    const low = Math.min(...info.data.map((d) => d.start ?? Infinity));
    const high = Math.max(...info.data.map((d) => (d.start ?? -Infinity) + d.length));
    const span = Number.isFinite(low) && Number.isFinite(high) ? ` at ${hex(low)}..${hex(high)}` : "";
    checks.push({
      ok: outside.length === 0,
      what:
        outside.length === 0
          ? `${info.data.length} data segment${info.data.length === 1 ? "" : "s"}${span}, inside the guest area [${hex(GUEST_BASE)}, ${hex(areaEnd)})`
          : `${outside.length} of ${info.data.length} data segments lie outside the guest area [${hex(GUEST_BASE)}, ${hex(areaEnd)})${span} (build with --memoryBase ${GUEST_BASE}, or the SDK's asconfig.json)`,
    });
  } else {
    checks.push({ ok: true, what: "no active data segments" });
  }
  // Functions its own host gives (window.instantiate(wasm, { imports })) fit a window: a note, not a
  // misfit. Globals and tables no host can give.
  const other = info.imports.filter((i) => i.kind !== "memory" && i.kind !== "function").map((i) => `${i.module}.${i.name} (${i.kind})`);
  if (other.length > 0) checks.push({ ok: false, what: `imports what no host can give (only functions and env.memory): ${other.join(", ")}` });
  else if (hostImports(info).length === 0) checks.push({ ok: true, what: `every other import is built in (${BUILTIN_IMPORTS.join(", ")})` });
  return checks;
}

/** The function imports a host must give (beyond the built-ins). */
function hostImports(info: ModuleInfo): string[] {
  return info.imports.filter((i) => i.kind === "function" && !BUILTINS.has(`${i.module}.${i.name}`)).map((i) => `${i.module}.${i.name}`);
}

/** What may go wrong at run time although the module fits. */
export function notes(info: ModuleInfo): string[] {
  const out: string[] = [];
  const needed = hostImports(info);
  if (needed.length > 0) {
    out.push(`imports its host must give with window.instantiate(wasm, { imports }), which \`vmwindow run\` cannot: ${needed.join(", ")}`);
  }
  const assemblyscript = info.imports.some((i) => i.module === "env" && i.name === "abort");
  const sdkRuntime = info.exports.some((e) => e.name === RESET_STACK_EXPORT);
  if (assemblyscript && !sdkRuntime) {
    out.push("AssemblyScript without the SDK runtime: its stock runtime's heap cannot grow a window, so the first allocation that needs more memory traps; build with the SDK preset (asc --config node_modules/@vmwindow/guest/asconfig.json)");
  }
  return out;
}

/** Whether libvmwindow's engine compiles the module (it refuses some proposals the parser above
 * does not look for, such as bulk memory), in the largest window with the default guest area. */
export function engineCheck(bytes: Uint8Array): FitCheck {
  let window: Window;
  try {
    window = Window.create({ sizeBytes: WINDOW_MAX_BYTES, guestBytes: DEFAULT_GUEST_BYTES });
  } catch (error) {
    if (!(error instanceof VmwindowError)) throw error;
    return { ok: false, what: `could not check it with vmwindow's engine (no window: ${error.message})` };
  }
  try {
    window.validate(bytes);
    return { ok: true, what: "compiles with vmwindow's engine" };
  } catch (error) {
    if (!(error instanceof VmwindowError)) throw error;
    return { ok: false, what: `does not compile with vmwindow's engine: ${error.message}` };
  } finally {
    window.close();
  }
}

function hex(value: number): string {
  return `0x${value.toString(16)}`;
}

/** Prints the report; false when the text report says the module does not fit (--json: always true). */
export async function inspect({ path, json, dts }: InspectOptions): Promise<boolean> {
  const bytes = readModuleFile(path);
  if (bytes.length === 0) throw new VmwindowError("BAD_MODULE", `${path} is empty (0 bytes)`);
  // Validation and the import/export lists from the engine; signatures and layout from our parser.
  let module: WebAssembly.Module;
  try {
    module = new WebAssembly.Module(bytes);
  } catch (error) {
    throw new VmwindowError("BAD_MODULE", `${path} is not a valid WebAssembly module: ${(error as Error).message}`);
  }
  const info = parseModule(bytes);
  const engineImports = WebAssembly.Module.imports(module);
  const engineExports = WebAssembly.Module.exports(module);
  if (engineImports.length !== info.imports.length || engineExports.length !== info.exports.length) {
    throw new VmwindowError("BAD_MODULE", `${path}: the section parser and the engine disagree on imports/exports`);
  }
  if (dts) {
    process.stdout.write(exportsDeclaration(info, path));
    return true;
  }
  const checks = [...fitChecks(info), engineCheck(bytes)];
  const fits = checks.every((c) => c.ok);
  if (json) {
    console.log(JSON.stringify({ path, bytes: bytes.length, ...info, fits, checks, notes: notes(info) }, null, 2));
    return true;
  }
  const out: string[] = [`${path}: ${formatBytes(bytes.length)}${info.start ? ", has a start function" : ""}`];
  out.push("imports:");
  for (const i of info.imports) out.push(`  ${`${i.module}.${i.name}`.padEnd(24)} ${i.kind.padEnd(8)} ${i.type}`);
  if (info.imports.length === 0) out.push("  (none)");
  out.push("exports:");
  const width = Math.max(24, ...info.exports.map((e) => e.name.length));
  for (const e of info.exports) out.push(`  ${e.name.padEnd(width)} ${e.kind.padEnd(8)} ${e.type}`);
  if (info.exports.length === 0) out.push("  (none)");
  const dataBytes = info.data.reduce((sum, d) => sum + d.length, 0);
  out.push(
    `memory: ${info.memoryImport ? `imports env.memory, min ${info.memoryImport.min} pages (${formatBytes(info.memoryImport.min * PAGE_BYTES)}), max ${info.memoryImport.max ?? "none"}` : "does not import env.memory"}; ` +
      `${info.data.length} active data segment${info.data.length === 1 ? "" : "s"} (${formatBytes(dataBytes)})`,
  );
  out.push(`fits a window: ${fits ? "yes" : "no"}`);
  for (const c of checks) out.push(`  ${c.ok ? "ok " : "NO "} ${c.what}`);
  for (const note of notes(info)) out.push(`  note ${note}`);
  console.log(out.join("\n"));
  return fits;
}
