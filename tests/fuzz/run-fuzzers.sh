#!/usr/bin/env bash
# run-fuzzers.sh [SECONDS]: runs every libFuzzer target of tests/fuzz
# for SECONDS (default 60) under ASan/UBSan, and fails if any crashes.
#
# Builds _build-fuzz (clang, -Dfuzzing=true, sanitizers) first if
# needed. The checked-in seeds in corpus/<target>/ are read, never
# written: what the fuzzer finds on the way goes to a scratch corpus in
# the build directory. A crash, leak, timeout or out-of-memory input is
# copied into corpus/<target>/ as crash-<hash>, so that `meson test`
# replays it from then on (fix the bug, commit the input).
#
# Environment: FUZZ_JOBS (default 1) targets at a time; FUZZ_BUILD, the
# build directory; FUZZ_TARGETS, a space-separated subset; FUZZ_SEED,
# libFuzzer's -seed (default 0: a random one, printed in the log).
set -uo pipefail

seconds=${1:-60}
here=$(dirname "$(readlink -f "$0")")
source_root=$(readlink -f "$here/../..")
build=${FUZZ_BUILD:-$source_root/_build-fuzz}
jobs=${FUZZ_JOBS:-1}
targets=${FUZZ_TARGETS:-json message engineio socketio config websocket}

if [ ! -f "$build/build.ninja" ]; then
  CC=clang meson setup "$build" "$source_root" -Dfuzzing=true \
    -Db_sanitize=address,undefined -Db_lundef=false -Dintrospection=disabled || exit 1
fi
ninja_targets=()
for t in $targets; do ninja_targets+=("tests/fuzz/fuzz-$t"); done
nice ninja -C "$build" "${ninja_targets[@]}" || exit 1

# A GLib critical is a bug like any crash; a UBSan report too.
export G_DEBUG=fatal-criticals
export G_SLICE=always-malloc
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1

run_one() {
  local t=$1
  local work="$build/tests/fuzz/work/$t" artifacts="$build/tests/fuzz/artifacts/$t"
  local log="$build/tests/fuzz/fuzz-$t.log"
  mkdir -p "$work" "$artifacts"
  export TMPDIR="$build/tests/fuzz"
  # -rss_limit_mb: what one input may take is bounded by the server's
  # limits; 1 GB is far past them. -max_len: beyond max-message-size
  # (64 KiB) only repeats what smaller inputs reach.
  "$build/tests/fuzz/fuzz-$t" -max_total_time="$seconds" -max_len=65536 \
    -rss_limit_mb=1024 -timeout=10 -print_final_stats=1 -seed="${FUZZ_SEED:-0}" \
    -artifact_prefix="$artifacts/" "$work" "$here/corpus/$t" >"$log" 2>&1
  local rc=$?
  local found=0
  for f in "$artifacts"/*; do
    [ -f "$f" ] || continue
    found=1
    local name
    name=$(basename "$f")
    # crash-*, leak-*, timeout-*, oom-*: all kept, all named crash-*.
    cp "$f" "$here/corpus/$t/crash-${name#*-}"
    echo "fuzz-$t: $name, copied to tests/fuzz/corpus/$t/crash-${name#*-}"
    rm -f "$f"
  done
  if [ $rc -ne 0 ] || [ $found -ne 0 ]; then
    echo "FAILED fuzz-$t (exit $rc): see $log"
    tail -n 40 "$log"
    return 1
  fi
  echo "ok fuzz-$t: $(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}') runs in ${seconds}s"
}

failed=0
pids=()
for t in $targets; do
  run_one "$t" &
  pids+=($!)
  if [ ${#pids[@]} -ge "$jobs" ]; then
    wait "${pids[0]}" || failed=$((failed + 1))
    pids=("${pids[@]:1}")
  fi
done
for p in "${pids[@]}"; do
  wait "$p" || failed=$((failed + 1))
done

if [ $failed -ne 0 ]; then
  echo "$failed fuzz target(s) failed"
  exit 1
fi
echo "all fuzz targets ran ${seconds}s without a crash"
