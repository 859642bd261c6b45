#!/usr/bin/python3
"""PyTorch on the cases of NeuralCore's `speed` command (issue 3), writing the same JSON for `speed --compare`.

Usage:
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 Benchmarks/peers/pytorch_speed.py \
        [--threads N] [--seconds S] [--filter TEXT] [--json FILE]

(Unset the two OpenBLAS variables: a forced core type or L2 size makes OpenBLAS pick slower sgemm blocking on this
machine; see Benchmarks/results/gemm-2026-11-25.md.)

The cases, their names and the timing method are those of Benchmarks/Speed/SpeedCases.cs and SpeedTimer.cs: a few
warm-up calls, a calibration that picks how many calls make a batch (~1/20 of the budget, at most 50 ms), then
batches until the budget is spent (at least 5); median, min and max of the batches' time per call.

- GEMM: torch.mm(op(A), op(B), out=C) on row-major float32 in [-0.5, 0.5); a transposed operand is a t() view of
  the stored matrix, as in NeuralCore, so no copy is timed. FLOPs 2·m·n·k.
- Conv2d: F.conv2d(x, w, padding=1), no bias, on leaves that require grad, as in training. `forward` and
  `forward+backward` (both gradients, zeroed in place first: zero_grad(set_to_none=False), as NeuralCore's
  ZeroGrad) are timed directly;
  `backward-data` / `backward-weight` are the paired difference of forward+backward with only x (only w) requiring
  grad and the same forward (autograd then computes only that gradient). FLOPs 2·N·O·C·kh·kw·Ho·Wo per pass.
- Networks (issue 7; Benchmarks/Speed/StepCases.cs): `mlp-step`, `cnn-step` = one training step (zero_grad
  (set_to_none=False), forward, F.cross_entropy, backward, Adam(1e-3).step()) of the MLP 784-1000-1000-10 (ReLU,
  batch 100) and of the CNN (100, 1, 28, 28) conv3x3(1->32)-ReLU-conv3x3(32->32)-ReLU-maxpool2-conv3x3(32->64)-ReLU-
  conv3x3(64->64)-ReLU-maxpool2-flatten-linear(3136->10), every conv padded by 1; variants plain, wn
  (torch.nn.utils.parametrizations.weight_norm on every Linear/Conv2d; on PyTorch < 2.1, which lacks it,
  torch.nn.utils.weight_norm), bn (BatchNorm after each hidden layer,
  hidden bias off), wn-mobn (weight norm + MeanOnlyBatchNorm below, hidden bias off). PyTorch has no unfused/fused
  split, so there is no wn-unfused here. `mlp-infer`: the MLP's forward in eval mode under torch.no_grad() at batch
  1 and 100, plain and wn (weight norm removed: the folded weights). FLOPs: GEMM/conv layers only, forward 2*MACs,
  a step 3x the forward. Top-level peak_working_set_mb = ru_maxrss.
"""
import argparse
import datetime
import json
import os
import platform
import resource
import statistics
import time

import torch
import torch.nn.functional as F

MIN_SAMPLES = 5
WARMUP_CALLS = 3


def calibrate(op, seconds):
    for _ in range(WARMUP_CALLS):
        op()
    calibration = min(max(seconds / 5, 0.002), 0.2)
    batch = min(max(seconds / 20, 0.0005), 0.05)
    reps, start = 0, time.perf_counter()
    while True:
        op()
        reps += 1
        elapsed = time.perf_counter() - start
        if elapsed >= calibration:
            break
    return int(min(max(batch * reps / elapsed, 1), 1_000_000))


def time_batch(op, calls):
    start = time.perf_counter()
    for _ in range(calls):
        op()
    return (time.perf_counter() - start) * 1e3 / calls


def measure(op, seconds):
    inner = calibrate(op, seconds)
    samples, start = [], time.perf_counter()
    while len(samples) < MIN_SAMPLES or time.perf_counter() - start < seconds:
        samples.append(time_batch(op, inner))
    return samples


