#!/usr/bin/env bash
# The README's test command as a newcomer runs it: a bare Debian 12 root
# (debootstrap --variant=minbase bookworm) with git and ca-certificates,
# a fresh clone of this repository's HEAD, then `./run.sh test` inside it,
# with Debian's own Node. CI machines have far more installed than a
# newcomer's, so only this catches a missing install step.
#
#   tests/fresh-debian.sh              the README's two commands in a new bare root:
#                                      ./run.sh until it serves (then /healthz with
#                                      curl, ./run.sh ctl status, Ctrl-C), ./run.sh test
#   tests/fresh-debian.sh CMD...       another command in the clone (./run.sh build)
#   FRESH_DEBIAN_KEEP=1 ...            keep the root afterwards (path printed)
#
# Needs root (debootstrap, chroot, mounts) and about 3 GB of disk; takes
# 6 to 10 minutes. What it commits to is HEAD: uncommitted work is not
# in the clone. The root uses this machine's APT sources and settings, as
# a Debian installed on this network would.
set -euo pipefail

repo=$(git -C "$(dirname "$(readlink -f "$0")")" rev-parse --show-toplevel)
[ "$#" -gt 0 ] || set -- bash /root/newcomer.sh

log() { printf '\033[1m[fresh-debian] %s\033[0m\n' "$*" >&2; }

if [ "$(id -u)" -ne 0 ]; then
  echo "fresh-debian: needs root (debootstrap and chroot)" >&2
  exit 2
fi

if ! command -v debootstrap >/dev/null 2>&1; then
  log "Installing debootstrap"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
fi

# The first Debian mirror this machine's APT uses, else Debian's own.
mirror() {
  local uri
  uri=$(grep -hs -m1 -E '^(URIs:|deb )' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list |
        grep -o 'https\?://[^ ]*' | grep -v security | head -n1 || true)
  echo "${uri:-http://deb.debian.org/debian}"
}

work=$(mktemp -d /var/tmp/signalbox-fresh-debian.XXXXXX)
root=$work/root
mounts=()

cleanup() {
  local i proc
  # Whatever the run left behind in the root (a daemon, a bus) goes first.
  for proc in /proc/[0-9]*; do
    [ "$(readlink "$proc/root" 2>/dev/null)" = "$root" ] && kill -9 "${proc#/proc/}" 2>/dev/null
  done
  for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
    umount -l "${mounts[$i]}" 2>/dev/null || true
  done
  if [ -n "${FRESH_DEBIAN_KEEP:-}" ]; then
    log "Kept the root at $root"
  else
    rm -rf --one-file-system "$work"
  fi
}
trap cleanup EXIT

mount_in_root() {
  local target=$root$1; shift
  mkdir -p "$target"
  mount "$@" "$target"
  mounts+=("$target")
}

started=$SECONDS
log "debootstrap --variant=minbase bookworm from $(mirror) (about a minute)"
debootstrap --variant=minbase bookworm "$root" "$(mirror)" >"$work/debootstrap.log" 2>&1 || {
  tail -n 30 "$work/debootstrap.log" >&2
  exit 1
}

# This network's way to Debian: the same sources and APT settings.
cp -a /etc/apt/sources.list.d/. "$root/etc/apt/sources.list.d/" 2>/dev/null || true
[ -f /etc/apt/sources.list ] && cp /etc/apt/sources.list "$root/etc/apt/sources.list"
cp -a /etc/apt/apt.conf.d/. "$root/etc/apt/apt.conf.d/"
find "$root/etc/apt/sources.list.d" -name '*.disabled*' -delete
cp /etc/resolv.conf /etc/hosts "$root/etc/" 2>/dev/null || true
# Certificate authorities this machine trusts locally (a proxy's, say),
# added to the root's store when ca-certificates is installed below.
mkdir -p "$root/usr/local/share/ca-certificates"
cp -a /usr/local/share/ca-certificates/. "$root/usr/local/share/ca-certificates/" 2>/dev/null || true

mount_in_root /proc -t proc proc
mount_in_root /sys -t sysfs sysfs
mount_in_root /dev --bind /dev
mount_in_root /dev/pts --bind /dev/pts
mount_in_root /dev/shm -t tmpfs tmpfs
mount_in_root /run -t tmpfs tmpfs
mount_in_root /tmp -t tmpfs tmpfs

# A clean environment, but for how this machine tells Node.js about the
# local authorities above (Node keeps its own list otherwise).
in_root() {
  chroot "$root" /usr/bin/env -i HOME=/root TERM="${TERM:-dumb}" LANG=C.UTF-8 \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    ${NODE_EXTRA_CA_CERTS:+NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt} "$@"
}

log "apt-get install git ca-certificates (what the README assumes)"
in_root sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq git ca-certificates && update-ca-certificates' \
  >"$work/git.log" 2>&1 || { tail -n 30 "$work/git.log" >&2; exit 1; }

log "git clone of $(git -C "$repo" rev-parse --short HEAD)"
git clone -q --no-local "$repo" "$root/root/signalbox"

# What a newcomer does with the README: serve, look, stop, then test.
cat >"$root/root/newcomer.sh" <<'SCRIPT'
set -u
cd /root/signalbox
echo "[newcomer] ./run.sh"
setsid ./run.sh >/tmp/serve.log 2>&1 &
serve=$!
i=0
until grep -q "Listening on" /tmp/serve.log; do
  if ! kill -0 "$serve" 2>/dev/null || [ "$i" -ge 900 ]; then
    cat /tmp/serve.log
    echo "[newcomer] FAILED: ./run.sh did not serve"
    exit 1
  fi
  i=$((i + 1)); sleep 1
done
cat /tmp/serve.log
echo "[newcomer] serving after ${i} s; curl -s localhost:3000/healthz"
curl -fsS localhost:3000/healthz && echo || { echo "[newcomer] FAILED: /healthz"; exit 1; }
echo "[newcomer] ./run.sh ctl status"
./run.sh ctl status || { echo "[newcomer] FAILED: ./run.sh ctl status"; exit 1; }
echo "[newcomer] Ctrl-C"
kill -INT -- "-$serve"
wait "$serve"
if [ -e /run/user/0/bus ]; then echo "[newcomer] FAILED: the session bus outlived ./run.sh"; exit 1; fi
echo "[newcomer] ./run.sh test"
exec ./run.sh test
SCRIPT

log "$* (in the clone, $((SECONDS - started)) s in)"
status=0
in_root sh -c 'cd /root/signalbox && exec "$@"' sh "$@" || status=$?
log "$* exited $status after $((SECONDS - started)) s in all"
exit "$status"
