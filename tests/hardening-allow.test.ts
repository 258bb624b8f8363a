// Hardening: a guest can only map what the host allows. `allowDirectory(window, dir)` maps names
// inside one folder and refuses path traversal, absolute paths elsewhere, symlinks that leave the
// folder (file or directory links), non-regular files and read-write requests unless allowed. The
// guest (tests/guests/request.ts) calls vmw.map with raw bytes, so any name can be tried.
import { describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { allowDirectory, VmwindowError, Window, type Guest } from "@vmwindow/bun";
import { smallWindow, tempDir } from "./helpers.ts";

const REQUEST = join(import.meta.dir, "build", "request.wasm");
const READ = 1;
const READ_WRITE = 3;

function ask(guest: Guest, name: string, access = READ): number {
  const bytes = new TextEncoder().encode(name);
  bytes.forEach((b, i) => guest.call("set_name_byte", i, b));
  return guest.call("request", bytes.length, access) as number;
}

/** allowed/ with files, a subfolder, and links in and out; secret/ next to it. */
function setUp() {
  const root = mkdtempSync(join(tempDir(), "allow-"));
  const allowed = join(root, "allowed");
  const secret = join(root, "secret");
  mkdirSync(join(allowed, "sub"), { recursive: true });
  mkdirSync(secret);
  writeFileSync(join(allowed, "a.bin"), "Apple");
  writeFileSync(join(allowed, "sub", "b.bin"), "Banana");
  writeFileSync(join(allowed, "empty.bin"), "");
  writeFileSync(join(secret, "key.bin"), "Secret");
  symlinkSync(join(secret, "key.bin"), join(allowed, "link-out.bin")); // absolute link out
  symlinkSync("../secret/key.bin", join(allowed, "rel-link-out.bin")); // relative link out
  symlinkSync(secret, join(allowed, "dir-out")); // directory link out
  symlinkSync("sub/b.bin", join(allowed, "link-in.bin")); // link that stays inside
  symlinkSync(join(allowed, "nowhere"), join(allowed, "dangling.bin"));
  return { root, allowed, secret };
}

describe("allowDirectory", () => {
  test("maps files inside the folder and refuses everything else, with reasons", () => {
    const { allowed, secret } = setUp();
    using window = Window.create(smallWindow);
    const refused: string[] = [];
    using guest = window.instantiate(REQUEST, { map: allowDirectory(window, allowed, { onRefuse: (name, reason) => refused.push(`${name}: ${reason}`) }) });
    const read = (name: string) => {
      const id = ask(guest, name);
      return id > 0 ? String.fromCharCode(guest.call("first_byte", id) as number) : id;
    };
    expect(read("a.bin")).toBe("A");
    expect(read("sub/b.bin")).toBe("B");
    expect(read("./sub//b.bin")).toBe("B");
    expect(read("link-in.bin")).toBe("B");
    expect(read(join(allowed, "a.bin"))).toBe("A"); // an absolute path inside is fine
    const outside = [
      "../secret/key.bin",
      "sub/../../secret/key.bin",
      "sub/../a.bin", // any .. segment is refused, even one that stays inside
      "..",
      join(secret, "key.bin"),
      "/etc/passwd",
      "link-out.bin",
      "rel-link-out.bin",
      "dir-out/key.bin",
      "dangling.bin",
      "missing.bin",
      "sub",
      ".",
      "",
      "empty.bin", // a regular file, but empty files cannot be mapped
      "a.bin\0.txt",
    ];
    for (const name of outside) {
      const id = ask(guest, name);
      if (id !== -1) throw new Error(`${JSON.stringify(name)} was not refused (got ${id})`);
    }
    expect(refused.length).toBe(outside.length);
    expect(refused.find((r) => r.startsWith("../secret"))).toContain("path traversal");
    expect(refused.find((r) => r.startsWith("link-out.bin"))).toContain("outside");
    expect(refused.find((r) => r.startsWith("dir-out/key.bin"))).toContain("outside");
    expect(refused.find((r) => r.startsWith("/etc/passwd"))).toContain("outside");
    expect(refused.find((r) => r.startsWith("sub:"))).toContain("not a regular file");
    expect(refused.find((r) => r.startsWith("empty.bin"))).toContain("INVALID_ARGUMENT");
    // Nothing from outside was ever mapped.
    for (const region of window.regions.values()) expect(region.path!.startsWith(allowed)).toBe(true);
    // The same file twice: one region.
    expect(ask(guest, "a.bin")).toBe(ask(guest, "a.bin"));
  });

  test("read-write only when allowed; the guest's writes reach the file", () => {
    const { allowed } = setUp();
    using window = Window.create(smallWindow);
    using readOnly = window.instantiate(REQUEST, { map: allowDirectory(window, allowed) });
    expect(ask(readOnly, "a.bin", READ_WRITE)).toBe(-1);
    expect(ask(readOnly, "a.bin", READ)).toBeGreaterThan(0);
    using writer = window.instantiate(REQUEST, { map: allowDirectory(window, allowed, { access: "readwrite" }) });
    const id = ask(writer, "a.bin", READ_WRITE);
    expect(id).toBeGreaterThan(0);
    expect(window.region(id)!.access).toBe("readwrite");
    window.region(id)!.bytes[0] = "a".charCodeAt(0);
    window.region(id)!.flush();
    expect(readFileSync(join(allowed, "a.bin"), "utf8")).toBe("apple");
  });

  test("a symlink swapped to point outside after the first request is refused on the next", () => {
    const { allowed, secret } = setUp();
    using window = Window.create(smallWindow);
    using guest = window.instantiate(REQUEST, { map: allowDirectory(window, allowed) });
    const link = join(allowed, "moving.bin");
    symlinkSync("a.bin", link);
    expect(ask(guest, "moving.bin")).toBeGreaterThan(0);
    require("node:fs").unlinkSync(link);
    symlinkSync(join(secret, "key.bin"), link);
    expect(ask(guest, "moving.bin")).toBe(-1);
  });

  test("bad arguments are VmwindowErrors", () => {
    using window = Window.create(smallWindow);
    expect(() => allowDirectory(window, "")).toThrow(VmwindowError);
    expect(() => allowDirectory(window, "/nonexistent/folder")).toThrow(VmwindowError);
    expect(() => allowDirectory(window, REQUEST)).toThrow(VmwindowError);
    expect(() => allowDirectory(window, tempDir(), { access: "write" as never })).toThrow(VmwindowError);
  });
});
