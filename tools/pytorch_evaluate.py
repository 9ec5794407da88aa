#!/usr/bin/python3
"""Evaluates a CnnGen checkpoint in PyTorch: the other direction of tools/pytorch_state_dict.py.

    /usr/bin/python3 tools/pytorch_evaluate.py checkpoints/lenet5bn.safetensors [--model lenet5bn]

Reads the safetensors file by hand (the Python package is not needed), builds the PyTorch twin of the sample network
(lenet5 or lenet5bn; by default the one the checkpoint's metadata names), loads the tensors with strict=True (so every
parameter and BatchNorm buffer must be there with its shape), and prints the test accuracy on Fashion-MNIST in
evaluation mode, the training-set mean recorded in the checkpoint subtracted. CnnGen's `evaluate` should print the same.
"""
import argparse
import json
import struct

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from pytorch_state_dict import idx  # the IDX reader shared with the other direction

class LeNet5(nn.Module):
    def __init__(self, batch_norm):
        super().__init__()
        norm2d = nn.BatchNorm2d if batch_norm else (lambda c: nn.Identity())
        norm1d = nn.BatchNorm1d if batch_norm else (lambda c: nn.Identity())
        self.conv1, self.bn1 = nn.Conv2d(1, 6, 5, padding=2), norm2d(6)
        self.conv2, self.bn2 = nn.Conv2d(6, 16, 5), norm2d(16)
        self.dense1, self.bn3 = nn.Linear(400, 120), norm1d(120)
        self.dense2, self.bn4 = nn.Linear(120, 84), norm1d(84)
        self.dense3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2)
        x = torch.flatten(x, 1)
        x = F.relu(self.bn3(self.dense1(x)))
        x = F.relu(self.bn4(self.dense2(x)))
        return self.dense3(x)


MODELS = {"LeNet5": "lenet5", "LeNet5BatchNorm": "lenet5bn"}


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    length = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + length])
    body = data[8 + length:]
    metadata = header.pop("__metadata__", {})
    tensors = {}
    for name, entry in header.items():
        if name.startswith("optimizer."):
            continue  # optimiser state, not part of the state_dict
        begin, end = entry["data_offsets"]
        dtype = {"F32": np.float32, "I64": np.int64}[entry["dtype"]]
        tensors[name] = torch.from_numpy(np.frombuffer(body[begin:end], dtype=dtype).reshape(entry["shape"]).copy())
    return tensors, metadata


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint")
    parser.add_argument("--model", choices=sorted(MODELS.values()))
    args = parser.parse_args()
    tensors, metadata = read_safetensors(args.checkpoint)
    model_name = args.model or MODELS.get(metadata.get("network", ""), "lenet5")
    model = LeNet5(batch_norm=model_name == "lenet5bn")
    print(model.load_state_dict(tensors, strict=True))
    model.eval()
    mean = float(metadata.get("input_mean", "0"))
    images = idx("t10k-images-idx3-ubyte").astype(np.float32) / 255.0 - mean
    labels = idx("t10k-labels-idx1-ubyte").astype(np.int64)
    with torch.no_grad():
        predicted = model(torch.from_numpy(images).unsqueeze(1)).argmax(1).numpy()
    print(f"{model_name} in PyTorch {torch.__version__}: test accuracy {100.0 * (predicted == labels).mean():.2f}% "
          f"({len(labels)} images, mean pixel {mean} subtracted)")


if __name__ == "__main__":
    main()
