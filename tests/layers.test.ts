// The Bun package's layers (issue 16): only the FFI layer (packages/bun/src/ffi.ts) calls the
// native library, and the public classes carry only their documented API — no internal methods
// other modules call through, no raw pointers. Oracles: the source text, and the classes' own
// property lists checked against the API reference (docs/api-host.md).
import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Guest, GuestModule, Region, Window } from "@vmwindow/bun";

const src = join(import.meta.dir, "..", "packages", "bun", "src");
const sources = readdirSync(src, { recursive: true, encoding: "utf8" })
  .filter((name) => name.endsWith(".ts"))
  .map((name) => ({ name, text: readFileSync(join(src, name), "utf8") }));

test("only ffi.ts calls libvmwindow: no other module opens it, calls a vmw_ symbol or makes a pointer into a buffer", () => {
  const reaching = sources
    .filter(({ name }) => name !== "ffi.ts" && name !== "library.ts")
    .filter(({ text }) => /\bdlopen\(|\bnative\.vmw_|\bvmw_\w+\(|\btoArrayBuffer\(|\bnew CString\(/.test(text))
    .map(({ name }) => name);
  expect(reaching).toEqual([]);
  // The one class that does is there, and it is the only dlopen of libvmwindow.
  const ffi = sources.find(({ name }) => name === "ffi.ts")!.text;
  expect(ffi).toMatch(/class NativeLibrary/);
  expect(ffi.match(/\bdlopen\(/g)).toHaveLength(1);
});

test("no public method is marked @internal: what other modules need goes through module-private friends", () => {
  const marked = sources.filter(({ text }) => /@internal/.test(text)).map(({ name }) => name);
  expect(marked).toEqual([]);
});

/** Public instance members (own prototype only), static members, sorted. */
function surface(cls: Function): { instance: string[]; static: string[] } {
  const instance = Object.getOwnPropertyNames(cls.prototype).filter((name) => name !== "constructor");
  const statics = Object.getOwnPropertyNames(cls).filter((name) => !["length", "name", "prototype"].includes(name));
  return { instance: instance.sort(), static: statics.sort() };
}

test("Window, Region, Guest and GuestModule expose exactly their documented API", () => {
  expect(surface(Window)).toEqual({
    instance: ["close", "closed", "guests", "instantiate", "mapAnonymous", "mapFile", "mapShared", "region", "regions", "sizeBytes", "validate"],
    static: ["create"],
  });
  expect(surface(Region)).toEqual({
    instance: ["access", "bytes", "damaged", "fileOffset", "flush", "generation", "id", "kind", "length", "mapped", "offset", "path", "releasePages", "remap", "resize", "slotBytes", "unmap"],
    static: [],
  });
  expect(surface(Guest)).toEqual({
    instance: ["call", "close", "closed", "exports", "fn", "interruptToken", "setFuel", "setTimeout", "signature"],
    static: [],
  });
  expect(surface(GuestModule)).toEqual({ instance: ["close", "closed"], static: ["clearProcessCache", "compile"] });
  // Every one of them is in the API reference.
  const reference = readFileSync(join(import.meta.dir, "..", "docs", "api-host.md"), "utf8");
  const missing = [Window, Region, Guest, GuestModule].flatMap((cls) => {
    const { instance, static: statics } = surface(cls);
    return [...instance, ...statics].filter((name) => !new RegExp(`\\b${name}\\b`).test(reference)).map((name) => `${cls.name}.${name}`);
  });
  expect(missing).toEqual([]);
});
