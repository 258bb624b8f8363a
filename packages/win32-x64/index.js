// The prebuilt vmwindow.dll for Windows x64, and wasmtime.dll beside it. Windows has no run paths,
// so @vmwindow/bun loads wasmtime.dll first, by its full path (`preload`): vmwindow.dll's import of
// "wasmtime.dll" then binds to the module already loaded.
const { join } = require("node:path");

module.exports = {
  libraryPath: join(__dirname, "lib", "vmwindow.dll"),
  preload: [join(__dirname, "lib", "wasmtime.dll")],
};
