//! Builds libvmwindow (a shared library linking Wasmtime's C library) and its tests.
//!
//!   zig build                 -> zig-out/lib/libvmwindow.so (+ libwasmtime.so beside it)
//!   zig build test            -> unit and integration tests
//!   zig build check           -> compiles libvmwindow as a static library without Wasmtime (no
//!                                link step), so any target compiles: -Dtarget=aarch64-macos,
//!                                x86_64-windows-gnu, aarch64-linux-gnu, ... (tools/cross-check.sh)
//!   -Dwasmtime-lib=DIR        where Wasmtime's C library lives (default: ../.toolchain/wasmtime/lib)
//!
//! The platform packages cross-link with the target's Wasmtime library (tools/bootstrap.sh fetches
//! them into .toolchain/wasmtime/<platform>/lib), each into its own prefix, for example
//!   zig build -Dtarget=aarch64-linux-gnu.2.28 -Dwasmtime-lib=../.toolchain/wasmtime/linux-aarch64/lib -p DIR
//!   zig build -Dtarget=aarch64-macos.11.0 -Dwasmtime-lib=../.toolchain/wasmtime/darwin-aarch64/lib -p DIR
//!   zig build -Dtarget=x86_64-windows-gnu -Dwasmtime-lib=DIR_WITH_wasmtime.dll_AND_wasmtime.lib -p DIR
//! (packages/linux-arm64-gnu, packages/darwin-arm64, packages/win32-x64; Wasmtime's wheel has no
//! import library for its DLL, tools/cross-build-package.ts makes one).
const std = @import("std");

pub fn build(b: *std.Build) void {
    const target = b.standardTargetOptions(.{});
    const optimize = b.standardOptimizeOption(.{});
    const wasmtime_lib = b.option([]const u8, "wasmtime-lib", "directory holding libwasmtime.so (.dylib on macOS; wasmtime.dll and its import library wasmtime.lib on Windows)") orelse
        b.pathFromRoot("../.toolchain/wasmtime/lib");
    const is_darwin = target.result.os.tag.isDarwin();
    const is_windows = target.result.os.tag == .windows;
    const wasmtime_file = if (is_darwin) "libwasmtime.dylib" else if (is_windows) "wasmtime.dll" else "libwasmtime.so";

    const module = vmwindow_module(b, target, optimize, wasmtime_lib);
    // Wasmtime's library is installed next to libvmwindow. (On macOS its install name is
    // @rpath/libwasmtime.dylib, so the run path makes the loader look beside libvmwindow.dylib.
    // Windows has no run paths: the Bun package loads wasmtime.dll first, by its full path.)
    if (!is_windows) module.addRPathSpecial(if (is_darwin) "@loader_path" else "$ORIGIN");

    const lib = b.addLibrary(.{ .linkage = .dynamic, .name = "vmwindow", .root_module = module });
    b.installArtifact(lib);
    const wasmtime_source: std.Build.LazyPath = .{ .cwd_relative = b.pathJoin(&.{ wasmtime_lib, wasmtime_file }) };
    // DLLs go to bin/ with vmwindow.dll; shared libraries to lib/.
    const install_wasmtime = if (is_windows) b.addInstallBinFile(wasmtime_source, wasmtime_file) else b.addInstallLibFile(wasmtime_source, wasmtime_file);
    b.getInstallStep().dependOn(&install_wasmtime.step);
    b.getInstallStep().dependOn(&b.addInstallFile(b.path("include/vmwindow.h"), "include/vmwindow.h").step);

    const test_module = vmwindow_module(b, target, optimize, wasmtime_lib);
    test_module.addRPathSpecial(wasmtime_lib);
    // Wasmtime's own headers, for wasmtime_check.zig (tests only: the library needs none).
    const wasmtime_include = b.option([]const u8, "wasmtime-include", "directory holding Wasmtime's C headers (default: ../.toolchain/wasmtime/include)") orelse
        b.pathFromRoot("../.toolchain/wasmtime/include");
    test_module.addIncludePath(.{ .cwd_relative = wasmtime_include });
    const tests = b.addTest(.{ .root_module = test_module });
    const run_tests = b.addRunArtifact(tests);
    const test_step = b.step("test", "Run libvmwindow's unit and integration tests");
    test_step.dependOn(&run_tests.step);

    // Wasmtime's C library is only at hand for the host, so other targets cannot link: `check`
    // compiles everything into a static library (Wasmtime's symbols stay undefined).
    const check_module = b.createModule(.{
        .root_source_file = b.path("src/lib.zig"),
        .target = target,
        .optimize = optimize,
        .link_libc = true,
    });
    add_abi(b, check_module);
    const check_lib = b.addLibrary(.{ .linkage = .static, .name = "vmwindow-check", .root_module = check_module });
    _ = check_lib.getEmittedBin(); // Code generation too, not only semantic analysis.
    const check_step = b.step("check", "Compile libvmwindow for -Dtarget without linking Wasmtime");
    check_step.dependOn(&check_lib.step);
}

fn vmwindow_module(b: *std.Build, target: std.Build.ResolvedTarget, optimize: std.builtin.OptimizeMode, wasmtime_lib: []const u8) *std.Build.Module {
    const module = b.createModule(.{
        .root_source_file = b.path("src/lib.zig"),
        .target = target,
        .optimize = optimize,
        .link_libc = true,
    });
    module.addLibraryPath(.{ .cwd_relative = wasmtime_lib });
    module.linkSystemLibrary("wasmtime", .{});
    add_abi(b, module);
    return module;
}

/// The ABI facts (constants, the table's header and entry) come from the one file generated from
/// abi/vmwindow-abi.json for Zig, the guest SDK's (tools/gen-guest-abi.ts): `@import("vmwindow_abi")`.
fn add_abi(b: *std.Build, module: *std.Build.Module) void {
    module.addImport("vmwindow_abi", b.createModule(.{ .root_source_file = b.path("../guest-sdk/zig/abi.zig") }));
}
