# Sourced by the test set-up scripts (tools/guest-toolchains.sh, tools/test-arm64.sh); never by
# ./dev demo, ./dev build or the library. Defines:
#
#   apt_install LOG PACKAGE...
#     Installs Debian packages for a test run: only with apt-get, only as root or under CI with
#     passwordless sudo. Output goes to LOG (appended). Package lists may be missing or stale on a
#     fresh machine, so a failed install runs `apt-get update` once and tries again.
#     Returns 0 when installed; otherwise 1 with the reason, one line, in $apt_install_why (after
#     printing the log's last lines when apt-get itself failed).

apt_install() {
  local log="$1"
  shift
  local sudo=()
  apt_install_why=""
  if ! command -v apt-get >/dev/null; then
    apt_install_why="no apt-get"
    return 1
  fi
  if [[ $EUID -ne 0 ]]; then
    if [[ -n "${CI:-}" ]] && command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
      sudo=(sudo -n)
    else
      apt_install_why="not root (and not CI with sudo). To install them: sudo apt-get install $*"
      return 1
    fi
  fi
  local attempt
  for attempt in 1 2; do
    if DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "$@" >>"$log" 2>&1; then
      return 0
    fi
    [[ $attempt -eq 1 ]] && DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get update -qq >>"$log" 2>&1
  done
  tail -5 "$log"
  apt_install_why="apt-get install $* failed"
  return 1
}
