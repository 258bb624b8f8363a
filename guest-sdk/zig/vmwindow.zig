//! vmwindow guests in Zig (docs/guest-zig.md): the region table read in place, regions as slices,
//! the built-in "vmw" imports and scanning primitives. Nothing here allocates.
//!
//! A guest runs with the window as its linear memory: a region's bytes are at a window address,
//! so `region.bytes` is an ordinary slice over the file's pages (no copy). Build with the helper
//! in build.zig (`add_guest`): it imports the window as memory, puts static data at the guest area
//! and leaves out reference types, whose call_indirect encoding vmwindow's engine refuses. (Bulk
//! memory may be on: vmwindow rewrites memory.copy / memory.fill into wasm code.)

const std = @import("std");
const builtin = @import("builtin");

pub const abi = @import("abi.zig");

comptime {
    if (builtin.cpu.arch != .wasm32) @compileError("vmwindow guests are wasm32 (use add_guest in guest-sdk/zig/build.zig)");
    if (std.Target.wasm.featureSetHas(builtin.cpu.features, .reference_types)) {
        @compileError("reference types are enabled (Zig's default wasm32 CPU has them), and vmwindow's engine refuses their call_indirect encoding: build for cpu mvp+simd128+sign_ext (add_guest does)");
    }
}

/// Level passed to the host's logger by `fail`.
pub const log_error: i32 = 3;

/// The table header (read-only; a store to it traps).
pub inline fn header() *const abi.TableHeader {
    return @ptrFromInt(abi.table_offset);
}

/// Entry `id` whatever its state; `id` must be in 1..capacity (no check).
pub inline fn entry(id: u32) *const abi.TableEntry {
    return @ptrFromInt(abi.table_offset + abi.header_bytes + @as(usize, id - 1) * abi.entry_bytes);
}

/// The table's change counter: any map, remap, resize or unmap changes it.
pub inline fn generation() u32 {
    return header().generation;
}

/// Sends `text` to the host's logger (discarded when the host has none).
pub fn log(level: i32, text: []const u8) void {
    abi.host.log(level, text.ptr, text.len);
}

/// Logs `why` and traps with it: the host sees a GuestTrap / VMW_ERR_TRAP whose reason is
/// "abort: WHY" (vmw.fail).
pub fn fail(why: []const u8) noreturn {
    @branchHint(.cold);
    log(log_error, why);
    abi.host.fail(why.ptr, why.len);
    @trap(); // vmw.fail never returns
}

/// End of the linker's static data and stack.
extern var __heap_base: u8;

/// Whether this is a vmwindow window of this ABI and the guest's static data and stack (everything
/// below `__heap_base`) fit its guest area.
pub fn valid() bool {
    const h = header();
    return h.magic == abi.table_magic and h.abi_version == abi.abi_version and
        h.header_bytes == abi.header_bytes and h.entry_bytes == abi.entry_bytes and
        h.guest_base == abi.guest_base and @intFromPtr(&__heap_base) <= h.guest_base + h.guest_bytes;
}

var checked = false;

/// Traps with a logged reason unless `valid()`. The lookups below call it once.
pub fn check() void {
    if (checked) return;
    const h = header();
    if (h.magic != abi.table_magic) fail("vmwindow: no region table at 0x10000; is this guest running in a vmwindow window?");
    if (h.abi_version != abi.abi_version) fail("vmwindow: the region table has another ABI version");
    if (!valid()) fail("vmwindow: the guest's stack and static data do not fit the window's guest area (smaller stack_size, or a larger guestBytes)");
    checked = true;
}

/// End of the stack (its initial stack pointer), defined by the linker.
extern var __stack_high: u8;

/// Exported as `__vmw_reset_stack`; the host calls it after a call that trapped or timed out: a
/// trap skips the epilogues that would have raised the stack pointer (a wasm global), so without
/// it every such trap would leak the trapped frames' stack. No guest frame is live then.
fn reset_stack() callconv(.c) void {
    // `.globaltype` declares the linker's global: without it a guest whose own code never uses
    // the stack leaves __stack_pointer undeclared here, and wasm-ld refuses it as a data symbol.
    asm volatile (
        \\.globaltype __stack_pointer, i32
        \\local.get %[sp]
        \\global.set __stack_pointer
        :
        : [sp] "r" (@intFromPtr(&__stack_high)),
    );
}

comptime {
    @export(&reset_stack, .{ .name = abi.reset_stack_export });
}

