//! The C ABI's shared pieces: result conversion, the ABI version and the last-error message.

const errors = @import("../errors.zig");
const layout = @import("../layout.zig");
const Result = errors.Result;

pub fn to_result(value: errors.Error!void) Result {
    value catch |err| return errors.result_from_error(err);
    return .ok;
}

pub export fn vmw_abi_version() u32 {
    return layout.abi_version;
}

pub export fn vmw_last_error_message() [*:0]const u8 {
    return errors.last_message();
}

