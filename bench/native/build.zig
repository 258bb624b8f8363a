//! bench/native: `vmwbench-native`, the bench's native contenders (see src/main.zig).
//!
//!   zig build -Doptimize=ReleaseFast      -> zig-out/bin/vmwbench-native
//!   -Dwasmtime-lib=DIR                     where libwasmtime.so lives (default: the toolchain's)
const std = @import("std");

pub fn build(b: *std.Build) void {
    const target = b.standardTargetOptions(.{});
    const optimize = b.standardOptimizeOption(.{});
    const wasmtime_lib = b.option([]const u8, "wasmtime-lib", "directory holding libwasmtime.so") orelse
        b.pathFromRoot("../../.toolchain/wasmtime/lib");

    // Wasmtime's C API declarations, shared with libvmwindow (native/src/wasmtime.zig).
    const wasmtime = b.createModule(.{
        .root_source_file = .{ .cwd_relative = b.pathFromRoot("../../native/src/wasmtime.zig") },
        .target = target,
        .optimize = optimize,
    });
    const module = b.createModule(.{
        .root_source_file = b.path("src/main.zig"),
        .target = target,
        .optimize = optimize,
        .link_libc = true,
    });
    module.addImport("wasmtime", wasmtime);
    module.addLibraryPath(.{ .cwd_relative = wasmtime_lib });
    module.addRPath(.{ .cwd_relative = wasmtime_lib });
    module.linkSystemLibrary("wasmtime", .{});
    const exe = b.addExecutable(.{ .name = "vmwbench-native", .root_module = module });
    b.installArtifact(exe);
}
