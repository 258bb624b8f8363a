// The prebuilt libvmwindow for macOS arm64; libwasmtime.dylib (install name
// @rpath/libwasmtime.dylib) sits next to it and is found through libvmwindow's @loader_path run path.
const { join } = require("node:path");

module.exports = { libraryPath: join(__dirname, "lib", "libvmwindow.dylib") };
