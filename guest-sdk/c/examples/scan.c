// A C guest over mapped files: CRC-32, newline counts (the SDK's SIMD count and a plain loop),
// lookups by name, typed views, and writes through read-write regions. tests/guest-languages.test.ts
// runs it (and the same guest in Zig and Rust) against independent oracles. Build: docs/guest-c.md.
#include "vmwindow_guest.h"

#define EXPORT(name) __attribute__((export_name(name)))

static uint32_t crc_table[256];

static void crc_init(void) {
  for (uint32_t n = 0; n < 256; n++) {
    uint32_t c = n;
    for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    crc_table[n] = c;
  }
}

/* CRC-32 (IEEE, as zlib) of region `id`. */
EXPORT("crc32") uint32_t crc32(uint32_t id) {
  if (crc_table[1] == 0) crc_init();
  vmw_region_t r = vmw_region(id);
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < r.len; i++) c = crc_table[(c ^ r.ptr[i]) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

/* Newlines in region `id`, with the SDK's scanning primitive. */
EXPORT("newlines") uint32_t newlines(uint32_t id) {
  vmw_region_t r = vmw_region(id);
  return (uint32_t)vmw_count_byte(r.ptr, r.len, '\n');
}

/* Newlines in region `id`, the plain loop a C programmer writes (the compiler vectorises it). */
EXPORT("newlines_plain") uint32_t newlines_plain(uint32_t id) {
  vmw_region_t r = vmw_region(id);
  uint32_t count = 0;
  for (size_t i = 0; i < r.len; i++) count += r.ptr[i] == '\n';
  return count;
}

/* Index of the first `byte` in region `id`, or -1. */
EXPORT("index_of") int32_t index_of(uint32_t id, uint32_t byte) {
  vmw_region_t r = vmw_region(id);
  size_t i = vmw_index_of_byte(r.ptr, r.len, (uint8_t)byte);
  return i == r.len ? -1 : (int32_t)i;
}

/* The id of the region named "input", or 0. */
EXPORT("find_input") uint32_t find_input(void) { return vmw_region_find("input"); }

/* Sum of region `id` read as little-endian u32s (a typed view). */
EXPORT("sum_u32") uint64_t sum_u32(uint32_t id) {
  vmw_region_t r = vmw_region(id);
  vmw_u32s_t v = vmw_region_u32s(&r);
  uint64_t sum = 0;
  for (size_t i = 0; i < v.len; i++) sum += v.ptr[i];
  return sum;
}

/* Sets every byte of region `id` to `value` through the SDK's writable view: the byte count, or
 * -1 when the region is read-only (nothing is written). */
EXPORT("fill") int32_t fill(uint32_t id, uint32_t value) {
  vmw_region_t r = vmw_region(id);
  if (!vmw_region_writable(&r)) return -1;
  uint8_t *bytes = vmw_region_mut(&r);
  for (size_t i = 0; i < r.len; i++) bytes[i] = (uint8_t)value;
  return (int32_t)r.len;
}

/* A raw store at byte `index` of region `id`, whatever its access: traps on a read-only region. */
EXPORT("store") void store(uint32_t id, uint32_t index, uint32_t value) {
  vmw_region_t r = vmw_region(id);
  ((volatile uint8_t *)(uintptr_t)r.ptr)[index] = (uint8_t)value;
}

/* The byte at window address `address`: traps on a hole (null page, free slot, guard). */
EXPORT("load_at") uint32_t load_at(uint32_t address) { return *(volatile const uint8_t *)(uintptr_t)address; }

/* Recursion with 1 KiB frames, returning `n`: 256 KiB of stack holds about 250 levels. Deeper,
 * the stack runs down through static data into the read-only table and traps. */
EXPORT("depth") uint32_t depth(uint32_t n) {
  volatile uint8_t frame[1024];
  frame[n % 1024] = (uint8_t)n;
  if (n == 0) return 0;
  return depth(n - 1) + 1 + (uint8_t)(frame[n % 1024] - (uint8_t)n);
}

/* Live regions, counted by walking the table with vmw_region_next. */
EXPORT("live_count") uint32_t live_count(void) {
  uint32_t count = 0;
  for (uint32_t id = vmw_region_next(0); id != 0; id = vmw_region_next(id)) count++;
  return count;
}

/* The generation of region `id` as a view saw it when it was looked up (0 if not mapped). */
static vmw_region_t remembered;
EXPORT("remember") uint32_t remember(uint32_t id) {
  if (!vmw_region_get(id, &remembered)) return 0;
  return remembered.generation;
}

/* Whether the region remembered last still has the generation it had (1) or not (0). */
EXPORT("remembered_current") uint32_t remembered_current(void) { return vmw_region_current(&remembered) ? 1 : 0; }
