/** Absolute path of vmwindow.dll in this package. */
export declare const libraryPath: string;
/** Libraries to load before it, in order (wasmtime.dll: Windows has no run paths). */
export declare const preload: readonly string[];
