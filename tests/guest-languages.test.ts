// The same guest written in C (guest-sdk/c), Zig (guest-sdk/zig) and Rust (guest-sdk/rust), built
// here with the flags the docs give (docs/guest-{c,zig,rust}.md; tools/build-guest-examples.ts)
// and run in real windows. Oracles are independent of the guests: zlib's CRC-32 (node:zlib),
// counts and searches in JS, DataView sums, and the files' bytes read back from disk. The Rust
// guest needs a rustc with the wasm32-unknown-unknown standard library (tools/guest-toolchains.sh
// installs Debian's); without one, its tests are skipped with the reason printed.
import { describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { crc32 } from "node:zlib";
import { GuestTrap, VmwindowError, Window } from "@vmwindow/bun";
import { buildC, buildRust, buildZig, findRustc, GUEST_BASE, rustMissing, STACK_BYTES, zig } from "../tools/build-guest-examples.ts";
import { root as repo } from "../tools/gen-guest-abi.ts";
import { patternBytes, tempDir, tempFile, thrown } from "./helpers.ts";

const out = join(tempDir(), `guest-languages-${process.pid}`);
mkdirSync(out, { recursive: true });

function run(command: string[]): { ok: boolean; output: string } {
  const result = Bun.spawnSync(command, { stdout: "pipe", stderr: "pipe" });
  return { ok: result.exitCode === 0, output: `${command.join(" ")}\n${result.stdout.toString()}${result.stderr.toString()}` };
}

const rustc = findRustc();
if (!rustc) console.log(`guest-languages: SKIPPING the Rust guest: ${rustMissing}`);

const languages = [
  { name: "C", build: () => buildC(out), available: true },
  { name: "Zig", build: () => buildZig(out), available: true },
  { name: "Rust", build: () => buildRust(out, rustc!), available: rustc !== undefined },
];

/** Mutable i32 globals' initial values (the first is the stack pointer) and the memory import's minimum pages. */
function moduleFacts(bytes: Uint8Array): { stackPointer: number; minPages: number; bulkMemory: boolean } {
  let pos = 8;
  const leb = (signed = false): number => {
    let result = 0;
    let shift = 0;
    let byte: number;
    do {
      byte = bytes[pos++]!;
      result += (byte & 0x7f) * 2 ** shift;
      shift += 7;
    } while (byte & 0x80);
    if (signed && byte & 0x40) result -= 2 ** shift;
    return result;
  };
  const name = () => {
    const length = leb();
    pos += length;
    return new TextDecoder().decode(bytes.subarray(pos - length, pos));
  };
  let stackPointer = -1;
  let minPages = -1;
  let bulkMemory = false;
  while (pos < bytes.length) {
    const id = bytes[pos++]!;
    const size = leb();
    const end = pos + size;
    if (id === 2) {
      for (let n = leb(); n > 0; n--) {
        const module = name();
        const field = name();
        const kind = bytes[pos++]!;
        if (kind === 2) {
          const flags = leb();
          const min = leb();
          if (flags & 1) leb();
          if (module === "env" && field === "memory") minPages = min;
        } else if (kind === 0) leb();
        else if (kind === 3) pos += 2;
        else if (kind === 1) {
          pos++;
          const flags = leb();
          leb();
          if (flags & 1) leb();
        }
      }
    } else if (id === 6 && stackPointer < 0) {
      const count = leb();
      for (let n = 0; n < count && stackPointer < 0; n++) {
        const type = bytes[pos++]!;
        const mutable = bytes[pos++]!;
        const op = bytes[pos++]!;
        const value = op === 0x41 ? leb(true) : NaN;
        pos++; // end
        if (type === 0x7f && mutable === 1) stackPointer = value;
      }
    } else if (id === 0) {
      if (name() === "target_features") {
        // Prefixed feature names (+ used, - disallowed): the linker's record of what the objects
        // were compiled for, when the section is kept (Zig strips it; window.validate below is the
        // engine's own check of the instructions).
        for (let n = leb(); n > 0; n--) {
          const prefix = bytes[pos++]!;
          if (/^bulk-memory(-opt)?$/.test(name()) && prefix === 0x2b) bulkMemory = true;
        }
      }
    }
    pos = end;
  }
  return { stackPointer, minPages, bulkMemory };
}

const window = { sizeBytes: 64 * 2 ** 20, guestBytes: 2 ** 20 };

function newlineText(length: number, seed: number): Uint8Array {
  const bytes = patternBytes(length, seed);
  for (let i = 0; i < bytes.length; i++) if (bytes[i]! < 24) bytes[i] = 10; // ~9% newlines
  return bytes;
}

function countByte(bytes: Uint8Array, byte: number): number {
  let count = 0;
  for (const b of bytes) if (b === byte) count++;
  return count;
}

for (const language of languages) {
  describe.skipIf(!language.available)(`${language.name} guest`, () => {
    // describe.skipIf still runs this body: build only what is available.
    const built = language.available ? language.build() : { wasm: "", ok: false, output: "skipped" };

    test("builds with the documented flags into a module vmwindow accepts", () => {
      if (!built.ok) throw new Error(`build failed:\n${built.output}`);
      const bytes = new Uint8Array(readFileSync(built.wasm));
      const facts = moduleFacts(bytes);
      expect(facts.bulkMemory).toBe(false);
      // Stack and static data inside a 1 MiB guest area: the stack pointer starts at most at its
      // end with the whole stack above the guest base, and everything up to __heap_base (the
      // memory's minimum) ends inside it.
      const guestEnd = GUEST_BASE + window.guestBytes;
      expect(facts.stackPointer).toBeGreaterThanOrEqual(GUEST_BASE + STACK_BYTES);
      expect(facts.stackPointer).toBeLessThanOrEqual(guestEnd);
      expect(facts.minPages * 65_536).toBeLessThanOrEqual(guestEnd);
      using w = Window.create(window);
      w.validate(bytes); // the engine refuses bulk memory, a missing env.memory, data outside the guest area
    });

    const sizes = [1, 15, 16, 17, 63, 64, 65, 16_383, 16_384, 65_537, 3 * 2 ** 20 + 5];

    test.each(sizes)("CRC-32 and newline counts of a %d-byte file equal zlib's and JS's", (size) => {
      const bytes = newlineText(size, size);
      const path = tempFile(bytes);
      using w = Window.create(window);
      using guest = w.instantiate(built.wasm);
      using region = w.mapFile(path);
      expect((guest.call("crc32", region.id) as number) >>> 0).toBe(crc32(readFileSync(path)) >>> 0);
      const newlines = countByte(bytes, 10);
      expect(guest.call("newlines", region.id)).toBe(newlines);
      expect(guest.call("newlines_plain", region.id)).toBe(newlines);
    });

    test("counts saturate no lane: a file of nothing but newlines", () => {
      const bytes = new Uint8Array(255 * 64 * 3 + 77).fill(10);
      using w = Window.create(window);
      using guest = w.instantiate(built.wasm);
      using region = w.mapFile(tempFile(bytes));
      expect(guest.call("newlines", region.id)).toBe(bytes.length);
      expect(guest.call("newlines_plain", region.id)).toBe(bytes.length);
    });

    test("index_of finds the first byte like Uint8Array.indexOf", () => {
      const bytes = new Uint8Array(100_000).fill(1);
      for (const [at, value] of [[0, 7], [15, 8], [16, 9], [17, 10], [99_999, 11], [50_000, 12], [50_001, 12]] as const) bytes[at] = value;
      using w = Window.create(window);
      using guest = w.instantiate(built.wasm);
      using region = w.mapFile(tempFile(bytes));
      for (const byte of [1, 7, 8, 9, 10, 11, 12, 200]) expect({ byte, at: guest.call("index_of", region.id, byte) }).toEqual({ byte, at: bytes.indexOf(byte) });
    });

    test("regions are found by exact name; typed views read the file's u32s", () => {
      const bytes = patternBytes(40_004, 3);
      using w = Window.create(window);
      using guest = w.instantiate(built.wasm);
      expect(guest.call("find_input")).toBe(0);
      using decoy = w.mapFile(tempFile("x"), { name: "input-2" });
      using input = w.mapFile(tempFile(bytes), { name: "input" });
      expect(guest.call("find_input")).toBe(input.id);
      expect(decoy.id).not.toBe(input.id);
      const view = new DataView(bytes.buffer);
      let sum = 0n;
      for (let i = 0; i + 4 <= bytes.length; i += 4) sum += BigInt(view.getUint32(i, true));
      expect(guest.call("sum_u32", input.id)).toBe(sum);
    });

    test("table walks count the live regions; generations match the host's and go stale on remap and unmap", () => {
      using w = Window.create(window);
      using guest = w.instantiate(built.wasm);
      expect(guest.call("live_count")).toBe(0);
      const regions = [1, 2, 3, 4].map((i) => w.mapFile(tempFile(patternBytes(1000 * i, i))));
      expect(guest.call("live_count")).toBe(4);
      regions[1]!.unmap();
      expect(guest.call("live_count")).toBe(3);
      const region = regions[2]!;
      expect(guest.call("remember", region.id)).toBe(region.generation);
      expect(guest.call("remembered_current")).toBe(1);
      region.remap(tempFile(patternBytes(5000, 9)));
      expect(guest.call("remembered_current")).toBe(0);
      expect(guest.call("remember", region.id)).toBe(region.generation);
      expect(guest.call("remembered_current")).toBe(1);
      region.unmap();
      expect(guest.call("remembered_current")).toBe(0);
      expect(guest.call("remember", region.id)).toBe(0);
      // The window's close unmaps the rest.
    });

    test("holes trap (null page, a free slot, past the memory) and the guest lives on", () => {
      using w = Window.create(window);
      using guest = w.instantiate(built.wasm);
      using region = w.mapFile(tempFile(patternBytes(70_000, 5)));
      const freeSlot = region.offset + 4 * 65_536; // nothing is mapped after the only region
      for (const address of [0, 100, freeSlot, w.layout.sizeBytes - 1, w.layout.sizeBytes + 4096]) {
        const trap = thrown(GuestTrap, () => guest.call("load_at", address));
        expect(trap.reason).toMatch(/out of bounds|memory fault/);
      }
      expect(guest.call("load_at", region.offset + 3)).toBe(patternBytes(70_000, 5)[3]!);
      expect((guest.call("crc32", region.id) as number) >>> 0).toBe(crc32(patternBytes(70_000, 5)) >>> 0);
    });

    test("an id that is not mapped traps with the SDK's message as its reason (vmw.fail), and logs it (vmw.log)", () => {
      const logs: string[] = [];
      using w = Window.create(window);
      using guest = w.instantiate(built.wasm, { log: (_level, text) => logs.push(text) });
      expect(thrown(GuestTrap, () => guest.call("crc32", 999)).reason).toBe("abort: vmwindow: region is not mapped");
      expect(logs).toEqual(["vmwindow: region is not mapped"]);
      // Without a logger the reason still says it; the guest lives on.
      using quiet = w.instantiate(built.wasm);
      expect(thrown(GuestTrap, () => quiet.call("crc32", 999)).reason).toBe("abort: vmwindow: region is not mapped");
      using region = w.mapFile(tempFile("abc"));
      expect((quiet.call("crc32", region.id) as number) >>> 0).toBe(crc32(new TextEncoder().encode("abc")) >>> 0);
    });

    if (language.name === "Rust") {
      test("a panic traps with its file, line and column as the reason; the guest lives on", () => {
        using w = Window.create(window);
        using guest = w.instantiate(built.wasm);
        using region = w.mapFile(tempFile("abc"));
        expect(guest.call("byte_at", region.id, 2)).toBe("c".charCodeAt(0));
        const source = readFileSync(join(repo, "guest-sdk/rust/examples/scan.rs"), "utf8").split("\n");
        const line = source.findIndex((l) => l.includes("regions.region(id).bytes()[index as usize]")) + 1;
        expect(thrown(GuestTrap, () => guest.call("byte_at", region.id, 3)).reason).toMatch(
          new RegExp(`^abort: vmwindow guest panicked at guest-sdk/rust/examples/scan\\.rs:${line}:\\d+$`),
        );
        expect(guest.call("byte_at", region.id, 0)).toBe("a".charCodeAt(0));
      });
    }

    test("stores into a read-only region trap and leave the file unchanged; the SDK refuses a writable view", () => {
      const bytes = patternBytes(100_000, 9);
      const path = tempFile(bytes);
      using w = Window.create(window);
      using guest = w.instantiate(built.wasm);
      using region = w.mapFile(path);
      expect(guest.call("fill", region.id, 0x41)).toBe(-1);
      const trap = thrown(GuestTrap, () => guest.call("store", region.id, 10, 0x42));
      expect(trap.reason).toMatch(/out of bounds|memory fault/);
      expect(Buffer.compare(readFileSync(path), bytes)).toBe(0);
      // The trap struck inside the SDK's lookup scope (Rust: with_regions); the guest still works.
      expect((guest.call("crc32", region.id) as number) >>> 0).toBe(crc32(bytes) >>> 0);
      thrown(GuestTrap, () => guest.call("crc32", 12345));
      expect((guest.call("crc32", region.id) as number) >>> 0).toBe(crc32(bytes) >>> 0);
    });

    test("stores through a read-write region land in the file", () => {
      const path = tempFile(patternBytes(150_001, 11));
      using w = Window.create(window);
      using guest = w.instantiate(built.wasm);
      using region = w.mapFile(path, { access: "readwrite" });
      expect(guest.call("fill", region.id, 0x5a)).toBe(150_001);
      guest.call("store", region.id, 150_000, 0x07);
      region.flush();
      const after = readFileSync(path);
      expect(after.length).toBe(150_001);
      expect(countByte(after.subarray(0, 150_000), 0x5a)).toBe(150_000);
      expect(after[150_000]).toBe(0x07);
    });

    test("a stack overflow traps, and __vmw_reset_stack gives the stack back after every trap", () => {
      const bytes = patternBytes(10_000, 13);
      using w = Window.create(window);
      using guest = w.instantiate(built.wasm);
      using region = w.mapFile(tempFile(bytes));
      expect(guest.signature("__vmw_reset_stack")).toBeDefined();
      expect((guest.call("crc32", region.id) as number) >>> 0).toBe(crc32(bytes) >>> 0); // static CRC table ready
      expect(guest.call("depth", 200)).toBe(200); // ~200 KiB of the 256 KiB stack
      for (let i = 0; i < 5; i++) {
        // ~1 MiB of frames: the trap leaves the stack pointer at the bottom until the host resets it.
        const trap = thrown(GuestTrap, () => guest.call("depth", 1000));
        expect(trap.reason).toMatch(/out of bounds|memory fault/);
        expect(trap.fault?.kind).toBe("reserved");
        expect(trap.reason).toEndWith(": just below the guest area: most likely a stack overflow (a C or Zig guest's static data lies below its stack and was overwritten on the way: instantiate the guest again)");
        expect(guest.call("depth", 200)).toBe(200);
      }
      // C and Zig put static data below the stack: an overflow runs through it first (as in any
      // wasm32 C or Zig program), so only Rust's layout promises the CRC table is intact.
      if (language.name === "Rust") expect((guest.call("crc32", region.id) as number) >>> 0).toBe(crc32(bytes) >>> 0);
    });

    test("a guest area too small for its stack and data never runs", () => {
      using w = Window.create({ sizeBytes: window.sizeBytes, guestBytes: 65_536 });
      const logs: string[] = [];
      let guest: ReturnType<Window["instantiate"]> | undefined;
      try {
        guest = w.instantiate(built.wasm, { log: (_level, text) => logs.push(text) });
      } catch (error) {
        // Data segments past the guest area: refused before anything runs.
        expect(error).toBeInstanceOf(VmwindowError);
        return;
      }
      using region = w.mapFile(tempFile("abc\n"));
      thrown(GuestTrap, () => guest!.call("newlines", region.id));
      expect(logs.join("\n")).toContain("do not fit the window's guest area");
      guest.close();
    });
  });
}

describe.skipIf(rustc === undefined)("Rust views and borrows", () => {
  // Compiled against the crate the Rust guest tests built (libvmwindow_guest.rlib in `out`).
  const compile = (name: string, body: string) => {
    const source = join(out, `${name}.rs`);
    writeFileSync(source, `#![no_std]\nuse vmwindow_guest::with_regions;\n#[no_mangle]\npub extern "C" fn f(a: u32, b: u32) -> u32 {\n${body}\n}\n`);
    return run([rustc!, "--edition", "2021", "--target", "wasm32-unknown-unknown", "--crate-type", "cdylib", source,
      "--extern", `vmwindow_guest=${join(out, "libvmwindow_guest.rlib")}`, "-o", join(out, `${name}.wasm`)]);
  };

  test("a view cannot outlive with_regions, and a writable view cannot coexist with a shared one (rustc rejects both)", () => {
    const fine = compile("borrow_ok", "with_regions(|regions| { let r = regions.region(a); let v = r.bytes(); v.len() as u32 + b })");
    expect(fine.ok ? "" : fine.output).toBe("");
    const escape = compile("borrow_escape", "let bytes: &[u8] = with_regions(|regions| regions.region(a).bytes());\nbytes.len() as u32 + b");
    expect(escape.ok).toBe(false);
    expect(escape.output).toMatch(/lifetime may not live long enough|cannot return reference|borrowed data escapes/);
    const alias = compile("borrow_alias", "with_regions(|regions| { let shared = regions.region(a); let view = shared.bytes();\nlet mut out = regions.get_mut(b).unwrap(); out.bytes_mut()[0] = view[0]; 0 })");
    expect(alias.ok).toBe(false);
    expect(alias.output).toContain("E0502"); // cannot borrow `*regions` as mutable because it is also borrowed as immutable
  });
});

describe("a Zig project of its own, from docs/guest-zig.md's build.zig.zon and build.zig", () => {
  test("builds a guest whose code never touches the stack; it counts, traps and is reset", () => {
    // The doc's two code blocks, as a user copies them; only the SDK's path differs (relative, as
    // Zig wants: this repository's guest-sdk/zig instead of node_modules/@vmwindow/guest/zig).
    const doc = readFileSync(join(repo, "docs/guest-zig.md"), "utf8");
    const [zon, build] = [...doc.matchAll(/```zig\n([\s\S]*?)```/g)].map((m) => m[1]!);
    expect(zon).toContain(".fingerprint");
    expect(build).toContain("vmwindow.add_guest(");
    const project = join(out, "zig-project");
    mkdirSync(join(project, "src"), { recursive: true });
    writeFileSync(join(project, "build.zig.zon"), zon!.replace("node_modules/@vmwindow/guest/zig", relative(project, join(repo, "guest-sdk/zig"))));
    writeFileSync(join(project, "build.zig"), build!);
    // No frame of its own: wasm-ld once refused this (the SDK's reset named __stack_pointer undeclared).
    writeFileSync(join(project, "src/guest.zig"), [
      'const vmw = @import("vmwindow");',
      "export fn count(id: u32) u32 {",
      "    var n: u32 = 0;",
      "    for (vmw.region(id).bytes) |b| n += @intFromBool(b == '\\n');",
      "    return n;",
      "}",
    ].join("\n"));
    const built = Bun.spawnSync([zig, "build", "--cache-dir", join(project, ".zig-cache"), "--prefix", join(project, "zig-out")], { cwd: project, stdout: "pipe", stderr: "pipe" });
    expect(built.exitCode === 0 ? "" : built.stderr.toString()).toBe("");
    using w = Window.create(window);
    using guest = w.instantiate(join(project, "zig-out/bin/guest.wasm"));
    using region = w.mapFile(tempFile("a\nb\nc"));
    expect(guest.call("count", region.id)).toBe(2);
    expect(guest.signature("__vmw_reset_stack")).toBeDefined();
    expect(thrown(GuestTrap, () => guest.call("count", 999)).reason).toBe("abort: vmwindow: region is not mapped");
    expect(guest.call("count", region.id)).toBe(2);
  });
});
