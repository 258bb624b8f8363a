#!/usr/bin/env bash
# The whole test suite on linux-arm64 (aarch64), under qemu-user, on an x86-64 Linux machine:
#   ./dev test --arch arm64 [bun test args...]   (and tools/test.sh runs it after the x64 suite)
#
# 1. Test set-up only (never ./dev demo or ./dev build): Debian's qemu-user-static, libc6-arm64-cross
#    and libgcc-s1-arm64-cross (Wasmtime's aarch64 library needs libgcc_s), installed only when
#    missing and only as root or under CI with sudo; otherwise it says why and the run fails.
# 2. The arm64 Bun: @oven/bun-linux-aarch64 at the x64 pin's version, its sha512 checked against
#    the integrity recorded in tools/toolchain/package-lock.json (the lockfile npm verifies the x64
#    Bun with), unpacked into .toolchain/bun-linux-aarch64/.
# 3. The native Zig tests cross-built for aarch64-linux-gnu.2.28 against Wasmtime's aarch64 library
#    and run under qemu-aarch64 (`zig build test -fqemu`), twice: with the 4 KiB pages of Linux
#    arm64 and with qemu reporting 16 KiB pages (QEMU_PAGESIZE=16384, macOS arm64's page size; qemu
#    changes what the process is told, sysconf and the auxiliary vector, and aligns its own mmaps to
#    it, but the host kernel still protects 4 KiB pages).
# 4. `bun test` with the arm64 Bun and the arm64 platform package (packages/linux-arm64-gnu, built
#    by turbo: libvmwindow cross-linked by zig + Wasmtime's aarch64 library) through VMWINDOW_LIB,
#    inside a user namespace of its own whose binfmt_misc runs aarch64 programs with qemu (Linux
#    6.7+), so that tests spawning process.execPath start the arm64 Bun too. Nothing outside this
#    process tree changes. VMW_EMULATED=qemu-aarch64 is set: the few tests that cannot run under
#    emulation skip themselves and print the reason (docs/reliability.md, "Platforms", lists them).
#    One `bun test` per file, with bun's per-test timeout raised to 60 s (processes start and
#    guests compile 5-20x slower), a 300 s limit per file (a file that hangs runs once more), and
#    regions.property.test.ts at 100 of its 1,000 sequences (VMW_PROPERTY_SEQUENCES to change).
#
# Prints "arm64 native: ...", "arm64 native 16k: ...", "arm64 bun: ..." and last
# "arm64: N passed, N failed" (tools/test.sh adds these counts into its own line). Exits non-zero if
# anything failed or could not run.
#   VMW_ARM64_PARTS="native native16k bun"   the parts to run (default: all three)
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
toolchain="$root/.toolchain"
arm64_dir="$toolchain/arm64"
# The pinned zig, bun and turbo (./dev sets this too; here for direct runs after ./dev build).
export PATH="$toolchain/bin:$root/node_modules/.bin:$PATH"
parts="${VMW_ARM64_PARTS:-native native16k bun}"
sysroot=/usr/aarch64-linux-gnu
packages=(qemu-user-static libc6-arm64-cross libgcc-s1-arm64-cross)
mkdir -p "$arm64_dir/bin" "$toolchain/downloads"
log="$(mktemp -d)"
trap 'rm -rf "$log"' EXIT
passed=0
failed=0
say() { printf 'arm64: %s\n' "$*"; }
source "$root/tools/apt-install.sh"
finish() {
  echo "arm64: ${passed} passed, ${failed} failed"
  [[ $failed -eq 0 ]]
  exit $?
}
cannot_run() {
  say "cannot run: $*"
  failed=$((failed + 1))
  finish
}

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) ;;
  *) cannot_run "this script runs the arm64 suite under qemu-user on Linux x86-64 (here: $(uname -s)-$(uname -m))" ;;
esac