def measure_difference(baseline, full, seconds):
    calibrate(baseline, seconds / 4)
    inner = calibrate(full, seconds)
    samples, start = [], time.perf_counter()
    while len(samples) < MIN_SAMPLES or time.perf_counter() - start < seconds:
        before = time_batch(baseline, inner)
        after = time_batch(full, inner)
        samples.append(after - before)
    return samples


def gemm_case(trans_a, trans_b, m, n, k):
    form = ("T" if trans_a else "N") + ("T" if trans_b else "N")

    def run(seconds):
        torch.manual_seed(1)
        a = torch.rand(k, m) - 0.5 if trans_a else torch.rand(m, k) - 0.5
        b = torch.rand(n, k) - 0.5 if trans_b else torch.rand(k, n) - 0.5
        c = torch.empty(m, n)
        op_a = a.t() if trans_a else a
        op_b = b.t() if trans_b else b
        return measure(lambda: torch.mm(op_a, op_b, out=c), seconds)

    return {"kind": "gemm", "name": f"gemm {m}x{n}x{k} {form}", "flops": 2.0 * m * n * k,
            "fields": {"m": m, "n": n, "k": k, "form": form}, "run": run}


class ConvFixture:
    def __init__(self, batch, channels, size, out_channels, kernel, padding):
        torch.manual_seed(2)
        out_size = size + 2 * padding - kernel + 1
        self.x = torch.randn(batch, channels, size, size)
        self.w = torch.randn(out_channels, channels, kernel, kernel) * 0.05
        self.dy = torch.randn(batch, out_channels, out_size, out_size)
        self.padding = padding

    def _set(self, x_grad, w_grad):
        self.x.requires_grad_(x_grad)
        self.w.requires_grad_(w_grad)

    def forward(self, x_grad, w_grad):
        def op():
            self._set(x_grad, w_grad)
            F.conv2d(self.x, self.w, padding=self.padding)
        return op

    def forward_backward(self, x_grad, w_grad):
        def op():
            self._set(x_grad, w_grad)
            # zero_grad(set_to_none=False), as NeuralCore's ZeroGrad: the gradients accumulate into kept buffers.
            # (set_to_none=True measured ~10-15 ms slower here: a fresh 10 MB gradient each call.)
            for t in (self.x, self.w):
                if t.requires_grad and t.grad is not None:
                    t.grad.zero_()
            y = F.conv2d(self.x, self.w, padding=self.padding)
            y.backward(self.dy)
        return op


def conv_cases(batch=100, channels=32, size=28, out_channels=32, kernel=3, padding=1):
    out_size = size + 2 * padding - kernel + 1
    one_pass = 2.0 * batch * out_channels * channels * kernel * kernel * out_size * out_size
    shape = f"conv2d {batch}x{channels}x{size}x{size} {kernel}x{kernel} pad{padding} -> {out_channels}"
    fixture = []

    def fx():
        if not fixture:
            fixture.append(ConvFixture(batch, channels, size, out_channels, kernel, padding))
        return fixture[0]

    def fields(pass_name, passes):
        return {"batch": batch, "in_channels": channels, "height": size, "width": size, "out_channels": out_channels,
                "kernel": kernel, "stride": 1, "padding": padding, "pass": pass_name, "passes": passes}

    return [
        {"kind": "conv2d", "name": shape + " forward", "flops": one_pass, "fields": fields("forward", 1),
         "run": lambda s: measure(fx().forward(True, True), s)},
        {"kind": "conv2d", "name": shape + " backward-data", "flops": one_pass, "fields": fields("backward-data", 1),
         "run": lambda s: measure_difference(fx().forward(True, False), fx().forward_backward(True, False), s)},
        {"kind": "conv2d", "name": shape + " backward-weight", "flops": one_pass, "fields": fields("backward-weight", 1),
         "run": lambda s: measure_difference(fx().forward(False, True), fx().forward_backward(False, True), s)},
        {"kind": "conv2d", "name": shape + " forward+backward", "flops": 3 * one_pass,
         "fields": fields("forward+backward", 3),
         "run": lambda s: measure(fx().forward_backward(True, True), s)},
    ]


