// vmwindow ABI v1: window layout and region-table field offsets.
// The one authoritative description is docs/abi.md; native/src/table.zig writes these, this reads them.
// All integers are little-endian (as is wasm).

// === Window layout ===

// @ts-ignore: decorator
@inline export const ABI_VERSION: u32 = 1;
/** `VMW` `T` as a little-endian u32: the bytes 56 4D 57 54. */
// @ts-ignore: decorator
@inline export const MAGIC: u32 = 0x54574D56;
/** Slot alignment (= one wasm page). */
// @ts-ignore: decorator
@inline export const PAGE_BYTES: usize = 65536;
/** Window offset of the region table (right after the null page). */
// @ts-ignore: decorator
@inline export const TABLE_OFFSET: usize = 0x0001_0000;
/** Bytes reserved for the region table (only `table_bytes` of them are backed). */
// @ts-ignore: decorator
@inline export const TABLE_MAX_BYTES: usize = 0x0020_0000;
/** First byte of the guest area (static data, stack, heap); guests build with `--memoryBase 2162688`. */
// @ts-ignore: decorator
@inline export const GUEST_BASE: usize = 0x0021_0000;
// @ts-ignore: decorator
@inline export const HEADER_BYTES: usize = 64;
// @ts-ignore: decorator
@inline export const ENTRY_BYTES: usize = 64;
// @ts-ignore: decorator
@inline export const NAME_MAX_BYTES: usize = 24;
/** `(TABLE_MAX_BYTES - HEADER_BYTES) / ENTRY_BYTES` */
// @ts-ignore: decorator
@inline export const TABLE_MAX_CAPACITY: u32 = 32767;
/** Largest window: the whole 32-bit address space (65,536 wasm pages). */
// @ts-ignore: decorator
@inline export const WINDOW_MAX_BYTES: u64 = 0x1_0000_0000;

// === Header (64 bytes at TABLE_OFFSET) ===

// @ts-ignore: decorator
@inline export const HEADER_MAGIC: usize = 0;        // u32
// @ts-ignore: decorator
@inline export const HEADER_ABI_VERSION: usize = 4;  // u32
// @ts-ignore: decorator
@inline export const HEADER_HEADER_BYTES: usize = 8; // u32
// @ts-ignore: decorator
@inline export const HEADER_ENTRY_BYTES: usize = 12; // u32
// @ts-ignore: decorator
@inline export const HEADER_CAPACITY: usize = 16;    // u32, region ids are 1..=capacity
// @ts-ignore: decorator
@inline export const HEADER_COUNT: usize = 20;       // u32, live regions
// @ts-ignore: decorator
@inline export const HEADER_GENERATION: usize = 24;  // u32, seqlock: odd while the host writes
// @ts-ignore: decorator
@inline export const HEADER_RESERVED0: usize = 28;   // u32
// @ts-ignore: decorator
@inline export const HEADER_WINDOW_BYTES: usize = 32; // u64
// @ts-ignore: decorator
@inline export const HEADER_GUEST_BASE: usize = 40;  // u64
// @ts-ignore: decorator
@inline export const HEADER_GUEST_BYTES: usize = 48; // u64
// @ts-ignore: decorator
@inline export const HEADER_SLOTS_BASE: usize = 56;  // u64

// === Entry (64 bytes), id k at TABLE_OFFSET + HEADER_BYTES + (k - 1) * ENTRY_BYTES ===

// @ts-ignore: decorator
@inline export const ENTRY_OFFSET_BYTES: usize = 0;  // u64, window offset of the first byte; 0 when free
// @ts-ignore: decorator
@inline export const ENTRY_LENGTH_BYTES: usize = 8;  // u64
// @ts-ignore: decorator
@inline export const ENTRY_SLOT_BYTES: usize = 16;   // u64, length rounded up to PAGE_BYTES
// @ts-ignore: decorator
@inline export const ENTRY_ID: usize = 24;           // u32
// @ts-ignore: decorator
@inline export const ENTRY_GENERATION: usize = 28;   // u32
// @ts-ignore: decorator
@inline export const ENTRY_STATE: usize = 32;        // u32
// @ts-ignore: decorator
@inline export const ENTRY_ACCESS: usize = 36;       // u32
// @ts-ignore: decorator
@inline export const ENTRY_NAME: usize = 40;         // u8[NAME_MAX_BYTES], UTF-8, NUL-padded

// @ts-ignore: decorator
@inline export const STATE_FREE: u32 = 0;
// @ts-ignore: decorator
@inline export const STATE_LIVE: u32 = 1;
// @ts-ignore: decorator
@inline export const ACCESS_READ: u32 = 1;
// @ts-ignore: decorator
@inline export const ACCESS_WRITE: u32 = 2;
/** Anonymous scratch memory (not a file). */
// @ts-ignore: decorator
@inline export const ACCESS_ANONYMOUS: u32 = 4;
/** Part of the region faulted: its file shrank after it was mapped; those pages read as zeros. */
// @ts-ignore: decorator
@inline export const ACCESS_DAMAGED: u32 = 8;

/** Window address of entry `id` (1-based; no range check). */
// @ts-ignore: decorator
@inline export function entryAddress(id: u32): usize {
  return TABLE_OFFSET + HEADER_BYTES + (<usize>(id - 1) * ENTRY_BYTES);
}

// Compile-time consistency checks (a constant condition: only a mismatch emits anything).
if (
  (TABLE_MAX_BYTES - HEADER_BYTES) / ENTRY_BYTES != <usize>TABLE_MAX_CAPACITY ||
  GUEST_BASE != TABLE_OFFSET + TABLE_MAX_BYTES ||
  ENTRY_NAME + NAME_MAX_BYTES != ENTRY_BYTES ||
  HEADER_SLOTS_BASE + 8 != HEADER_BYTES
) ERROR("vmwindow: inconsistent ABI constants in abi.ts");
