// Test fixture: a guest that imports host functions a Bun host defines (tests/guest-host.test.ts).

// @ts-ignore: decorator
@external("env", "twice")
declare function twice(x: i32): i32;
// @ts-ignore: decorator
@external("host", "add64")
declare function add64(a: i64, b: i64): i64;
// @ts-ignore: decorator
@external("host", "scale")
declare function scale(x: f64, y: f32): f64;
// @ts-ignore: decorator
@external("host", "explode")
declare function explode(): void;

export function twice_plus_one(x: i32): i32 {
  return twice(x) + 1;
}
export function add64_twice(a: i64, b: i64): i64 {
  return add64(add64(a, b), b);
}
export function scaled(x: f64, y: f32): f64 {
  return scale(x, y);
}
export function call_explode(): i32 {
  explode();
  return 1;
}
export function noop(): void {}
export function load_u8(address: u32): u32 {
  return load<u8>(address); // uses the memory, so the module imports env.memory
}
export function sum4(a: i32, b: i32, c: i32, d: i32): i32 {
  return a + b + c + d;
}
