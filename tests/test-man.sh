#!/usr/bin/env bash
# The man pages, as built (MAN_DIR):
#  - each renders without a single groff or man warning;
#  - they cannot drift from the code: every long option of signalbox
#    --help is an item of signalbox(8) and every key of --print-config one
#    of signalbox.conf(5), and the reverse (nothing documented that is
#    gone); every command and option of signalboxctl --help is in
#    signalboxctl(1).
set -uo pipefail
man_dir=${MAN_DIR:?run me from meson test}
signalbox=${SIGNALBOX_BIN:?}
signalboxctl=${SIGNALBOXCTL_BIN:?}
pages=(signalbox.8 signalbox.conf.5 signalboxctl.1)

for page in "${pages[@]}"; do
  if [ ! -f "$man_dir/$page" ]; then
    echo "1..0 # SKIP man pages not built (-Dman=disabled or no scdoc)"
    exit 0
  fi
done

echo "1..$((${#pages[@]} + 6))"
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

# Each page renders cleanly: through man-db as a reader's man does, and
# through groff itself with every warning on (-ww: man's own --warnings
# only shows the "mac" kind).
for page in "${pages[@]}"; do
  file=$man_dir/$page
  if ! command -v man >/dev/null && ! command -v groff >/dev/null; then
    echo "ok $((n += 1)) # SKIP neither man nor groff to render $page"
    continue
  fi
  from_man= from_groff= status=0
  if command -v man >/dev/null; then
    from_man=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 "$file" 2>&1 >/dev/null) || status=$?
  fi
  if command -v groff >/dev/null; then
    from_groff=$(groff -man -ww -z "$file" 2>&1) || status=$?
  fi
  warnings=$(printf '%s\n%s\n' "$from_man" "$from_groff" | sed '/^$/d')
  [ "$status" = 0 ] && [ -z "$warnings" ]
  result $? "$page renders without warnings" "exit $status" "$warnings"
done

# The items of a page are its bold words on the line before an indented
# block, as scdoc writes "*-c*, *--config*=_FILE_" and its description:
# \fB-c\fR, \fB--config\fR=\fIFILE\fR then .RS 4.
terms() {  # terms PAGE
  awk '/^\.RS/ { print prev } { prev = $0 }' "$1" |
    grep -o '\\fB[^\\]*\\fR' | sed 's/^\\fB//; s/\\fR$//'
}
# Only the long options of terms, without their dashes.
long_terms() {
  terms "$1" | sed -n 's/^--//p'
}
# The long options a GOption --help lists, one a line.
long_options() {
  "$@" --help | sed -n 's/^ \{1,\}\(-[[:alnum:]], \)\{0,1\}--\([[:alnum:]-]\{1,\}\).*/\2/p'
}
# Prints the words of the first list that are not in the second.
missing() {
  comm -23 <(sort -u <<<"$1") <(sort -u <<<"$2") | tr '\n' ' '
}

options=$(long_options "$signalbox")
documented=$(long_terms "$man_dir/signalbox.8")
gone=$(missing "$options" "$documented")
[ -n "$options" ] && [ -z "$gone" ]
result $? "every option of signalbox --help is in signalbox(8)" "missing: $gone"

extra=$(missing "$documented" "$options")
[ -z "$extra" ]
result $? "signalbox(8) documents no option signalbox lacks" "not in --help: $extra"

keys=$("$signalbox" --print-config | sed -n 's/^#\{0,1\}\([[:alnum:]-]\{1,\}\)=.*/\1/p')
documented=$(terms "$man_dir/signalbox.conf.5")
gone=$(missing "$keys" "$documented")
[ -n "$keys" ] && [ -z "$gone" ]
result $? "every key of signalbox --print-config is in signalbox.conf(5)" "missing: $gone"

extra=$(missing "$documented" "$keys")
[ -z "$extra" ]
result $? "signalbox.conf(5) documents no key signalbox lacks" "not in --print-config: $extra"

# The commands are the first words of the lines under "Commands:".
commands=$("$signalboxctl" --help | sed -n '/^Commands:/,/^$/s/^ \{1,\}\([[:alnum:]-]\{1,\}\).*/\1/p')
documented=$(terms "$man_dir/signalboxctl.1")
gone=$(missing "$commands" "$documented")
[ -n "$commands" ] && [ -z "$gone" ]
result $? "every command of signalboxctl --help is in signalboxctl(1)" "missing: $gone"

options=$(long_options "$signalboxctl")
documented=$(long_terms "$man_dir/signalboxctl.1")
gone=$(missing "$options" "$documented")
[ -n "$options" ] && [ -z "$gone" ]
result $? "every option of signalboxctl --help is in signalboxctl(1)" "missing: $gone"
