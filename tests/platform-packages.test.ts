// The platform packages (@vmwindow/linux-x64-gnu, @vmwindow/linux-arm64-gnu, @vmwindow/darwin-arm64,
// @vmwindow/win32-x64): their manifests, @vmwindow/bun's optional dependencies on them and the name
// it looks them up by, and the libraries they ship. The arm64 and Windows libraries are cross-linked
// and cannot run here, so their headers are read instead: the right machine, and Wasmtime's library
// found beside libvmwindow (ELF: NEEDED "libwasmtime.so" plus RUNPATH $ORIGIN; Mach-O:
// @rpath/libwasmtime.dylib plus LC_RPATH @loader_path; PE: every import from wasmtime.dll is one
// of its exports, and the package preloads it). Build first (./dev build).
import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { platformPackageName, preloadLibrary } from "../packages/bun/src/library.ts";
import { readPe } from "../tools/pe.ts";
import { tempDir } from "./helpers.ts";

const repo = join(import.meta.dir, "..");

type Platform = {
  dir: string;
  name: string;
  os: string;
  cpu: string;
  libc?: string;
  format: "elf" | "macho" | "pe";
  machine: number; // ELF e_machine or Mach-O cputype
  libraries: [string, string]; // libvmwindow, libwasmtime
};

const platforms: Platform[] = [
  {
    dir: "linux-x64-gnu", name: "@vmwindow/linux-x64-gnu", os: "linux", cpu: "x64", libc: "glibc",
    format: "elf", machine: 0x3e, libraries: ["libvmwindow.so", "libwasmtime.so"],
  },
  {
    dir: "linux-arm64-gnu", name: "@vmwindow/linux-arm64-gnu", os: "linux", cpu: "arm64", libc: "glibc",
    format: "elf", machine: 0xb7, libraries: ["libvmwindow.so", "libwasmtime.so"],
  },
  {
    dir: "darwin-arm64", name: "@vmwindow/darwin-arm64", os: "darwin", cpu: "arm64",
    format: "macho", machine: 0x0100000c, libraries: ["libvmwindow.dylib", "libwasmtime.dylib"],
  },
  {
    dir: "win32-x64", name: "@vmwindow/win32-x64", os: "win32", cpu: "x64",
    format: "pe", machine: 0x8664, libraries: ["vmwindow.dll", "wasmtime.dll"],
  },
];

/** Every function vmwindow.h declares. */
function headerFunctions(): string[] {
  const header = readFileSync(join(repo, "native", "include", "vmwindow.h"), "utf8");
  return [...header.matchAll(/^[a-z_][a-z0-9_ *]*?\b(vmw_[a-z0-9_]+)\(/gm)].map((m) => m[1]!);
}

// ---- ELF (64-bit little-endian): header, program headers, dynamic section ----

type Elf = { machine: number; type: number; needed: string[]; runpath?: string; rpath?: string; soname?: string };

function readElf(path: string): Elf {
  const bytes = readFileSync(path);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0) !== 0x7f454c46) throw new Error(`${path}: not ELF`);
  if (bytes[4] !== 2 || bytes[5] !== 1) throw new Error(`${path}: not ELF64 little-endian`);
  const u16 = (at: number) => view.getUint16(at, true);
  const u32 = (at: number) => view.getUint32(at, true);
  const u64 = (at: number) => Number(view.getBigUint64(at, true));
  const type = u16(16);
  const machine = u16(18);
  const phoff = u64(32);
  const phentsize = u16(54);
  const phnum = u16(56);
  const loads: { offset: number; vaddr: number; filesz: number }[] = [];
  let dynamic: { offset: number; size: number } | undefined;
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    const segment = { offset: u64(at + 8), vaddr: u64(at + 16), filesz: u64(at + 32) };
    if (u32(at) === 1) loads.push(segment); // PT_LOAD
    if (u32(at) === 2) dynamic = { offset: segment.offset, size: segment.filesz }; // PT_DYNAMIC
  }
  if (!dynamic) throw new Error(`${path}: no dynamic section`);
  const fileOffset = (vaddr: number) => {
    const load = loads.find((l) => vaddr >= l.vaddr && vaddr < l.vaddr + l.filesz);
    if (!load) throw new Error(`${path}: address 0x${vaddr.toString(16)} is in no PT_LOAD`);
    return vaddr - load.vaddr + load.offset;
  };
  const entries: [number, number][] = [];
  for (let at = dynamic.offset; at < dynamic.offset + dynamic.size; at += 16) {
    const tag = u64(at);
    if (tag === 0) break; // DT_NULL
    entries.push([tag, u64(at + 8)]);
  }
  const strtab = entries.find(([tag]) => tag === 5); // DT_STRTAB
  if (!strtab) throw new Error(`${path}: no DT_STRTAB`);
  const strings = fileOffset(strtab[1]);
  const str = (index: number) => {
    const start = strings + index;
    return bytes.toString("latin1", start, bytes.indexOf(0, start));
  };
  const one = (tag: number) => {
    const entry = entries.find(([t]) => t === tag);
    return entry ? str(entry[1]) : undefined;
  };
  return {
    machine,
    type,
    needed: entries.filter(([tag]) => tag === 1).map(([, value]) => str(value)), // DT_NEEDED
    runpath: one(29), // DT_RUNPATH
    rpath: one(15), // DT_RPATH
    soname: one(14), // DT_SONAME
  };
}

