"""Checks of the engine race's export script on torchvision's networks (not part of CI; needs Debian's PyTorch and
torchvision, skipped without them):

    /usr/bin/python3 -m unittest discover -s bench -p 'test_*.py'
"""
import json
import os
import shutil
import struct
import tempfile
import unittest

try:
    import torch
    import torchvision
    import export_onnx
except ImportError:   # the export needs them; without them there is nothing to check
    torch = None

DTYPES = {torch.float32: "F32", torch.int64: "I64"} if torch else {}


def write_safetensors(path, state):
    """A safetensors file of {name: tensor}, as Cnn.EngineRace save writes one."""
    header, blobs, offset = {}, [], 0
    for name, tensor in state.items():
        data = tensor.detach().contiguous().numpy().tobytes()
        header[name] = {"dtype": DTYPES[tensor.dtype], "shape": list(tensor.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


@unittest.skipIf(torch is None, "needs PyTorch and torchvision (apt-get install -y python3-torch python3-torchvision)")
class TorchvisionExportTests(unittest.TestCase):
    def setUp(self):
        self.directory = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.directory)

    def saved(self, name, build, change=None):
        torch.manual_seed(3)
        state = build().state_dict()
        for key in [k for k in state if k.endswith("running_var")]:
            state[key] = torch.rand_like(state[key]) + 0.5      # away from the defaults, as the race saves them
        if change:
            change(state)
        write_safetensors(os.path.join(self.directory, f"{name}.safetensors"), state)
        return state

    def test_resnet18_and_mobilenetv2_are_torchvisions_own_modules_loaded_strictly(self):
        for name, build in (("resnet18", torchvision.models.resnet18), ("mobilenetv2", torchvision.models.mobilenet_v2)):
            with self.subTest(name):
                state = self.saved(name, build)
                model = export_onnx.load_model(name, self.directory)
                self.assertIsInstance(model, type(build()))
                self.assertFalse(model.training)
                self.assertEqual(model.input_shape, (3, 224, 224))
                loaded = model.state_dict()
                self.assertEqual(list(loaded), list(state))
                for key, value in state.items():
                    self.assertTrue(torch.equal(loaded[key], value), key)

    def test_a_checkpoint_tensor_torchvision_does_not_have_is_named(self):
        self.saved("resnet18", torchvision.models.resnet18, lambda s: s.update({"fc.extra": torch.zeros(2)}))
        with self.assertRaisesRegex(ValueError, r"^resnet18: checkpoint tensor fc.extra is not in the PyTorch module$"):
            export_onnx.load_model("resnet18", self.directory)

    def test_a_missing_tensor_is_refused_by_the_strict_load(self):
        self.saved("mobilenetv2", torchvision.models.mobilenet_v2, lambda s: s.pop("classifier.1.bias"))
        with self.assertRaisesRegex(RuntimeError, "classifier.1.bias"):
            export_onnx.load_model("mobilenetv2", self.directory)


if __name__ == "__main__":
    unittest.main()
