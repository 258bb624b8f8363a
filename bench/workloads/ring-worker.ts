// One side of a single-producer single-consumer ring in a SharedArrayBuffer (bench/many-guests.ts,
// "scheduler vs Workers"): the same messages as examples/scheduler (producer, seq, mix(producer,
// seq)), passed between two Bun Workers with Atomics (wait when the ring is full / empty, notify
// after each batch).
declare const self: Worker;

const HEAD = 0; // messages ever written
const TAIL = 1; // messages ever read
const SLOTS = 16; // i32 index of slot 0 (the header is 64 bytes)

function mix(producer: number, seq: number): number {
  let x = (Math.imul(producer, 0x9e3779b1) ^ Math.imul(seq, 0x85ebca77)) >>> 0;
  x = (x ^ (x >>> 15)) >>> 0;
  x = Math.imul(x, 0x2c1b3c6d) >>> 0;
  return (x ^ (x >>> 12)) >>> 0;
}

self.onmessage = (event: MessageEvent) => {
  if (event.data === "ping") return postMessage("pong"); // started and ready: not timed
  const { role, buffer, capacity, messages, batch } = event.data as { role: "producer" | "consumer"; buffer: SharedArrayBuffer; capacity: number; messages: number; batch: number };
  const ring = new Int32Array(buffer);
  let checksum = 0;
  if (role === "producer") {
    for (let seq = 0; seq < messages; ) {
      const head = Atomics.load(ring, HEAD);
      let tail = Atomics.load(ring, TAIL);
      while (head - tail >= capacity) {
        Atomics.wait(ring, TAIL, tail);
        tail = Atomics.load(ring, TAIL);
      }
      const room = Math.min(capacity - (head - tail), batch, messages - seq);
      for (let i = 0; i < room; i++, seq++) {
        const slot = SLOTS + ((head + i) % capacity) * 4;
        const value = mix(1, seq);
        ring[slot] = 1;
        ring[slot + 1] = seq;
        ring[slot + 2] = value | 0;
        checksum = (checksum + value) % 2 ** 32;
      }
      Atomics.store(ring, HEAD, head + room);
      Atomics.notify(ring, HEAD);
    }
  } else {
    let corrupt = 0;
    for (let read = 0; read < messages; ) {
      const tail = Atomics.load(ring, TAIL);
      let head = Atomics.load(ring, HEAD);
      while (head === tail) {
        Atomics.wait(ring, HEAD, head);
        head = Atomics.load(ring, HEAD);
      }
      const available = Math.min(head - tail, batch);
      for (let i = 0; i < available; i++, read++) {
        const slot = SLOTS + ((tail + i) % capacity) * 4;
        const value = ring[slot + 2]! >>> 0;
        if (value !== mix(ring[slot]!, ring[slot + 1]!)) corrupt++;
        checksum = (checksum + value) % 2 ** 32;
      }
      Atomics.store(ring, TAIL, tail + available);
      Atomics.notify(ring, TAIL);
    }
    if (corrupt) checksum = -1;
  }
  postMessage({ role, checksum });
};
