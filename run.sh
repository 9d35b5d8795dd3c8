#!/usr/bin/env bash
# signalbox: one command to set up, build and run, or to test.
#
#   ./run.sh          install dependencies, build, start signalbox on port 3000
#   ./run.sh test     install dependencies, build (with the API reference),
#                     run every test suite, also under
#                     AddressSanitizer/UndefinedBehaviorSanitizer, and
#                     the C unit suites and compat-signalbox once more in a
#                     build on libsoup's plain path (-Dsoup_workarounds=false)
#   ./run.sh build    install dependencies and build only
#   ./run.sh ctl ...  signalboxctl from the build (status, clients, rooms, ...)
#
# Dependencies come from Debian 12 packages (apt-get, as root or via sudo).
set -euo pipefail

cd "$(dirname "$(readlink -f "$0")")"

BUILD_DIR=${BUILD_DIR:-_build}
ASAN_BUILD_DIR=${ASAN_BUILD_DIR:-_build-asan}
PLAIN_BUILD_DIR=${PLAIN_BUILD_DIR:-_build-plain}
# The suites worth running without the libsoup workarounds (and without
# epoll): the C unit suites, the Node suite against the daemon and the
# cluster suite (polling forwarding pauses requests on that path too).
PLAIN_SUITES=(native http tls address-limits message packets socketio json timers poller daemon resume dbus cli service-files auth compat-signalbox cluster)
LOG_DIR=${TMPDIR:-/tmp}/signalbox-run.$(id -u)

# What building and serving need.
PACKAGES=(
  build-essential meson ninja-build pkg-config gettext
  libglib2.0-dev libglib2.0-bin libsoup-3.0-dev libjson-glib-dev
  libsystemd-dev systemd dbus
  # polkit decides who may disconnect peers over the system bus
  libpolkit-gobject-1-dev
  python3
  # GObject introspection: Signaling-1.0 for Python and GJS
  gobject-introspection libgirepository1.0-dev gir1.2-soup-3.0 gir1.2-json-1.0
  # the README's tour asks the server how it is with curl
  curl ca-certificates
  scdoc  # the man pages, docs/man/*.scd
  # several processes and hosts as one service through Redis (hiredis + its GLib adapter)
  libhiredis-dev
  # GIO's TLS backend (GnuTLS): --tls-certificate serves https:// and wss://
  glib-networking
  libjwt-gnutls-dev  # signed tokens (JWT): --auth-secret-file, --auth-public-key
)

# Only for ./run.sh test.
TEST_PACKAGES=(
  # certificates made at test time for the TLS tests (tests/test-tls.c, tls.test.js)
  openssl
  # python-socketio: a second Socket.IO client for the compat suite
  python3-socketio python3-websocket python3-requests
  # PyGObject, for the Python example
  python3-gi
  # users the package creates, seen by dbus-daemon in test-service-files
  libnss-wrapper
  # the real polkitd (and pkaction) behind the system bus test in test-service-files
  polkitd
  # real WebRTC peers for tests/compat/webrtc.test.js
  chromium
  # bench/compare's latency plot (its smoke run is a test)
  gnuplot-nox
  man-db groff-base bash-completion  # tests/test-man.sh renders the man pages; tests/test-completion.sh
  # tests/cluster.test.js starts its own redis-server on a free loopback port
  redis-server
  prometheus  # promtool checks /metrics (tests/test-metrics.py); only the binary is run
  gi-docgen  # the API reference (-Ddocumentation=true) and its test
  # a real TURN server (turnserver, turnutils_uclient) for tests/test-turn.sh,
  # and openssl for the RS256 key pair of tests/test-auth.c
  coturn openssl
)

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Runs a command with its output in a log file, printing only a line every
# 30 s while it runs; on failure prints the end of the log and exits.
quietly() {
  local what=$1 logfile=$2; shift 2
  mkdir -p "$(dirname "$logfile")"
  "$@" >"$logfile" 2>&1 &
  local pid=$! started=$SECONDS next=30 status=0
  while kill -0 "$pid" 2>/dev/null; do
    sleep 1
    if [ $((SECONDS - started)) -ge "$next" ] && kill -0 "$pid" 2>/dev/null; then
      printf '    ... %s, %d s so far\n' "$what" $((SECONDS - started)) >&2
      next=$((next + 30))
    fi
  done
  wait "$pid" || status=$?
  if [ "$status" -ne 0 ]; then
    printf '\033[1;31m==> %s failed (exit %d); the end of %s:\033[0m\n' "$what" "$status" "$logfile" >&2
    tail -n 40 "$logfile" >&2
    exit "$status"
  fi
}

