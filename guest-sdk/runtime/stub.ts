// vmwindow confined stub runtime (bump allocator, never collects): the SDK default.
// Select with `--runtime node_modules/@vmwindow/guest/runtime/stub` (asc reads a custom runtime path
// relative to the working directory, not to asconfig.json). Only imports, so that the runtime's
// functions are not exported from the guest.
import "./bump";

// The host resets the shadow stack after a trap (see ./reset).
export * from "./reset";
