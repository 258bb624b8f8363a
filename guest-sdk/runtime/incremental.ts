// vmwindow confined incremental runtime: TLSF + upstream incremental GC (~lib/rt/itcms), with
// the heap confined to the guest area. When the heap is full, a full collection runs before
// giving up ("vmwindow: guest heap exhausted (N bytes requested)").
// Select with `--runtime node_modules/@vmwindow/guest/runtime/incremental`.

// Read by ./tlsf via isDefined(): collecting inside an allocation is safe with itcms (it keeps
// managed locals on the shadow stack), not with tcms.
// @ts-ignore: decorator
@global @inline const VMW_COLLECT_ON_EXHAUSTION = true;

import "./tlsf";
import "~lib/rt/itcms";

// The host resets the shadow stack after a trap (see ./reset).
export * from "./reset";
