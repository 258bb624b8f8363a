//! The on-disk cache of compiled guest code: Wasmtime's serialized modules, one file per module
//! hash, engine kind and Wasmtime version, so a process restart skips Cranelift.
//!
//! Wasmtime's deserialize runs whatever machine code the bytes hold: it is only safe for bytes
//! this library wrote. So a cache file is never trusted blindly:
//!   - its name and its header carry the module's content hash (BLAKE3), the engine kind, the cache
//!     format and the Wasmtime version; all must equal what the caller expects;
//!   - the header carries the byte length and a checksum (XXH3-64) of the serialized bytes,
//!     recomputed before anything is deserialized (a truncated, corrupted or foreign file is
//!     refused). A checksum, not a cryptographic hash: it catches accidents at ~30 GB/s where
//!     BLAKE3 took ~2 ms per MiB here; the key that names the module (its BLAKE3) is cryptographic;
//!   - on POSIX the file must be a regular file owned by the effective user and writable by no
//!     one else (another user cannot plant code);
//!   - files are written to a temporary name and renamed into place, so a reader never sees half a
//!     file; a file that fails any check is ignored, the module compiled and the file replaced.
//! Wasmtime then checks its own header (its version, the engine's settings and CPU features) and
//! refuses what does not match. The cache is best effort: failures to read or write it only cost
//! the compile. It protects against accidents, not against someone who can write as this user.

const std = @import("std");
const builtin = @import("builtin");
const assert = std.debug.assert;

const wt = @import("wasmtime.zig");
const engine = @import("engine.zig");

/// The Wasmtime release libvmwindow is built against (README "Pinned toolchain"); part of every
/// cache key. Wasmtime also refuses artifacts of another version itself.
pub const wasmtime_version = "49.0.0";
pub const format_version: u32 = 3;

/// Changes whenever the sources that shape the compiled code change: bulk_memory.zig rewrites
/// modules before Cranelift sees them (decoding them with wasm_binary.zig) and engine.zig sets the
/// engine up, so a cache file written by a libvmwindow with another rewrite or other settings is
/// never loaded (Wasmtime's own header checks catch settings it knows about, not the rewrite).
/// Part of the file's name and header.
pub const code_version: u64 = version: {
    @setEvalBranchQuota(50_000_000);
    var hasher = std.hash.Fnv1a_64.init();
    hasher.update(@embedFile("bulk_memory.zig"));
    hasher.update(@embedFile("wasm_binary.zig"));
    hasher.update(@embedFile("engine.zig"));
    break :version hasher.final();
};
pub const magic = "VMWCODE\x00".*;
/// Larger cache files are refused without reading them.
pub const file_max_bytes: u64 = 1 << 30;
pub const path_max_bytes = 4096;
const allocator = std.heap.c_allocator;

pub const Header = extern struct {
    magic: [8]u8,
    format_version: u32,
    engine_kind: u32,
    payload_bytes: u64,
    module_hash: [32]u8,
    /// XXH3-64 (seed 0) of the payload.
    payload_checksum: u64,
    code_version: u64,
    reserved0: [16]u8,
    wasmtime_version: [16]u8,
    target: [16]u8,
    reserved1: [8]u8,
};

comptime {
    assert(@sizeOf(Header) == 128);
    assert(wasmtime_version.len < 16);
    // `read_file` allocates a whole file of up to this size, on 32-bit targets too.
    assert(file_max_bytes <= std.math.maxInt(usize));
}

fn padded(comptime text: []const u8) [16]u8 {
    // Fits with at least one zero byte after it, as `wasmtime_version` must.
    comptime assert(text.len < 16);
    var out: [16]u8 = @splat(0);
    @memcpy(out[0..text.len], text);
    return out;
}

const target_tag = padded(@tagName(builtin.cpu.arch) ++ "-" ++ @tagName(builtin.os.tag));

fn expected_header(hash: [32]u8, kind: engine.Kind, payload: []const u8) Header {
    assert(@intFromEnum(kind) < engine.kinds_count);
    return .{
        .magic = magic,
        .format_version = format_version,
        .engine_kind = @intFromEnum(kind),
        .payload_bytes = payload.len,
        .module_hash = hash,
        .payload_checksum = std.hash.XxHash3.hash(0, payload),
        .code_version = code_version,
        .reserved0 = @splat(0),
        .wasmtime_version = padded(wasmtime_version),
        .target = target_tag,
        .reserved1 = @splat(0),
    };
}

/// `<dir>/<hash hex>-<kind>-wasmtime-<version>-<code_version hex>.vmwcode`
pub fn file_path(buffer: *[path_max_bytes]u8, dir: []const u8, hash: [32]u8, kind: engine.Kind) ?[]const u8 {
    if (dir.len == 0) return null;
    const hex = std.fmt.bytesToHex(hash, .lower);
    const path = std.fmt.bufPrint(buffer, "{s}/{s}-{s}-wasmtime-{s}-{x:0>16}.vmwcode", .{ dir, hex, @tagName(kind), wasmtime_version, code_version }) catch return null;
    // `dir`, a slash, then a file name that holds the whole hash and ends with the extension.
    assert(path.len > dir.len + 1 + hex.len);
    assert(std.mem.endsWith(u8, path, ".vmwcode"));
    return path;
}

