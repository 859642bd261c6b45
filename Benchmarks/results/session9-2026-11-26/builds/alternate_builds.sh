#!/bin/bash
# alt5.sh OUT THREADS ROUNDS FILTER PIN BUILD... : PyTorch then each build dir in turn
out=$1; threads=$2; rounds=$3; filter=$4; pin=$5; shift 5
mkdir -p $out; cd /work/main
ts=(); [ "$pin" = 1 ] && ts=(taskset -c 0)
for r in $(seq 1 $rounds); do
  echo "$(date -u +%T) round $r threads $threads load $(cut -d' ' -f1-3 /proc/loadavg)" >> $out/load.txt
  "${ts[@]}" env -u OPENBLAS_CORETYPE /usr/bin/python3 Benchmarks/peers/pytorch_speed.py --threads $threads --seconds 2 --filter="$filter" --json $out/pt-$threads-$r.json > /dev/null 2>&1
  for b in "$@"; do
    "${ts[@]}" dotnet /tmp/$b/NeuralCore.Benchmarks.dll speed --threads $threads --seconds 2 --filter "$filter" --json $out/$b-$threads-$r.json > /dev/null 2>&1
  done
done