// ---- Mach-O (64-bit little-endian): header and load commands ----

type MachO = { cputype: number; filetype: number; id?: string; loads: string[]; rpaths: string[]; signed: boolean; minos?: string };

function readMachO(path: string): MachO {
  const bytes = readFileSync(path);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u32 = (at: number) => view.getUint32(at, true);
  if (u32(0) !== 0xfeedfacf) throw new Error(`${path}: not a 64-bit little-endian Mach-O file`);
  const result: MachO = { cputype: u32(4), filetype: u32(12), loads: [], rpaths: [], signed: false };
  const ncmds = u32(16);
  const str = (command: number, size: number) => {
    const start = command + u32(command + 8);
    const end = bytes.indexOf(0, start);
    return bytes.toString("utf8", start, Math.min(end, command + size));
  };
  let at = 32;
  for (let i = 0; i < ncmds; i++) {
    const cmd = u32(at);
    const size = u32(at + 4);
    if (cmd === 0xd) result.id = str(at, size); // LC_ID_DYLIB
    if (cmd === 0xc || cmd === 0x80000018) result.loads.push(str(at, size)); // LC_LOAD_DYLIB, LC_LOAD_WEAK_DYLIB
    if (cmd === 0x8000001c) result.rpaths.push(str(at, size)); // LC_RPATH
    if (cmd === 0x1d) result.signed = true; // LC_CODE_SIGNATURE
    if (cmd === 0x32) {
      const minos = u32(at + 12); // LC_BUILD_VERSION: platform, minos (xxxx.yy.zz), ...
      result.minos = `${minos >>> 16}.${(minos >>> 8) & 0xff}`;
    }
    at += size;
  }
  return result;
}

function readelfAvailable(): boolean {
  return Bun.which("readelf") !== null;
}

function libPath(platform: Platform, index: 0 | 1): string {
  const path = join(repo, "packages", platform.dir, "lib", platform.libraries[index]);
  if (!existsSync(path)) throw new Error(`${path} is missing: build first (./dev build)`);
  return path;
}

function run(command: string[], cwd: string): string {
  const result = Bun.spawnSync(command, { cwd, stdout: "pipe", stderr: "pipe" });
  if (result.exitCode !== 0) {
    throw new Error(`${command.join(" ")} exited ${result.exitCode}\n${result.stdout}\n${result.stderr}`);
  }
  return result.stdout.toString();
}

describe("platform package names", () => {
  test("platformPackageName maps process.platform/arch to the packages", () => {
    expect(platformPackageName("linux", "x64")).toBe("@vmwindow/linux-x64-gnu");
    expect(platformPackageName("linux", "arm64")).toBe("@vmwindow/linux-arm64-gnu");
    expect(platformPackageName("darwin", "arm64")).toBe("@vmwindow/darwin-arm64");
    expect(platformPackageName("win32", "x64")).toBe("@vmwindow/win32-x64");
    expect(platformPackageName()).toBe(platformPackageName(process.platform, process.arch));
  });

  test("@vmwindow/bun depends optionally on every platform package (workspace:*, 0.1.0 once packed)", () => {
    const manifest = JSON.parse(readFileSync(join(repo, "packages", "bun", "package.json"), "utf8"));
    expect(manifest.optionalDependencies).toEqual(Object.fromEntries(platforms.map((p) => [p.name, "workspace:*"])));

    const destination = join(tempDir(), `platform-packages-${process.pid}`);
    mkdirSync(destination, { recursive: true });
    run(["bun", "pm", "pack", "--quiet", "--destination", destination], join(repo, "packages", "bun"));
    const tarball = readdirSync(destination).find((name) => name.startsWith("vmwindow-bun-") && name.endsWith(".tgz"));
    expect(tarball).toBeDefined();
    const packed = JSON.parse(run(["tar", "-xzOf", join(destination, tarball!), "package/package.json"], destination));
    expect(packed.optionalDependencies).toEqual(Object.fromEntries(platforms.map((p) => [p.name, "0.1.0"])));
  });
});

