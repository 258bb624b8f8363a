// Abort messages built without the allocator: the heap may be exhausted (or not set up) when we
// fail. The message is assembled in a static buffer laid out like an AssemblyScript string (the
// host's `env.abort` reads the byte length from the u32 at `msg - 4` and UTF-16 units from `msg`).

// @ts-ignore: decorator
@inline const MAX_UNITS: usize = 240;
// @ts-ignore: decorator
@inline const HEADER: usize = 32; // room for an OBJECT header before a 16-byte aligned payload

// @ts-ignore: decorator
@lazy const buffer: usize = memory.data(<i32>(HEADER + (MAX_UNITS << 1)), 16);
// @ts-ignore: decorator
@lazy let units: usize = 0;

/** Starts a new message. */
export function begin(): void {
  units = 0;
}

/** Appends a string (truncated at the buffer size). */
export function text(s: string): void {
  let src = changetype<usize>(s);
  let n = <usize>s.length;
  let dst = buffer + HEADER;
  for (let i: usize = 0; i < n && units < MAX_UNITS; ++i) {
    store<u16>(dst + (units++ << 1), load<u16>(src + (i << 1)));
  }
}

/** Appends an unsigned decimal number. */
export function number(value: u64): void {
  let digits: u32 = 1;
  for (let v = value; v >= 10; v /= 10) ++digits;
  if (units + digits > MAX_UNITS) return;
  let dst = buffer + HEADER + ((units + digits) << 1);
  units += digits;
  do {
    dst -= 2;
    store<u16>(dst, <u16>(0x30 + <u32>(value % 10)));
    value /= 10;
  } while (value);
}

/** Appends `0x` and a hexadecimal number. */
export function hex(value: u64): void {
  text("0x");
  let digits: u32 = 1;
  for (let v = value; v >= 16; v >>= 4) ++digits;
  if (units + digits > MAX_UNITS) return;
  let dst = buffer + HEADER + ((units + digits) << 1);
  units += digits;
  do {
    dst -= 2;
    let d = <u32>(value & 15);
    store<u16>(dst, <u16>(d < 10 ? 0x30 + d : 0x57 + d));
    value >>= 4;
  } while (value);
}

/** Aborts with the message built so far. */
export function fail(): void {
  let payload = buffer + HEADER;
  store<u32>(payload - 8, idof<String>()); // rtId
  store<u32>(payload - 4, <u32>(units << 1)); // rtSize (bytes)
  abort(changetype<string>(payload), "~lib/@vmwindow/guest", 0, 0);
  unreachable();
}
