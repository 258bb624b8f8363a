//! Integration tests of the native layer through its C ABI: a real window, real files, real guests
//! (written in WAT and compiled by Wasmtime). Oracles are independent of the code under test: the
//! file's bytes read back with pread, the raw table bytes decoded by hand, Wasmtime's trap text.

const std = @import("std");
const testing = std.testing;
const posix = std.posix;

const wt = @import("wasmtime.zig");
const errors = @import("errors.zig");
const layout = @import("layout.zig");
const api_window = @import("api/window.zig");
const api_guest = @import("api/guest.zig");
const Window = @import("window.zig").Window;
const RegionInfo = @import("window.zig").RegionInfo;
const Guest = @import("guest.zig").Guest;
const ExportInfo = @import("guest.zig").ExportInfo;

extern fn wasmtime_wat2wasm(wat: [*]const u8, wat_len: usize, out: *wt.ByteVec) ?*wt.Error;

const test_window_bytes: u64 = 64 << 20;

/// For `defer`: a destroy that fails in a test is a bug in the test.
pub fn assert_ok(result: errors.Result) void {
    std.debug.assert(result == .ok);
}
const test_guest_bytes: u64 = 1 << 20;

const TempFile = struct {
    dir: testing.TmpDir,
    path_buffer: [std.fs.max_path_bytes]u8 = undefined,
    path: []const u8 = "",

    /// Writes `contents` to a new temporary file; `file.path` points into `file` itself.
    fn create(file: *TempFile, contents: []const u8) !void {
        file.* = .{ .dir = testing.tmpDir(.{}) };
        try file.dir.dir.writeFile(.{ .sub_path = "data.bin", .data = contents });
        file.path = try file.dir.dir.realpath("data.bin", &file.path_buffer);
    }

    fn read_all(file: *TempFile, buffer: []u8) ![]u8 {
        return file.dir.dir.readFile("data.bin", buffer);
    }

    fn cleanup(file: *TempFile) void {
        file.dir.cleanup();
    }
};

pub fn create_window() !*Window {
    var window: ?*Window = null;
    try testing.expectEqual(errors.Result.ok, api_window.vmw_window_create(test_window_bytes, test_guest_bytes, 64, &window));
    return window.?;
}

fn map(window: *Window, path: []const u8, access: u32) !RegionInfo {
    var info: RegionInfo = undefined;
    const result = api_window.vmw_window_map_file(window, path.ptr, path.len, 0, std.math.maxInt(u64), access, "data", 4, 0, &info);
    if (result != .ok) {
        std.debug.print("map failed: {s}\n", .{errors.last_message_slice()});
        return error.TestUnexpectedResult;
    }
    return info;
}

pub fn compile_wat(wat: []const u8) !wt.ByteVec {
    var wasm: wt.ByteVec = .{ .size = 0, .data = null };
    if (wasmtime_wat2wasm(wat.ptr, wat.len, &wasm)) |err| {
        @import("engine.zig").fail_wasmtime(error.BadModule, "wat", err) catch {};
        std.debug.print("{s}\n", .{errors.last_message_slice()});
        return error.TestUnexpectedResult;
    }
    return wasm;
}

const probe_wat =
    \\(module
    \\  (import "env" "memory" (memory 1))
    \\  (import "env" "abort" (func $abort (param i32 i32 i32 i32)))
    \\  (func (export "load_u8") (param i32) (result i32) (i32.load8_u (local.get 0)))
    \\  (func (export "store_u8") (param i32 i32) (i32.store8 (local.get 0) (local.get 1)))
    \\  (func (export "add_i64") (param i64 i64) (result i64) (i64.add (local.get 0) (local.get 1)))
    \\  (func (export "fail") (call $abort (i32.const 0x210004) (i32.const 0x210014) (i32.const 7) (i32.const 3)))
    \\  ;; AssemblyScript strings: u32 byte length, then UTF-16LE. "boom" and "a.ts".
    \\  (data (i32.const 0x210000) "\08\00\00\00b\00o\00o\00m\00")
    \\  (data (i32.const 0x210010) "\08\00\00\00a\00.\00t\00s\00")
    \\)
;

fn create_guest(window: *Window) !*Guest {
    var wasm = try compile_wat(probe_wat);
    defer wt.wasm_byte_vec_delete(&wasm);
    var guest: ?*Guest = null;
    const result = api_guest.vmw_guest_create(window, wasm.data.?, wasm.size, &guest);
    if (result != .ok) {
        std.debug.print("guest failed: {s}\n", .{errors.last_message_slice()});
        return error.TestUnexpectedResult;
    }
    return guest.?;
}

