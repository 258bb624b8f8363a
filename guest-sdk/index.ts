// @vmwindow/guest: zero-copy access to host files mapped into this guest's linear memory.
//
//   import { regions } from "@vmwindow/guest";
//   let bytes = regions.get(id).view<u8>();
//   for (let i: usize = 0, n = bytes.length; i < n; ++i) sum += bytes[i];

export * from "./assembly/abi";
export { Region, View, RecordView } from "./assembly/region";
export { log, releaseRegionPages, HOST_REFUSED, HOST_NOT_MAPPED, HOST_FAILED, HOST_TEXT_MAX_BYTES } from "./assembly/host";
export { RegionTable, regions } from "./assembly/table";
