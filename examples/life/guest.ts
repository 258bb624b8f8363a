// Game of Life guest: the whole simulation state lives in one read-write mapped file, so it
// survives the process. Layout (little-endian; docs in README.md):
//
//   0  u32 magic "LIFE"   4  u32 version (1)   8  u32 width   12  u32 height
//   16 u64 generation     24 u32 current buffer (0 or 1)      28..64 reserved
//   64 u8[width*height] buffer 0, then u8[width*height] buffer 1 (one byte per cell: 0 dead, 1 alive)
//
// A step reads the current buffer, writes the other one, then flips `current` and bumps
// `generation` in the header: the header always names a complete generation, so a process
// killed mid-step resumes from the last finished one. The grid wraps around (a torus).
import { regions } from "@vmwindow/guest";

const MAGIC: u32 = 0x4546494c; // the bytes "LIFE"
const VERSION: u32 = 1;
const HEADER: usize = 64;

/** Checks the header and the region's size, aborting with a clear message otherwise. */
function checked(id: u32): usize {
  let region = regions.get(id); // aborts if `id` is not mapped
  if (!region.writable) abort("life: the state region must be mapped read-write");
  let base = region.offset;
  if (region.length < HEADER || load<u32>(base) != MAGIC) abort("life: not a LIFE state file (bad magic)");
  if (load<u32>(base, 4) != VERSION) abort("life: unsupported state file version");
  let cells = <u64>load<u32>(base, 8) * <u64>load<u32>(base, 12);
  if (cells == 0 || <u64>HEADER + 2 * cells > <u64>region.length) abort("life: state file too short for its width x height");
  return base;
}

/** Runs `steps` generations in place; returns the generation reached. */
export function step(id: u32, steps: u32): u64 {
  let base = checked(id);
  let w = <usize>load<u32>(base, 8);
  let h = <usize>load<u32>(base, 12);
  let cells = w * h;
  for (let s: u32 = 0; s < steps; ++s) {
    let current = <usize>(load<u32>(base, 24) & 1);
    let src = base + HEADER + current * cells;
    let dst = base + HEADER + (current ^ 1) * cells;
    for (let y: usize = 0; y < h; ++y) {
      let up = (y == 0 ? h - 1 : y - 1) * w;
      let row = y * w;
      let down = (y + 1 == h ? <usize>0 : y + 1) * w;
      for (let x: usize = 0; x < w; ++x) {
        let left = x == 0 ? w - 1 : x - 1;
        let right = x + 1 == w ? <usize>0 : x + 1;
        let n =
          <u32>load<u8>(src + up + left) + <u32>load<u8>(src + up + x) + <u32>load<u8>(src + up + right) +
          <u32>load<u8>(src + row + left) + <u32>load<u8>(src + row + right) +
          <u32>load<u8>(src + down + left) + <u32>load<u8>(src + down + x) + <u32>load<u8>(src + down + right);
        let alive = load<u8>(src + row + x) != 0;
        store<u8>(dst + row + x, <u8>(n == 3 || (n == 2 && alive) ? 1 : 0));
      }
    }
    // Publish the finished generation: flip the buffer, then bump the counter.
    store<u32>(base, <u32>(current ^ 1), 24);
    store<u64>(base, load<u64>(base, 16) + 1, 16);
  }
  return load<u64>(base, 16);
}

/** Live cells in the current generation. */
export function population(id: u32): u32 {
  let base = checked(id);
  let cells = <usize>load<u32>(base, 8) * <usize>load<u32>(base, 12);
  let src = base + HEADER + <usize>(load<u32>(base, 24) & 1) * cells;
  let count: u32 = 0;
  for (let i: usize = 0; i < cells; ++i) count += <u32>load<u8>(src + i);
  return count;
}
