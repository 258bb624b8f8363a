// Scheduler tasks: producers and consumers that talk through a ring buffer in a shared region
// named "ring" (anonymous memory the host mapped), plus one task that never returns. Every task is
// its own instance of this module in the same window, so the counters below (static data in each
// guest's own area) are per task, while the ring is shared.
//
// Ring layout (little-endian): 0 u32 head (messages ever written), 4 u32 tail (messages ever
// read), 8 u32 capacity (slots), 12 u32 message bytes (16), 16..64 reserved, then capacity slots:
//   0 u32 producer, 4 u32 sequence number, 8 u32 value = mix(producer, seq), 12 u32 0
// The host runs one task at a time, so head and tail need no atomics.
import { regions, Region } from "@vmwindow/guest";

const HEAD: usize = 0;
const TAIL: usize = 4;
const CAPACITY: usize = 8;
const MESSAGE_BYTES: usize = 12;
const SLOTS: usize = 64;

let ringId: u32 = 0;
let sent: u32 = 0;
let received: u32 = 0;
let total: u64 = 0; // sum of values sent (producer) or received (consumer)
let corrupt: u32 = 0;

/** The shared ring, looked up by name once (regions.find scans the table). */
function ring(): Region {
  if (ringId == 0) {
    let found = regions.find("ring");
    if (found === null) abort("scheduler: no region named \"ring\"");
    ringId = found!.id;
  }
  let region = regions.get(ringId);
  if (load<u32>(region.offset, MESSAGE_BYTES) != 16 || <usize>SLOTS + <usize>load<u32>(region.offset, CAPACITY) * 16 > region.length) {
    abort("scheduler: the ring header does not match its region");
  }
  return region;
}

/** The payload of message `seq` of `producer` (the host computes the same to check the sums). */
export function mix(producer: u32, seq: u32): u32 {
  let x = producer * 0x9e3779b1 ^ seq * 0x85ebca77;
  x ^= x >>> 15;
  x *= 0x2c1b3c6d;
  x ^= x >>> 12;
  return x;
}

/** Writes up to `budget` messages (stopping at `quota` in all, or when the ring is full). */
export function produce(producer: u32, quota: u32, budget: u32): u32 {
  let base = ring().offset;
  let capacity = load<u32>(base, CAPACITY);
  let written: u32 = 0;
  while (written < budget && sent < quota) {
    let head = load<u32>(base, HEAD);
    if (head - load<u32>(base, TAIL) >= capacity) break; // full
    let slot = base + SLOTS + <usize>(head % capacity) * 16;
    let value = mix(producer, sent);
    store<u32>(slot, producer);
    store<u32>(slot, sent, 4);
    store<u32>(slot, value, 8);
    store<u32>(slot, 0, 12);
    store<u32>(base, head + 1, HEAD);
    total += value;
    ++sent;
    ++written;
  }
  return written;
}

/** Reads up to `budget` messages (stopping when the ring is empty), checking each payload. */
export function consume(budget: u32): u32 {
  let base = ring().offset;
  let capacity = load<u32>(base, CAPACITY);
  let read: u32 = 0;
  while (read < budget) {
    let tail = load<u32>(base, TAIL);
    if (tail == load<u32>(base, HEAD)) break; // empty
    let slot = base + SLOTS + <usize>(tail % capacity) * 16;
    let value = load<u32>(slot, 8);
    if (value != mix(load<u32>(slot), load<u32>(slot, 4))) ++corrupt;
    store<u32>(base, tail + 1, TAIL);
    total += value;
    ++received;
    ++read;
  }
  return read;
}

/** A task that never finishes: only its deadline stops it. */
export function spin(): void {
  while (true) {}
}

export function sentCount(): u32 {
  return sent;
}
export function receivedCount(): u32 {
  return received;
}
export function checksum(): u64 {
  return total;
}
export function corruptCount(): u32 {
  return corrupt;
}
