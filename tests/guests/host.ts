// Test fixture for the SDK's table helpers and host calls under the real host
// (tests/guest-host.test.ts): records, name lookup, iteration, generation, log, map, flush, release,
// allocation until exhaustion, an endless loop, per-guest static data.
import { regions, log, releaseRegionPages } from "@vmwindow/guest";

/** A 16-byte record the host writes: { id: u32, flags: u16, kind: u8, pad: u8, value: f64 }. */
@unmanaged
class Item {
  id: u32;
  flags: u16;
  kind: u8;
  pad: u8;
  value: f64;
}

export function record_count(id: u32): u32 {
  return <u32>regions.get(id).array<Item>().length;
}

/** Sum over all records of id * kind + flags, and value summed separately. */
export function record_checksum(id: u32): u64 {
  let items = regions.get(id).array<Item>();
  let total: u64 = 0;
  for (let i: usize = 0, n = items.length; i < n; ++i) {
    let item = items[i];
    total += <u64>item.id * <u64>item.kind + <u64>item.flags;
  }
  return total;
}

export function record_value(id: u32, i: u32): f64 {
  return regions.get(id).array<Item>()[i].value;
}

export function record_id(id: u32, i: u32): u32 {
  return regions.get(id).array<Item>()[i].id;
}

export function record_stride(id: u32): u32 {
  return <u32>regions.get(id).array<Item>().stride;
}

/** Id of the live region named "alpha" / "beta" / "nope" (0 if none). */
export function find_alpha(): u32 {
  let r = regions.find("alpha");
  return r ? r.id : 0;
}
export function find_beta(): u32 {
  let r = regions.find("beta");
  return r ? r.id : 0;
}
export function find_nope(): u32 {
  let r = regions.find("nope");
  return r ? r.id : 0;
}

/** Sum of the ids of all live regions, and their total length, via iteration. */
export function live_id_sum(): u32 {
  let sum: u32 = 0;
  for (let id = regions.next(0); id != 0; id = regions.next(id)) sum += id;
  return sum;
}
export function live_length_sum(): u64 {
  let sum: u64 = 0;
  for (let id = regions.next(0); id != 0; id = regions.next(id)) sum += regions.get(id).length;
  return sum;
}

let seenGeneration: u32 = 0;
let primed = false;
/** 1 if the table changed since the last call (the first call always reports a change). */
export function table_changed(): u32 {
  let changed = !primed || regions.changedSince(seenGeneration);
  primed = true;
  seenGeneration = regions.generation;
  return changed ? 1 : 0;
}

export function say(n: i32): void {
  log("hello from the guest: " + n.toString() + " ✓", 2);
}

/** Asks the host for "extra"; returns its first byte, or the negative answer. */
export function request_extra(): i32 {
  let r = regions.request("extra", false);
  if (!r) return -1;
  return <i32>r.view<u8>()[0];
}

export function write_and_flush(id: u32, v: u32): i32 {
  let region = regions.get(id);
  region.view<u8>()[0] = <u8>v;
  return region.flush();
}

/** Static data: each guest has its own. */
let counter: u32 = 0;
export function bump(): u32 {
  return ++counter;
}

/** Allocates `n`-byte buffers, keeping them, until the heap runs out (it aborts). */
let kept: Array<ArrayBuffer> | null = null;
export function allocate_forever(n: u32): u32 {
  let list = kept;
  if (!list) kept = list = new Array<ArrayBuffer>();
  let count: u32 = 0;
  while (true) {
    list.push(new ArrayBuffer(<i32>n));
    ++count;
  }
  return count;
}

export function spin(): void {
  while (true) {}
}

export function noop(): void {}

/** Sum of region `id`'s bytes, `chunk` bytes at a time, releasing each chunk's pages once read
 * (Region.releasePages): a whole-file scan that holds about one chunk in memory. Logs "released"
 * after each chunk (the test measures RSS there). A negative release answer is returned as is. */
export function sum_releasing(id: u32, chunk: u32): i64 {
  let region = regions.get(id);
  let bytes = region.view<u8>();
  let sum: i64 = 0;
  for (let done: usize = 0, n = bytes.length; done < n; done += chunk) {
    let end = min(done + chunk, n);
    for (let i = done; i < end; ++i) sum += unchecked(bytes[i]);
    let answer = region.releasePages(done, end - done);
    if (answer != 0) return answer;
    log("released");
  }
  return sum;
}

export function release(id: u32, offset: u32, length: u32): i32 {
  return releaseRegionPages(id, offset, length);
}
