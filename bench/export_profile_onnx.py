#!/usr/bin/env python3
"""Exports torchvision's mobilenet_v2(), resnet18(), googlenet() or densenet121() with seeded random weights to ONNX.

It exports as the engine race does (opset 17, dynamic batch axis, evaluation mode), for `Cnn.OrtLayers`, which times
ONNX Runtime node by node. Per-node times do not depend on the weights' values, so no checkpoint is needed. Needs
Debian's PyTorch and torchvision.

    /usr/bin/python3 bench/export_profile_onnx.py --model mobilenetv2 --out mobilenetv2.onnx
"""
import argparse
import sys

import torch
import torchvision

from export_onnx import MODELS, OPSET


def main():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--model", default="mobilenetv2", choices=["mobilenetv2", "resnet18", "googlenet", "densenet121"])
    parser.add_argument("--out", required=True, help="the ONNX file to write")
    args = parser.parse_args()
    torch.manual_seed(0)
    model = MODELS[args.model]().eval()
    image = torch.rand((1,) + model.input_shape)
    with torch.no_grad():
        torch.onnx.export(model, image, args.out, opset_version=OPSET, input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
    print(f"exported {args.model} (opset {OPSET}) to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
