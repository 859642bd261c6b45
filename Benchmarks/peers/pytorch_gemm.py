#!/usr/bin/python3
"""PyTorch's sgemm on the same GEMM cases as NeuralCore's GemmBenchmarks, for a side-by-side comparison.

Usage: /usr/bin/python3 Benchmarks/peers/pytorch_gemm.py [--threads 1] [--seconds 1.0] [--only square|mlp] [--case NAME]

Prints one line per case: the median and minimum time over repeated batches and GFLOP/s from the median
(2·m·n·k floating-point operations per product). The matrices are row-major float32 with the same storage as the
C# benchmark, so the transposed forms are views (t()) and no copy is timed.
"""
import argparse
import time

import torch

SQUARE = [64, 128, 256, 512, 1024, 2048]
# (name, transA, transB, m, n, k): C(m×n) = op(A)·op(B)
MLP = [
    ("mlp fwd1 NT 100x1000x784", False, True, 100, 1000, 784),    # x(100,784) · W(1000,784)ᵀ
    ("mlp fwd2 NT 100x1000x1000", False, True, 100, 1000, 1000),  # h(100,1000) · W(1000,1000)ᵀ
    ("mlp bwdW TN 1000x784x100", True, False, 1000, 784, 100),    # δ(100,1000)ᵀ · x(100,784)
    ("mlp bwdX NN 100x784x1000", False, False, 100, 784, 1000),   # δ(100,1000) · W(1000,784)
]


def run(name, trans_a, trans_b, m, n, k, seconds):
    a = torch.rand(k, m) - 0.5 if trans_a else torch.rand(m, k) - 0.5
    b = torch.rand(n, k) - 0.5 if trans_b else torch.rand(k, n) - 0.5
    c = torch.empty(m, n)
    op_a = a.t() if trans_a else a
    op_b = b.t() if trans_b else b
    for _ in range(3):
        torch.mm(op_a, op_b, out=c)
    reps, start = 0, time.perf_counter()
    while time.perf_counter() - start < 0.2:
        torch.mm(op_a, op_b, out=c)
        reps += 1
    inner = max(1, int(reps * 0.05 / (time.perf_counter() - start)))
    samples, total = [], time.perf_counter()
    while time.perf_counter() - total < seconds or len(samples) < 5:
        t0 = time.perf_counter()
        for _ in range(inner):
            torch.mm(op_a, op_b, out=c)
        samples.append((time.perf_counter() - t0) / inner)
    samples.sort()
    med = samples[len(samples) // 2]
    flops = 2.0 * m * n * k
    print(f"{name:<30} threads={torch.get_num_threads()} median {med * 1e3:9.3f} ms  min {samples[0] * 1e3:9.3f} ms"
          f"  {flops / med / 1e9:7.1f} GFLOP/s (best {flops / samples[0] / 1e9:7.1f})", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--only", choices=["square", "mlp"])
    parser.add_argument("--case", help="run only the case with this name, e.g. '1024^3 NN'")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    cases = []
    if args.only != "mlp":
        cases += [(f"{s}^3 NN", False, False, s, s, s) for s in SQUARE]
    if args.only != "square":
        cases += MLP
    for case in cases:
        if args.case is None or case[0] == args.case:
            run(*case, args.seconds)


if __name__ == "__main__":
    main()
