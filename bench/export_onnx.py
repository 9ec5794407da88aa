#!/usr/bin/env python3
"""The engine race's PyTorch side: the raced networks in PyTorch, loaded strictly from the checkpoints that
`Cnn.EngineRace save` wrote, checked, and exported to ONNX (opset 17, dynamic batch axis) for ONNX Runtime. LeNet-5
and the CIFAR networks are defined here exactly as the attributes in bench/Cnn.EngineRace/Networks declare them (same
layer names, so the state_dict keys are CnnGen's tensor names); ResNet-18 and MobileNetV2 are torchvision's own
resnet18() and mobilenet_v2(), whose state_dict keys the samples' declarations use. Needs Debian's PyTorch 1.13 and
torchvision 0.14 (apt-get install -y python3-torch python3-torchvision).

    /usr/bin/python3 bench/export_onnx.py --dir DIR

Writes DIR/<model>.onnx and DIR/pytorch_check.json (PyTorch's logits of each model's check batch, in evaluation mode).
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
import torchvision

OPSET = 17
CHECK_BATCH = 8


class LeNet5(nn.Module):
    input_shape = (1, 28, 28)

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.dense1 = nn.Linear(16 * 5 * 5, 120)
        self.dense2 = nn.Linear(120, 84)
        self.dense3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = F.relu(self.dense1(torch.flatten(x, 1)))
        x = F.relu(self.dense2(x))
        return self.dense3(x)


class CifarVgg(nn.Module):
    input_shape = (3, 32, 32)

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, 3, padding=1)
        self.conv2 = nn.Conv2d(32, 32, 3, padding=1)
        self.conv3 = nn.Conv2d(32, 64, 3, padding=1)
        self.conv4 = nn.Conv2d(64, 64, 3, padding=1)
        self.conv5 = nn.Conv2d(64, 128, 3, padding=1)
        self.conv6 = nn.Conv2d(128, 128, 3, padding=1)
        self.dense1 = nn.Linear(128 * 4 * 4, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv2(F.relu(self.conv1(x)))), 2)
        x = F.max_pool2d(F.relu(self.conv4(F.relu(self.conv3(x)))), 2)
        x = F.max_pool2d(F.relu(self.conv6(F.relu(self.conv5(x)))), 2)
        return self.dense1(torch.flatten(x, 1))


class CifarResNet(nn.Module):
    """Stem conv1/bn1 + ReLU; three stages of widths 16, 32, 64, each (after the first) a 2x2 max pool and a
    conv-BN-ReLU widening the channels, then two blocks conv-BN-ReLU-conv-BN + identity shortcut, ReLU; global
    average pooling (8x8) and dense1. Convolutions and BatchNorms are numbered 1..15 in order, as CnnGen names them."""
    input_shape = (3, 32, 32)
    widths = (16, 32, 64)

    def __init__(self):
        super().__init__()
        channels, n = 3, 0
        for width in self.widths:
            for _ in range(5):      # the widening convolution and two blocks of two
                n += 1
                setattr(self, f"conv{n}", nn.Conv2d(channels, width, 3, padding=1))
                setattr(self, f"bn{n}", nn.BatchNorm2d(width))
                channels = width
        self.dense1 = nn.Linear(64, 10)

    def conv_bn(self, n, x):
        return getattr(self, f"bn{n}")(getattr(self, f"conv{n}")(x))

    def forward(self, x):
        n = 0
        for stage in range(len(self.widths)):
            if stage > 0:
                x = F.max_pool2d(x, 2)
            n += 1
            x = F.relu(self.conv_bn(n, x))
            for _ in range(2):
                y = F.relu(self.conv_bn(n + 1, x))
                x = F.relu(self.conv_bn(n + 2, y) + x)
                n += 2
        x = F.avg_pool2d(x, 8)
        return self.dense1(torch.flatten(x, 1))


def torchvision_network(build):
    """A torchvision network at 3x224x224 with 1000 classes, built as torchvision 0.14 builds it (no weights are
    downloaded: the checkpoint's replace its random ones)."""
    def create():
        model = build()
        model.input_shape = (3, 224, 224)
        return model
    return create


MODELS = {"lenet5": LeNet5, "cifar_vgg": CifarVgg, "cifar_resnet": CifarResNet,
          "resnet18": torchvision_network(torchvision.models.resnet18),
          "mobilenetv2": torchvision_network(torchvision.models.mobilenet_v2),
          "googlenet": torchvision_network(lambda: torchvision.models.googlenet(aux_logits=False, transform_input=False, init_weights=False)),
          "densenet121": torchvision_network(torchvision.models.densenet121)}
DTYPES = {"F32": np.float32, "F64": np.float64, "I64": np.int64, "I32": np.int32}


def read_safetensors(path):
    """{name: numpy array} of a safetensors file."""
    with open(path, "rb") as f:
        data = f.read()
    header_length, = struct.unpack_from("<Q", data, 0)
    header = json.loads(data[8:8 + header_length])
    base = 8 + header_length
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        if entry["dtype"] not in DTYPES:
            raise ValueError(f"{path}: {name} has unsupported dtype {entry['dtype']}")
        start, end = entry["data_offsets"]
        values = np.frombuffer(data[base + start:base + end], dtype=DTYPES[entry["dtype"]])
        tensors[name] = values.reshape(entry["shape"])
    return tensors


def load_model(name, directory):
    model = MODELS[name]()
    stored = read_safetensors(os.path.join(directory, f"{name}.safetensors"))
    expected = model.state_dict()
    state = {}
    for key, value in stored.items():
        if key not in expected:
            raise ValueError(f"{name}: checkpoint tensor {key} is not in the PyTorch module")
        state[key] = torch.from_numpy(value.copy()).to(expected[key].dtype)
    model.load_state_dict(state, strict=True)
    return model.eval()


def check_inputs(name, directory, input_shape):
    values = np.fromfile(os.path.join(directory, f"{name}.check_inputs.f32"), dtype="<f4")
    return torch.from_numpy(values.reshape((CHECK_BATCH,) + input_shape).copy())


def main():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--dir", required=True, help="the directory `Cnn.EngineRace save` wrote")
    args = parser.parse_args()
    check = {"torch": torch.__version__, "opset": OPSET, "logits": {}}
    for name in MODELS:
        try:
            model = load_model(name, args.dir)
            inputs = check_inputs(name, args.dir, model.input_shape)
        except (OSError, ValueError, RuntimeError) as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
        with torch.no_grad():
            check["logits"][name] = model(inputs).flatten().tolist()
            torch.onnx.export(model, inputs[:1], os.path.join(args.dir, f"{name}.onnx"), opset_version=OPSET,
                              input_names=["input"], output_names=["logits"],
                              dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
    with open(os.path.join(args.dir, "pytorch_check.json"), "w") as f:
        json.dump(check, f)
    print(f"exported {', '.join(MODELS)} (opset {OPSET}) with PyTorch {torch.__version__}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