/// The module cached for (`hash`, `kind`) in `dir`, deserialized by `wasm_engine`, or null when
/// there is none or the file fails any check.
pub fn load(wasm_engine: *wt.Engine, dir: []const u8, hash: [32]u8, kind: engine.Kind) ?*wt.Module {
    var path_buffer: [path_max_bytes]u8 = undefined;
    const path = file_path(&path_buffer, dir, hash, kind) orelse return null;
    const bytes = read_file(path) orelse return null;
    defer allocator.free(bytes);
    const payload = verified_payload(bytes, hash, kind) orelse return null;
    // Deserialized only when the whole file was checked: the payload is its tail after the header.
    assert(payload.len + @sizeOf(Header) == bytes.len);
    assert(payload.len <= file_max_bytes);
    var module: ?*wt.Module = null;
    if (wt.wasmtime_module_deserialize(wasm_engine, payload.ptr, payload.len, &module)) |err| {
        wt.wasmtime_error_delete(err);
        return null;
    }
    return module.?;
}

/// The serialized module inside `bytes` if the header and checksum are the ones this library
/// writes for (`hash`, `kind`), else null.
pub fn verified_payload(bytes: []const u8, hash: [32]u8, kind: engine.Kind) ?[]const u8 {
    if (bytes.len < @sizeOf(Header)) return null;
    var header: Header = undefined;
    @memcpy(std.mem.asBytes(&header), bytes[0..@sizeOf(Header)]);
    const payload = bytes[@sizeOf(Header)..];
    if (header.payload_bytes != payload.len) return null;
    const expected = expected_header(hash, kind, payload);
    if (!std.mem.eql(u8, std.mem.asBytes(&header), std.mem.asBytes(&expected))) return null;
    assert(payload.len == expected.payload_bytes);
    assert(header.payload_checksum == expected.payload_checksum and header.code_version == code_version);
    return payload;
}

fn read_file(path: []const u8) ?[]u8 {
    assert(path.len > 0);
    assert(path.len <= path_max_bytes);
    const file = std.fs.cwd().openFile(path, .{}) catch return null;
    defer file.close();
    const stat = file.stat() catch return null;
    if (stat.kind != .file) return null;
    if (stat.size < @sizeOf(Header) or stat.size > file_max_bytes) return null;
    if (!owned_privately(file)) return null;
    const bytes = allocator.alloc(u8, @intCast(stat.size)) catch return null;
    const read = file.readAll(bytes) catch {
        allocator.free(bytes);
        return null;
    };
    if (read != bytes.len) {
        allocator.free(bytes);
        return null;
    }
    // Only sizes that can hold a header and not more than the limit were read.
    assert(bytes.len >= @sizeOf(Header));
    assert(bytes.len <= file_max_bytes);
    return bytes;
}

/// POSIX: owned by the effective user, writable by nobody else.
fn owned_privately(file: std.fs.File) bool {
    if (builtin.os.tag == .windows) return true;
    const stat = std.posix.fstat(file.handle) catch return false;
    if (stat.uid != std.c.geteuid()) return false;
    return stat.mode & 0o022 == 0;
}

/// Writes `module`'s serialized code for (`hash`, `kind`) into `dir` (created if missing), unless
/// a valid-looking file of that name is there already. Failures are ignored: the cache is best effort.
pub fn store(dir: []const u8, hash: [32]u8, kind: engine.Kind, module: *const wt.Module) void {
    var path_buffer: [path_max_bytes]u8 = undefined;
    const path = file_path(&path_buffer, dir, hash, kind) orelse return;
    var serialized: wt.ByteVec = .{ .size = 0, .data = null };
    if (wt.wasmtime_module_serialize(module, &serialized)) |err| {
        wt.wasmtime_error_delete(err);
        return;
    }
    defer wt.wasm_byte_vec_delete(&serialized);
    const payload = if (serialized.data) |data| data[0..serialized.size] else return;
    std.fs.cwd().makePath(dir) catch return;
    write_file(path, expected_header(hash, kind, payload), payload);
}

var temp_counter = std.atomic.Value(u64).init(0);

