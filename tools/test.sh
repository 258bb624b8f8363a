#!/usr/bin/env bash
# Runs every test: builds (turbo), the native Zig tests, the cross-compile checks, a strict type
# check of @vmwindow/bun, then `bun test`, then the same suite on linux-arm64 under qemu-user
# (tools/test-arm64.sh); prints one final line "N passed, N failed" adding them all. Exits non-zero
# if anything failed or did not run.
#   tools/test.sh                  everything (CI: .ci/run -> ./dev test)
#   tools/test.sh FILE...          x64 only, bun test with these arguments
#   tools/test.sh --arch arm64 [FILE...]   the arm64 suite only (native Zig tests under qemu with
#                                  4 KiB and 16 KiB pages, then bun test with the arm64 Bun)
# VMW_ARM64=0 leaves the arm64 suite out of a full run. Outside CI a machine that cannot run it
# (not Linux x86-64; qemu-user missing and not root) says why and does not fail; in CI it fails.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
log="$(mktemp -d)"
trap 'rm -rf "$log"' EXIT

passed=0
failed=0

# arm64_suite [FILE...]: runs tools/test-arm64.sh, adds its "arm64: N passed, N failed" counts.
arm64_status=0
arm64_suite() {
  local start=$SECONDS
  bash tools/test-arm64.sh "$@" 2>&1 | tee "$log/arm64.txt"
  arm64_status=${PIPESTATUS[0]}
  local counts
  counts="$(grep -E '^arm64: [0-9]+ passed, [0-9]+ failed$' "$log/arm64.txt" | tail -1)"
  if grep -q '^arm64: cannot run:' "$log/arm64.txt" && [[ -z "${CI:-}" && "${arm64_required:-0}" != 1 ]]; then
    echo "arm64: not run on this machine (reason above; CI runs it)"
    arm64_status=0
    return
  fi
  if [[ -n "$counts" ]]; then
    local p f
    p="$(echo "$counts" | grep -oE '[0-9]+ passed' | grep -oE '[0-9]+')"
    f="$(echo "$counts" | grep -oE '[0-9]+ failed' | grep -oE '[0-9]+')"
    passed=$((passed + p))
    failed=$((failed + f))
    if [[ $arm64_status -ne 0 && $f -eq 0 ]]; then failed=$((failed + 1)); fi
  else
    failed=$((failed + 1))
  fi
  echo "arm64 suite: $((SECONDS - start)) s"
}

if [[ "${1:-}" == "--arch" ]]; then
  case "${2:-}" in
    arm64|aarch64) ;;
    x64|x86_64) shift 2; exec bash "$0" "$@" ;;
    *) echo "usage: tools/test.sh [--arch x64|arm64] [FILE...]" >&2; exit 2 ;;
  esac
  shift 2
  if ! turbo run build --output-logs=errors-only; then
    echo "build failed"
    echo "0 passed, 1 failed"
    exit 1
  fi
  arm64_required=1
  arm64_suite "$@"
  echo "${passed} passed, ${failed} failed"
  [[ $failed -eq 0 && $arm64_status -eq 0 ]]
  exit
fi
run_arm64=1
if [[ $# -gt 0 || "${VMW_ARM64:-1}" == 0 ]]; then run_arm64=0; fi

if ! turbo run build --output-logs=errors-only; then
  echo "build failed"
  echo "0 passed, 1 failed"
  exit 1
fi

# Native tests (zig build test): "N/M tests passed" in the build summary.
(cd native && zig build test -Doptimize=ReleaseSafe --summary all) >"$log/zig.txt" 2>&1
zig_status=$?
cat "$log/zig.txt" | grep -E "tests passed|error|failed" | head -40
zig_counts="$(grep -oE '[0-9]+/[0-9]+ tests passed' "$log/zig.txt" | tail -1)"
if [[ -n "$zig_counts" ]]; then
  zig_passed="${zig_counts%%/*}"
  zig_total="${zig_counts#*/}"; zig_total="${zig_total%% *}"
  passed=$((passed + zig_passed))
  failed=$((failed + zig_total - zig_passed))
elif [[ $zig_status -ne 0 ]]; then
  cat "$log/zig.txt" | tail -40
  failed=$((failed + 1))
fi
echo "native: ${zig_counts:-no count} (exit $zig_status)"

# Cross-compilation (tools/cross-check.sh): each target is one check, "cross-check TARGET: ok".
bash tools/cross-check.sh 2>&1 | tee "$log/cross.txt"
cross_status=${PIPESTATUS[0]}
cross_passed="$(grep -cE '^cross-check .*: ok$' "$log/cross.txt")"
cross_failed="$(grep -cE '^cross-check .*: FAILED$' "$log/cross.txt")"
passed=$((passed + cross_passed))
failed=$((failed + cross_failed))
if [[ $cross_status -ne 0 && $cross_failed -eq 0 ]]; then failed=$((failed + 1)); fi

# Type check of the host package (strict, noUncheckedIndexedAccess): one check.
if tsc -p packages/bun; then
  echo "typecheck packages/bun: ok"
  passed=$((passed + 1))
  typecheck_status=0
else
  echo "typecheck packages/bun: FAILED"
  failed=$((failed + 1))
  typecheck_status=1
fi

# The wasm32 Rust toolchain for tests/guest-languages.test.ts (Debian's rustc, installed only when
# missing and only as root or in CI; about 10 s and 110 MB of packages the first time).
bash tools/guest-toolchains.sh

# Bun tests.
bun test "$@" 2>&1 | tee "$log/bun.txt"
bun_status=${PIPESTATUS[0]}
bun_passed="$(grep -oE '^ *[0-9]+ pass' "$log/bun.txt" | tail -1 | grep -oE '[0-9]+')"
bun_failed="$(grep -oE '^ *[0-9]+ fail' "$log/bun.txt" | tail -1 | grep -oE '[0-9]+')"
if [[ -z "$bun_passed" ]]; then
  failed=$((failed + 1))
else
  passed=$((passed + bun_passed))
  failed=$((failed + ${bun_failed:-0}))
fi
if [[ $bun_status -ne 0 && "${bun_failed:-0}" == "0" ]]; then failed=$((failed + 1)); fi

# The same suite on linux-arm64 under qemu-user (about 10 minutes on 2 cores; tools/test-arm64.sh).
if [[ $run_arm64 -eq 1 ]]; then
  arm64_suite
else
  echo "arm64: not run (bun test arguments given, or VMW_ARM64=0)"
fi

echo "${passed} passed, ${failed} failed"
[[ $failed -eq 0 && $zig_status -eq 0 && $cross_status -eq 0 && $typecheck_status -eq 0 && $bun_status -eq 0 && $arm64_status -eq 0 ]]
