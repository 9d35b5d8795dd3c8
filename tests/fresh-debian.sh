#!/usr/bin/env bash
# The README's test command as a newcomer runs it: a bare Debian 12 root
# (debootstrap --variant=minbase bookworm) with git and ca-certificates,
# a fresh clone of this repository's HEAD, then `./run.sh test` inside it,
# with Debian's own Node. CI machines have far more installed than a
# newcomer's, so only this catches a missing install step.
#
#   tests/fresh-debian.sh              ./run.sh test in a new bare root
#   tests/fresh-debian.sh CMD...       another command in the clone (./run.sh build)
#   FRESH_DEBIAN_KEEP=1 ...            keep the root afterwards (path printed)
#
# Needs root (debootstrap, chroot, mounts) and about 3 GB of disk; takes
# 6 to 10 minutes. What it commits to is HEAD: uncommitted work is not
# in the clone. The root uses this machine's APT sources and settings, as
# a Debian installed on this network would.
set -euo pipefail

repo=$(git -C "$(dirname "$(readlink -f "$0")")" rev-parse --show-toplevel)
[ "$#" -gt 0 ] || set -- ./run.sh test

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
  local i
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

mount_in_root /proc -t proc proc
mount_in_root /sys -t sysfs sysfs
mount_in_root /dev --bind /dev
mount_in_root /dev/pts --bind /dev/pts
mount_in_root /dev/shm -t tmpfs tmpfs
mount_in_root /run -t tmpfs tmpfs
mount_in_root /tmp -t tmpfs tmpfs

in_root() {
  chroot "$root" /usr/bin/env -i HOME=/root TERM="${TERM:-dumb}" LANG=C.UTF-8 \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"
}

log "apt-get install git ca-certificates (what the README assumes)"
in_root sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq git ca-certificates' \
  >"$work/git.log" 2>&1 || { tail -n 30 "$work/git.log" >&2; exit 1; }

log "git clone of $(git -C "$repo" rev-parse --short HEAD)"
git clone -q --no-local "$repo" "$root/root/signalbox"

log "$* (in the clone, $((SECONDS - started)) s in)"
status=0
in_root sh -c 'cd /root/signalbox && exec "$@"' sh "$@" || status=$?
log "$* exited $status after $((SECONDS - started)) s in all"
exit "$status"
