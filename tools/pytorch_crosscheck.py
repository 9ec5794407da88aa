#!/usr/bin/python3
"""PyTorch reference fixtures for the CnnGen cross-check tests.

Regenerate (needs PyTorch and numpy):

    /usr/bin/python3 tools/pytorch_crosscheck.py

writes tests/Cnn.Runtime.Tests/Fixtures/<Network>.bin for every network below and prints, per network, how far
PyTorch's own float32 results are from its float64 results (the scale of error a float32 implementation makes).
Options: --out DIR (another fixture folder), --print-cs (print the C# attribute declarations of the networks,
which tests/Cnn.Runtime.Tests/CrossCheck/CrossCheckNetworks.cs must equal), --seed N, --batch N.

Each network is drawn once: float32 parameters and inputs from numpy, labels, then PyTorch computes in float64 the
outputs (probabilities when the network ends in Softmax, else logits), the mean cross-entropy on the logits and
every parameter gradient. The C# tests load the same parameters by name and compare. Network i draws from seed + i, so
appending a network leaves the fixtures of the others byte for byte as they were.

Layers are named as CnnGen names them: kind prefix and 1-based index per kind (conv1, bn1, relu1, pool1, dense1, add1,
...). A shortcut, ("Add", dict(source="relu1")) (CnnGen's `[Add("relu1")]`), adds the output of the named earlier
layer, of the same shape, to its input; the PyTorch model keeps every layer's output by name for it. It has no tensors
(CrossNetH with BatchNorm in both modes, CrossNetI without). A dense connection, ("Concat", dict(source="relu1"))
(CnnGen's `[Concat("relu1")]`, DenseNet), joins the named earlier layer's output to its input along the channels,
torch.cat([x, source], 1): the input's channels first, then the source's; heights and widths must be equal (flat after a
dense layer, 1x1). No tensors either (CrossNetJ, with BatchNorm in both modes).
CrossNetK's 3x3 layers of 16 to 32 channels are those CnnGen trains through Winograd F(4x4, 3x3); CrossNetL's map is wide
enough for its weight gradients too.

Modes. BatchNorm and Dropout behave differently in training and evaluation, so a network with either is computed in
the modes where a comparison means something:
  * evaluation (`model.eval()`, CnnGen's `Training = false`), every network: the `expected.*` arrays. BatchNorm uses
    the drawn running statistics, Dropout passes values through. For a network without BatchNorm or Dropout the two
    modes agree, and this is its only set of results (the five original fixtures).
  * training (`model.train()`, `Training = true`), networks with BatchNorm and without Dropout: the `train.*` arrays.
    BatchNorm normalises by the batch's statistics and updates its running statistics once, from the drawn ones.
    A network with Dropout never gets training-mode results: CnnGen's dropout masks are not PyTorch's, so nothing
    downstream of a training-mode Dropout could be compared. Dropout is therefore checked in evaluation only
    (CrossNetE), and BatchNorm's training mode on networks without Dropout (CrossNetF, CrossNetG, CrossNetH,
    CrossNetJ, CrossNetK, CrossNetL).
BatchNorm tensors are drawn, not PyTorch's defaults (weight 1, bias 0, mean 0, variance 1, count 0), so a wrong
formula shows: weight +-U(0.5, 1.5) (one in five negative), bias N(0, 0.2^2), running_mean N(0, 0.3^2),
running_var U(0.25, 2), num_batches_tracked an integer below 1000.

File format (little-endian), readable without extra packages:
    8 bytes   unsigned length N of the JSON header
    N bytes   UTF-8 JSON: network, seed, batch, input [c,h,w], endsWithSoftmax, attributes, layers
              [{name, kind, shape}], tensors [{name, shape}] in state_dict order (buffers, i.e. BatchNorm's running
              statistics, marked "state": true), torch32Error (largest relative error of PyTorch float32 against
              float64 over every expected array), modes (["eval"] or ["eval", "train"]; written only for networks
              with BatchNorm or Dropout), arrays {key: {dtype, shape, offset, length}}
    rest      raw arrays; offset is in bytes from the start of this data block; dtype F32, F64 or I32.
Array keys: inputs (F32 [batch,c,h,w]), labels (I32 [batch]), param.<tensor> (F32) for each parameter, state.<tensor>
(F32; num_batches_tracked too, shape []) for each buffer; evaluation mode: expected.outputs (F64), expected.loss
(F64 [1]), expected.grad.<parameter> (F64); training mode: train.outputs, train.loss, train.grad.<parameter> and
train.state.<buffer> (F64), the buffers after one forward pass.
"""

