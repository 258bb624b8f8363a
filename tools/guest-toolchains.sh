#!/usr/bin/env bash
# Test set-up only (tools/test.sh calls it; never ./dev demo, ./dev build or the library): makes
# sure the wasm32 Rust toolchain that tests/guest-languages.test.ts builds the Rust guest with is
# installed: Debian's rustc, its wasm32 standard library and lld (rustc links wasm32 with
# rust-lld, a link to lld). rustup's toolchain cannot add wasm32 targets on these machines.
# Does nothing when the toolchain is there; installs only on apt systems, as root or under CI
# (with passwordless sudo); otherwise prints why not and the Rust guest tests are skipped.
set -uo pipefail
packages=(rustc libstd-rust-dev-wasm32 lld)

have_toolchain() {
  [[ -x /usr/bin/rustc ]] || return 1
  local libdir
  libdir="$(/usr/bin/rustc --print target-libdir --target wasm32-unknown-unknown 2>/dev/null)" || return 1
  compgen -G "$libdir/libcore-*.rlib" >/dev/null || return 1
  [[ -x "$(readlink -f /usr/bin/rust-lld 2>/dev/null)" ]]
}

if have_toolchain; then
  echo "guest toolchains: wasm32 rustc present ($(/usr/bin/rustc --version))"
  exit 0
fi
source "$(dirname "${BASH_SOURCE[0]}")/apt-install.sh"
start=$SECONDS
: >/tmp/vmwindow-guest-toolchains.log
if ! apt_install /tmp/vmwindow-guest-toolchains.log "${packages[@]}"; then
  echo "guest toolchains: $apt_install_why; Rust guest tests will be skipped (install rustc with the wasm32-unknown-unknown std, or set VMWINDOW_RUSTC)"
  exit 0
fi
echo "guest toolchains: installed ${packages[*]} in $((SECONDS - start)) s ($(/usr/bin/rustc --version))"
