// A Bun Worker that owns a window and the bench guest, and counts newlines in the byte ranges it is
// sent (mapped with window.mapFile(path, { offset, length }), scanned in place, unmapped).
import { Window } from "@vmwindow/bun";

declare const self: Worker;

export interface Job {
  path: string;
  offset?: number;
  length?: number;
}

let window: Window | undefined;
let guest: ReturnType<Window["instantiate"]> | undefined;

self.onmessage = (event: MessageEvent) => {
  const message = event.data as { init?: string; jobs?: Job[] };
  if (message.init) {
    window = Window.create({ sizeBytes: 2 ** 32 - 65_536 });
    guest = window.instantiate(message.init);
    self.postMessage({ ready: true });
    return;
  }
  let total = 0n;
  const started = Bun.nanoseconds();
  for (const job of message.jobs ?? []) {
    const region = job.offset === undefined ? window!.mapFile(job.path) : window!.mapFile(job.path, { offset: job.offset, length: job.length });
    total += guest!.call("count_newlines", region.id) as bigint;
    region.unmap();
  }
  self.postMessage({ result: String(total), ns: Bun.nanoseconds() - started });
};