install_dependencies() {
  local missing=()
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
      missing+=("$package")
  done
  [ "${#missing[@]}" -gt 0 ] || return 0

  log "Installing ${#missing[@]} Debian packages: ${missing[*]}"
  log "(with what they pull in, 2 to 5 minutes on a fresh system; log: $LOG_DIR/apt.log)"
  # Wait for another apt (unattended-upgrades, a second run.sh) rather
  # than fail at once on its lock.
  local wait_for_lock=(-o DPkg::Lock::Timeout=900)
  quietly "apt-get update" "$LOG_DIR/apt.log" \
    as_root env DEBIAN_FRONTEND=noninteractive apt-get "${wait_for_lock[@]}" update
  quietly "apt-get install" "$LOG_DIR/apt.log" \
    as_root env DEBIAN_FRONTEND=noninteractive apt-get "${wait_for_lock[@]}" install -y --no-install-recommends "${missing[@]}"
}

# Node.js runs the Socket.IO compatibility suite. Debian 12's node 18 is
# what tests/compat/package.json is pinned for (engine-strict refuses a
# module that needs more); a newer node will do too, so only install
# Debian's when there is none.
test_packages() {
  local packages=("${TEST_PACKAGES[@]}")
  command -v node >/dev/null 2>&1 || packages+=(nodejs)
  command -v npm >/dev/null 2>&1 || packages+=(npm)
  printf '%s\n' "${packages[@]}"
}

build() {
  local dir=$1; shift
  if [ ! -f "$dir/build.ninja" ]; then
    log "Configuring $dir"
    quietly "meson setup $dir" "$LOG_DIR/setup-$(basename "$dir").log" meson setup "$dir" "$@"
  elif [ "$#" -gt 0 ]; then
    # A build made by ./run.sh (no options) gets the test's.
    quietly "meson configure $dir" "$LOG_DIR/setup-$(basename "$dir").log" meson configure "$dir" "$@"
  fi
  log "Building $dir"
  quietly "building $dir" "$LOG_DIR/build-$(basename "$dir").log" ninja -C "$dir"
}

