#!/usr/bin/env bash
# Runs the benchmark matrix of bench/README.md: signalbox and the Node
# replica of seed 000, side by side, one JSON line per run.
# Needs a build in _build and tests/compat/node_modules (./run.sh test
# provides both).
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."

seconds=${SECONDS_PER_RUN:-10}
for args in "--pairs 50" "--pairs 500" "--pairs 20 --transport polling"; do
  for server in signalbox seed000; do
    # shellcheck disable=SC2086
    node bench/relay.js --server "$server" --seconds "$seconds" $args
  done
done
for pairs in 50 500; do
  node bench/relay.js --server signalbox --seconds "$seconds" --pairs "$pairs" --protocol native
done