fn find(guest: *Guest, name: []const u8) !u32 {
    var info: ExportInfo = undefined;
    try testing.expectEqual(errors.Result.ok, api_guest.vmw_guest_export(guest, name.ptr, name.len, &info));
    return info.index;
}

fn values(guest: *Guest) *[16]wt.ValRaw {
    return @ptrCast(@alignCast(api_guest.vmw_guest_values(guest)));
}

test "the table is published read-only inside the window with the documented header" {
    const window = try create_window();
    defer assert_ok(api_window.vmw_window_destroy(window));
    const table = api_window.vmw_window_base(window) + layout.table_offset;
    try testing.expectEqual(@as(u32, 0x54574D56), std.mem.readInt(u32, table[0..4], .little));
    try testing.expectEqual(@as(u32, 1), std.mem.readInt(u32, table[4..8], .little));
    try testing.expectEqual(@as(u32, 64), std.mem.readInt(u32, table[16..20], .little));
    try testing.expectEqual(test_window_bytes, std.mem.readInt(u64, table[32..40], .little));
    try testing.expectEqual(@as(u64, 0x210000), std.mem.readInt(u64, table[40..48], .little));
    try testing.expectEqual(@as(u64, 0x210000 + test_guest_bytes), std.mem.readInt(u64, table[56..64], .little));
}

test "map a file: the window shows its bytes, the table its entry; unmap frees the slot" {
    var contents: [70_000]u8 = undefined;
    for (&contents, 0..) |*byte, i| byte.* = @truncate(i *% 31 +% 7);
    var file: TempFile = undefined;
    try file.create(&contents);
    defer file.cleanup();

    const window = try create_window();
    defer assert_ok(api_window.vmw_window_destroy(window));
    const region = try map(window, file.path, 1);
    try testing.expectEqual(@as(u32, 1), region.id);
    try testing.expectEqual(@as(u64, contents.len), region.length_bytes);
    try testing.expectEqual(@as(u64, 0), region.offset_bytes % layout.page_bytes);
    try testing.expect(region.offset_bytes >= 0x210000 + test_guest_bytes);

    const base = api_window.vmw_window_base(window);
    try testing.expectEqualSlices(u8, &contents, base[region.offset_bytes..][0..contents.len]);

    const entry = base + layout.table_offset + 64;
    try testing.expectEqual(region.offset_bytes, std.mem.readInt(u64, entry[0..8], .little));
    try testing.expectEqual(@as(u64, contents.len), std.mem.readInt(u64, entry[8..16], .little));
    try testing.expectEqual(@as(u64, 2 * layout.page_bytes), std.mem.readInt(u64, entry[16..24], .little));
    try testing.expectEqual(@as(u32, 1), std.mem.readInt(u32, entry[32..36], .little));
    try testing.expectEqualStrings("data", entry[40..44]);

    try testing.expectEqual(errors.Result.ok, api_window.vmw_window_unmap(window, region.id, region.generation));
    try testing.expectEqual(errors.Result.not_mapped, api_window.vmw_window_unmap(window, region.id, region.generation));
    try testing.expectEqual(@as(u32, 0), std.mem.readInt(u32, entry[32..36], .little));
    // The slot is free again: the next region takes it.
    const again = try map(window, file.path, 1);
    try testing.expectEqual(region.offset_bytes, again.offset_bytes);
    try testing.expect(again.generation != region.generation);
    try testing.expectEqual(errors.Result.stale, api_window.vmw_window_unmap(window, region.id, region.generation));
}

