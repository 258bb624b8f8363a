// Test fixture for tests/hardening-allow.test.ts: asks the host to map any name (vmw.map) and
// reads what it got. The host writes the name into `name_buffer()` with set_name_byte.
import { regions } from "@vmwindow/guest";

// @ts-ignore: decorator
@external("vmw", "map")
declare function vmw_map(name: usize, length: usize, access: u32): i32;

const buffer = memory.data(1024);

export function set_name_byte(i: u32, v: u32): void {
  if (i < 1024) store<u8>(buffer + i, <u8>v);
}

/** vmw.map(name_buffer[0..length], access): a region id, or a negative refusal. */
export function request(length: u32, access: u32): i32 {
  return vmw_map(buffer, length, access);
}

export function first_byte(id: u32): u32 {
  return regions.get(id).view<u8>()[0];
}

export function region_length(id: u32): u32 {
  return <u32>regions.get(id).length;
}