import argparse
import json
import os
import struct
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

F32 = lambda v: float(np.float32(v))  # C# attribute arguments are floats

# Layer specs: (kind, args). The same attributes stand on the C# classes in CrossCheckNetworks.cs.
NETWORKS = {
    "LeNet5": ((1, 28, 28), [
        ("Conv", dict(kernel=5, filters=6, stride=1, padding=2)), ("ReLU", {}), ("MaxPool", dict(size=2)),
        ("Conv", dict(kernel=5, filters=16)), ("ReLU", {}), ("MaxPool", dict(size=2)),
        ("Dense", dict(units=120)), ("ReLU", {}), ("Dense", dict(units=84)), ("ReLU", {}),
        ("Dense", dict(units=10)), ("Softmax", {}),
    ]),
    # Stride-2 padded conv, LeakyReLU, overlapping padded max pool, 1x1 conv, ELU, Tanh; ends in logits.
    "CrossNetA": ((3, 13, 11), [
        ("Conv", dict(kernel=3, filters=5, stride=2, padding=1)), ("LeakyReLU", dict(slope=0.1)),
        ("MaxPool", dict(size=3, stride=1, padding=1)),
        ("Conv", dict(kernel=1, filters=4)), ("ELU", dict(alpha=0.5)),
        ("Dense", dict(units=7)), ("Tanh", {}), ("Dense", dict(units=5)),
    ]),
    # Rectangular input, even kernel with padding, Tanh, padded average pool, stride-2 conv, Sigmoid, Softmax.
    "CrossNetB": ((2, 10, 15), [
        ("Conv", dict(kernel=4, filters=6, padding=2)), ("Tanh", {}),
        ("AvgPool", dict(size=3, stride=2, padding=1)),
        ("Conv", dict(kernel=2, filters=3, stride=2)), ("Sigmoid", {}),
        ("Dense", dict(units=4)), ("Softmax", {}),
    ]),
    # 1x1 conv first, padded stride-2 conv, ELU, overlapping unpadded max pool, average pool, LeakyReLU, Softmax.
    "CrossNetC": ((4, 9, 9), [
        ("Conv", dict(kernel=1, filters=6)), ("ReLU", {}),
        ("Conv", dict(kernel=3, filters=5, stride=2, padding=2)), ("ELU", dict(alpha=1.3)),
        ("MaxPool", dict(size=2, stride=1)), ("AvgPool", dict(size=2)),
        ("Dense", dict(units=9)), ("LeakyReLU", dict(slope=0.2)), ("Dense", dict(units=6)), ("Softmax", {}),
    ]),
    # Pool before any parameter, stride-3 conv that leaves input unread, 1x1 conv, ends in Sigmoid (no Softmax).
    "CrossNetD": ((1, 7, 40), [
        ("MaxPool", dict(size=3, stride=2, padding=1)),
        ("Conv", dict(kernel=3, filters=7, stride=3, padding=1)), ("ReLU", {}),
        ("Conv", dict(kernel=1, filters=18, stride=1)), ("Tanh", {}),
        ("Dense", dict(units=3)), ("Sigmoid", {}),
    ]),
    # BatchNorm after each Conv and Dense layer (all folded in evaluation), stride-2 padded conv, Dropout after the
    # hidden dense layer's activation; Softmax. Evaluation mode only (Dropout).
    "CrossNetE": ((3, 12, 12), [
        ("Conv", dict(kernel=3, filters=6, padding=1)), ("BatchNorm", {}), ("ReLU", {}), ("MaxPool", dict(size=2)),
        ("Conv", dict(kernel=3, filters=8, stride=2, padding=1)), ("BatchNorm", {}), ("ReLU", {}),
        ("Dense", dict(units=10)), ("BatchNorm", {}), ("ReLU", {}), ("Dropout", dict(rate=0.3)),
        ("Dense", dict(units=5)), ("Softmax", {}),
    ]),
    # Non-square maps; BatchNorm after a max pool, after an average pool and after a dense layer's activation (none
    # folded), one after a conv (folded); ends in logits. Evaluation and training mode.
    "CrossNetF": ((2, 11, 7), [
        ("Conv", dict(kernel=3, filters=6, padding=1)), ("ReLU", {}), ("MaxPool", dict(size=2)), ("BatchNorm", {}),
        ("Conv", dict(kernel=2, filters=5)), ("BatchNorm", {}), ("ELU", dict(alpha=0.7)),
        ("AvgPool", dict(size=2, stride=1)), ("BatchNorm", {}),
        ("Dense", dict(units=8)), ("Tanh", {}), ("BatchNorm", {}), ("Dense", dict(units=4)),
    ]),
    # A BatchNorm right after the first layer, a stride-2 padded conv, and one right after a dense layer (both folded
    # in evaluation); Softmax. Evaluation and training mode.
    "CrossNetG": ((3, 6, 5), [
        ("Conv", dict(kernel=3, filters=4, stride=2, padding=1)), ("BatchNorm", {}), ("LeakyReLU", dict(slope=0.1)),
        ("Dense", dict(units=6)), ("BatchNorm", {}), ("ReLU", {}), ("Dense", dict(units=3)), ("Softmax", {}),
    ]),
    # Residual (ResNet): conv-BatchNorm-ReLU, a block conv-BatchNorm-ReLU-conv-BatchNorm whose output is added to the
    # first ReLU's, ReLU, max pool; a conv to another width, the same block again on non-square maps; a dense head and
    # Softmax. Every BatchNorm follows a conv (folded in evaluation). Evaluation and training mode.
    "CrossNetH": ((3, 9, 7), [
        ("Conv", dict(kernel=3, filters=4, padding=1)), ("BatchNorm", {}), ("ReLU", {}),
        ("Conv", dict(kernel=3, filters=4, padding=1)), ("BatchNorm", {}), ("ReLU", {}),
        ("Conv", dict(kernel=3, filters=4, padding=1)), ("BatchNorm", {}), ("Add", dict(source="relu1")), ("ReLU", {}),
        ("MaxPool", dict(size=2)),
        ("Conv", dict(kernel=3, filters=6, padding=1)), ("BatchNorm", {}), ("ReLU", {}),
        ("Conv", dict(kernel=3, filters=6, padding=1)), ("BatchNorm", {}), ("ReLU", {}),
        ("Conv", dict(kernel=3, filters=6, padding=1)), ("BatchNorm", {}), ("Add", dict(source="relu4")), ("ReLU", {}),
        ("Dense", dict(units=8)), ("ReLU", {}), ("Dense", dict(units=4)), ("Softmax", {}),
    ]),
    # Shortcuts without BatchNorm on non-square maps: a conv directly followed by a ReLU (which inference must then not
    # fuse into it) as the source of two Adds; a source directly before its Add (y = 2x); an Add as a source; a
    # shortcut over a dense layer (flat); ends in logits.
    "CrossNetI": ((2, 7, 5), [
        ("Conv", dict(kernel=3, filters=3, padding=1)), ("ReLU", {}),
        ("Conv", dict(kernel=3, filters=3, padding=1)), ("Add", dict(source="conv1")),
        ("LeakyReLU", dict(slope=0.1)), ("Add", dict(source="leakyrelu1")),
        ("Conv", dict(kernel=1, filters=3)), ("Add", dict(source="conv1")), ("Sigmoid", {}), ("Add", dict(source="add1")),
        ("Conv", dict(kernel=2, filters=4, stride=2, padding=1)), ("ELU", dict(alpha=0.5)),
        ("Dense", dict(units=6)), ("Tanh", {}), ("Dense", dict(units=6)), ("Add", dict(source="tanh1")),
        ("Dense", dict(units=5)),
    ]),
    # Dense connections (DenseNet) with BatchNorm on non-square maps: conv-BatchNorm-ReLU, a conv joined with the first
    # ReLU's output, BatchNorm, ReLU, a conv joined with that ReLU's; a 1x1 "transition" conv and average pool; a conv
    # directly followed by a ReLU (which inference must then not fuse into it) as a source; a conv-BatchNorm-ReLU whose
    # BatchNorm (folded in evaluation, its ReLU then not fused) is a source; a BatchNorm joined with itself (the source
    # directly before the Concat, y = [x, x]); a flat Concat after a dense layer; Softmax. Evaluation and training mode.
    "CrossNetJ": ((3, 8, 6), [
        ("Conv", dict(kernel=3, filters=4, padding=1)), ("BatchNorm", {}), ("ReLU", {}),
        ("Conv", dict(kernel=3, filters=3, padding=1)), ("Concat", dict(source="relu1")), ("BatchNorm", {}), ("ReLU", {}),
        ("Conv", dict(kernel=3, filters=3, padding=1)), ("Concat", dict(source="relu2")),
        ("Conv", dict(kernel=1, filters=5)), ("AvgPool", dict(size=2)),
        ("Conv", dict(kernel=3, filters=4, padding=1)), ("ReLU", {}),
        ("Conv", dict(kernel=3, filters=3, padding=1)), ("BatchNorm", {}), ("ReLU", {}), ("Concat", dict(source="conv5")),
        ("Concat", dict(source="bn3")), ("BatchNorm", {}), ("Concat", dict(source="bn4")),
        ("Dense", dict(units=6)), ("BatchNorm", {}), ("Tanh", {}), ("Dense", dict(units=4)), ("Concat", dict(source="tanh1")),
        ("Dense", dict(units=3)), ("Softmax", {}),
    ]),
    # 3x3 padding-1 convolutions of 16 to 32 channels on maps of at most 16x16, which CnnGen's training runs through
    # Winograd F(4x4, 3x3) (forward and input gradient), on maps whose tiles the edges cut (10x9, then 5x4): with
    # BatchNorm, a shortcut over two of them, filters not a multiple of 32 (16, 20) and whole panels of 32; ends in logits.
    # Evaluation and training mode.
    "CrossNetK": ((3, 10, 9), [
        ("Conv", dict(kernel=3, filters=16, padding=1)), ("BatchNorm", {}), ("ReLU", {}),
        ("Conv", dict(kernel=3, filters=16, padding=1)), ("BatchNorm", {}), ("ReLU", {}),
        ("Conv", dict(kernel=3, filters=16, padding=1)), ("BatchNorm", {}), ("Add", dict(source="relu1")), ("ReLU", {}),
        ("Conv", dict(kernel=3, filters=20, padding=1)), ("ReLU", {}),
        ("MaxPool", dict(size=2)),
        ("Conv", dict(kernel=3, filters=32, padding=1)), ("ReLU", {}),
        ("Conv", dict(kernel=3, filters=32, padding=1)), ("BatchNorm", {}), ("ReLU", {}),
        ("Dense", dict(units=5)),
    ]),
    # The same kind of layers on a map of 4x4 whole or cut tiles (14x13), where CnnGen's weight gradient runs through
    # Winograd too; ends in logits. Evaluation and training mode.
    "CrossNetL": ((3, 14, 13), [
        ("Conv", dict(kernel=3, filters=16, padding=1)), ("BatchNorm", {}), ("ReLU", {}),
        ("Conv", dict(kernel=3, filters=16, padding=1)), ("BatchNorm", {}), ("ReLU", {}),
        ("Conv", dict(kernel=3, filters=20, padding=1)), ("ReLU", {}),
        ("MaxPool", dict(size=2)),
        ("Dense", dict(units=4)),
    ]),
}

