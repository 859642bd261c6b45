#!/usr/bin/env python3
"""Summarizes Benchmarks/peers/alternate.sh: per case, the median over rounds of each tool's median time, their ratio,
each round's ratio, and the ratio of the two tools' best (minimum) times over all rounds.

usage: python3 Benchmarks/peers/summarize_alternating.py OUT_DIR THREADS
A ratio below 1 means NeuralCore took less time than PyTorch (so ran more GFLOP/s)."""
import collections
import glob
import json
import statistics
import sys


def main():
    directory, threads = sys.argv[1], sys.argv[2]
    cases = collections.OrderedDict()
    for nc_path in sorted(glob.glob(f"{directory}/nc-{threads}-*.json")):
        pt_path = nc_path.replace("/nc-", "/pt-")
        with open(nc_path) as f:
            nc = json.load(f)
        with open(pt_path) as f:
            pt = {case["name"]: case for case in json.load(f)["cases"]}
        for case in nc["cases"]:
            peer = pt.get(case["name"])
            if peer is None:
                continue
            entry = cases.setdefault(case["name"], {"nc": [], "pt": [], "nc_min": [], "pt_min": []})
            entry["nc"].append(case["median_ms"])
            entry["pt"].append(peer["median_ms"])
            entry["nc_min"].append(case["min_ms"])
            entry["pt_min"].append(peer["min_ms"])
    print(f"{threads} thread(s); times in ms; ratio = NeuralCore time / PyTorch time (below 1: NeuralCore faster)")
    print(f"| case | rounds | NeuralCore median | PyTorch median | ratio of medians | each round | ratio of minima |")
    print("|---|---|---|---|---|---|---|")
    for name, e in cases.items():
        nc_median, pt_median = statistics.median(e["nc"]), statistics.median(e["pt"])
        rounds = " ".join(f"{a / b:.2f}" for a, b in zip(e["nc"], e["pt"]))
        print(f"| {name} | {len(e['nc'])} | {nc_median:.3f} | {pt_median:.3f} | {nc_median / pt_median:.3f} | {rounds} | "
              f"{min(e['nc_min']) / min(e['pt_min']):.3f} |")


if __name__ == "__main__":
    main()
