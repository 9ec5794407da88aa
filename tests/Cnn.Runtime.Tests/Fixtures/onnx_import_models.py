"""Exports PyTorch models as ONNX for the import tests: python3 onnx_import_models.py MODEL OUT.onnx [MODEL OUT.onnx ...]

MODEL is lenet5, basic_block, resnet18, mobilenet_v2, googlenet or densenet121. Weights are random (seeded); every BatchNorm gets running
statistics and affine parameters away from their defaults, so an import that lost them would show. Opset 13, a
dynamic batch, evaluation mode with BatchNorm kept as its own node (TrainingMode.PRESERVE on a model in eval mode).
The model's state_dict keys go to OUT.onnx.keys, one a line.
"""
import sys

import torch
from torch import nn


class LeNet5(nn.Module):
    """LeNet-5 as CnnGen's sample declares it; flattened with view(size(0), -1), which the exporter writes as
    Shape, Gather, Unsqueeze and Concat feeding a Reshape."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.pool2 = nn.MaxPool2d(2)
        self.fc1 = nn.Linear(400, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool1(torch.relu(self.conv1(x)))
        x = self.pool2(torch.relu(self.conv2(x)))
        x = x.view(x.size(0), -1)
        x = torch.relu(self.fc1(x))
        x = torch.relu(self.fc2(x))
        return torch.softmax(self.fc3(x), dim=1)


class BasicBlock(nn.Module):
    """torchvision's ResNet basic block with a projection shortcut (stride 2, 8 to 16 channels)."""

    def __init__(self, inplanes, planes):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = nn.Sequential(nn.Conv2d(inplanes, planes, 1, stride=2, bias=False), nn.BatchNorm2d(planes))

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + self.downsample(x))


class BlockNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = nn.Sequential(BasicBlock(8, 16))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(16, 5)

    def forward(self, x):
        x = self.layer1(self.relu(self.bn1(self.conv1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def build(name):
    if name == "lenet5":
        return LeNet5(), (1, 28, 28)
    if name == "basic_block":
        return BlockNet(), (3, 12, 12)
    import torchvision
    if name == "resnet18":
        return torchvision.models.resnet18(num_classes=10), (3, 32, 32)
    if name == "mobilenet_v2":
        return torchvision.models.mobilenet_v2(num_classes=10), (3, 32, 32)
    if name == "googlenet":
        return torchvision.models.googlenet(num_classes=10, aux_logits=False, transform_input=False, init_weights=True), (3, 32, 32)
    if name == "densenet121":
        return torchvision.models.densenet121(num_classes=10), (3, 32, 32)
    raise SystemExit(f"unknown model {name}")


def export(name, out):
    torch.manual_seed(3)
    model, shape = build(name)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.3, 0.3)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.3, 0.3)
    model.eval()
    torch.onnx.export(model, torch.randn(2, *shape), out, opset_version=13, input_names=["input"],
                      output_names=["output"], dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
                      training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)
    with open(out + ".keys", "w") as keys:
        keys.writelines(key + "\n" for key in model.state_dict())
    print(f"wrote {out} and its state_dict keys: {name}, input {shape}")


def main():
    args = sys.argv[1:]
    if not args or len(args) % 2:
        raise SystemExit("usage: onnx_import_models.py MODEL OUT.onnx [MODEL OUT.onnx ...]")
    for k in range(0, len(args), 2):
        export(args[k], args[k + 1])


if __name__ == "__main__":
    main()