PREFIX = {"Conv": "conv", "MaxPool": "pool", "AvgPool": "pool", "Dense": "dense", "ReLU": "relu",
          "LeakyReLU": "leakyrelu", "ELU": "elu", "Sigmoid": "sigmoid", "Tanh": "tanh", "Softmax": "softmax",
          "BatchNorm": "bn", "Dropout": "dropout", "Add": "add", "Concat": "concat"}


def cs_attributes(input_shape, layers):
    """The C# attribute list of a network, one attribute per layer."""
    def fmt(kind, a):
        if kind == "Conv":
            extra = (f", Stride = {a['stride']}" if a.get("stride", 1) != 1 else "") + \
                    (f", Padding = {a['padding']}" if a.get("padding", 0) else "")
            return f"[Conv({a['kernel']}, {a['filters']}{extra})]"
        if kind in ("MaxPool", "AvgPool"):
            extra = "".join(f", {k.capitalize()} = {a[k]}" for k in ("stride", "padding") if a.get(k))
            return f"[{kind}({a['size']}{extra})]"
        if kind == "Dense":
            return f"[Dense({a['units']})]"
        if kind == "LeakyReLU":
            return f"[LeakyReLU({a['slope']}f)]"
        if kind == "ELU":
            return f"[ELU({a['alpha']}f)]"
        if kind == "Dropout":
            return f"[Dropout({a['rate']}f)]"
        if kind in ("Add", "Concat"):
            return f"[{kind}(\"{a['source']}\")]"
        return f"[{kind}]"
    return [f"[Input({', '.join(map(str, input_shape))})]"] + [fmt(k, a) for k, a in layers]