test "bad input gives distinct errors and messages" {
    const window = try create_window();
    defer assert_ok(api_window.vmw_window_destroy(window));
    var info: RegionInfo = undefined;
    const missing = "/nonexistent/vmwindow-test";
    try testing.expectEqual(errors.Result.not_found, api_window.vmw_window_map_file(window, missing.ptr, missing.len, 0, std.math.maxInt(u64), 1, null, 0, 0, &info));
    try testing.expect(std.mem.indexOf(u8, errors.last_message_slice(), missing) != null);
    const dir = "/tmp";
    try testing.expectEqual(errors.Result.invalid_argument, api_window.vmw_window_map_file(window, dir.ptr, dir.len, 0, std.math.maxInt(u64), 1, null, 0, 0, &info));
    try testing.expect(std.mem.indexOf(u8, errors.last_message_slice(), "directory") != null);

    var empty: TempFile = undefined;
    try empty.create("");
    defer empty.cleanup();
    try testing.expectEqual(errors.Result.invalid_argument, api_window.vmw_window_map_file(window, empty.path.ptr, empty.path.len, 0, std.math.maxInt(u64), 1, null, 0, 0, &info));
    try testing.expect(std.mem.indexOf(u8, errors.last_message_slice(), "empty") != null);
    try testing.expectEqual(errors.Result.invalid_argument, api_window.vmw_window_map_file(window, empty.path.ptr, empty.path.len, 0, std.math.maxInt(u64), 2, null, 0, 0, &info));
    try testing.expectEqual(errors.Result.not_found, api_window.vmw_window_unmap(window, 0, 0));

    var created: ?*Window = null;
    try testing.expectEqual(errors.Result.invalid_argument, api_window.vmw_window_create(0, test_guest_bytes, 16, &created));
    try testing.expectEqual(errors.Result.invalid_argument, api_window.vmw_window_create(12345, test_guest_bytes, 16, &created));
    try testing.expectEqual(errors.Result.invalid_argument, api_window.vmw_window_create((4 << 30) + 65536, test_guest_bytes, 16, &created));
    try testing.expectEqual(@as(?*Window, null), created);
}

test "a file larger than the slot area does not fit" {
    const window = try create_window();
    defer assert_ok(api_window.vmw_window_destroy(window));
    var file: TempFile = undefined;
    try file.create("x");
    defer file.cleanup();
    const f = try file.dir.dir.openFile("data.bin", .{ .mode = .read_write });
    defer f.close();
    try f.setEndPos(test_window_bytes); // sparse
    var info: RegionInfo = undefined;
    try testing.expectEqual(errors.Result.window_full, api_window.vmw_window_map_file(window, file.path.ptr, file.path.len, 0, std.math.maxInt(u64), 1, null, 0, 0, &info));
}

test "guest: reads mapped bytes, traps on a hole and keeps working, writes reach the file" {
    try @import("window_tests.zig").skip_under_qemu_large_pages("a read-write 4,000-byte file");
    var contents = [_]u8{ 10, 20, 30, 40 } ** 1000;
    var file: TempFile = undefined;
    try file.create(&contents);
    defer file.cleanup();

    const window = try create_window();
    defer assert_ok(api_window.vmw_window_destroy(window));
    const read_only = try map(window, file.path, 1);
    const guest = try create_guest(window);
    const load_u8 = try find(guest, "load_u8");
    const store_u8 = try find(guest, "store_u8");
    const v = values(guest);

    v[0] = .{ .i32 = @intCast(read_only.offset_bytes + 2) };
    try testing.expectEqual(errors.Result.ok, api_guest.vmw_guest_call(guest, load_u8));
    try testing.expectEqual(@as(i32, 30), v[0].i32);

    // A free slot is PROT_NONE: the load traps, the guest stays usable.
    v[0] = .{ .i32 = @intCast(read_only.offset_bytes + 4 * layout.page_bytes) };
    try testing.expectEqual(errors.Result.trap, api_guest.vmw_guest_call(guest, load_u8));
    try testing.expect(std.mem.indexOf(u8, errors.last_message_slice(), "out of bounds memory access") != null);
    // Past the end of the file inside its slot (one OS page beyond its last one: 8192 with 4 KiB
    // pages, 32,768 with 16 KiB) traps too.
    const os_page_bytes = std.heap.pageSize();
    v[0] = .{ .i32 = @intCast(read_only.offset_bytes + std.mem.alignForward(u64, contents.len, os_page_bytes) + os_page_bytes) };
    try testing.expectEqual(errors.Result.trap, api_guest.vmw_guest_call(guest, load_u8));
    // The null page traps.
    v[0] = .{ .i32 = 0 };
    try testing.expectEqual(errors.Result.trap, api_guest.vmw_guest_call(guest, load_u8));

    // A store into the read-only region traps and the file is unchanged.
    v[0] = .{ .i32 = @intCast(read_only.offset_bytes) };
    v[1] = .{ .i32 = 99 };
    try testing.expectEqual(errors.Result.trap, api_guest.vmw_guest_call(guest, store_u8));
    var buffer: [4000]u8 = undefined;
    try testing.expectEqualSlices(u8, &contents, try file.read_all(&buffer));
    // A store into the table traps (read-only to the guest).
    v[0] = .{ .i32 = @intCast(layout.table_offset + 20) };
    v[1] = .{ .i32 = 99 };
    try testing.expectEqual(errors.Result.trap, api_guest.vmw_guest_call(guest, store_u8));

    // Read-write: the store reaches the file (MAP_SHARED), visible to pread without msync.
    const read_write = try map(window, file.path, 3);
    v[0] = .{ .i32 = @intCast(read_write.offset_bytes + 1) };
    v[1] = .{ .i32 = 0xEE };
    try testing.expectEqual(errors.Result.ok, api_guest.vmw_guest_call(guest, store_u8));
    try testing.expectEqual(errors.Result.ok, api_window.vmw_window_unmap(window, read_write.id, read_write.generation));
    const on_disk = try file.read_all(&buffer);
    try testing.expectEqual(@as(u8, 0xEE), on_disk[1]);
    try testing.expectEqual(@as(u8, 10), on_disk[0]);
    // ... and the read-only mapping of the same file sees it too.
    v[0] = .{ .i32 = @intCast(read_only.offset_bytes + 1) };
    try testing.expectEqual(errors.Result.ok, api_guest.vmw_guest_call(guest, load_u8));
    try testing.expectEqual(@as(i32, 0xEE), v[0].i32);
}

