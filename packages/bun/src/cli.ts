#!/usr/bin/env bun
// The `vmwindow` command (bin of @vmwindow/bun):
//
//   vmwindow run GUEST.wasm [--map NAME=PATH[:ro|:rw|:rw:SIZE]]... [--scratch NAME=SIZE]... [--call FN [ARG...]]... [--print NAME[:TYPE]]...
//                           [--timeout MS] [--fuel N] [--window-bytes SIZE] [--guest-bytes SIZE] [--format signed|unsigned|hex]
//   vmwindow inspect GUEST.wasm [--json | --dts]
//   vmwindow init [DIR] [--vendor VENDOR]
//
// Errors are one line on stderr and a non-zero exit status: 2 for usage errors, 10 + the native
// result code for a VmwindowError (see EXIT_CODES and docs/troubleshooting.md), 1 for anything else.
//
// The subcommands live in cli/: args.ts (parsing), run.ts, inspect.ts (with wasm-sections.ts),
// format.ts and progress.ts (output).
import { VmwindowError, type ErrorCode } from "./index.ts";
import { RESULT } from "./abi.ts";
import { parseInspect, parseRun, UsageError } from "./cli/args.ts";
import { inspect } from "./cli/inspect.ts";
import { init, parseInit } from "./cli/init.ts";
import { progress } from "./cli/progress.ts";
import { run } from "./cli/run.ts";

const VERSION = "0.1.0";

/** Exit status for each error code: 10 + vmw_result_t (CLOSED, a binding-only code, is 16 too). */
export const EXIT_USAGE = 2;
export const EXIT_INTERNAL = 1;
export const EXIT_CODES: Record<ErrorCode, number> = Object.fromEntries(
  Object.entries(RESULT).map(([name, value]) => [name, value === 0 ? 0 : 10 + value]),
) as Record<ErrorCode, number>;

const USAGE = `usage:
  vmwindow run GUEST.wasm [options]       map files into a window, instantiate the guest, call an export
      --map NAME=PATH[:ro|:rw]            map PATH as region NAME (read-only unless :rw); repeatable
      --map NAME=PATH:rw:SIZE             an output file: created (or extended) to SIZE bytes, read-write
      --scratch NAME=SIZE                 map SIZE bytes of zeroed scratch memory as region NAME
      --call FN [ARG...]                  call export FN; ARGs are converted per its signature
                                          (i64 as bigint); @NAME is the id of region NAME; repeatable,
                                          the calls run in order
      --print NAME[:TYPE]                 after the calls, print region NAME: a hex dump, or TYPE
                                          values (u8 i8 u16 i16 u32 i32 u64 i64 f32 f64); repeatable
      --timeout MS                        deadline for the call (GuestTimeout past it)
      --fuel N                            fuel for the call (~1 unit per wasm instruction; TIMEOUT when spent)
      --window-bytes SIZE                 window size (default 4GiB); SIZE like 65536, 64MiB, 1GiB
      --guest-bytes SIZE                  the guest's own area (default 16MiB)
      --format signed|unsigned|hex        how integer results print (default signed)
      --progress / --quiet                force / silence progress on stderr (default: when a terminal)
  vmwindow inspect GUEST.wasm [--json]    imports, exports with signatures, memory, whether it fits a window
  vmwindow inspect GUEST.wasm --dts       the exports as a TypeScript interface, for
                                          window.instantiate<GuestExports>(...) (> guest.d.ts)
  vmwindow init [DIR] [--vendor VENDOR]  a host + guest project in DIR (default .): src/main.ts, guest/main.ts,
                                          tsconfigs, build/start/typecheck scripts; --vendor: a folder of
                                          tarballs (./dev pack) the dependencies point at
  vmwindow --help | --version
exit status: 0 ok, 2 usage, 10 + the native result code for vmwindow errors (e.g. 12 NOT_FOUND,
21 TRAP, 31 TIMEOUT, 32 INTERRUPTED), 1 otherwise`;

// Entry -----------------------------------------------------------------------------------------

export async function main(argv: string[]): Promise<number> {
  try {
    const [command, ...rest] = argv;
    switch (command) {
      case "run":
        run(parseRun(rest));
        return 0;
      case "inspect":
        return (await inspect(parseInspect(rest))) ? 0 : EXIT_CODES.LINK;
      case "init": {
        const options = parseInit(rest);
        for (const file of init(options)) console.log(`wrote ${file}`);
        console.log(`next: bun install && bun run build && bun run start FILE`);
        return 0;
      }
      case "--version":
      case "-V":
        console.log(VERSION);
        return 0;
      case "--help":
      case "-h":
      case "help":
        console.log(USAGE);
        return 0;
      case undefined:
        process.stderr.write(`${USAGE}\n`);
        return EXIT_USAGE;
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    }
  } catch (error) {
    return report(error);
  }
}

function report(error: unknown): number {
  progress.clear();
  if (error instanceof UsageError) {
    process.stderr.write(`vmwindow: ${error.message} (vmwindow --help for usage)\n`);
    return EXIT_USAGE;
  }
  if (error instanceof VmwindowError) {
    // One line is the contract (a GuestTrap's message is already its reason's first line).
    process.stderr.write(`vmwindow: ${firstLine(error.message)} [${error.code}]\n`);
    return EXIT_CODES[error.code] ?? EXIT_INTERNAL;
  }
  process.stderr.write(`vmwindow: ${firstLine(error instanceof Error ? error.message : String(error))}\n`);
  return EXIT_INTERNAL;
}

function firstLine(text: string): string {
  const newline = text.indexOf("\n");
  return newline < 0 ? text : text.slice(0, newline);
}

if (import.meta.main) {
  process.exitCode = await main(process.argv.slice(2));
}