class Net(nn.Module):
    """The network as PyTorch modules named like CnnGen's layers (conv1, relu1, pool1, dense1, bn1, ...). An Add or
    Concat layer (add1, concat1, ...) has no module: the forward pass keeps every layer's output by name and adds (or
    joins along the channels) the one it names."""

    def __init__(self, input_shape, layers):
        super().__init__()
        c, h, w = input_shape
        counts = {}
        self.order = []  # (name, kind, module or None)
        self.sources = {}  # Add or Concat layer -> the earlier layer whose output it adds or joins
        self.ends_with_softmax = False
        flat = False
        shapes = {}  # name -> (c, h, w, flat) of its output, for the checks of Add and Concat
        for kind, a in layers:
            prefix = PREFIX[kind]
            counts[prefix] = counts.get(prefix, 0) + 1
            name = f"{prefix}{counts[prefix]}"
            if kind == "Conv":
                m = nn.Conv2d(c, a["filters"], a["kernel"], stride=a.get("stride", 1), padding=a.get("padding", 0))
                c = a["filters"]
            elif kind == "MaxPool":
                m = nn.MaxPool2d(a["size"], stride=a.get("stride") or a["size"], padding=a.get("padding", 0))
            elif kind == "AvgPool":
                m = nn.AvgPool2d(a["size"], stride=a.get("stride") or a["size"], padding=a.get("padding", 0),
                                 count_include_pad=True)
            elif kind == "Dense":
                m = nn.Linear(c * h * w if not flat else c, a["units"])
                c, h, w, flat = a["units"], 1, 1, True
            elif kind == "ReLU":
                m = nn.ReLU()
            elif kind == "LeakyReLU":
                m = nn.LeakyReLU(F32(a["slope"]))
            elif kind == "ELU":
                m = nn.ELU(F32(a["alpha"]))
            elif kind == "Sigmoid":
                m = nn.Sigmoid()
            elif kind == "Tanh":
                m = nn.Tanh()
            elif kind == "BatchNorm":  # per channel after a map, per unit after a dense layer
                m = nn.BatchNorm1d(c) if flat else nn.BatchNorm2d(c)
            elif kind == "Dropout":
                m = nn.Dropout(F32(a["rate"]))
            elif kind == "Add":  # y = x + output of the named earlier layer, which must have the same shape
                if shapes.get(a["source"]) != (c, h, w, flat):
                    raise ValueError(f"{name}: no earlier layer {a['source']} of shape {(c, h, w, flat)}")
                m = None
                self.sources[name] = a["source"]
            elif kind == "Concat":  # y = [x, output of the named earlier layer] along the channels; equal H, W
                source = shapes.get(a["source"])
                if source is None or source[1:] != (h, w, flat):
                    raise ValueError(f"{name}: no earlier layer {a['source']} of height {h} and width {w} (flat: {flat})")
                m = None
                self.sources[name] = a["source"]
                c += source[0]
            elif kind == "Softmax":
                m = None
                self.ends_with_softmax = True
            else:
                raise ValueError(kind)
            if m is not None:
                self.add_module(name, m)
                if kind in ("Conv", "MaxPool", "AvgPool"):
                    with torch.no_grad():
                        _, h, w = m(torch.zeros(1, c if kind != "Conv" else m.in_channels, h, w)).shape[1:]
            self.order.append((name, kind, m))
            shapes[name] = (c, h, w, flat)

    def forward(self, x, shapes=None):
        """Logits (the input of the final Softmax, if any); records each layer's output shape in shapes."""
        outputs = {}  # every layer's output, for the Add and Concat layers
        for name, kind, m in self.order:
            if kind in ("Add", "Concat"):
                shortcut = outputs[self.sources[name]]
                if kind == "Add":
                    assert shortcut.shape == x.shape, (name, shortcut.shape, x.shape)
                    x = x + shortcut
                else:
                    assert shortcut.shape[2:] == x.shape[2:] and shortcut.dim() == x.dim(), (name, shortcut.shape, x.shape)
                    x = torch.cat([x, shortcut], 1)
                outputs[name] = x
                if shapes is not None:
                    shapes.append((name, kind, list(x.shape[1:]) + [1, 1] if x.dim() == 2 else list(x.shape[1:])))
                continue
            if m is None:  # the final Softmax: logits stop here
                if shapes is not None:
                    shapes.append((name, kind, list(x.shape[1:]) + [1, 1] if x.dim() == 2 else list(x.shape[1:])))
                continue
            if kind == "Dense" and x.dim() > 2:
                x = torch.flatten(x, 1)
            x = m(x)
            outputs[name] = x
            if shapes is not None:
                shapes.append((name, kind, list(x.shape[1:]) + [1, 1] if x.dim() == 2 else list(x.shape[1:])))
        return x


