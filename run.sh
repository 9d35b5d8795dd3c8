#!/usr/bin/env bash
# signalbox: one command to set up, build and run, or to test.
#
#   ./run.sh          install dependencies, build, start signalbox on port 3000
#   ./run.sh test     install dependencies, build, run every test suite, also
#                     under AddressSanitizer/UndefinedBehaviorSanitizer
#   ./run.sh build    install dependencies and build only
#
# Dependencies come from Debian 12 packages (apt-get, as root or via sudo).
set -euo pipefail

cd "$(dirname "$(readlink -f "$0")")"

BUILD_DIR=${BUILD_DIR:-_build}
ASAN_BUILD_DIR=${ASAN_BUILD_DIR:-_build-asan}

PACKAGES=(
  build-essential meson ninja-build pkg-config gettext
  libglib2.0-dev libglib2.0-bin libsoup-3.0-dev libjson-glib-dev
  libsystemd-dev systemd dbus
  python3
  # GObject introspection: Signaling-1.0 for Python and GJS
  gobject-introspection libgirepository1.0-dev gir1.2-soup-3.0 gir1.2-json-1.0
)

# Only for ./run.sh test.
TEST_PACKAGES=(
  # python-socketio: a second Socket.IO client for the compat suite
  python3-socketio python3-websocket python3-requests
  # PyGObject, for the Python example
  python3-gi
  # users the package creates, seen by dbus-daemon in test-service-files
  libnss-wrapper
  # real WebRTC peers for tests/compat/webrtc.test.js
  chromium
)

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

install_dependencies() {
  local missing=()
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
      missing+=("$package")
  done
  # Node.js runs the Socket.IO compatibility suite. Any node >= 18 will
  # do (for example NodeSource's, which bundles its own npm), so only
  # install Debian's when there is none.
  command -v node >/dev/null 2>&1 || missing+=(nodejs)
  command -v npm >/dev/null 2>&1 || missing+=(npm)

  if [ "${#missing[@]}" -gt 0 ]; then
    log "Installing ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
}

build() {
  local dir=$1; shift
  if [ ! -f "$dir/build.ninja" ]; then
    log "Configuring $dir"
    meson setup "$dir" "$@" >/dev/null
  fi
  log "Building $dir"
  ninja -C "$dir"
}

# Prints "N passed, N failed[, N skipped]" for the meson test logs given.
summarize() {
  python3 - "$@" <<'PY'
import json, sys
passed = failed = skipped = 0
for path in sys.argv[1:]:
    with open(path) as log:
        for line in log:
            result = json.loads(line)["result"]
            if result in ("OK", "EXPECTEDFAIL"):
                passed += 1
            elif result == "SKIP":
                skipped += 1
            else:
                failed += 1
line = f"{passed} passed, {failed} failed"
if skipped:
    line += f", {skipped} skipped"
print(line)
PY
}

install_node_modules() {
  log "Installing the Node test dependencies (npm ci)"
  (cd tests/compat && npm ci --no-audit --no-fund --loglevel=error)
}

run_tests() {
  local status=0
  install_node_modules
  build "$BUILD_DIR"
  log "Testing ($BUILD_DIR)"
  meson test -C "$BUILD_DIR" --print-errorlogs || status=1

  build "$ASAN_BUILD_DIR" -Db_sanitize=address,undefined -Db_lundef=false
  log "Testing under ASan/UBSan ($ASAN_BUILD_DIR)"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    meson test -C "$ASAN_BUILD_DIR" --print-errorlogs || status=1

  summarize "$BUILD_DIR/meson-logs/testlog.json" "$ASAN_BUILD_DIR/meson-logs/testlog.json"
  return $status
}

# signalbox publishes its control interface on the session bus. A server
# shell (ssh, a container) often has none: start one at the standard
# per-user path, where busctl --user and gdbus --session look for it.
ensure_session_bus() {
  export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/run/user/$(id -u)}
  if [ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ] || [ -S "$XDG_RUNTIME_DIR/bus" ]; then
    return
  fi
  mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
  log "Starting a session bus at $XDG_RUNTIME_DIR/bus"
  dbus-daemon --session --address="unix:path=$XDG_RUNTIME_DIR/bus" --fork --nopidfile >/dev/null
}

# ./run.sh --port 8080 is ./run.sh run --port 8080.
case "${1:-}" in
  -*) set -- run "$@" ;;
esac

case "${1:-run}" in
  run)
    install_dependencies "${PACKAGES[@]}"
    build "$BUILD_DIR"
    ensure_session_bus
    log "Starting signalbox (port 3000 unless you chose another; Ctrl-C to stop)"
    exec "$BUILD_DIR/src/daemon/signalbox" "${@:2}"
    ;;
  build)
    install_dependencies "${PACKAGES[@]}"
    build "$BUILD_DIR"
    ;;
  test)
    install_dependencies "${PACKAGES[@]}" "${TEST_PACKAGES[@]}"
    run_tests
    ;;
  *)
    echo "usage: $0 [run|test|build] [signalbox options...]" >&2
    exit 2
    ;;
esac