# --- 1. qemu-user and the aarch64 C library -------------------------------------------------------
have_packages() {
  [[ -x /usr/bin/qemu-aarch64-static && -f $sysroot/lib/ld-linux-aarch64.so.1 && -f $sysroot/lib/libgcc_s.so.1 ]]
}
if ! have_packages; then
  start=$SECONDS
  apt_install "$log/apt.txt" "${packages[@]}" || cannot_run "$apt_install_why (needs qemu-user-static and an aarch64 glibc + libgcc_s under $sysroot)"
  have_packages || cannot_run "installed ${packages[*]} but qemu-aarch64-static or $sysroot/lib is still missing"
  say "installed ${packages[*]} in $((SECONDS - start)) s"
fi
# zig build -fqemu runs "qemu-aarch64" (Debian's qemu-user, not installed here, has that name).
ln -sf /usr/bin/qemu-aarch64-static "$arm64_dir/bin/qemu-aarch64"

# --- 2. the arm64 Bun, integrity-checked ----------------------------------------------------------
lock="$root/tools/toolchain/package-lock.json"
read -r bun_version bun_integrity < <(python3 - "$lock" <<'EOF'
import json, sys
packages = json.load(open(sys.argv[1]))["packages"]
x64 = packages["node_modules/@oven/bun-linux-x64"]["version"]
arm64 = packages["node_modules/@oven/bun-linux-aarch64"]
assert arm64["version"] == x64, f"lockfile: bun-linux-aarch64 {arm64['version']} != bun-linux-x64 {x64}"
print(arm64["version"], arm64["integrity"])
EOF
) || cannot_run "no @oven/bun-linux-aarch64 entry at the x64 Bun's version in $lock"
bun_dir="$toolchain/bun-linux-aarch64"
bun_tarball="$toolchain/downloads/oven-bun-linux-aarch64-$bun_version.tgz"
integrity_of() { python3 -c 'import base64, hashlib, sys; print("sha512-" + base64.b64encode(hashlib.sha512(open(sys.argv[1], "rb").read()).digest()).decode())' "$1"; }
if [[ ! -x "$bun_dir/bin/bun" || "$(cat "$toolchain/bun-linux-aarch64.stamp" 2>/dev/null)" != "$bun_integrity" ]]; then
  if [[ ! -f "$bun_tarball" || "$(integrity_of "$bun_tarball")" != "$bun_integrity" ]]; then
    say "downloading @oven/bun-linux-aarch64@$bun_version from npm"
    rm -f "$bun_tarball"
    (cd "$toolchain/downloads" && npm pack --silent --loglevel=error "@oven/bun-linux-aarch64@$bun_version" >/dev/null) ||
      cannot_run "npm pack @oven/bun-linux-aarch64@$bun_version failed"
  fi
  if [[ "$(integrity_of "$bun_tarball")" != "$bun_integrity" ]]; then
    rm -f "$bun_tarball"
    cannot_run "@oven/bun-linux-aarch64@$bun_version does not match the lockfile's integrity: refusing to use it"
  fi
  rm -rf "$bun_dir.new" && mkdir -p "$bun_dir.new"
  tar -xzf "$bun_tarball" -C "$bun_dir.new" --strip-components=1 package/bin/bun package/package.json
  rm -rf "$bun_dir" && mv "$bun_dir.new" "$bun_dir"
  echo "$bun_integrity" > "$toolchain/bun-linux-aarch64.stamp"
fi
ln -sf "$bun_dir/bin/bun" "$arm64_dir/bin/bun"
arm64_bun_arch="$(qemu-aarch64-static -L $sysroot "$bun_dir/bin/bun" -e 'process.stdout.write(process.arch)' 2>&1)"
[[ "$arm64_bun_arch" == "arm64" ]] || cannot_run "the arm64 Bun does not start under qemu-aarch64: $arm64_bun_arch"
say "bun $bun_version (linux-aarch64, lockfile integrity verified) runs under $(qemu-aarch64-static --version | head -1)"

