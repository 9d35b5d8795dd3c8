#!/usr/bin/env bash
# ./run.sh as a newcomer uses it, against the build meson is testing
# (BUILD_DIR), so nothing is installed or rebuilt:
#  - Ctrl-C on ./run.sh stops signalbox and the session bus it started;
#  - ./run.sh test's closing lines name each failing suite, its build and
#    its first failing subtest before "N passed, N failed".
set -uo pipefail
source_root=$(cd "$(dirname "$0")/.." && pwd)
build_root=${SIGNALBOX_BUILD_ROOT:?run me from meson test}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "1..3"

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# 1. Ctrl-C: the whole foreground process group gets SIGINT.
export XDG_RUNTIME_DIR=$work/xdg
unset DBUS_SESSION_BUS_ADDRESS
port=$(free_port)
BUILD_DIR=$build_root setsid "$source_root/run.sh" --port "$port" --address 127.0.0.1 >"$work/run.log" 2>&1 &
run_pid=$!
for _ in $(seq 100); do
  grep -q "Listening on" "$work/run.log" && break
  sleep 0.1
done
bus_pids=$(pgrep -f "dbus-daemon --session --address=unix:path=$XDG_RUNTIME_DIR/bus" || true)
kill -INT -- "-$run_pid"
for _ in $(seq 100); do
  kill -0 "$run_pid" 2>/dev/null || break
  sleep 0.1
done
left=$(pgrep -f "dbus-daemon --session --address=unix:path=$XDG_RUNTIME_DIR/bus" || true)
if [ -n "$bus_pids" ] && [ -z "$left" ] && ! kill -0 "$run_pid" 2>/dev/null && [ ! -e "$XDG_RUNTIME_DIR/bus" ]; then
  echo "ok 1 - Ctrl-C on ./run.sh stops signalbox and its session bus"
else
  echo "not ok 1 - Ctrl-C on ./run.sh: bus started: '${bus_pids}', still running: '${left}'"
  sed 's/^/# /' "$work/run.log"
  kill $left "$run_pid" 2>/dev/null
fi

# 2 and 3. The closing lines, from meson test logs of two builds.
cat >"$work/a.json" <<'JSON'
{"name": "native", "result": "OK", "stdout": "ok 1 - /a\n"}
{"name": "compat-signalbox", "result": "FAIL", "stdout": "ok 1 - fine\n    not ok 2 - webrtc peers\nnot ok 3 - later\n"}
JSON
cat >"$work/b.json" <<'JSON'
{"name": "native", "result": "OK", "stdout": ""}
{"name": "python-example", "result": "SKIP", "stdout": ""}
JSON
"$source_root/run.sh" summarize "_build=$work/a.json" "_build-asan=$work/b.json" >"$work/summary" 2>&1
expected="FAILED _build: compat-signalbox FAIL: not ok 2 - webrtc peers
2 passed, 1 failed, 1 skipped"
if [ "$(cat "$work/summary")" = "$expected" ]; then
  echo "ok 2 - a failing suite is named with its build and first failing subtest"
else
  echo "not ok 2 - summary was:"; sed 's/^/# /' "$work/summary"
fi
"$source_root/run.sh" summarize "_build=$work/a.json" "_build-asan=$work/missing.json" >"$work/summary" 2>&1
if grep -qx "FAILED _build-asan: no test log (the build failed)" "$work/summary" &&
   [ "$(tail -n1 "$work/summary")" = "1 passed, 2 failed" ]; then
  echo "ok 3 - a build that never tested counts as a failure"
else
  echo "not ok 3 - summary was:"; sed 's/^/# /' "$work/summary"
fi
