#!/usr/bin/env bash
# `./dev new DIR`: a new host + guest project in DIR that uses this checkout's packages: packs
# every tarball into DIR/vendor, scaffolds the project (`vmwindow init DIR --vendor vendor`),
# installs it and builds its guest. What it runs is what docs/install.md tells a user to run.
set -euo pipefail
dir="${1:?usage: ./dev new DIR}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mkdir -p "$dir/vendor"
bun "$root/tools/pack.ts" "$dir/vendor" >/dev/null
bun "$root/packages/bun/src/cli.ts" init "$dir" --vendor vendor >/dev/null
cd "$dir"
bun install
bun run build
echo
echo "ready: cd $dir && bun run start FILE   (bun run typecheck checks the host against the guest's exports)"
