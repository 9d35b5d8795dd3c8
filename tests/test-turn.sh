#!/usr/bin/env bash
# TURN REST credentials against a real coturn (issue 15): signalbox
# (--turn-secret-file, --turn-uri, --turn-ttl) hands out credentials at
# /ice-servers; turnserver, started here on loopback with use-auth-secret
# and the same static-auth-secret, lets turnutils_uclient allocate with
# them, and refuses a tampered credential, another user's name with it,
# and the same credential once expired.
set -uo pipefail
signalbox=${SIGNALBOX_BIN:?run me from meson test}

for tool in turnserver turnutils_uclient curl python3; do
  if ! command -v "$tool" >/dev/null; then
    echo "1..0 # SKIP $tool is not installed (./run.sh test installs coturn and curl)"
    exit 0
  fi
done

TTL=10
work=$(mktemp -d "${TMPDIR:-/tmp}/signalbox-turn.XXXXXX")
turn_pid= signalbox_pid=
cleanup() {
  [ -n "$turn_pid" ] && kill "$turn_pid" 2>/dev/null && wait "$turn_pid" 2>/dev/null
  [ -n "$signalbox_pid" ] && kill "$signalbox_pid" 2>/dev/null && wait "$signalbox_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits up to 10 s for a TCP listener on 127.0.0.1:$1.
wait_port() {
  for _ in $(seq 200); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}

turn_port=$(free_port)
http_port=$(free_port)
secret=$(head -c 24 /dev/urandom | base64)
(umask 077 && printf '%s\n' "$secret" > "$work/turn-secret")

cat > "$work/turnserver.conf" <<EOF
listening-ip=127.0.0.1
relay-ip=127.0.0.1
listening-port=$turn_port
min-port=49152
max-port=65535
use-auth-secret
static-auth-secret=$secret
realm=signalbox.test
userdb=$work/turndb
pidfile=$work/turnserver.pid
no-tls
no-dtls
no-cli
allow-loopback-peers
log-file=stdout
simple-log
EOF

turnserver -c "$work/turnserver.conf" > "$work/turnserver.log" 2>&1 &
turn_pid=$!
if ! wait_port "$turn_port"; then
  echo "1..0 # SKIP turnserver did not start on loopback: $(tail -n 3 "$work/turnserver.log" | tr '\n' ' ')"
  exit 0
fi

"$signalbox" --no-dbus --address 127.0.0.1 --port "$http_port" \
  --turn-secret-file "$work/turn-secret" \
  --turn-uri "turn:127.0.0.1:$turn_port?transport=udp" --turn-ttl "$TTL" \
  > "$work/signalbox.log" 2>&1 &
signalbox_pid=$!

echo "1..6"
n=0
result() {  # result OK DESCRIPTION [DETAILS...]
  local ok=$1 description=$2; shift 2
  n=$((n + 1))
  if [ "$ok" = 0 ]; then
    echo "ok $n - $description"
  else
    echo "not ok $n - $description"
    printf '%s\n' "$@" | sed 's/^/# /'
  fi
}

wait_port "$http_port"
result $? "signalbox listens" "$(cat "$work/signalbox.log")"

body=$(curl -sf "http://127.0.0.1:$http_port/ice-servers")
# username, credential and urls[0] of the TURN entry, one a line.
mapfile -t turn < <(python3 -c 'import json, sys
entry = json.loads(sys.argv[1])["iceServers"][0]
print(entry["username"]); print(entry["credential"]); print(entry["urls"][0])' "$body")
username=${turn[0]:-} credential=${turn[1]:-}
[ "${turn[2]:-}" = "turn:127.0.0.1:$turn_port?transport=udp" ] && [[ $username == *:* ]]
result $? "/ice-servers hands out a TURN entry" "$body"

# One allocation, one message; 0 when allocated, not 0 when refused.
allocate() {
  timeout 30 turnutils_uclient -y -n 1 -m 1 -l 32 -u "$1" -w "$2" -p "$turn_port" 127.0.0.1 \
    > "$work/uclient.log" 2>&1
}

allocate "$username" "$credential"
result $? "coturn allocates with the issued credentials" "$(tail -n 5 "$work/uclient.log")"

tampered=$(printf '%s' "$credential" | tr 'A-Za-z' 'B-ZAb-za')
! allocate "$username" "$tampered"
result $? "coturn refuses a tampered credential" "$(tail -n 5 "$work/uclient.log")"

expiry=${username%%:*}
! allocate "$expiry:someone-else" "$credential"
result $? "coturn refuses the credential for another user" "$(tail -n 5 "$work/uclient.log")"

# Waiting for the clock to pass the expiry is the point of this test.
while [ "$(date +%s)" -le "$((expiry + 1))" ]; do sleep 0.2; done
! allocate "$username" "$credential"
result $? "coturn refuses the credential once expired" "$(tail -n 5 "$work/uclient.log")"
