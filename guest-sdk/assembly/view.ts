// Typed views of a region's bytes: View<T> (numbers) and RecordView<T> (`@unmanaged` records).
// Like Region, a view *is* the address of the region's table entry, so it costs nothing to make
// and always sees the entry's current mapping; `[i]` is bounds-checked against the entry's length.

import { begin, text, number, fail } from "./panic";
import { Region } from "./region";

/**
 * Typed elements of a region: `length` = floor(region bytes / sizeof<T>()).
 * `[i]` / `[i] = v` are bounds-checked and abort naming the region; `{i}` / `{i} = v` are not.
 * Like Region it aliases the table entry (a view *is* the entry's address), so it always sees the
 * entry's current mapping: after an unmap its length is 0 and `[i]` aborts; after a remap, or after
 * the id is reused for another file, it reads the new bytes. Use views within a call; across calls
 * keep `region.handle` and `regions.resolve(handle)` (aborts if the region changed).
 *
 *   view --> table entry (0x10000 + 64 * id)          window
 *            | offset u64 | length u64 | ... |  -->  | slot: offset .. offset + length |
 *   view[i] = load<T>(entry.offset + i * sizeof<T>), after i < entry.length / sizeof<T>
 *   (two table loads + the element per access: Cranelift does not hoist loads out of loops)
 */
@unmanaged
export class View<T> {
  // @ts-ignore: decorator
  @inline get region(): Region {
    return changetype<Region>(this);
  }
  /** The region's generation now (compare with one saved earlier to see whether it changed). */
  // @ts-ignore: decorator
  @inline get generation(): u32 {
    return this.region.generation;
  }
  /** Address of element 0. */
  // @ts-ignore: decorator
  @inline get dataStart(): usize {
    return this.region.offset;
  }
  /** Number of whole elements. */
  // @ts-ignore: decorator
  @inline get length(): usize {
    return this.region.length >>> alignof<T>();
  }

  // @ts-ignore: decorator
  @operator("[]") @inline get(index: usize): T {
    if (index >= this.length) outOfRange(changetype<usize>(this), index);
    return load<T>(this.dataStart + (index << alignof<T>()));
  }
  // @ts-ignore: decorator
  @operator("[]=") @inline set(index: usize, value: T): void {
    if (index >= this.length) outOfRange(changetype<usize>(this), index);
    store<T>(this.dataStart + (index << alignof<T>()), value);
  }
  // @ts-ignore: decorator
  @operator("{}") @inline getUnchecked(index: usize): T {
    return load<T>(this.dataStart + (index << alignof<T>()));
  }
  // @ts-ignore: decorator
  @operator("{}=") @inline setUnchecked(index: usize, value: T): void {
    store<T>(this.dataStart + (index << alignof<T>()), value);
  }
}

// Cold path, kept out of line so inlined accessors stay small. The inlined part ends in
// `unreachable()`: the call never returns (fail() aborts), and saying so lets Cranelift keep a
// loop's accumulators in registers. Without it, a call inside the loop body means every value live
// across it (an f64 sum, the index) is spilled to the stack and reloaded each element: the README's
// f64 sum ran at 2.5 GB/s with the spill, 4.1 GB/s without (64 MiB, Wasmtime 49, see
// docs/performance.md "Element access").
// @ts-ignore: decorator
@inline function outOfRange(entry: usize, index: usize): void {
  outOfRangeCold(entry, index);
  unreachable(); // tells the compilers the call never returns: nothing stays live across it
}

function outOfRangeCold(entry: usize, index: usize): void {
  let region = changetype<Region>(entry);
  begin();
  text("vmwindow: index ");
  number(index);
  text(" out of range for region ");
  number(region.id);
  text(" (");
  number(region.length);
  text(" bytes)");
  fail();
}

/**
 * Records of an `@unmanaged` class `T` over a region: `length` = floor(bytes / offsetof<T>()),
 * `[i]` returns the record at `offset + i * offsetof<T>()` (bounds-checked, aborts naming the
 * region), `unchecked(view[i])` skips the check. A record is a view: its fields load from the file.
 */
@unmanaged
export class RecordView<T> {
  // @ts-ignore: decorator
  @inline get region(): Region {
    return changetype<Region>(this);
  }
  /** Bytes per record. */
  // @ts-ignore: decorator
  @inline get stride(): usize {
    return offsetof<T>();
  }
  // @ts-ignore: decorator
  @inline get dataStart(): usize {
    return this.region.offset;
  }
  // @ts-ignore: decorator
  @inline get length(): usize {
    return this.region.length / offsetof<T>();
  }
  // @ts-ignore: decorator
  @operator("[]") @inline get(index: usize): T {
    if (index >= this.length) recordOutOfRange(changetype<usize>(this), index, offsetof<T>());
    return changetype<T>(this.dataStart + index * offsetof<T>());
  }
  // @ts-ignore: decorator
  @operator("{}") @inline getUnchecked(index: usize): T {
    return changetype<T>(this.dataStart + index * offsetof<T>());
  }
}

// Cold path, as outOfRange above.
// @ts-ignore: decorator
@inline function recordOutOfRange(entry: usize, index: usize, stride: usize): void {
  recordOutOfRangeCold(entry, index, stride);
  unreachable();
}

function recordOutOfRangeCold(entry: usize, index: usize, stride: usize): void {
  let region = changetype<Region>(entry);
  begin();
  text("vmwindow: record ");
  number(index);
  text(" out of range for region ");
  number(region.id);
  text(" (");
  number(region.length / stride);
  text(" records of ");
  number(stride);
  text(" bytes)");
  fail();
}
