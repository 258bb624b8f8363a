//! Build helper for vmwindow guests in Zig. In your build.zig.zon, depend on this directory
//! (`.vmwindow = .{ .path = "path/to/guest-sdk/zig" }`), then in build.zig:
//!
//!     const vmwindow = @import("vmwindow");
//!     const guest = vmwindow.add_guest(b, b.dependency("vmwindow", .{}), .{
//!         .name = "guest",
//!         .root_source_file = b.path("src/guest.zig"),
//!     });
//!     b.installArtifact(guest);
//!
//! `zig build` in this directory builds the example guests into zig-out/bin (docs/guest-zig.md).

const std = @import("std");
const abi = @import("abi.zig");

pub const GuestOptions = struct {
    name: []const u8,
    root_source_file: std.Build.LazyPath,
    optimize: std.builtin.OptimizeMode = .ReleaseFast,
    /// The shadow stack. Static data plus stack must fit the window's guest area (16 MiB by default).
    stack_size: u64 = abi.guest_build.stack_bytes,
    /// SIMD (128-bit) on by default; vmwindow's engine runs it.
    simd128: bool = true,
};

/// wasm32-freestanding with the SDKs' CPU, `abi.guest_build.cpu` (mvp+simd128+sign_ext; simd128
/// dropped when `simd128` is false): no reference types, whose call_indirect encoding vmwindow's
/// engine refuses. No bulk memory either (compiler_rt has memcpy/memset); it would work too:
/// vmwindow rewrites memory.copy / memory.fill into wasm code.
pub fn guest_target(b: *std.Build, simd128: bool) std.Build.ResolvedTarget {
    var query = std.Target.Query.parse(.{ .arch_os_abi = "wasm32-freestanding", .cpu_features = abi.guest_build.cpu }) catch |err|
        std.debug.panic("abi.guest_build.cpu \"{s}\" is not a wasm32 CPU: {s}", .{ abi.guest_build.cpu, @errorName(err) });
    if (!simd128) query.cpu_features_add.removeFeature(@intFromEnum(std.Target.wasm.Feature.simd128));
    return b.resolveTargetQuery(query);
}

/// A guest executable: imports the window as env.memory, static data at the guest area
/// (`--global-base=2162688`), the given stack size, no entry point, `export fn`s exported. The
/// module `vmwindow` (vmwindow.zig) is importable from `root_source_file`.
/// `sdk` is this package: `b.dependency("vmwindow", .{})` (or null inside this package).
pub fn add_guest(b: *std.Build, sdk: ?*std.Build.Dependency, options: GuestOptions) *std.Build.Step.Compile {
    const target = guest_target(b, options.simd128);
    const sdk_path = if (sdk) |d| d.path("vmwindow.zig") else b.path("vmwindow.zig");
    const vmwindow_module = b.createModule(.{ .root_source_file = sdk_path, .target = target, .optimize = options.optimize });
    const root = b.createModule(.{
        .root_source_file = options.root_source_file,
        .target = target,
        .optimize = options.optimize,
        .strip = options.optimize != .Debug,
        .imports = &.{.{ .name = "vmwindow", .module = vmwindow_module }},
    });
    const exe = b.addExecutable(.{ .name = options.name, .root_module = root });
    exe.entry = .disabled;
    exe.rdynamic = true;
    exe.import_memory = true;
    exe.global_base = abi.guest_base;
    exe.stack_size = options.stack_size;
    return exe;
}

pub fn build(b: *std.Build) void {
    const optimize = b.option(std.builtin.OptimizeMode, "optimize", "guest optimize mode (default ReleaseFast)") orelse .ReleaseFast;
    const guest = add_guest(b, null, .{ .name = "scan", .root_source_file = b.path("examples/scan.zig"), .optimize = optimize });
    b.installArtifact(guest);
}
