#!/usr/bin/env bash
# Compiles libvmwindow (without linking Wasmtime, whose C library we only have for the host) for
# every platform CI covers: `zig build check -Dtarget=...`. Prints one line per target,
# "cross-check TARGET: ok" or "cross-check TARGET: FAILED" followed by the compiler's errors.
# Exits non-zero if any target failed.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root/native"
targets=(x86_64-linux-gnu aarch64-linux-gnu aarch64-macos x86_64-windows-gnu)
status=0
for target in "${targets[@]}"; do
  if output="$(zig build check -Dtarget="$target" --summary none 2>&1)"; then
    echo "cross-check $target: ok"
  else
    echo "cross-check $target: FAILED"
    echo "$output" | grep -v '^\s*$' | head -40
    status=1
  fi
done
exit $status
