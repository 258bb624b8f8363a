#!/usr/bin/env bash
# Fetches vmwindow's pinned toolchain from package registries into .toolchain/ (git-ignored),
# verifies every download, and installs the workspace's npm dependencies.
#
#   Bun        npm        bun@1.4.5           (integrity: tools/toolchain/package-lock.json)
#   Zig        PyPI       ziglang==0.15.2     (sha256 below)
#   Wasmtime   PyPI       wasmtime==49.0.0    (sha256 below; we use only its C library)
#
# Idempotent: a stamp per tool records what is installed; rerunning costs ~nothing.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
toolchain="$root/.toolchain"
mkdir -p "$toolchain/bin" "$toolchain/downloads"

zig_version="0.15.2"
wasmtime_version="49.0.0"

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64)
    pip_platform="manylinux_2_28_x86_64"
    zig_wheel="ziglang-0.15.2-py3-none-manylinux_2_12_x86_64.manylinux2010_x86_64.musllinux_1_1_x86_64.whl"
    zig_sha256="806316453d1ede7174ed3fefb8e5348154629089c3bb5fe812dfd0e172fac130"
    wasmtime_wheel="wasmtime-49.0.0-py3-none-manylinux1_x86_64.whl"
    wasmtime_sha256="94f0288f9e1c33924995a72bb769f4c4e2885002391589dd6992cdaa35d1990a"
    wasmtime_dir="linux-x86_64"
    bun_package="bun-linux-x64"
    ;;
  *)
    echo "bootstrap: no pinned toolchain for $(uname -s)-$(uname -m) yet (Linux x86_64 only)" >&2
    exit 1
    ;;
esac

log() { printf 'bootstrap: %s\n' "$*" >&2; }

# pip_fetch NAME VERSION WHEEL SHA256 -> path of the verified wheel
pip_fetch() {
  local name="$1" version="$2" wheel="$3" sha256="$4"
  local path="$toolchain/downloads/$wheel"
  if [[ ! -f "$path" ]] || ! echo "$sha256  $path" | sha256sum --check --status; then
    log "downloading $name==$version from PyPI"
    rm -f "$path"
    python3 -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
      --platform "$pip_platform" --platform manylinux2014_x86_64 --platform manylinux2010_x86_64 "$name==$version" -d "$toolchain/downloads" >&2
  fi
  if ! echo "$sha256  $path" | sha256sum --check --status; then
    log "sha256 mismatch for $wheel: refusing to use it"
    rm -f "$path"
    exit 1
  fi
  echo "$path"
}

stamp_ok() { [[ -f "$toolchain/$1.stamp" && "$(cat "$toolchain/$1.stamp")" == "$2" ]]; }

if ! stamp_ok zig "$zig_sha256"; then
  wheel="$(pip_fetch ziglang "$zig_version" "$zig_wheel" "$zig_sha256")"
  rm -rf "$toolchain/zig" && mkdir -p "$toolchain/zig"
  python3 -m zipfile -e "$wheel" "$toolchain/zig"
  chmod +x "$toolchain/zig/ziglang/zig"
  echo "$zig_sha256" > "$toolchain/zig.stamp"
fi
ln -sf "$toolchain/zig/ziglang/zig" "$toolchain/bin/zig"

if ! stamp_ok wasmtime "$wasmtime_sha256"; then
  wheel="$(pip_fetch wasmtime "$wasmtime_version" "$wasmtime_wheel" "$wasmtime_sha256")"
  rm -rf "$toolchain/wasmtime" && mkdir -p "$toolchain/wasmtime/lib"
  tmp="$(mktemp -d)"
  python3 -m zipfile -e "$wheel" "$tmp"
  # The wheel's library has no SONAME: install it under the name we link by (-lwasmtime).
  cp "$tmp/wasmtime/$wasmtime_dir/_libwasmtime.so" "$toolchain/wasmtime/lib/libwasmtime.so"
  cp "$tmp/wasmtime/_bindings.py" "$toolchain/wasmtime/_bindings.py"
  rm -rf "$tmp"
  echo "$wasmtime_sha256" > "$toolchain/wasmtime.stamp"
fi

bun_lock_sha="$(sha256sum "$root/tools/toolchain/package-lock.json" | cut -d' ' -f1)"
if ! stamp_ok bun "$bun_lock_sha" || [[ ! -x "$root/tools/toolchain/node_modules/@oven/$bun_package/bin/bun" ]]; then
  log "installing bun from npm (lockfile-verified)"
  # --ignore-scripts: we run the platform binary directly instead of bun's postinstall shim.
  (cd "$root/tools/toolchain" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
  echo "$bun_lock_sha" > "$toolchain/bun.stamp"
fi
ln -sf "$root/tools/toolchain/node_modules/@oven/$bun_package/bin/bun" "$toolchain/bin/bun"

export PATH="$toolchain/bin:$PATH"
ws_lock_sha="$(cd "$root" && ls bun.lock package.json */package.json */*/package.json 2>/dev/null | xargs cat | sha256sum | cut -d' ' -f1)"
if ! stamp_ok workspace "$ws_lock_sha" || [[ ! -d "$root/node_modules" ]]; then
  log "installing workspace dependencies (bun install --frozen-lockfile)"
  (cd "$root" && bun install --frozen-lockfile >&2)
  echo "$ws_lock_sha" > "$toolchain/workspace.stamp"
fi
