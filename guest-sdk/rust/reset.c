/* __vmw_reset_stack for Rust guests (docs/guest-rust.md). The host calls this export after a call
 * that trapped or timed out: a trap skips the epilogues that would have raised the stack pointer
 * (a wasm global), so without it every such trap leaks the trapped frames' stack. Stable Rust has
 * no inline assembly for wasm32, so this one function is C, linked into the cdylib:
 *   zig cc --target=wasm32-freestanding -mcpu=mvp -O2 -c guest-sdk/rust/reset.c -o build/vmwindow_reset.o
 *   rustc ... -C link-arg=build/vmwindow_reset.o
 * (clang --target=wasm32 -c works the same.) rustc links wasm32 with --stack-first, so the stack
 * ends where static data begins, at __dso_handle. It also tells the crate that no Regions is
 * lent any more (a trap inside with_regions skipped the end of it). */
#define VMW_NO_RESET_STACK /* the header's own reset is for C guests; this one is Rust's */
#include "../c/vmwindow_guest.h" /* VMW_RESET_STACK_EXPORT */

extern char __dso_handle;
/* The crate's with_regions flag: the trap skipped its end, and no guest frame is live now. */
extern void __vmw_guest_after_trap(void);

__attribute__((export_name(VMW_RESET_STACK_EXPORT))) void vmw_reset_stack(void) {
  __asm__ volatile("local.get %0\n\tglobal.set __stack_pointer" : : "r"(&__dso_handle));
  __vmw_guest_after_trap();
}
