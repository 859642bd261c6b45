#!/usr/bin/env python3
"""Reference trajectories of torch.optim (SGD, Adam, AdamW, Adamax, RMSprop) for Tests/Optimizers/OptimizerReferenceTests.cs.

Run once with PyTorch installed (Debian: apt-get install python3-torch):
    /usr/bin/python3 Tests/Fixtures/optimizer_reference.py
It writes Tests/Optimizers/OptimizerReferenceData.cs, which the tests read, so the tests never need PyTorch.

Two problems, each run for STEPS steps from a fixed start, in float32, with foreach=False (the per-tensor loop
whose float operations NeuralCore's kernels mirror):
- "quadratic": f(x) = 1/2 sum a_i (x_i - c_i)^2 over 19 elements (a length that exercises every vector width and
  the scalar tail); its gradient a * (x - c) is computed the same way, in float32, by the C# test.
- "network": a 3-4-2 tanh MLP with a squared-error loss on a fixed batch, in two parameter groups (weights at
  the given settings; biases at half the learning rate and, where weight decay is used, none). The gradients
  PyTorch computed are recorded and replayed by the test, which so checks the optimizer alone.
"""
import os
import numpy as np
import torch

STEPS = 12
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Optimizers", "OptimizerReferenceData.cs")

CASES = [
    ("Sgd", dict(lr=0.1)),
    ("Sgd", dict(lr=0.1, momentum=0.9)),
    ("Sgd", dict(lr=0.1, momentum=0.9, dampening=0.1)),
    ("Sgd", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("Sgd", dict(lr=0.1, momentum=0.5, weight_decay=0.01)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("Adam", dict(lr=0.01, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05, amsgrad=True)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    ("Adamax", dict(lr=0.02)),
    ("Adamax", dict(lr=0.02, betas=(0.5, 0.9), weight_decay=0.1)),
    ("RmsProp", dict(lr=0.01)),
    ("RmsProp", dict(lr=0.01, centered=True)),
    ("RmsProp", dict(lr=0.01, momentum=0.9)),
    ("RmsProp", dict(lr=0.01, alpha=0.9, centered=True, momentum=0.5, weight_decay=0.1)),
]

TORCH = {"Sgd": torch.optim.SGD, "Adam": torch.optim.Adam, "AdamW": torch.optim.AdamW,
         "Adamax": torch.optim.Adamax, "RmsProp": torch.optim.RMSprop}


def settings_text(kwargs):
    """The settings as 'key=value;...', values as Python's shortest round-trip repr (exact doubles)."""
    parts = []
    for key, value in kwargs.items():
        if key == "betas":
            parts += [f"beta1={value[0]!r}", f"beta2={value[1]!r}"]
        elif isinstance(value, bool):
            parts.append(f"{key}={int(value)}")
        else:
            parts.append(f"{key}={value!r}")
    return ";".join(parts)


def make_optimizer(name, params_or_groups, kwargs):
    return TORCH[name](params_or_groups, **kwargs, foreach=False)


rng = np.random.default_rng(20160225)
QA = rng.uniform(0.5, 3.0, 19).astype(np.float32)
QC = rng.uniform(-2.0, 2.0, 19).astype(np.float32)
QX = rng.uniform(-3.0, 3.0, 19).astype(np.float32)

SHAPES = [(4, 3), (4,), (2, 4), (2,)]
NET_START = [rng.normal(0, 0.7, s).astype(np.float32) for s in SHAPES]
NET_X = rng.normal(0, 1, (5, 3)).astype(np.float32)
NET_Y = rng.normal(0, 1, (5, 2)).astype(np.float32)


def run_quadratic(name, kwargs):
    x = torch.tensor(QX.copy(), requires_grad=True)
    a, c = torch.tensor(QA), torch.tensor(QC)
    opt = make_optimizer(name, [x], kwargs)
    trajectory = []
    for _ in range(STEPS):
        with torch.no_grad():
            x.grad = a * (x - c)
        opt.step()
        trajectory.append(x.detach().numpy().copy())
    return [], trajectory


def run_network(name, kwargs):
    params = [torch.tensor(p.copy(), requires_grad=True) for p in NET_START]
    w1, b1, w2, b2 = params
    bias_group = {"params": [b1, b2], "lr": kwargs["lr"] / 2}
    if "weight_decay" in kwargs:
        bias_group["weight_decay"] = 0.0
    opt = make_optimizer(name, [{"params": [w1, w2]}, bias_group], kwargs)
    x, y = torch.tensor(NET_X), torch.tensor(NET_Y)
    gradients, trajectory = [], []
    for _ in range(STEPS):
        opt.zero_grad()
        out = torch.tanh(x @ w1.T + b1) @ w2.T + b2
        loss = ((out - y) ** 2).mean()
        loss.backward()
        gradients.append(np.concatenate([p.grad.numpy().ravel() for p in params]))
        opt.step()
        trajectory.append(np.concatenate([p.detach().numpy().ravel() for p in params]))
    return gradients, trajectory


def f32(values):
    """C# float literals that parse back to exactly these float32 values (numpy's shortest float32 repr)."""
    out = []
    for v in np.asarray(values, dtype=np.float32).ravel():
        text = np.format_float_positional(v, unique=True, trim="-") if 1e-4 <= abs(v) < 1e6 or v == 0 else np.format_float_scientific(v, unique=True, trim="-")
        out.append(text + "f")
    return "[" + ", ".join(out) + "]"


def rows(arrays, indent):
    pad = " " * indent
    return "[\n" + "".join(f"{pad}    {f32(a)},\n" for a in arrays) + f"{pad}]"


def main():
    lines = [
        "// <auto-generated>",
        f"// Written by Tests/Fixtures/optimizer_reference.py with PyTorch {torch.__version__}; do not edit, run the script.",
        "// </auto-generated>",
        "namespace NeuralCore.Tests.Optimizers;",
        "",
        "/// <summary>torch.optim trajectories: the parameters after each step, for each case of the script.</summary>",
        "internal static class OptimizerReferenceData",
        "{",
        f"    public const int Steps = {STEPS};",
        "",
        f"    public static readonly float[] QuadraticA = {f32(QA)};",
        "",
        f"    public static readonly float[] QuadraticC = {f32(QC)};",
        "",
        f"    public static readonly float[] QuadraticStart = {f32(QX)};",
        "",
        "    public static readonly int[][] NetworkShapes = [" + ", ".join("[" + ", ".join(map(str, s)) + "]" for s in SHAPES) + "];",
        "",
        f"    public static readonly float[] NetworkStart = {f32(np.concatenate([p.ravel() for p in NET_START]))};",
        "",
        "    public static readonly OptimizerReferenceCase[] Cases =",
        "    [",
    ]
    for name, kwargs in CASES:
        for problem, run in (("quadratic", run_quadratic), ("network", run_network)):
            gradients, trajectory = run(name, kwargs)
            lines.append(f'        new("{name}", "{settings_text(kwargs)}", "{problem}",')
            lines.append(f"            {rows(gradients, 12) if gradients else '[]'},")
            lines.append(f"            {rows(trajectory, 12)}),")
    lines += ["    ];", "}", ""]
    with open(OUT, "w") as handle:
        handle.write("\n".join(lines))
    print(f"wrote {OUT}: {len(CASES) * 2} cases of {STEPS} steps")


if __name__ == "__main__":
    main()