def draw(net, input_shape, batch, rng):
    """float32 parameters (normal, He-like scale; biases small but non-zero), BatchNorm tensors and running statistics
    (see the module docstring), inputs in [-1, 1); returns parameters and buffers (state) by name, and the inputs."""
    params, state = {}, {}
    for name, t in net.state_dict().items():
        module, tensor = name.rsplit(".", 1)
        if isinstance(net.get_submodule(module), nn.modules.batchnorm._BatchNorm):
            n = tuple(t.shape)
            if tensor == "weight":
                sign = np.where(rng.random(n) < 0.2, -1.0, 1.0)
                params[name] = (sign * rng.uniform(0.5, 1.5, n)).astype(np.float32)
            elif tensor == "bias":
                params[name] = (rng.standard_normal(n) * 0.2).astype(np.float32)
            elif tensor == "running_mean":
                state[name] = (rng.standard_normal(n) * 0.3).astype(np.float32)
            elif tensor == "running_var":
                state[name] = rng.uniform(0.25, 2.0, n).astype(np.float32)
            elif tensor == "num_batches_tracked":
                state[name] = np.array(rng.integers(0, 1000), dtype=np.float32)
            else:
                raise ValueError(name)
        elif name.endswith(".weight"):
            fan_in = int(np.prod(t.shape[1:]))
            params[name] = (rng.standard_normal(tuple(t.shape)) * np.sqrt(2.0 / fan_in)).astype(np.float32)
        else:
            params[name] = (rng.standard_normal(tuple(t.shape)) * 0.1).astype(np.float32)
    inputs = rng.uniform(-1, 1, size=(batch,) + tuple(input_shape)).astype(np.float32)
    return params, state, inputs


