// Test fixture: small exports the host tests call (tests/guest-sdk.test.ts and the native tests).
import { regions } from "@vmwindow/guest";

export function load_u8(addr: u32): u32 {
  return load<u8>(addr);
}

export function store_u8(addr: u32, v: u32): void {
  store<u8>(addr, <u8>v);
}

export function load_i32(addr: u32): i32 {
  return load<i32>(addr);
}

export function store_i32(addr: u32, v: i32): void {
  store<i32>(addr, v);
}

/** Sum of all bytes of region `id` through a checked u8 view. */
export function region_sum_u8(id: u32): u64 {
  let view = regions.get(id).view<u8>();
  let sum: u64 = 0;
  for (let i: usize = 0, n = view.length; i < n; ++i) sum += view[i];
  return sum;
}

export function region_view_get_u8(id: u32, i: u32): u32 {
  return regions.get(id).view<u8>()[i];
}

export function region_view_set_u8(id: u32, i: u32, v: u32): void {
  regions.get(id).view<u8>()[i] = <u8>v;
}

export function region_length(id: u32): u32 {
  return <u32>regions.get(id).length;
}

export function region_writable(id: u32): bool {
  return regions.get(id).writable;
}

export function region_count(): u32 {
  return regions.count;
}

export function region_capacity(): u32 {
  return regions.capacity;
}

/** regions.get(id).offset: aborts if `id` is not mapped. */
export function lookup(id: u32): u32 {
  return <u32>regions.get(id).offset;
}

// Typed views: element `i` of region `id` (bounds-checked), and element counts.
export function view_get_i8(id: u32, i: u32): i32 { return regions.get(id).view<i8>()[i]; }
export function view_get_u16(id: u32, i: u32): u32 { return regions.get(id).view<u16>()[i]; }
export function view_get_i16(id: u32, i: u32): i32 { return regions.get(id).view<i16>()[i]; }
export function view_get_u32(id: u32, i: u32): u32 { return regions.get(id).view<u32>()[i]; }
export function view_get_i32(id: u32, i: u32): i32 { return regions.get(id).view<i32>()[i]; }
export function view_get_u64(id: u32, i: u32): u64 { return regions.get(id).view<u64>()[i]; }
export function view_get_i64(id: u32, i: u32): i64 { return regions.get(id).view<i64>()[i]; }
export function view_get_f32(id: u32, i: u32): f32 { return regions.get(id).view<f32>()[i]; }
export function view_get_f64(id: u32, i: u32): f64 { return regions.get(id).view<f64>()[i]; }
export function view_set_u16(id: u32, i: u32, v: u32): void { regions.get(id).view<u16>()[i] = <u16>v; }
export function view_set_i64(id: u32, i: u32, v: i64): void { regions.get(id).view<i64>()[i] = v; }
export function view_set_f64(id: u32, i: u32, v: f64): void { regions.get(id).view<f64>()[i] = v; }
export function view_length_u16(id: u32): u32 { return <u32>regions.get(id).view<u16>().length; }
export function view_length_u64(id: u32): u32 { return <u32>regions.get(id).view<u64>().length; }
export function view_length_f32(id: u32): u32 { return <u32>regions.get(id).view<f32>().length; }
/** Unchecked access (`unchecked(view[i])` uses the `{}` operator): no bounds check. */
export function view_get_unchecked_u8(id: u32, i: u32): u32 { return unchecked(regions.get(id).view<u8>()[i]); }

export function add_i64(a: i64, b: i64): i64 {
  return a + b;
}

export function add_f64(a: f64, b: f64): f64 {
  return a + b;
}

export function add_f32(a: f32, b: f32): f32 {
  return a + b;
}

export function noop(): void {}

export function sum4(a: i32, b: i32, c: i32, d: i32): i32 {
  return a + b + c + d;
}

/** Allocates `n` zeroed bytes on the guest heap and returns their address. */
export function alloc_bytes(n: u32): u32 {
  let buffer = new ArrayBuffer(<i32>n);
  keep = buffer; // stays reachable, so collecting runtimes cannot reuse it
  return <u32>changetype<usize>(buffer);
}

/** Allocates `n` bytes that become garbage right away (reusable by the collecting runtimes). */
export function alloc_garbage(n: u32): u32 {
  return <u32>changetype<usize>(new ArrayBuffer(<i32>n));
}

// No allocation at top level: instantiating must not need the heap (or even the table).
let keep: ArrayBuffer | null = null;
let kept: Array<ArrayBuffer> | null = null;

/** Allocates `n` bytes and keeps them alive until `release_all()` (for exhaustion tests). */
export function alloc_keep(n: u32): u32 {
  let list = kept;
  if (!list) kept = list = new Array<ArrayBuffer>();
  let buffer = new ArrayBuffer(<i32>n);
  list.push(buffer);
  return <u32>changetype<usize>(buffer);
}

export function release_all(): void {
  kept = null;
  keep = null;
}

/** Runs a full collection (a no-op with the stub runtime). */
export function collect(): void {
  __collect();
}

/** `__heap_base`: where the runtime starts allocating. */
export function heap_base(): u32 {
  return <u32>__heap_base;
}

export function data_end(): u32 {
  return <u32>__data_end;
}

/** Recursion that keeps a managed local per frame: overflows the 32 KiB shadow stack. */
export function deep(n: i32): i32 {
  let buffer = new ArrayBuffer(1);
  return n == 0 ? 0 : deep(n - 1) + buffer.byteLength;
}

export function abort_now(): void {
  throw new Error("boom");
}

/** AssemblyScript's shadow-stack pointer, to check that failed calls give their frames back. */
export function stack_pointer(): u32 {
  return <u32>__stack_pointer;
}

/** Loops forever while holding a managed local (so it has a shadow-stack frame). */
export function spin_holding(): i32 {
  let held = new ArrayBuffer(16);
  let i = 0;
  while (held.byteLength > 0) i++;
  return i;
}
