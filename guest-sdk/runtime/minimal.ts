// vmwindow confined minimal runtime: TLSF + two-color mark & sweep, with the heap confined to the
// guest area. Like upstream `minimal`, collection never runs by itself: the host (or the guest,
// at a point where no managed references live only in locals) calls `__collect()`; build with
// `--exportRuntime` to export it. Running out of heap aborts without collecting.
// Select with `--runtime node_modules/@vmwindow/guest/runtime/minimal`.
import "./tlsf";
import "./tcms";

// The host resets the shadow stack after a trap (see ./reset).
export * from "./reset";
