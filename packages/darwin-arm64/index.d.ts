/** Absolute path of libvmwindow.dylib in this package (libwasmtime.dylib is beside it). */
export declare const libraryPath: string;
