#!/usr/bin/env python3
"""PyTorch side of the weight-exchange tests (Tests/IO/PyTorchInteropTests.cs).

Write the fixtures (needs PyTorch; 1.13 CPU is enough, the safetensors package is not needed):
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 Tests/Fixtures/pytorch_interop.py
It writes, under Tests/Fixtures/pytorch/, for each model NAME: NAME.safetensors (its state dict, PyTorch's names),
NAME.input.safetensors ("input") and NAME.output.safetensors ("output", PyTorch's result in eval mode).

Check a file NeuralCore wrote (with PyTorchStateDict.Save) in PyTorch:
    ... pytorch_interop.py --verify DIR/NAME.safetensors
The model is recognized by its key set; it is loaded with load_state_dict(strict=True), run on the fixture's input and
compared with NeuralCore's own output, DIR/NAME.output.safetensors. Exit code 0 when every file matches to 1e-5.

The models:
- mlp_plain        12-16-8-3 MLP with ReLU
- mlp_wn_legacy    the same with torch.nn.utils.weight_norm on every Linear: weight_g (out, 1), weight_v (out, in)
- mlp_wn_param     the same weights under the names of torch.nn.utils.parametrizations.weight_norm (PyTorch >= 2.1):
                   parametrizations.weight.original0 = g, original1 = v. PyTorch 1.13 lacks that function, so the
                   script registers the same _WeightNorm parametrization (forward(g, v), right_inverse(w) -> (g, v))
                   that newer PyTorch registers, through torch.nn.utils.parametrize: the names are PyTorch's own.
- cnn_wn_legacy    Conv2d(3,4,k3,p1) weight-normed (dim 0, g (4,1,1,1)), ReLU, MaxPool2d(2), Conv2d(4,6,k3,s2,p1),
                   BatchNorm2d(6) (running statistics from three training batches; num_batches_tracked is int64 = 3),
                   ReLU, Flatten, Linear(24,5)
- cnn_wn_param     the same weights, the conv's g and v under the parametrization names
In the weight-normed models g is scaled away from ||v|| so a mix-up of g and v changes the outputs.
"""
import argparse
import json
import os
import struct
import sys

import numpy as np
import torch
from torch import nn
from torch.nn.utils import parametrize

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pytorch")
DTYPES = {"F32": np.dtype("<f4"), "F64": np.dtype("<f8"), "I64": np.dtype("<i8")}
TOLERANCE = 1e-5


# ---------------------------------------------------------------- safetensors, by hand

def save_safetensors(path, tensors):
    """The format: u64 little-endian header length, JSON header (sorted names, padded to 8 bytes), raw data."""
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        array = tensors[name].detach().cpu().contiguous().numpy()
        dtype = {np.float32: "F32", np.int64: "I64"}[array.dtype.type]
        data = array.astype(DTYPES[dtype]).tobytes()
        header[name] = {"dtype": dtype, "shape": list(array.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def load_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (length,) = struct.unpack_from("<Q", raw, 0)
    header = json.loads(raw[8:8 + length])
    header.pop("__metadata__", None)
    data = raw[8 + length:]
    result = {}
    for name, entry in header.items():
        begin, end = entry["data_offsets"]
        array = np.frombuffer(data[begin:end], dtype=DTYPES[entry["dtype"]]).reshape(entry["shape"])
        result[name] = torch.from_numpy(array.copy())
    return result


# ---------------------------------------------------------------- the models

class WeightNormParametrization(nn.Module):
    """torch.nn.utils.parametrizations._WeightNorm of PyTorch >= 2.1: original0 = g, original1 = v."""

    def __init__(self, dim=0):
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g, weight_v):
        return torch._weight_norm(weight_v, weight_g, self.dim)

    def right_inverse(self, weight):
        return torch.norm_except_dim(weight, 2, self.dim), weight


def mlp():
    return nn.Sequential(nn.Linear(12, 16), nn.ReLU(), nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 3))


