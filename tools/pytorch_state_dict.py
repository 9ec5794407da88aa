#!/usr/bin/python3
"""Writes a PyTorch LeNet-5 state_dict as a safetensors file, so CnnGen's tests can check they read PyTorch's files.

    /usr/bin/python3 tools/pytorch_state_dict.py   # needs python3-torch (PyTorch 1.13)

The model names its modules as CnnGen names its layers (conv1, conv2, dense1..dense3), so the state_dict keys are
the tensor names of the generated class. The safetensors layout is written by hand (the Python package is not
needed): an 8-byte little-endian header length, a JSON header padded with spaces to 8 bytes, then the raw
little-endian float32 data. The metadata carries PyTorch's softmax outputs for four fixed inputs,
x[i] = sin(0.01 * i), so the test can compare CnnGen's forward pass with PyTorch's.

The model is first trained for one epoch on Fashion-MNIST (installed by `apt-get install dataset-fashion-mnist`), with
the training set's mean pixel subtracted; the metadata records that mean and PyTorch's accuracy on the test set, which
CnnGen must reproduce.
"""
import gzip
import json
import os
import struct

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "Cnn.Training.Tests", "Fixtures", "PyTorchLeNet5.safetensors")


class LeNet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.dense1 = nn.Linear(400, 120)
        self.dense2 = nn.Linear(120, 84)
        self.dense3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        x = F.relu(self.dense1(x))
        x = F.relu(self.dense2(x))
        return self.dense3(x)


DATA = "/usr/share/datasets/fashion-mnist"


def idx(name):
    with gzip.open(os.path.join(DATA, name + ".gz"), "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def train_one_epoch(model):
    train_x = idx("train-images-idx3-ubyte").astype(np.float32) / 255.0
    train_y = idx("train-labels-idx1-ubyte").astype(np.int64)
    test_x = idx("t10k-images-idx3-ubyte").astype(np.float32) / 255.0
    test_y = idx("t10k-labels-idx1-ubyte").astype(np.int64)
    mean = np.float32(train_x.astype(np.float64).mean())
    tx = torch.from_numpy(train_x - mean).unsqueeze(1)
    vx = torch.from_numpy(test_x - mean).unsqueeze(1)
    ty, vy = torch.from_numpy(train_y), torch.from_numpy(test_y)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    order = torch.randperm(len(tx), generator=torch.Generator().manual_seed(1))
    model.train()
    for i in range(0, len(tx), 64):
        batch = order[i:i + 64]
        opt.zero_grad()
        F.cross_entropy(model(tx[batch]), ty[batch]).backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        correct = (model(vx).argmax(1) == vy).sum().item()
    return float(mean), correct / len(vy)


def main():
    torch.manual_seed(2026)
    model = LeNet5()
    mean, accuracy = train_one_epoch(model)
    inputs = np.sin(np.arange(4 * 784, dtype=np.float64) * 0.01).astype(np.float32)
    with torch.no_grad():
        probabilities = F.softmax(model(torch.from_numpy(inputs).reshape(4, 1, 28, 28)), dim=1)
    header, blobs, offset = {}, [], 0
    for name, tensor in model.state_dict().items():
        data = tensor.detach().contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensor.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header["__metadata__"] = {
        "producer": f"torch {torch.__version__}",
        "test_probabilities": json.dumps([float(v) for v in probabilities.flatten()]),
        "input_mean": repr(mean),
        "test_accuracy": repr(accuracy),
    }
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(OUT, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)
    print(f"wrote {os.path.normpath(OUT)}: {len(model.state_dict())} tensors, {offset} bytes of data; "
          f"PyTorch test accuracy {accuracy:.4f} after one epoch (mean pixel {mean:.6f})")


if __name__ == "__main__":
    main()