test "guest: i64 arguments, abort messages, bad modules, a second guest" {
    const window = try create_window();
    defer assert_ok(api_window.vmw_window_destroy(window));
    const guest = try create_guest(window);
    const add = try find(guest, "add_i64");
    const v = values(guest);
    v[0] = .{ .i64 = 1 << 40 };
    v[1] = .{ .i64 = -3 };
    try testing.expectEqual(errors.Result.ok, api_guest.vmw_guest_call(guest, add));
    try testing.expectEqual(@as(i64, (1 << 40) - 3), v[0].i64);

    const fail_index = try find(guest, "fail");
    const fail_result = api_guest.vmw_guest_call(guest, fail_index);
    try testing.expectEqual(errors.Result.trap, fail_result);
    try testing.expect(std.mem.startsWith(u8, errors.last_message_slice(), "guest trapped: abort: boom at a.ts:7:3\n"));

    var info: ExportInfo = undefined;
    try testing.expectEqual(errors.Result.not_found, api_guest.vmw_guest_export(guest, "nope", 4, &info));
    var second: ?*Guest = null;
    var wasm = try compile_wat(probe_wat);
    defer wt.wasm_byte_vec_delete(&wasm);
    // Several guests per window: a second one coexists with the first.
    try testing.expectEqual(errors.Result.ok, api_guest.vmw_guest_create(window, wasm.data.?, wasm.size, &second));
    try testing.expectEqual(errors.Result.ok, api_guest.vmw_guest_destroy(guest));

    const garbage = "\x00asm\x01\x00\x00\x00garbage";
    var bad: ?*Guest = null;
    try testing.expectEqual(errors.Result.ok, api_guest.vmw_guest_destroy(second));
    try testing.expectEqual(errors.Result.bad_module, api_guest.vmw_guest_create(window, garbage.ptr, garbage.len, &bad));
    var own_memory = try compile_wat("(module (memory 1))");
    defer wt.wasm_byte_vec_delete(&own_memory);
    try testing.expectEqual(errors.Result.link, api_guest.vmw_guest_create(window, own_memory.data.?, own_memory.size, &bad));
    try testing.expect(std.mem.indexOf(u8, errors.last_message_slice(), "env.memory") != null);
}

// Guests: several per window, deadlines, host imports ----------------------------------------------

const area_wat =
    \\(module
    \\  (import "env" "memory" (memory 1))
    \\  (import "host" "twice" (func $twice (param i32) (result i32)))
    \\  (func (export "get") (result i32) (i32.load (i32.const 0x210000)))
    \\  (func (export "set") (param i32) (i32.store (i32.const 0x210000) (local.get 0)))
    \\  (func (export "twice_plus_one") (param i32) (result i32) (i32.add (call $twice (local.get 0)) (i32.const 1)))
    \\  (func (export "spin") (loop $forever (br $forever)))
    \\  (data (i32.const 0x210000) "\07\00\00\00"))
;