fn write_file(path: []const u8, header: Header, payload: []const u8) void {
    assert(header.payload_bytes == payload.len);
    assert(path.len > 0);
    assert(path.len <= path_max_bytes);
    assert(std.mem.eql(u8, &header.magic, &magic));
    var temp_buffer: [path_max_bytes + 64]u8 = undefined;
    // Unique enough for an exclusive create (a collision only skips caching). Not std.crypto.random:
    // on Windows it imports advapi32, which the platform package must not need.
    const nonce = @as(u64, @truncate(@as(u128, @bitCast(std.time.nanoTimestamp())))) ^ (temp_counter.fetchAdd(1, .monotonic) << 48) ^ @intFromPtr(&temp_buffer);
    const temp = std.fmt.bufPrint(&temp_buffer, "{s}.tmp-{x}", .{ path, nonce }) catch return;
    // Beside the file it becomes (same directory: the rename is atomic), under another name.
    assert(temp.len > path.len and std.mem.startsWith(u8, temp, path));
    const file = std.fs.cwd().createFile(temp, .{ .exclusive = true, .mode = 0o600 }) catch return;
    const written = written: {
        defer file.close();
        file.writeAll(std.mem.asBytes(&header)) catch break :written false;
        file.writeAll(payload) catch break :written false;
        break :written true;
    };
    if (written) {
        std.fs.cwd().rename(temp, path) catch {};
    }
    std.fs.cwd().deleteFile(temp) catch {};
}

/// Whether `dir` holds a cache file for (`hash`, `kind`) (not whether it is valid).
pub fn exists(dir: []const u8, hash: [32]u8, kind: engine.Kind) bool {
    var path_buffer: [path_max_bytes]u8 = undefined;
    const path = file_path(&path_buffer, dir, hash, kind) orelse return false;
    std.fs.cwd().access(path, .{}) catch return false;
    return true;
}

test "a header is accepted only for its own hash, kind and payload" {
    const hash: [32]u8 = @splat(7);
    const payload = "compiled code";
    var bytes: [@sizeOf(Header) + payload.len]u8 = undefined;
    const header = expected_header(hash, .plain, payload);
    @memcpy(bytes[0..@sizeOf(Header)], std.mem.asBytes(&header));
    @memcpy(bytes[@sizeOf(Header)..], payload);
    try std.testing.expectEqualStrings(payload, verified_payload(&bytes, hash, .plain).?);
    try std.testing.expect(verified_payload(&bytes, hash, .interruptible) == null);
    try std.testing.expect(verified_payload(&bytes, @splat(8), .plain) == null);
    try std.testing.expect(verified_payload(bytes[0 .. bytes.len - 1], hash, .plain) == null);
    bytes[bytes.len - 1] ^= 1;
    try std.testing.expect(verified_payload(&bytes, hash, .plain) == null);
    try std.testing.expect(verified_payload(bytes[0..10], hash, .plain) == null);
}

test "a stored module loads back; a corrupted, truncated or shared-writable file does not" {
    // (module (import "env" "memory" (memory 1)))
    const wasm = [_]u8{ 0, 'a', 's', 'm', 1, 0, 0, 0, 2, 15, 1, 3, 'e', 'n', 'v', 6, 'm', 'e', 'm', 'o', 'r', 'y', 2, 0, 1 };
    const wasm_engine = try engine.get(.plain);
    var compiled: ?*wt.Module = null;
    if (wt.wasmtime_module_new(wasm_engine, &wasm, wasm.len, &compiled)) |err| {
        wt.wasmtime_error_delete(err);
        return error.TestUnexpectedResult;
    }
    defer wt.wasmtime_module_delete(compiled.?);
    var tmp = std.testing.tmpDir(.{});
    defer tmp.cleanup();
    var dir_buffer: [std.fs.max_path_bytes]u8 = undefined;
    const dir = try tmp.dir.realpath(".", &dir_buffer);
    const hash: [32]u8 = @splat(3);

    try std.testing.expect(load(wasm_engine, dir, hash, .plain) == null);
    store(dir, hash, .plain, compiled.?);
    try std.testing.expect(exists(dir, hash, .plain));
    const loaded = load(wasm_engine, dir, hash, .plain) orelse return error.TestUnexpectedResult;
    wt.wasmtime_module_delete(loaded);
    // Another engine kind or hash names another file.
    try std.testing.expect(load(try engine.get(.interruptible), dir, hash, .interruptible) == null);

    var path_buffer: [path_max_bytes]u8 = undefined;
    const path = file_path(&path_buffer, dir, hash, .plain).?;
    const file = try std.fs.cwd().openFile(path, .{ .mode = .read_write });
    defer file.close();
    const size_bytes = (try file.stat()).size;
    // One flipped byte in the compiled code.
    var byte: [1]u8 = undefined;
    _ = try file.preadAll(&byte, size_bytes - 7);
    byte[0] ^= 0x40;
    try file.pwriteAll(&byte, size_bytes - 7);
    try std.testing.expect(load(wasm_engine, dir, hash, .plain) == null);
    byte[0] ^= 0x40;
    try file.pwriteAll(&byte, size_bytes - 7);
    const reloaded = load(wasm_engine, dir, hash, .plain) orelse return error.TestUnexpectedResult;
    wt.wasmtime_module_delete(reloaded);
    // Writable by the group: refused (POSIX).
    if (builtin.os.tag != .windows) {
        try file.chmod(0o620);
        try std.testing.expect(load(wasm_engine, dir, hash, .plain) == null);
        try file.chmod(0o600);
    }
    // Truncated.
    try file.setEndPos(size_bytes - 1);
    try std.testing.expect(load(wasm_engine, dir, hash, .plain) == null);
}
