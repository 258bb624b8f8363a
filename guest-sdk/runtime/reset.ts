// Exports `__vmw_reset_stack`, which the host calls after a call that trapped or timed out: a trap
// unwinds wasm frames without running their epilogues, so AssemblyScript's shadow stack pointer
// (a plain wasm global) would stay lowered by the trapped frames, and every trap would leak stack
// until calls that need it abort. Resetting it is safe because no guest frame is live then.

// Read once at start: the global's initial value is the top of the shadow stack.
const initialStackPointer: usize = __stack_pointer;

export function __vmw_reset_stack(): void {
  __stack_pointer = initialStackPointer;
}
