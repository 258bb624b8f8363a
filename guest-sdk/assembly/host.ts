// Calls from the guest to its host: logging, flushing a region, releasing a region's pages from
// memory, asking for a mapping. Each is an import in the `vmw` module that the host may implement
// or refuse (docs: native/include/vmwindow.h).
// Strings are passed as UTF-8 encoded into a static buffer: nothing here allocates.

// @ts-ignore: decorator
@external("vmw", "log")
declare function vmw_log(level: i32, ptr: usize, len: usize): void;
// @ts-ignore: decorator
@external("vmw", "flush")
declare function vmw_flush(id: u32): i32;
// @ts-ignore: decorator
@external("vmw", "map")
declare function vmw_map(ptr: usize, len: usize, access: u32): i32;

// @ts-ignore: decorator
@external("vmw", "release")
declare function vmw_release(id: u32, offset: usize, length: usize): i32;
// Not used here (AssemblyScript's abort is env.abort); declared as the definition lists it.
// @ts-ignore: decorator
@external("vmw", "fail")
declare function vmw_fail(ptr: usize, len: usize): void;

/** Host answers (VMW_HOST_* in vmwindow.h). */
// @ts-ignore: decorator
@inline export const HOST_REFUSED: i32 = -1;
// @ts-ignore: decorator
@inline export const HOST_NOT_MAPPED: i32 = -2;
// @ts-ignore: decorator
@inline export const HOST_FAILED: i32 = -3;

/** Longest text passed to the host in one call, in UTF-8 bytes (longer text is truncated). */
// @ts-ignore: decorator
@inline export const HOST_TEXT_MAX_BYTES: usize = 1024;

// @ts-ignore: decorator
@lazy const textBuffer: usize = memory.data(<i32>HOST_TEXT_MAX_BYTES, 16);

/** Encodes `s` as UTF-8 into the static buffer; returns the byte length (truncated, never split). */
export function encodeText(s: string): usize {
  let src = changetype<usize>(s);
  let n = <usize>s.length;
  let out: usize = 0;
  for (let i: usize = 0; i < n; ++i) {
    let c = <u32>load<u16>(src + (i << 1));
    if (c >= 0xd800 && c < 0xdc00 && i + 1 < n) {
      let d = <u32>load<u16>(src + ((i + 1) << 1));
      if (d >= 0xdc00 && d < 0xe000) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        ++i;
      }
    }
    if (c >= 0xd800 && c < 0xe000) c = 0xfffd; // lone surrogate
    let bytes: usize = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
    if (out + bytes > HOST_TEXT_MAX_BYTES) break;
    let dst = textBuffer + out;
    if (bytes == 1) {
      store<u8>(dst, <u8>c);
    } else if (bytes == 2) {
      store<u8>(dst, <u8>(0xc0 | (c >> 6)));
      store<u8>(dst, <u8>(0x80 | (c & 0x3f)), 1);
    } else if (bytes == 3) {
      store<u8>(dst, <u8>(0xe0 | (c >> 12)));
      store<u8>(dst, <u8>(0x80 | ((c >> 6) & 0x3f)), 1);
      store<u8>(dst, <u8>(0x80 | (c & 0x3f)), 2);
    } else {
      store<u8>(dst, <u8>(0xf0 | (c >> 18)));
      store<u8>(dst, <u8>(0x80 | ((c >> 12) & 0x3f)), 1);
      store<u8>(dst, <u8>(0x80 | ((c >> 6) & 0x3f)), 2);
      store<u8>(dst, <u8>(0x80 | (c & 0x3f)), 3);
    }
    out += bytes;
  }
  return out;
}

/** Address of the encoded text (valid until the next encodeText). */
// @ts-ignore: decorator
@inline export function encodedText(): usize {
  return textBuffer;
}

/** Sends `text` to the host's logger (`log` option of `window.instantiate`); discarded if none. */
export function log(text: string, level: i32 = 0): void {
  let len = encodeText(text);
  vmw_log(level, textBuffer, len);
}

/** msync of read-write region `id`: 0, or HOST_REFUSED / HOST_NOT_MAPPED / HOST_FAILED. */
export function flushRegion(id: u32): i32 {
  return vmw_flush(id);
}

/** Drops `[offset, offset + length)` of file region `id` from resident memory (bytes unchanged):
 * 0, or HOST_NOT_MAPPED / HOST_REFUSED / HOST_FAILED. */
export function releaseRegionPages(id: u32, offset: usize, length: usize): i32 {
  return vmw_release(id, offset, length);
}

/** Asks the host to map `name`; returns the new region id (> 0) or HOST_REFUSED / a negative code. */
export function requestMapping(name: string, writable: bool): i32 {
  let len = encodeText(name);
  return vmw_map(textBuffer, len, writable ? 3 : 1);
}
