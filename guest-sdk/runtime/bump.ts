// Confined stub runtime: AssemblyScript's bump allocator (std/assembly/rt/stub.ts, Apache-2.0)
// with a heap that ends at guest_base + guest_bytes from the region table instead of growing
// memory. Never frees (except the most recent block); `__reset()` discards everything.
// Entry point: runtime/stub.ts (`--runtime node_modules/@vmwindow/guest/runtime/stub`).

import { AL_MASK, OBJECT, OBJECT_OVERHEAD, BLOCK_MAXSIZE, BLOCK_OVERHEAD, BLOCK } from "~lib/rt/common";
import { heapEnd, exhausted, HEAP_BASE_GAP } from "./heap";

// @ts-ignore: decorator
@lazy let startOffset: usize = ((__heap_base + HEAP_BASE_GAP + BLOCK_OVERHEAD + AL_MASK) & ~AL_MASK) - BLOCK_OVERHEAD;
// @ts-ignore: decorator
@lazy let offset: usize = startOffset;
// @ts-ignore: decorator
@lazy let endOffset: usize = 0; // read from the table on first allocation

// @ts-ignore: decorator
@inline function computeSize(size: usize): usize {
  return ((size + BLOCK_OVERHEAD + AL_MASK) & ~AL_MASK) - BLOCK_OVERHEAD;
}

/** Moves the bump pointer to `newOffset` (aligned), aborting if it would leave the guest area. */
function bump(newOffset: usize, size: usize): void {
  let end = endOffset;
  if (!end) endOffset = end = heapEnd();
  if (newOffset > end || newOffset < offset) exhausted(size); // `<`: address overflow
  offset = newOffset;
}

// @ts-ignore: decorator
@unsafe @global
export function __alloc(size: usize): usize {
  if (size > BLOCK_MAXSIZE) exhausted(size);
  let block = changetype<BLOCK>(offset);
  let ptr = offset + BLOCK_OVERHEAD;
  let payloadSize = computeSize(size);
  bump(ptr + payloadSize, size);
  block.mmInfo = payloadSize;
  return ptr;
}

// @ts-ignore: decorator
@unsafe @global
export function __realloc(ptr: usize, size: usize): usize {
  assert(ptr != 0 && !(ptr & AL_MASK)); // must exist and be aligned
  let block = changetype<BLOCK>(ptr - BLOCK_OVERHEAD);
  let actualSize = block.mmInfo;
  let isLast = ptr + actualSize == offset;
  if (size > BLOCK_MAXSIZE) exhausted(size);
  let payloadSize = computeSize(size);
  if (size > actualSize) {
    if (isLast) { // last block: grow in place
      bump(ptr + payloadSize, size);
      block.mmInfo = payloadSize;
    } else { // copy to new block at least double the size
      let newPtr = __alloc(max<usize>(payloadSize, actualSize << 1));
      memory.copy(newPtr, ptr, actualSize);
      block = changetype<BLOCK>((ptr = newPtr) - BLOCK_OVERHEAD);
    }
  } else if (isLast) { // last block: shrink
    offset = ptr + payloadSize;
    block.mmInfo = payloadSize;
  }
  return ptr;
}

// @ts-ignore: decorator
@unsafe @global
export function __free(ptr: usize): void {
  assert(ptr != 0 && !(ptr & AL_MASK)); // must exist and be aligned
  let block = changetype<BLOCK>(ptr - BLOCK_OVERHEAD);
  if (ptr + block.mmInfo == offset) { // last block: discard
    offset = changetype<usize>(block);
  }
}

// @ts-ignore: decorator
@unsafe @global
export function __reset(): void { // special
  offset = startOffset;
}

// @ts-ignore: decorator
@unsafe @global
export function __new(size: usize, id: u32): usize {
  if (size > BLOCK_MAXSIZE - OBJECT_OVERHEAD) exhausted(size);
  let ptr = __alloc(OBJECT_OVERHEAD + size);
  let object = changetype<OBJECT>(ptr - BLOCK_OVERHEAD);
  object.gcInfo = 0;
  object.gcInfo2 = 0;
  object.rtId = id;
  object.rtSize = <u32>size;
  ptr += OBJECT_OVERHEAD;
  // A custom runtime compiles as ASC_RUNTIME == Incremental, so std (ArrayBuffer, Array, ...)
  // expects zeroed objects from __new; freed/reset memory may be dirty.
  memory.fill(ptr, 0, size);
  return ptr;
}

// @ts-ignore: decorator
@unsafe @global
export function __renew(oldPtr: usize, size: usize): usize {
  if (size > BLOCK_MAXSIZE - OBJECT_OVERHEAD) exhausted(size);
  let oldSize = <usize>changetype<OBJECT>(oldPtr - OBJECT_OVERHEAD - BLOCK_OVERHEAD).rtSize;
  let newPtr = __realloc(oldPtr - OBJECT_OVERHEAD, OBJECT_OVERHEAD + size) + OBJECT_OVERHEAD;
  changetype<OBJECT>(newPtr - OBJECT_OVERHEAD - BLOCK_OVERHEAD).rtSize = <u32>size;
  if (size > oldSize) memory.fill(newPtr + oldSize, 0, size - oldSize);
  return newPtr;
}

// @ts-ignore: decorator
@global @unsafe
export function __link(parentPtr: usize, childPtr: usize, expectMultiple: bool): void {
  // nop
}

// @ts-ignore: decorator
@global @unsafe
export function __pin(ptr: usize): usize {
  return ptr;
}

// @ts-ignore: decorator
@global @unsafe
export function __unpin(ptr: usize): void {
  // nop
}

// @ts-ignore: decorator
@global @unsafe
function __visit(ptr: usize, cookie: u32): void { // eslint-disable-line @typescript-eslint/no-unused-vars
  // nop
}

// @ts-ignore: decorator
@global @unsafe
export function __collect(): void {
  // nop
}