describe.each(platforms)("$name", (platform) => {
  const dir = join(repo, "packages", platform.dir);

  test("manifest: os, cpu, libc, shipped files, libraryPath", () => {
    const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
    expect(manifest.name).toBe(platform.name);
    expect(manifest.name).toBe(platformPackageName(platform.os, platform.cpu));
    expect(manifest.os).toEqual([platform.os]);
    expect(manifest.cpu).toEqual([platform.cpu]);
    expect(manifest.libc).toEqual(platform.libc ? [platform.libc] : undefined);
    expect(manifest.files).toEqual(["index.js", "index.d.ts", ...platform.libraries.map((name) => `lib/${name}`)]);
    const { libraryPath } = require(dir) as { libraryPath: string };
    expect(libraryPath).toBe(join(dir, "lib", platform.libraries[0]));
  });

  if (platform.format === "elf") {
    test("libvmwindow: machine, NEEDED libwasmtime.so (no path), RUNPATH $ORIGIN", () => {
      const lib = readElf(libPath(platform, 0));
      expect(lib.machine).toBe(platform.machine);
      expect(lib.type).toBe(3); // ET_DYN
      expect(lib.soname).toBe("libvmwindow.so");
      expect(lib.needed).toContain("libwasmtime.so");
      expect(lib.needed.filter((name) => name.includes("/"))).toEqual([]);
      expect(lib.rpath).toBeUndefined();
      expect(lib.runpath?.split(":")[0]).toBe("$ORIGIN");
      // The cross-linked library carries no path of the machine that built it.
      if (platform.cpu !== "x64") expect(lib.runpath).toBe("$ORIGIN");

      const wasmtime = readElf(libPath(platform, 1));
      expect(wasmtime.machine).toBe(platform.machine);
      expect(wasmtime.soname).toBe("libwasmtime.so");
    });

    test.skipIf(!readelfAvailable())("readelf agrees", () => {
      const output = run(["readelf", "-h", "-d", libPath(platform, 0)], repo);
      expect(output).toContain(platform.machine === 0xb7 ? "AArch64" : "X86-64");
      expect(output).toContain("Shared library: [libwasmtime.so]");
      expect(output).toMatch(/Library runpath: \[\$ORIGIN[:\]]/);
    });
  } else if (platform.format === "pe") {
    test("vmwindow.dll: x86-64 DLL exporting the whole C ABI; its Wasmtime imports all resolve in wasmtime.dll", () => {
      const lib = readPe(readFileSync(libPath(platform, 0)), platform.libraries[0]);
      expect(() => readPe(readFileSync(libPath(platform, 0)).subarray(0, 4096), "truncated")).toThrow();
      const wasmtime = readPe(readFileSync(libPath(platform, 1)), platform.libraries[1]);
      expect(lib.machine).toBe(platform.machine);
      expect(lib.dll).toBe(true);
      expect(wasmtime.machine).toBe(platform.machine);
      expect(wasmtime.dll).toBe(true);
      const declared = headerFunctions();
      expect(declared.length).toBeGreaterThan(25);
      expect(lib.exports.filter((name) => name.startsWith("vmw_")).sort()).toEqual([...declared].sort());
      const fromWasmtime = lib.imports.get("wasmtime.dll") ?? [];
      expect(fromWasmtime).toContain("wasmtime_config_host_memory_creator_set");
      expect(fromWasmtime.filter((name) => !wasmtime.exports.includes(name))).toEqual([]);
      // Only Windows' own DLLs besides wasmtime.dll: no MinGW runtime to ship, no build-machine path.
      for (const dll of lib.imports.keys()) {
        expect(dll).toMatch(/^(wasmtime\.dll|kernel32\.dll|ntdll\.dll|api-ms-win-[a-z0-9-]+\.dll)$/i);
      }
      // The placeholder API the window is built on (Windows 10 1803+).
      const imported = [...lib.imports.values()].flat();
      for (const name of ["VirtualAlloc2", "MapViewOfFile3", "UnmapViewOfFile2"]) expect(imported).toContain(name);
    });

    test("the package preloads wasmtime.dll from its own lib/ (Windows has no run paths)", () => {
      const { preload } = require(dir) as { preload: string[] };
      expect(preload).toEqual([join(dir, "lib", "wasmtime.dll")]);
      // The preload step itself, on this platform's Wasmtime library (linux-x64-gnu or, under
      // tools/test-arm64.sh, linux-arm64-gnu); a missing file is an error.
      const here = platforms.find((p) => p.os === process.platform && p.cpu === process.arch)!;
      expect(here).toBeDefined();
      preloadLibrary(libPath(here, 1));
      expect(() => preloadLibrary(join(dir, "lib", "no-such-library.so"))).toThrow();
    });
  } else {
    test("libvmwindow: arm64, @rpath/libwasmtime.dylib, LC_RPATH @loader_path, signed", () => {
      const lib = readMachO(libPath(platform, 0));
      expect(lib.cputype).toBe(platform.machine);
      expect(lib.filetype).toBe(6); // MH_DYLIB
      expect(lib.id).toBe("@rpath/libvmwindow.dylib");
      expect(lib.loads).toContain("@rpath/libwasmtime.dylib");
      expect(lib.loads).toContain("/usr/lib/libSystem.B.dylib");
      expect(lib.rpaths).toEqual(["@loader_path"]);
      expect(lib.signed).toBe(true); // arm64 macOS runs signed code only (zig signs ad hoc)
      expect(lib.minos).toBe("11.0");

      const wasmtime = readMachO(libPath(platform, 1));
      expect(wasmtime.cputype).toBe(platform.machine);
      expect(wasmtime.id).toBe("@rpath/libwasmtime.dylib");
    });
  }
});