# --- 3. native Zig tests under qemu ---------------------------------------------------------------
# zig_tests LABEL [ENV...]: one `zig build test` for aarch64 run by qemu; adds its counts.
zig_tests() {
  local label="$1"
  shift
  (cd native && env PATH="$arm64_dir/bin:$PATH" "$@" zig build test -Doptimize=ReleaseSafe \
    -Dtarget=aarch64-linux-gnu.2.28 -Dwasmtime-lib="$toolchain/wasmtime/linux-aarch64/lib" \
    -fqemu --libc-runtimes /usr --cache-dir "$arm64_dir/zig-cache" --summary all) >"$log/$label.txt" 2>&1
  local status=$? counts
  counts="$(grep -oE '[0-9]+/[0-9]+ tests passed' "$log/$label.txt" | tail -1)"
  grep -E "FAIL|error:|panic|expected|^skipped" "$log/$label.txt" | head -40
  if [[ -n "$counts" ]]; then
    local p="${counts%%/*}" total="${counts#*/}" skipped
    total="${total%% *}"
    # Skipped tests print their reason above ("skipped under ..."); they are neither passed nor failed.
    skipped="$(grep -oE 'Build Summary: .*[0-9]+ skipped' "$log/$label.txt" | grep -oE '[0-9]+ skipped' | grep -oE '[0-9]+')"
    skipped="${skipped:-0}"
    passed=$((passed + p))
    failed=$((failed + total - p - skipped))
    if [[ $status -ne 0 && $((p + skipped)) -eq $total ]]; then failed=$((failed + 1)); fi
  else
    tail -30 "$log/$label.txt"
    failed=$((failed + 1))
  fi
  echo "arm64 $label: ${counts:-no count} (exit $status)"
}
for part in $parts; do
  case "$part" in
    native) zig_tests native ;;
    native16k) zig_tests "native 16k" QEMU_PAGESIZE=16384 ;;
  esac
done

# --- 4. bun test with the arm64 Bun ---------------------------------------------------------------
if [[ " $parts " == *" bun "* ]]; then
  # The guests, fixtures and packages/linux-arm64-gnu (turbo: nothing to do when tools/test.sh has
  # just built everything).
  turbo run build --output-logs=errors-only >"$log/build.txt" 2>&1 || { tail -40 "$log/build.txt"; cannot_run "build failed"; }
  lib="$root/packages/linux-arm64-gnu/lib/libvmwindow.so"
  [[ -f "$lib" && -f "$root/packages/linux-arm64-gnu/lib/libwasmtime.so" ]] ||
    cannot_run "$lib (or libwasmtime.so beside it) is missing: ./dev build builds packages/linux-arm64-gnu"
  file_arch="$(od -An -tx1 -j18 -N2 "$lib" | tr -d ' ')"
  [[ "$file_arch" == "b700" ]] || cannot_run "$lib is not an aarch64 library (e_machine $file_arch)"
  # Inside the namespace: a binfmt_misc of its own that hands aarch64 ELF files to qemu (Debian's
  # rule from /usr/lib/binfmt.d/qemu-aarch64.conf, with an interpreter that names the aarch64 C
  # library itself: tests that spawn a process with a bare environment lose QEMU_LD_PREFIX), then
  # the command, with the arm64 Bun first in PATH (tests that run "bun" or process.execPath start
  # the arm64 Bun).
  cat >"$arm64_dir/bin/qemu-aarch64-binfmt" <<EOF
#!/bin/sh
# binfmt_misc interpreter (flags P and F): \$1 the program's path, \$2 its argv[0], then its arguments.
path="\$1"
argv0="\$2"
shift 2
exec /usr/bin/qemu-aarch64-static -L $sysroot -0 "\$argv0" "\$path" "\$@"
EOF
  chmod +x "$arm64_dir/bin/qemu-aarch64-binfmt"
  cat >"$log/in-namespace.sh" <<EOF
set -u
mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc || { echo "arm64: cannot mount binfmt_misc in a user namespace (Linux 6.7+ needed)"; exit 90; }
grep -v '^#' /usr/lib/binfmt.d/qemu-aarch64.conf | awk -F: -v OFS=: '{ \$7 = "$arm64_dir/bin/qemu-aarch64-binfmt"; \$8 = "PF"; print }' \\
  > /proc/sys/fs/binfmt_misc/register || exit 91