fn host_twice(user_data: ?*anyopaque, import_index: u32) callconv(.c) i32 {
    const guest: *Guest = @ptrCast(@alignCast(user_data.?));
    if (import_index != 0) return 1;
    const host_values: *[16]wt.ValRaw = @ptrCast(@alignCast(api_guest.vmw_guest_host_values(guest)));
    host_values[0] = .{ .i32 = host_values[0].i32 * 2 };
    return 0;
}

fn create_area_guest(window: *Window, wasm: wt.ByteVec) !*Guest {
    var guest_opt: ?*Guest = null;
    try testing.expectEqual(errors.Result.ok, api_guest.vmw_guest_compile(window, wasm.data.?, wasm.size, 1, &guest_opt));
    const guest = guest_opt.?;
    const i32_kind = [_]u8{wt.valkind_i32};
    var index: u32 = 99;
    try testing.expectEqual(errors.Result.ok, api_guest.vmw_guest_define_import(guest, "host", 4, "twice", 5, &i32_kind, 1, &i32_kind, 1, &index));
    try testing.expectEqual(@as(u32, 0), index);
    api_guest.vmw_guest_set_host_callback(guest, host_twice, guest);
    try testing.expectEqual(errors.Result.ok, api_guest.vmw_guest_instantiate(guest));
    return guest;
}

test "guests: each has its own guest area; host imports; deadlines" {
    const window = try create_window();
    defer assert_ok(api_window.vmw_window_destroy(window));
    var wasm = try compile_wat(area_wat);
    defer wt.wasm_byte_vec_delete(&wasm);
    const a = try create_area_guest(window, wasm);
    const b = try create_area_guest(window, wasm);
    const a_get = try find(a, "get");
    const a_set = try find(a, "set");
    const b_get = try find(b, "get");
    const b_set = try find(b, "set");

    // Both start from their own data segment (7), then diverge.
    values(a)[0] = .{ .i32 = 1 };
    try testing.expectEqual(errors.Result.ok, api_guest.vmw_guest_call(a, a_set));
    try testing.expectEqual(errors.Result.ok, api_guest.vmw_guest_call(b, b_get));
    try testing.expectEqual(@as(i32, 7), values(b)[0].i32);
    values(b)[0] = .{ .i32 = 2 };
    try testing.expectEqual(errors.Result.ok, api_guest.vmw_guest_call(b, b_set));
    try testing.expectEqual(errors.Result.ok, api_guest.vmw_guest_call(a, a_get));
    try testing.expectEqual(@as(i32, 1), values(a)[0].i32);
    try testing.expectEqual(errors.Result.ok, api_guest.vmw_guest_call(b, b_get));
    try testing.expectEqual(@as(i32, 2), values(b)[0].i32);

    // A host import through the C callback.
    const twice = try find(a, "twice_plus_one");
    values(a)[0] = .{ .i32 = 20 };
    try testing.expectEqual(errors.Result.ok, api_guest.vmw_guest_call(a, twice));
    try testing.expectEqual(@as(i32, 41), values(a)[0].i32);

    // An endless loop stops at its deadline; the guest and its neighbour stay usable.
    const spin = try find(b, "spin");
    try testing.expectEqual(errors.Result.ok, api_guest.vmw_guest_set_timeout(b, 30));
    var timer = try std.time.Timer.start();
    try testing.expectEqual(errors.Result.timeout, api_guest.vmw_guest_call(b, spin));
    const elapsed_ms = timer.read() / std.time.ns_per_ms;
    try testing.expect(elapsed_ms >= 29);
    try testing.expect(elapsed_ms < 2_000);
    try testing.expect(std.mem.indexOf(u8, errors.last_message_slice(), "30 ms deadline") != null);
    try testing.expectEqual(errors.Result.ok, api_guest.vmw_guest_call(b, b_get));
    try testing.expectEqual(@as(i32, 2), values(b)[0].i32);
    try testing.expectEqual(errors.Result.ok, api_guest.vmw_guest_call(a, a_get));
    try testing.expectEqual(@as(i32, 1), values(a)[0].i32);
    try testing.expectEqual(errors.Result.ok, api_guest.vmw_guest_set_timeout(b, 0));

    try testing.expectEqual(errors.Result.ok, api_guest.vmw_guest_destroy(a));
    try testing.expectEqual(errors.Result.ok, api_guest.vmw_guest_call(b, b_get));
    try testing.expectEqual(@as(i32, 2), values(b)[0].i32);
}
