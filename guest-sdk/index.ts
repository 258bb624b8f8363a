// @vmwindow/guest: zero-copy access to host files mapped into this guest's linear memory.
//
//   import { regions } from "@vmwindow/guest";
//   let bytes = regions.get(id).view<u8>();
//   for (let i: usize = 0, n = bytes.length; i < n; ++i) sum += bytes[i];
//   let lines = countByte(bytes.dataStart, bytes.length, 0x0a);   // SIMD scans: assembly/scan.ts

export * from "./assembly/abi";
export { Region } from "./assembly/region";
export { View, RecordView } from "./assembly/view";
export { log, releaseRegionPages, HOST_REFUSED, HOST_NOT_MAPPED, HOST_FAILED, HOST_TEXT_MAX_BYTES } from "./assembly/host";
export { RegionTable, regions } from "./assembly/table";
export {
  indexOfByte, lastIndexOfByte, countByte, indexOfAny, hashBytes, bytesEqual, startsWith, equalsText, startsWithText,
  copyBytes, copyToBuffer, Cursor, Tokens, parseInteger, parseDecimal, parsedBytes,
  sumI32, sumI64, sumF32, sumF64, minOf, maxOf,
  sumI32At, sumI64At, sumF32At, sumF64At, minI32At, maxI32At, minI64At, maxI64At, minF32At, maxF32At, minF64At, maxF64At
} from "./assembly/scan";
