#!/bin/bash
# Side-by-side speed runs that alternate PyTorch and NeuralCore, so that both see the same machine: on a shared host
# the speed of one core drifts by 10-20 % over minutes, more than the differences a single pair of runs tries to show.
#
# usage (from the repository root, after `dotnet build -c Release Benchmarks`):
#   Benchmarks/peers/alternate.sh OUT_DIR THREADS SECONDS ROUNDS FILTER...
# (PyTorch gets --filter=VALUE, so a filter may start with "-", as "-step" does.)
# writes OUT_DIR/{pt,nc}-THREADS-FILTER-ROUND.json (+ .txt, and cmp-*.txt with each pair's ratios) and
# OUT_DIR/load.txt; then summarize with
#   python3 Benchmarks/peers/summarize_alternating.py OUT_DIR THREADS
#
# THRASH_MIB=24 (one thread only) measures under a busy neighbour: Benchmarks/peers/thrash.c (built with gcc) streams
# through that many MiB on the last CPU while both tools run pinned to CPU 0 (see thrash.c for why).
set -euo pipefail
out=$1; threads=$2; seconds=$3; rounds=$4; shift 4
mkdir -p "$out"
pin=()
if [ -n "${THRASH_MIB:-}" ]; then
  if [ "$threads" != 1 ]; then echo "alternate.sh: THRASH_MIB needs THREADS = 1 (the neighbour takes the other CPU)" >&2; exit 2; fi
  thrash_dir=$(mktemp -d)
  gcc -O2 -o "$thrash_dir/thrash" Benchmarks/peers/thrash.c
  taskset -c "$(( $(nproc) - 1 ))" "$thrash_dir/thrash" "$THRASH_MIB" &
  thrash_pid=$!
  trap 'kill $thrash_pid 2>/dev/null; rm -rf "$thrash_dir"' EXIT
  pin=(taskset -c 0)
  echo "$(date -u +%T) neighbour: thrash $THRASH_MIB MiB on CPU $(( $(nproc) - 1 )), tools on CPU 0" >> "$out/load.txt"
fi
pt=("${pin[@]}" env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 Benchmarks/peers/pytorch_speed.py)
nc=("${pin[@]}" dotnet Benchmarks/bin/Release/net10.0/NeuralCore.Benchmarks.dll speed)
for round in $(seq 1 "$rounds"); do
  for filter in "$@"; do
    tag=$(echo "$filter" | tr ' x' '__')
    echo "$(date -u +%T) round $round '$filter' $threads thread(s), load $(cut -d' ' -f1-3 /proc/loadavg)" >> "$out/load.txt"
    "${pt[@]}" --threads "$threads" --seconds "$seconds" --filter="$filter" --json "$out/pt-$threads-$tag-$round.json" \
      > "$out/pt-$threads-$tag-$round.txt" 2>&1
    "${nc[@]}" --threads "$threads" --seconds "$seconds" --filter "$filter" --json "$out/nc-$threads-$tag-$round.json" \
      --compare "$out/pt-$threads-$tag-$round.json" > "$out/cmp-$threads-$tag-$round.txt" 2>&1
  done
done