/// A live region as the table described it when it was looked up. `bytes` is a slice over the
/// window: loads read the file in place. Look the region up again (or check `current`) after the
/// host may have changed the table (a `request`, or between calls from the host).
pub const Region = struct {
    id: u32,
    generation: u32,
    /// `abi.access_*` bits.
    access: u32,
    bytes: []const u8,

    pub fn writable(self: Region) bool {
        return self.access & abi.access_write != 0;
    }

    /// The bytes for writing (stores reach the file), or null if the region is read-only.
    pub fn bytes_mut(self: Region) ?[]u8 {
        if (!self.writable()) return null;
        return @constCast(self.bytes);
    }

    /// The region as a slice of `T` (`bytes.len / @sizeOf(T)` items; regions start 64 KiB-aligned).
    pub fn as(self: Region, comptime T: type) []const T {
        const ptr: [*]const T = @ptrCast(@alignCast(self.bytes.ptr));
        return ptr[0 .. self.bytes.len / @sizeOf(T)];
    }

    /// Whether the entry still has this generation and is live.
    pub fn current(self: Region) bool {
        const e = entry(self.id);
        return e.state == abi.state_live and e.generation == self.generation;
    }
};

/// Region `id` if it is live.
pub fn get(id: u32) ?Region {
    check();
    if (id -% 1 >= header().capacity) return null;
    const e = entry(id);
    if (e.state != abi.state_live) return null;
    const ptr: [*]const u8 = @ptrFromInt(@as(usize, @intCast(e.offset_bytes)));
    return .{ .id = id, .generation = e.generation, .access = e.access, .bytes = ptr[0..@intCast(e.length_bytes)] };
}

/// Region `id`; traps ("vmwindow: region is not mapped") unless it is live.
pub fn region(id: u32) Region {
    return get(id) orelse fail("vmwindow: region is not mapped");
}

/// Whether entry `e`'s NUL-padded name equals `name`.
pub fn name_equals(e: *const abi.TableEntry, name: []const u8) bool {
    if (name.len > abi.name_max_bytes) return false;
    if (!std.mem.eql(u8, e.name[0..name.len], name)) return false;
    return name.len == abi.name_max_bytes or e.name[name.len] == 0;
}

/// The live region named `name`, or null. A linear scan of the table: keep the id.
pub fn find(name: []const u8) ?Region {
    check();
    const capacity = header().capacity;
    var id: u32 = 1;
    while (id <= capacity) : (id += 1) {
        const e = entry(id);
        if (e.state == abi.state_live and name_equals(e, name)) return get(id);
    }
    return null;
}

/// The first live region id after `id`, or 0: `var id = next(0); while (id != 0) : (id = next(id))`.
pub fn next(id: u32) u32 {
    check();
    const capacity = header().capacity;
    var k = id +% 1;
    while (k != 0 and k <= capacity) : (k += 1) {
        if (entry(k).state == abi.state_live) return k;
    }
    return 0;
}

/// msync of read-write region `id`: `abi.host_ok`, or `abi.host_refused` / `host_not_mapped` / `host_failed`.
pub fn flush(id: u32) i32 {
    return abi.host.flush(id);
}

/// Drops `[offset, offset + length)` of file region `id` from resident memory; bytes unchanged.
pub fn release(id: u32, offset: usize, length: usize) i32 {
    return abi.host.release(id, offset, length);
}

/// Asks the host to map `name`: the new region id (> 0), or a negative `abi.host_*`.
pub fn request(name: []const u8, writable: bool) i32 {
    return abi.host.map(name.ptr, name.len, if (writable) abi.access_read | abi.access_write else abi.access_read);
}

const Lanes = @Vector(16, u8);

/// How many bytes of `bytes` equal `byte`. Never reads past the slice.
pub fn count_byte(bytes: []const u8, byte: u8) usize {
    var count: usize = 0;
    var i: usize = 0;
    const needle: Lanes = @splat(byte);
    const one: Lanes = @splat(1);
    const zero: Lanes = @splat(0);
    while (bytes.len - i >= 64) {
        // Per-lane counters (0..255), widened every 255 rounds.
        const rounds = @min((bytes.len - i) / 64, 255);
        var a = zero;
        var b = zero;
        var c = zero;
        var d = zero;
        for (0..rounds) |_| {
            a += @select(u8, @as(Lanes, bytes[i..][0..16].*) == needle, one, zero);
            b += @select(u8, @as(Lanes, bytes[i + 16 ..][0..16].*) == needle, one, zero);
            c += @select(u8, @as(Lanes, bytes[i + 32 ..][0..16].*) == needle, one, zero);
            d += @select(u8, @as(Lanes, bytes[i + 48 ..][0..16].*) == needle, one, zero);
            i += 64;
        }
        const Wide = @Vector(16, u16);
        const sum: Wide = @as(Wide, a) + @as(Wide, b) + @as(Wide, c) + @as(Wide, d);
        count += @reduce(.Add, sum);
    }
    for (bytes[i..]) |x| count += @intFromBool(x == byte);
    return count;
}

/// The index of the first byte equal to `byte`, or null.
pub fn index_of_byte(bytes: []const u8, byte: u8) ?usize {
    var i: usize = 0;
    const needle: Lanes = @splat(byte);
    while (bytes.len - i >= 16) : (i += 16) {
        const hits: u16 = @bitCast(@as(Lanes, bytes[i..][0..16].*) == needle);
        if (hits != 0) return i + @ctz(hits);
    }
    for (bytes[i..], i..) |x, k| {
        if (x == byte) return k;
    }
    return null;
}
