// Region: a zero-cost view over one region-table entry. `changetype<Region>(entryAddress)`: every
// getter is a single load from the (host-written, read-only) table, nothing is copied or allocated,
// and a region that gets unmapped reads as length 0 from then on. Its typed element views
// (`view<T>()`, `array<T>()`) are in view.ts.

import {
  ENTRY_OFFSET_BYTES, ENTRY_LENGTH_BYTES, ENTRY_SLOT_BYTES, ENTRY_ID, ENTRY_GENERATION,
  ENTRY_STATE, ENTRY_ACCESS, ENTRY_NAME, STATE_LIVE, ACCESS_WRITE, ACCESS_ANONYMOUS, ACCESS_DAMAGED, NAME_MAX_BYTES
} from "./abi";
import { View, RecordView } from "./view";
import { flushRegion, releaseRegionPages, encodeText, encodedText } from "./host";

@unmanaged
export class Region {
  /** Region id (1-based index into the table). */
  // @ts-ignore: decorator
  @inline get id(): u32 {
    return load<u32>(changetype<usize>(this), ENTRY_ID);
  }
  /** Window address (= wasm address) of the region's first byte; a multiple of 64 KiB. */
  // @ts-ignore: decorator
  @inline get offset(): usize {
    return <usize>load<u64>(changetype<usize>(this), ENTRY_OFFSET_BYTES);
  }
  /** Length in bytes. */
  // @ts-ignore: decorator
  @inline get length(): usize {
    return <usize>load<u64>(changetype<usize>(this), ENTRY_LENGTH_BYTES);
  }
  /** Bytes reserved for the slot (length rounded up to 64 KiB). */
  // @ts-ignore: decorator
  @inline get slotBytes(): usize {
    return <usize>load<u64>(changetype<usize>(this), ENTRY_SLOT_BYTES);
  }
  /** Bumped each time this id is mapped, remapped, resized or unmapped. */
  // @ts-ignore: decorator
  @inline get generation(): u32 {
    return load<u32>(changetype<usize>(this), ENTRY_GENERATION);
  }
  /**
   * `(generation << 32) | id`: a plain u64 naming this mapping of this id. Keep it (not the
   * Region or a View) across calls and get the region back with `regions.resolve(handle)`, which
   * aborts if the host changed the region since: an id can be reused by another file after an
   * unmap, so a kept Region or View would silently follow the new file.
   */
  // @ts-ignore: decorator
  @inline get handle(): u64 {
    return (<u64>this.generation << 32) | <u64>this.id;
  }
  // @ts-ignore: decorator
  @inline get live(): bool {
    return load<u32>(changetype<usize>(this), ENTRY_STATE) == STATE_LIVE;
  }
  /** Whether the guest may store into the region (stores into a read-only region trap). */
  // @ts-ignore: decorator
  @inline get writable(): bool {
    return (load<u32>(changetype<usize>(this), ENTRY_ACCESS) & ACCESS_WRITE) != 0;
  }
  /** Anonymous scratch memory rather than a file. */
  // @ts-ignore: decorator
  @inline get anonymous(): bool {
    return (load<u32>(changetype<usize>(this), ENTRY_ACCESS) & ACCESS_ANONYMOUS) != 0;
  }
  /** Its file shrank after it was mapped: the lost pages read as zeros (the first access trapped). */
  // @ts-ignore: decorator
  @inline get damaged(): bool {
    return (load<u32>(changetype<usize>(this), ENTRY_ACCESS) & ACCESS_DAMAGED) != 0;
  }
  /** Window address of the NUL-padded UTF-8 name (24 bytes). */
  // @ts-ignore: decorator
  @inline get nameAddress(): usize {
    return changetype<usize>(this) + ENTRY_NAME;
  }
  /** Address one past the last byte. */
  // @ts-ignore: decorator
  @inline get end(): usize {
    return this.offset + this.length;
  }

  /**
   * The region as an array of records of the user's `@unmanaged` class `T` (its fields laid out
   * by declaration, `offsetof<T>()` bytes per record). Free: the view aliases the table entry.
   */
  // @ts-ignore: decorator
  @inline array<T>(): RecordView<T> {
    if (!isReference<T>() || isManaged<T>()) ERROR("vmwindow: array<T> needs an @unmanaged class T");
    return changetype<RecordView<T>>(this);
  }

  /**
   * Writes this read-write region's changes to its file (msync) through the host. Returns 0, or
   * HOST_REFUSED (the host did not allow flushing), HOST_NOT_MAPPED, HOST_FAILED.
   */
  flush(): i32 {
    return flushRegion(this.id);
  }

  /**
   * Takes bytes `[offset, offset + length)` of this file region out of the process's resident
   * memory through the host: they read the same afterwards (faulted back in from the page cache).
   * Call it behind a scan of a region larger than the memory you want to hold. `offset` is a
   * multiple of the OS page size (4096; 16384 on macOS arm64). Returns 0, or HOST_NOT_MAPPED,
   * HOST_REFUSED (anonymous region, unaligned offset, zero length, range outside the region),
   * HOST_FAILED.
   */
  releasePages(offset: usize, length: usize): i32 {
    return releaseRegionPages(this.id, offset, length);
  }

  /** Whether the region's name is `name` (compared as UTF-8, at most 24 bytes). */
  hasName(name: string): bool {
    return nameMatches(changetype<usize>(this) + ENTRY_NAME, name);
  }

  /** A typed view of the region's bytes. Free: the view aliases the table entry. */
  // @ts-ignore: decorator
  @inline view<T>(): View<T> {
    if (!(isInteger<T>() || isFloat<T>()) || isBoolean<T>() || isVector<T>()) {
      ERROR("vmwindow: view<T> needs T in u8, i8, u16, i16, u32, i32, u64, i64, f32, f64");
    }
    return changetype<View<T>>(this);
  }
}

/** Compares a NUL-padded 24-byte UTF-8 name at `address` with `name`. */
export function nameMatches(address: usize, name: string): bool {
  let len = encodeText(name);
  if (len > NAME_MAX_BYTES) return false;
  let encoded = encodedText();
  for (let i: usize = 0; i < len; ++i) {
    if (load<u8>(address + i) != load<u8>(encoded + i)) return false;
  }
  return len == NAME_MAX_BYTES || load<u8>(address + len) == 0;
}
