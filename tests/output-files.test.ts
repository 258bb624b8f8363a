// Output files (issue 12): `mapFile(path, { access: "readwrite", create: true, length })` and the
// CLI's `--map NAME=PATH:rw:SIZE` create or extend the file; a missing or empty read-write target
// says how to make one; `vmwindow run` takes several --call and prints regions with --print.
// Oracles: the file read back with node:fs, the guest's own results.
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { VmwindowError, Window } from "@vmwindow/bun";
import { guests, patternBytes, smallWindow, tempDir, tempFile, thrown, vmwindow } from "./helpers.ts";

let counter = 0;
const freshPath = () => join(tempDir(), `output-${process.pid}-${counter++}.bin`);

describe("mapFile create: true", () => {
  test("creates a missing file at offset + length; the guest's writes are in it after flush", () => {
    const path = freshPath();
    using window = Window.create(smallWindow);
    using guest = window.instantiate(guests.probe);
    const region = window.mapFile(path, { access: "readwrite", create: true, length: 10_000 });
    expect(statSync(path).size).toBe(10_000);
    guest.exports.store_u8!(region.offset + 9_999, 42);
    region.flush();
    const bytes = readFileSync(path);
    expect(bytes[9_999]).toBe(42);
    expect(bytes.subarray(0, 9_999).every((b) => b === 0)).toBe(true);
  });

  test("extends a shorter file with zeros, keeps its bytes, never shrinks a longer one", () => {
    const original = patternBytes(5_000, 4);
    const path = tempFile(original);
    using window = Window.create(smallWindow);
    window.mapFile(path, { access: "readwrite", create: true, offset: 4096, length: 8192 }).unmap();
    const grown = readFileSync(path);
    expect(grown.length).toBe(4096 + 8192);
    expect(Buffer.from(grown.subarray(0, 5_000)).equals(Buffer.from(original))).toBe(true);
    expect(grown.subarray(5_000).every((b) => b === 0)).toBe(true);
    window.mapFile(path, { access: "readwrite", create: true, length: 100 }).unmap();
    expect(statSync(path).size).toBe(4096 + 8192);
  });

  test("misuse is refused with what to pass; a missing or empty read-write target says how to create one", () => {
    using window = Window.create(smallWindow);
    const path = freshPath();
    expect(thrown(VmwindowError, () => window.mapFile(path, { create: true, length: 10 })).message).toContain('access: "readwrite"');
    expect(thrown(VmwindowError, () => window.mapFile(path, { access: "readwrite", create: true })).message).toContain("needs a length");
    expect(existsSync(path)).toBe(false);
    const missing = thrown(VmwindowError, () => window.mapFile(path, { access: "readwrite" }));
    expect(missing.code).toBe("NOT_FOUND");
    expect(missing.message).toContain("create: true");
    expect(missing.message).toContain(":rw:SIZE");
    const empty = tempFile("");
    expect(thrown(VmwindowError, () => window.mapFile(empty, { access: "readwrite" })).message).toContain("create: true");
    // Read-only: no output-file advice.
    expect(thrown(VmwindowError, () => window.mapFile(path)).message).not.toContain("create");
  });

  test("a file that cannot be created is the error libvmwindow gives for a file to map, with its code", () => {
    using window = Window.create(smallWindow);
    const output = { access: "readwrite", create: true, length: 10 } as const;
    const error = (path: string) => {
      const e = thrown(VmwindowError, () => window.mapFile(path, output));
      return [e.code, e.message];
    };
    expect(error(join(tempDir(), "a\0b"))).toEqual(["INVALID_ARGUMENT", "path contains a NUL byte"]);
    const noDir = join(tempDir(), "no-such-dir", "out.bin");
    expect(error(noDir)).toEqual(["NOT_FOUND", `cannot create ${noDir}: no such file`]);
    const underFile = join(tempFile("x"), "out.bin");
    expect(error(underFile)).toEqual(["NOT_FOUND", `cannot create ${underFile}: no such file (a part of the path is not a directory)`]);
    expect(window.regions.size).toBe(0);
  });
});

describe("vmwindow run: output files, several calls, --print", () => {
  test("--map out=PATH:rw:SIZE, two --call in order, --print as hex and as typed values", async () => {
    const input = patternBytes(64, 8);
    const inPath = tempFile(input);
    const outPath = freshPath();
    const { stdout, stderr, exitCode } = await vmwindow(
      "run", guests.probe, "--map", `in=${inPath}`, "--map", `out=${outPath}:rw:20`,
      "--call", "region_view_set_u8", "@out", "3", "65",
      "--call", "region_sum_u8", "@out",
      "--print", "out", "--print", "in:u32",
    );
    expect(stderr).toBe("");
    expect(exitCode).toBe(0);
    const lines = stdout.trimEnd().split("\n");
    expect(lines[0]).toBe("65"); // the second call's result; the first returns nothing
    expect(lines[1]).toBe('region 2 "out" (20 bytes):');
    expect(lines[2]).toBe("00000000  00 00 00 41 00 00 00 00 00 00 00 00 00 00 00 00  ...A............");
    expect(lines[3]).toBe("00000010  00 00 00 00                                      ....");
    expect(lines[4]).toBe('region 1 "in" (64 bytes) as u32:');
    const words = new Uint32Array(input.buffer.slice(0, 32));
    expect(lines[5]).toBe(`[0] ${[...words].join(" ")}`);
    const written = readFileSync(outPath);
    expect(written.length).toBe(20);
    expect(written[3]).toBe(65);
  });

  test("--print of an unknown region or type is a usage error", async () => {
    const bad = await vmwindow("run", guests.probe, "--print", "nope");
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain("no region named");
    const type = await vmwindow("run", guests.probe, "--scratch", "s=64KiB", "--print", "s:u128");
    expect(type.exitCode).toBe(2);
    expect(type.stderr).toContain("--print expects NAME[:hex|u8");
  });
});
