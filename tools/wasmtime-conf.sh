#!/usr/bin/env bash
# Fills in Wasmtime's wasmtime/conf.h.in (stdin) for the library at $1 (stdout): each
# `#cmakedefine WASMTIME_FEATURE_X` becomes `#define WASMTIME_FEATURE_X` when the library exports a
# function that only a build with that feature has, else a comment saying it is off. Features
# without such a marker function stay off (nothing vmwindow uses depends on them).
set -euo pipefail
library="$1"
declare -A marker=(
  [WAT]=wasmtime_wat2wasm
  [CACHE]=wasmtime_config_cache_config_load
  [PARALLEL_COMPILATION]=wasmtime_config_parallel_compilation_set
  [WASI]=wasi_config_new
  [PROFILING]=wasmtime_config_profiler_set
  [THREADS]=wasmtime_config_wasm_threads_set
  [GC]=wasmtime_config_wasm_gc_set
  [ASYNC]=wasmtime_call_future_poll
  [CRANELIFT]=wasmtime_config_cranelift_opt_level_set
  [POOLING_ALLOCATOR]=wasmtime_pooling_allocation_config_new
  [COMPONENT_MODEL]=wasmtime_component_linker_new
  [COMPONENT_MODEL_ASYNC]=wasmtime_config_wasm_component_model_async_set
  [COREDUMP]=wasmtime_config_coredump_on_trap_set
)
exports() { grep -a -c -F -x "$1" < <(tr -c '[:alnum:]_' '\n' < "$library") || true; }
while IFS= read -r line; do
  if [[ "$line" =~ ^#cmakedefine\ WASMTIME_FEATURE_([A-Z_0-9]+)$ ]]; then
    feature="${BASH_REMATCH[1]}"
    symbol="${marker[$feature]:-}"
    if [[ -n "$symbol" && "$(exports "$symbol")" -gt 0 ]]; then
      echo "#define WASMTIME_FEATURE_$feature"
    else
      echo "/* #undef WASMTIME_FEATURE_$feature */"
    fi
  else
    echo "$line"
  fi
done
