// The prebuilt libvmwindow for Linux arm64 (aarch64, glibc); libwasmtime.so sits next to it and is
// found through libvmwindow's $ORIGIN run path.
const { join } = require("node:path");

module.exports = { libraryPath: join(__dirname, "lib", "libvmwindow.so") };