# Prints, for the meson test logs given as BUILD_DIR=LOG, each failing
# suite with its build and first failing subtest, then the closing line
# "N passed, N failed[, N skipped]".
summarize() {
  python3 - "$@" <<'PY'
import json, sys
passed = failed = skipped = 0
failures = []
for arg in sys.argv[1:]:
    build, path = arg.split("=", 1)
    try:
        log = open(path)
    except OSError:
        failures.append(f"{build}: no test log (the build failed)")
        failed += 1
        continue
    for line in log:
        test = json.loads(line)
        result = test["result"]
        if result in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif result == "SKIP":
            skipped += 1
        else:
            failed += 1
            first = next((l.strip() for l in (test.get("stdout") or "").splitlines()
                          if l.lstrip().startswith("not ok")), None)
            failures.append(f"{build}: {test['name']} {result}" + (f": {first}" if first else ""))
for failure in failures:
    print(f"FAILED {failure}")
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
  rm -f "$BUILD_DIR/meson-logs/testlog.json" "$ASAN_BUILD_DIR/meson-logs/testlog.json" \
        "$PLAIN_BUILD_DIR/meson-logs/testlog.json"

  # The API reference too: gi-docgen fails the build on any warning.
  build "$BUILD_DIR" -Ddocumentation=true
  log "Testing ($BUILD_DIR)"
  meson test -C "$BUILD_DIR" --print-errorlogs || status=1

  build "$ASAN_BUILD_DIR" -Db_sanitize=address,undefined -Db_lundef=false
  log "Testing under ASan/UBSan ($ASAN_BUILD_DIR)"
  # intercept_tls_get_addr=0: Debian 12's LeakSanitizer (GCC 12) reads
  # a bogus range for the thread-local storage of dlopen()ed modules
  # (GIO's GnuTLS backend) and crashes at exit ("Tracer caught signal
  # 11", "DTLS ... at 0x0004..."), depending only on memory layout; leak
  # checking is unchanged.
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:intercept_tls_get_addr=0 \
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    meson test -C "$ASAN_BUILD_DIR" --print-errorlogs || status=1

  build "$PLAIN_BUILD_DIR" -Dsoup_workarounds=false -Depoll=disabled
  log "Testing on libsoup's plain path ($PLAIN_BUILD_DIR)"
  meson test -C "$PLAIN_BUILD_DIR" --print-errorlogs "${PLAIN_SUITES[@]}" || status=1

  summarize "$BUILD_DIR=$BUILD_DIR/meson-logs/testlog.json" \
            "$ASAN_BUILD_DIR=$ASAN_BUILD_DIR/meson-logs/testlog.json" \
            "$PLAIN_BUILD_DIR=$PLAIN_BUILD_DIR/meson-logs/testlog.json"
  return $status
}

# signalbox publishes its control interface on the session bus. A server
# shell (ssh, a container) often has none: start one at the standard
# per-user path, where busctl --user and gdbus --session look for it, for
# as long as this script runs.
ensure_session_bus() {
  export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/run/user/$(id -u)}
  if [ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ] || [ -S "$XDG_RUNTIME_DIR/bus" ]; then
    return
  fi
  mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
  log "Starting a session bus at $XDG_RUNTIME_DIR/bus (stopped with signalbox)"
  mkdir -p "$LOG_DIR"
  dbus-daemon --session --address="unix:path=$XDG_RUNTIME_DIR/bus" --nofork --nopidfile \
    >"$LOG_DIR/dbus-daemon.log" 2>&1 &
  local bus_pid=$!
  # Ctrl-C reaches signalbox, which stops; then this script ends and
  # takes the bus with it (a background job ignores the terminal's SIGINT).
  trap "kill $bus_pid 2>/dev/null; rm -f '$XDG_RUNTIME_DIR/bus'" EXIT
  for _ in $(seq 50); do
    [ -S "$XDG_RUNTIME_DIR/bus" ] && return
    sleep 0.1
  done
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
    "$BUILD_DIR/src/daemon/signalbox" "${@:2}"
    ;;
  build)
    install_dependencies "${PACKAGES[@]}"
    build "$BUILD_DIR"
    ;;
  ctl)
    [ -x "$BUILD_DIR/src/tools/signalboxctl" ] || { install_dependencies "${PACKAGES[@]}"; build "$BUILD_DIR"; }
    export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/run/user/$(id -u)}
    exec "$BUILD_DIR/src/tools/signalboxctl" "${@:2}"
    ;;
  summarize)
    # The closing lines of ./run.sh test for given BUILD=testlog.json pairs
    # (used by tests/test-run-sh.sh).
    summarize "${@:2}"
    ;;
  test)
    mapfile -t extra < <(test_packages)
    install_dependencies "${PACKAGES[@]}" "${extra[@]}"
    run_tests
    ;;
  *)
    echo "usage: $0 [run|test|build|ctl] [options...]" >&2
    exit 2
    ;;
esac
