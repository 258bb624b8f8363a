//! libvmwindow's root: the C ABI (documented in include/vmwindow.h), one file per area under
//! api/. Each exported function is a thin wrapper that checks its arguments, calls into the area
//! that implements it (window.zig, guest.zig) and turns a Zig error into a `vmw_result_t`.

pub const common = @import("api/common.zig");
pub const window = @import("api/window.zig");
pub const guest = @import("api/guest.zig");
pub const module = @import("api/module.zig");

comptime {
    _ = common;
    _ = window;
    _ = guest;
    _ = module;
}

test {
    _ = @import("errors.zig");
    _ = @import("layout.zig");
    _ = @import("table.zig");
    _ = @import("slots.zig");
    _ = @import("engine.zig");
    _ = @import("window.zig");
    _ = @import("map_budget.zig");
    _ = @import("wasmtime_check.zig");
    _ = @import("interrupts.zig");
    _ = @import("guest.zig");
    _ = @import("tests.zig");
    _ = @import("window_tests.zig");
    _ = @import("module_check.zig");
    _ = @import("bulk_memory.zig");
    _ = @import("wasm_binary.zig");
    _ = @import("traps.zig");
}