def cnn():
    return nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 6, 3, stride=2, padding=1), nn.BatchNorm2d(6), nn.ReLU(),
        nn.Flatten(), nn.Linear(24, 5))


def weight_norm(module, scheme):
    if scheme == "legacy":
        torch.nn.utils.weight_norm(module, dim=0)
    else:
        parametrize.register_parametrization(module, "weight", WeightNormParametrization(0), unsafe=True)


def g_of(module):
    if parametrize.is_parametrized(module):
        return module.parametrizations.weight.original0
    return module.weight_g


def build(name):
    """The model NAME, in eval mode, with the fixed weights (same seed, same draws for both schemes)."""
    kind, scheme = name.split("_", 1)
    torch.manual_seed(8)
    model = mlp() if kind == "mlp" else cnn()
    wn_layers = [] if scheme == "plain" else [model[i] for i in ((0, 2, 4) if kind == "mlp" else (0,))]
    for layer in wn_layers:
        weight_norm(layer, scheme.split("_")[1])
    with torch.no_grad():
        for layer in wn_layers:
            g = g_of(layer)
            g.mul_(torch.empty_like(g).uniform_(0.5, 1.5))
        if kind == "cnn":
            batchnorm = model[4]
            batchnorm.weight.uniform_(0.5, 1.5)
            batchnorm.bias.uniform_(-0.5, 0.5)
            model.train()
            for _ in range(3):
                model(torch.randn(5, 3, 8, 8))
    return model.eval()


def fixed_input(name):
    torch.manual_seed(88)
    return torch.randn(4, 12) if name.startswith("mlp") else torch.randn(2, 3, 8, 8)


MODELS = ["mlp_plain", "mlp_wn_legacy", "mlp_wn_param", "cnn_wn_legacy", "cnn_wn_param"]


# ---------------------------------------------------------------- modes

def write_fixtures():
    os.makedirs(OUT, exist_ok=True)
    for name in MODELS:
        model = build(name)
        x = fixed_input(name)
        with torch.no_grad():
            y = model(x)
        save_safetensors(os.path.join(OUT, name + ".safetensors"), model.state_dict())
        save_safetensors(os.path.join(OUT, name + ".input.safetensors"), {"input": x})
        save_safetensors(os.path.join(OUT, name + ".output.safetensors"), {"output": y})
        shapes = ", ".join(f"{k} {tuple(v.shape)}{'' if v.dtype == torch.float32 else ' ' + str(v.dtype)}"
                           for k, v in model.state_dict().items())
        print(f"{name}: output {tuple(y.shape)}; {shapes}")


def verify(path):
    state = load_safetensors(path)
    matches = [n for n in MODELS if set(build(n).state_dict().keys()) == set(state.keys())]
    if not matches:
        print(f"FAIL {path}: its keys match no fixture model: {sorted(state.keys())}")
        return False
    name = matches[0]
    model = build(name)
    model.load_state_dict(state, strict=True)
    expected_path = path[:-len(".safetensors")] + ".output.safetensors"
    expected = load_safetensors(expected_path)["output"]
    with torch.no_grad():
        y = model(fixed_input(name))
    error = (y - expected).abs().max().item()
    ok = y.shape == expected.shape and error <= TOLERANCE
    print(f"{'PASS' if ok else 'FAIL'} {os.path.basename(path)}: loaded as {name} (strict), "
          f"output {tuple(y.shape)}, max |PyTorch - NeuralCore| = {error:.3g} (tolerance {TOLERANCE})")
    return ok


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--verify", nargs="+", metavar="FILE", help="check NeuralCore-written state dicts in PyTorch")
    args = parser.parse_args()
    if args.verify:
        results = [verify(path) for path in args.verify]
        sys.exit(0 if all(results) else 1)
    write_fixtures()


if __name__ == "__main__":
    main()
