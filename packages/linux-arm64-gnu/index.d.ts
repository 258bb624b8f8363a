/** Absolute path of libvmwindow.so in this package (libwasmtime.so is beside it). */
export declare const libraryPath: string;
