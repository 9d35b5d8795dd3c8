#!/usr/bin/env bash
# bash completion of signalbox and signalboxctl (data/completions), each
# case twice: with bash-completion loaded, as an interactive shell has it,
# and with the file sourced alone.
#  - signalboxctl st<TAB> is status, signalbox --max-clients-p<TAB> --max-clients-per-address
#    (the options parsed from this signalbox's --help);
#  - signalboxctl kick <TAB> offers the ids of the connected clients when
#    signalbox runs, and nothing (not an error) when it does not.
set -uo pipefail
completions=${COMPLETIONS_DIR:?run me from meson test}
signalbox=${SIGNALBOX_BIN:?}
signalboxctl=${SIGNALBOXCTL_BIN:?}
bash_completion=/usr/share/bash-completion/bash_completion
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# complete MODE WORD...: prints, one a line, what the completion that
# `complete` registered for the program named by the first word (its
# basename) offers for the last word, in a fresh bash.
complete_words() {
  local mode=$1; shift
  bash --norc --noprofile -c '
    mode=$1 completions=$2 bash_completion=$3; shift 3
    [ "$mode" = bash-completion ] && source "$bash_completion"
    source "$completions/signalbox"
    source "$completions/signalboxctl"
    spec=$(complete -p "$(basename "$1")") || exit 1
    function=$(sed -n "s/.*-F \([^ ]*\).*/\1/p" <<<"$spec")
    COMP_WORDS=("$@") COMP_CWORD=$(($# - 1)) COMP_LINE="$*" COMP_POINT=${#COMP_LINE}
    COMPREPLY=()
    "$function" "$(basename "$1")" "${!#}" "${COMP_WORDS[COMP_CWORD - 1]}"
    printf "%s\n" "${COMPREPLY[@]}"
  ' bash "$mode" "$completions" "$bash_completion" "$@"
}

n=0
check() {  # check MODE DESCRIPTION EXPECTED WORD...
  local mode=$1 description=$2 expected=$3; shift 3
  n=$((n + 1))
  if [ "$mode" = bash-completion ] && [ ! -f "$bash_completion" ]; then
    echo "ok $n - $description ($mode) # SKIP no bash-completion"
    return
  fi
  local got
  got=$(complete_words "$mode" "$@" 2>"$work/stderr")
  if [ "$got" = "$expected" ] && [ ! -s "$work/stderr" ]; then
    echo "ok $n - $description ($mode)"
  else
    echo "not ok $n - $description ($mode)"
    printf 'expected: %s\ngot: %s\n' "$expected" "$got" | sed 's/^/# /'
    sed 's/^/# stderr: /' "$work/stderr"
  fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

modes=(bash-completion plain)
echo "1..$((4 * ${#modes[@]}))"

for mode in "${modes[@]}"; do
  check "$mode" "signalboxctl st completes to status" status "$signalboxctl" st
  check "$mode" "signalbox --max-clients-p completes to --max-clients-per-address" --max-clients-per-address "$signalbox" --max-clients-p
done

# A bus of our own, with no signalbox on it yet.
dbus-daemon --session --address="unix:path=$work/bus" --nofork --nopidfile >"$work/dbus.log" 2>&1 &
pids+=($!)
export DBUS_SESSION_BUS_ADDRESS=unix:path=$work/bus
for _ in $(seq 50); do [ -S "$work/bus" ] && break; sleep 0.1; done

for mode in "${modes[@]}"; do
  check "$mode" "signalboxctl kick offers nothing without a service" "" "$signalboxctl" kick ""
done

# signalbox on that bus, with one native peer connected.
port=$(free_port)
"$signalbox" --session --port "$port" --address 127.0.0.1 >"$work/signalbox.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q "Listening on" "$work/signalbox.log" && break; sleep 0.1; done
python3 - "$port" >"$work/peer.log" 2>&1 <<'PY' &
import base64, os, socket, sys, time
peer = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
key = base64.b64encode(os.urandom(16)).decode()
peer.sendall(("GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
              "Connection: Upgrade\r\nSec-WebSocket-Key: " + key + "\r\n"
              "Sec-WebSocket-Version: 13\r\n\r\n").encode())
print(peer.recv(4096).split(b"\r\n")[0].decode(), flush=True)
time.sleep(60)  # connected until the test ends
PY
pids+=($!)
id=
for _ in $(seq 100); do
  id=$("$signalboxctl" --json clients 2>/dev/null | grep -o '"id" *: *"[[:alnum:]]*"' | sed 's/.*"\([[:alnum:]]*\)"$/\1/')
  [ -n "$id" ] && break
  sleep 0.1
done
if [ -z "$id" ]; then
  echo "# no client appeared; signalbox and the peer said:"
  sed 's/^/# /' "$work/signalbox.log" "$work/peer.log"
  id="(none)"
fi
for mode in "${modes[@]}"; do
  check "$mode" "signalboxctl kick offers the connected client's id" "$id" "$signalboxctl" kick ""
done
