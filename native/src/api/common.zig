//! The C ABI's shared pieces: result conversion, the ABI version and the last-error message.

const errors = @import("../errors.zig");
const layout = @import("../layout.zig");
const engine = @import("../engine.zig");
const Result = errors.Result;

pub fn to_result(value: errors.Error!void) Result {
    value catch |err| return errors.result_from_error(err);
    return .ok;
}

/// `flags` of vmw_guest_compile and vmw_module_compile (VMW_GUEST_*).
pub const flag_interruptible: u32 = 1;
pub const flag_metered: u32 = 2;
const flags_all = flag_interruptible | flag_metered;

/// The engine `flags` select; InvalidArgument for unknown bits.
pub fn engine_kind(flags: u32) errors.Error!engine.Kind {
    if (flags & ~flags_all != 0) return errors.fail(error.InvalidArgument, "unknown flags 0x{x}", .{flags & ~flags_all});
    return if (flags & flag_metered != 0) .metered else if (flags & flag_interruptible != 0) .interruptible else .plain;
}

pub export fn vmw_abi_version() u32 {
    return layout.abi_version;
}

pub export fn vmw_last_error_message() [*:0]const u8 {
    return errors.last_message();
}