def run(net, params, state, inputs, labels, dtype, training):
    """Outputs (Forward semantics), mean cross-entropy, parameter gradients and the buffers after the pass, computed
    in dtype in training or evaluation mode, starting from the given parameters and buffers."""
    net = net.to(dtype)
    net.train(training)
    with torch.no_grad():
        for name, t in net.named_parameters():
            t.copy_(torch.from_numpy(params[name]).to(dtype))
        for name, t in net.named_buffers():  # num_batches_tracked stays an integer tensor
            t.copy_(torch.from_numpy(state[name]).to(t.dtype))
    net.zero_grad()
    logits = net(torch.from_numpy(inputs).to(dtype))
    loss = F.cross_entropy(logits, torch.from_numpy(labels).long())
    loss.backward()
    outputs = torch.softmax(logits, dim=1) if net.ends_with_softmax else logits
    grads = {name: t.grad.detach().to(torch.float64).numpy().copy() for name, t in net.named_parameters()}
    after = {name: t.detach().to(torch.float64).numpy().copy() for name, t in net.named_buffers()}
    return outputs.detach().to(torch.float64).numpy(), float(loss.item()), grads, after


def relative_error(actual, expected):
    return float(np.max(np.abs(actual - expected)) / max(1.0, float(np.max(np.abs(expected)))))