exec "\$@"
EOF
  # One `bun test` per file, each with a time limit (bun's per-test timeout cannot stop a
  # synchronous guest call): a hang costs one file and is named.
  file_limit_s="${VMW_ARM64_FILE_LIMIT_S:-300}"
  # bun's default per-test timeout (5 s) times out tests that spawn a few Bun processes under
  # emulation (each starts in ~1 s and compiles its guest 5-20x slower); tests with their own
  # timeout keep it.
  test_timeout_ms="${VMW_ARM64_TEST_TIMEOUT_MS:-60000}"
  # The one subset: regions.property.test.ts runs 100 of its 1,000 random sequences (same seed,
  # same checks; ~0.45 s per sequence under qemu, so all 1,000 add ~7 minutes). Set
  # VMW_PROPERTY_SEQUENCES=1000 for the whole of it.
  property_sequences="${VMW_PROPERTY_SEQUENCES:-100}"
  bun_start=$SECONDS
  files=()
  if [[ $# -gt 0 ]]; then files=("$@"); else mapfile -t files < <(ls tests/*.test.ts); fi
  # run_file FILE: one bun test run of FILE into $log/bun-file.txt; sets $status.
  run_file() {
    env PATH="$arm64_dir/bin:$PATH" QEMU_LD_PREFIX=$sysroot VMWINDOW_LIB="$lib" VMW_EMULATED=qemu-aarch64 \
      VMW_PROPERTY_SEQUENCES="$property_sequences" \
      timeout --kill-after=10 "$file_limit_s" unshare --user --map-root-user --mount --fork --kill-child \
      bash "$log/in-namespace.sh" bun test --timeout "$test_timeout_ms" "$1" >"$log/bun-file.txt" 2>&1
    status=$?
  }
  hangs=0
  for file in "${files[@]}"; do
    file_start=$SECONDS
    run_file "$file"
    note=""
    # qemu-user 7.2 now and then livelocks a Bun process (its main thread loops in qemu's host
    # signal handler: strace shows only rt_sigprocmask, ~47,000 a second), in a different test
    # each time; rerun passes. A file that hangs is named and run once more; a second hang fails.
    if [[ $status -eq 124 || $status -eq 137 ]]; then
      hangs=$((hangs + 1))
      echo "arm64 bun $file: hung for ${file_limit_s} s (last lines below); running it once more"
      tail -3 "$log/bun-file.txt"
      note=", after a hang and a rerun"
      run_file "$file"
    fi
    if [[ $status -eq 90 || $status -eq 91 ]]; then cannot_run "no user namespace with its own binfmt_misc (unshare --user --mount; Linux 6.7+)"; fi
    # Everything but passing tests and bun's totals: failures, skips with their reasons, output.
    grep -vE '^\(pass\)|^$|^bun test v|^ *[0-9]+ expect\(\) calls|^Ran [0-9]+ tests? across|^ *[0-9]+ (pass|fail|skip)$' "$log/bun-file.txt" |
      grep -vxF "$file:" | head -80
    file_passed="$(grep -oE '^ *[0-9]+ pass$' "$log/bun-file.txt" | tail -1 | grep -oE '[0-9]+')"
    file_failed="$(grep -oE '^ *[0-9]+ fail$' "$log/bun-file.txt" | tail -1 | grep -oE '[0-9]+')"
    file_skipped="$(grep -oE '^ *[0-9]+ skip$' "$log/bun-file.txt" | tail -1 | grep -oE '[0-9]+')"
    passed=$((passed + ${file_passed:-0}))
    failed=$((failed + ${file_failed:-0}))
    if [[ $status -eq 124 || $status -eq 137 ]]; then
      note=", HUNG twice (${file_limit_s} s each)"
      tail -5 "$log/bun-file.txt"
      failed=$((failed + 1))
    elif [[ $status -ne 0 && "${file_failed:-0}" == "0" ]]; then
      note="$note, exit $status"
      failed=$((failed + 1))
    elif [[ -z "$file_passed" ]]; then
      note="$note, no count"
      failed=$((failed + 1))
    fi
    echo "arm64 bun $file: ${file_passed:-0} pass, ${file_failed:-0} fail, ${file_skipped:-0} skip ($((SECONDS - file_start)) s$note)"
  done
  echo "arm64 bun: files that hung once and were rerun: $hangs"
  echo "arm64 bun: ${#files[@]} files in $((SECONDS - bun_start)) s"
fi
finish