class MeanOnlyBatchNorm(torch.nn.Module):
    """Mean-only batch norm (Salimans & Kingma 2016): subtract the batch mean per feature/channel, add a learned bias."""

    def __init__(self, features, momentum=0.1):
        super().__init__()
        self.bias = torch.nn.Parameter(torch.zeros(features))
        self.register_buffer("running_mean", torch.zeros(features))
        self.momentum = momentum

    def forward(self, x):
        dims = [0] + list(range(2, x.dim()))
        shape = [1, -1] + [1] * (x.dim() - 2)
        if self.training:
            mean = x.mean(dim=dims)
            with torch.no_grad():
                self.running_mean.mul_(1 - self.momentum).add_(mean, alpha=self.momentum)
        else:
            mean = self.running_mean
        return x - mean.view(shape) + self.bias.view(shape)


STEP_VARIANTS = ("plain", "wn", "bn", "wn-mobn")
MLP_MACS = 784 * 1000 + 1000 * 1000 + 1000 * 10
CNN_MACS = 28 * 28 * 32 * 9 + 28 * 28 * 32 * 32 * 9 + 14 * 14 * 64 * 32 * 9 + 14 * 14 * 64 * 64 * 9 + 3136 * 10


def _hidden(layer, features, variant, conv):
    norm = {"bn": torch.nn.BatchNorm2d if conv else torch.nn.BatchNorm1d,
            "wn-mobn": MeanOnlyBatchNorm}.get(variant)
    return [layer] + ([norm(features)] if norm else []) + [torch.nn.ReLU()]


# torch.nn.utils.parametrizations.weight_norm exists from PyTorch 2.1; this machine's 1.13 has only the older
# hook-based torch.nn.utils.weight_norm (same w = g*v/||v|| recomputed every forward, through autograd ops).
_PARAMETRIZED_WN = hasattr(torch.nn.utils.parametrizations, "weight_norm")


def _weight_norm(model, variant):
    if variant in ("wn", "wn-mobn"):
        for module in model.modules():
            if isinstance(module, (torch.nn.Linear, torch.nn.Conv2d)):
                if _PARAMETRIZED_WN:
                    torch.nn.utils.parametrizations.weight_norm(module, name="weight", dim=0)
                else:
                    torch.nn.utils.weight_norm(module, name="weight", dim=0)
    return model


def _remove_weight_norm(model):
    for module in model.modules():
        if isinstance(module, (torch.nn.Linear, torch.nn.Conv2d)):
            if _PARAMETRIZED_WN:
                torch.nn.utils.parametrize.remove_parametrizations(module, "weight", leave_parametrized=True)
            else:
                torch.nn.utils.remove_weight_norm(module, name="weight")


def mlp(variant):
    torch.manual_seed(7)
    bias = variant not in ("bn", "wn-mobn")
    layers = (_hidden(torch.nn.Linear(784, 1000, bias=bias), 1000, variant, False)
              + _hidden(torch.nn.Linear(1000, 1000, bias=bias), 1000, variant, False)
              + [torch.nn.Linear(1000, 10)])
    return _weight_norm(torch.nn.Sequential(*layers), variant)


def cnn(variant):
    torch.manual_seed(7)
    bias = variant not in ("bn", "wn-mobn")

    def conv(i, o):
        return _hidden(torch.nn.Conv2d(i, o, 3, padding=1, bias=bias), o, variant, True)

    layers = (conv(1, 32) + conv(32, 32) + [torch.nn.MaxPool2d(2)] + conv(32, 64) + conv(64, 64)
              + [torch.nn.MaxPool2d(2), torch.nn.Flatten(), torch.nn.Linear(3136, 10)])
    return _weight_norm(torch.nn.Sequential(*layers), variant)