def write_fixture(path, header, arrays):
    blobs, index, offset = [], {}, 0
    for key, (dtype, array) in arrays.items():
        data = np.ascontiguousarray(array, dtype={"F32": "<f4", "F64": "<f8", "I32": "<i4"}[dtype]).tobytes()
        index[key] = dict(dtype=dtype, shape=list(np.shape(array)), offset=offset, length=int(np.size(array)))
        blobs.append(data)
        offset += len(data)
    header = dict(header, arrays=index)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)
    return 8 + len(text) + offset


def modes(layers):
    """The modes a network's results are computed in (module docstring); None for a network with neither BatchNorm
    nor Dropout, whose one set of results holds in both."""
    kinds = {k for k, _ in layers}
    if not kinds & {"BatchNorm", "Dropout"}:
        return None
    return ["eval"] if "Dropout" in kinds else ["eval", "train"]


def build(name, input_shape, layers, seed, batch, out_dir):
    rng = np.random.default_rng(seed)
    net = Net(input_shape, layers)
    params, state, inputs = draw(net, input_shape, batch, rng)
    labels = rng.integers(0, _classes(net, input_shape), size=batch).astype(np.int32)
    shapes = []
    with torch.no_grad():
        net.double().eval()(torch.zeros((1,) + tuple(input_shape), dtype=torch.float64), shapes)
    net_modes = modes(layers)
    arrays = {"inputs": ("F32", inputs), "labels": ("I32", labels)}
    for k in params:
        arrays["param." + k] = ("F32", params[k])
    for k in state:
        arrays["state." + k] = ("F32", state[k])
    torch32, summary = 0.0, []
    for mode, prefix in (("eval", "expected."), ("train", "train.")):
        if mode not in (net_modes or ["eval"]):
            continue
        training = mode == "train"
        out64, loss64, grads64, state64 = run(net, params, state, inputs, labels, torch.float64, training)
        out32, loss32, grads32, state32 = run(net, params, state, inputs, labels, torch.float32, training)
        torch32 = max([torch32, relative_error(out32, out64), relative_error(np.array([loss32]), np.array([loss64]))] +
                      [relative_error(grads32[k], grads64[k]) for k in grads64] +
                      ([relative_error(state32[k], state64[k]) for k in state64] if training else []))
        arrays[prefix + "outputs"] = ("F64", out64)
        arrays[prefix + "loss"] = ("F64", np.array([loss64]))
        for k in grads64:
            arrays[prefix + "grad." + k] = ("F64", grads64[k])
        if training:
            for k in state64:
                arrays[prefix + "state." + k] = ("F64", state64[k])
        summary.append(f"loss {loss64:.6f}" + (f" ({mode})" if net_modes else ""))
    tensors = [dict(name=k, shape=list(t.shape), **(dict(state=True) if k in state else {}))
               for k, t in net.state_dict().items()]
    header = dict(network=name, seed=seed, batch=batch, input=list(input_shape), endsWithSoftmax=net.ends_with_softmax,
                  attributes=cs_attributes(input_shape, layers),
                  layers=[dict(name=n, kind=k, shape=s) for n, k, s in shapes], tensors=tensors, torch32Error=torch32)
    if net_modes:
        header["modes"] = net_modes
    size = write_fixture(os.path.join(out_dir, name + ".bin"), header, arrays)
    n_params = sum(p.size for p in params.values())
    print(f"{name:10s} params {n_params:6d}  {'  '.join(summary)}  torch float32 vs float64 {torch32:.2e}  {size / 1024:.0f} KiB")


def _classes(net, input_shape):
    with torch.no_grad():
        return net.double().eval()(torch.zeros((1,) + tuple(input_shape), dtype=torch.float64)).shape[1]


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(here, "..", "tests", "Cnn.Runtime.Tests", "Fixtures"))
    parser.add_argument("--seed", type=int, default=20240607)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--print-cs", action="store_true")
    args = parser.parse_args()
    if args.print_cs:
        for name, (shape, layers) in NETWORKS.items():
            print("\n".join(cs_attributes(shape, layers)) + f"\npublic partial class {name} {{ }}\n")
        return 0
    torch.use_deterministic_algorithms(True)
    os.makedirs(args.out, exist_ok=True)
    for i, (name, (shape, layers)) in enumerate(NETWORKS.items()):
        build(name, shape, layers, args.seed + i, args.batch, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