def step_case(kind, variant, build, input_shape, macs):
    def run(seconds):
        model = build(variant)
        model.train()
        adam = torch.optim.Adam(model.parameters(), lr=1e-3)
        torch.manual_seed(11)
        x = torch.randn(*input_shape)
        labels = torch.randint(0, 10, (input_shape[0],))

        def step():
            adam.zero_grad(set_to_none=False)
            loss = F.cross_entropy(model(x), labels)
            loss.backward()
            adam.step()
        return measure(step, seconds)

    return {"kind": kind, "name": f"{kind} {variant}", "flops": 3 * 2.0 * macs * input_shape[0],
            "fields": {"variant": variant, "batch": input_shape[0]}, "run": run}


def infer_case(variant, batch):
    def run(seconds):
        model = mlp(variant)
        if variant == "wn":
            _remove_weight_norm(model)
        model.eval()
        torch.manual_seed(12)
        x = torch.randn(batch, 784)
        with torch.no_grad():
            return measure(lambda: model(x), seconds)

    return {"kind": "mlp-infer", "name": f"mlp-infer b{batch} {variant}", "flops": 2.0 * MLP_MACS * batch,
            "fields": {"variant": variant, "batch": batch}, "run": run}


def network_cases(batch=100):
    cases = [step_case("mlp-step", v, mlp, (batch, 784), MLP_MACS) for v in STEP_VARIANTS]
    cases += [step_case("cnn-step", v, cnn, (batch, 1, 28, 28), CNN_MACS) for v in STEP_VARIANTS]
    cases += [infer_case(v, b) for b in (1, batch) for v in ("plain", "wn")]
    return cases


def all_cases():
    cases = [gemm_case(False, False, s, s, s) for s in (64, 128, 256, 512, 1024, 2048)]
    cases += [
        gemm_case(False, True, 100, 1000, 784),   # forward 1: x (100, 784) · W1ᵀ
        gemm_case(False, True, 100, 1000, 1000),  # forward 2: h (100, 1000) · W2ᵀ
        gemm_case(True, False, 1000, 784, 100),   # backward ∂W1 = δᵀ · x
        gemm_case(False, False, 100, 784, 1000),  # backward ∂x = δ · W1
    ]
    return cases + conv_cases() + network_cases()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--filter", help="only cases whose name contains this (case-insensitive)")
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    cases = [c for c in all_cases() if args.filter is None or args.filter.lower() in c["name"].lower()]
    if not cases:
        parser.error(f"no case name contains '{args.filter}'")
    print(f"PyTorch {torch.__version__} speed: {torch.get_num_threads()} thread(s); "
          f"weight norm: {'parametrizations.weight_norm' if _PARAMETRIZED_WN else 'nn.utils.weight_norm (hooks)'}; "
          f"mkldnn {torch.backends.mkldnn.is_available()}; {platform.processor() or platform.machine()}")
    print(f"{'case':<52} {'median ms':>10} {'min ms':>10} {'max ms':>10} {'GFLOP/s':>9}")
    results = []
    for case in cases:
        samples = case["run"](args.seconds)
        median = statistics.median(samples)
        gflops = case["flops"] / (median * 1e-3) / 1e9
        result = {"kind": case["kind"], "name": case["name"], **case["fields"],
                  "median_ms": round(median, 4), "min_ms": round(min(samples), 4), "max_ms": round(max(samples), 4),
                  "gflops": round(gflops, 2)}
        results.append(result)
        print(f"{case['name']:<52} {median:10.4f} {min(samples):10.4f} {max(samples):10.4f} {gflops:9.1f}", flush=True)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux
    print(f"peak working set {peak_mb:.0f} MB")
    if args.json:
        run = {"tool": "pytorch", "threads": torch.get_num_threads(), "peak_working_set_mb": round(peak_mb, 1),
               "machine": f"PyTorch {torch.__version__}, {torch.__config__.parallel_info().splitlines()[0]}",
               "date_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
               "cases": results}
        temporary = args.json + ".tmp"
        with open(temporary, "w", encoding="utf-8") as f:
            json.dump(run, f, indent=2)
            f.write("\n")
        os.replace(temporary, args.json)
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
