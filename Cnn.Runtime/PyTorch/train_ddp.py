"""Trains a network exported by CnnGen (`export --format pytorch`) with PyTorch's DistributedDataParallel, then saves
a safetensors checkpoint that CnnGen's `evaluate`, `predict` and `Checkpoint.Load` read.

The recipe is CnnGen's `train`: SGD with momentum and weight decay, a cosine learning rate annealed per step, the
training images' mean pixel subtracted, optional left-right mirroring. --batch is the global batch, split evenly over
the processes. Data: IDX files (plain or gzipped) as Fashion-MNIST ships them.

One machine, two processes (gloo on CPU; nccl where GPUs exist):
    torchrun --standalone --nproc_per_node=2 train_ddp.py LeNet5.py --data /usr/share/datasets/fashion-mnist --save lenet5.safetensors
Several machines: the same command on each with --nnodes=N --node_rank=I --rdzv_backend=c10d --rdzv_endpoint=HOST:PORT.
"""
import argparse
import gzip
import importlib.util
import json
import math
import os
import struct
import sys

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 8:
        raise ValueError(f"{path}: not an IDX file of unsigned bytes")
    dims = data[3]
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    count = int(np.prod(shape))
    if len(data) != 4 + 4 * dims + count:
        raise ValueError(f"{path}: the header promises {count} values, the file holds {len(data) - 4 - 4 * dims}")
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def find(directory, stem):
    for name in (stem, stem + ".gz"):
        path = os.path.join(directory, name)
        if os.path.exists(path):
            return path
    raise FileNotFoundError(f"{stem}(.gz) not found in {directory}")


def load_split(directory, prefix, limit):
    images = read_idx(find(directory, f"{prefix}-images-idx3-ubyte"))
    labels = read_idx(find(directory, f"{prefix}-labels-idx1-ubyte"))
    if limit:
        images, labels = images[:limit], labels[:limit]
    return torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1), torch.from_numpy(labels.astype(np.int64))


def load_module(path):
    spec = importlib.util.spec_from_file_location("cnngen_network", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.Network()


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    metadata = header.pop("__metadata__", {})
    tensors = {}
    for name, entry in header.items():
        start, end = entry["data_offsets"]
        dtype = {"F32": np.float32, "I64": np.int64}[entry["dtype"]]
        array = np.frombuffer(data, dtype=dtype, count=(end - start) // np.dtype(dtype).itemsize, offset=8 + length + start)
        tensors[name] = torch.from_numpy(array.copy()).reshape(entry["shape"])
    return tensors, metadata


def write_safetensors(path, state_dict, metadata):
    header, blobs, offset = {}, [], 0
    for name, tensor in state_dict.items():
        array = tensor.detach().cpu().contiguous().numpy()
        dtype = "I64" if array.dtype == np.int64 else "F32"
        data = array.astype("<i8" if dtype == "I64" else "<f4").tobytes()
        header[name] = {"dtype": dtype, "shape": list(array.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    temporary = path + ".tmp"
    with open(temporary, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)
        f.flush()
        os.fsync(f.fileno())
    os.replace(temporary, path)  # a complete file or none


def evaluate(model, images, labels, mean, batch=500):
    model.eval()
    correct, loss = 0, 0.0
    with torch.no_grad():
        for start in range(0, len(images), batch):
            x = images[start:start + batch] - mean
            y = labels[start:start + batch]
            logits = model(x)
            loss += F.cross_entropy(logits, y, reduction="sum").item()
            correct += (logits.argmax(1) == y).sum().item()
    return correct / len(images), loss / len(images)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("module", help="the exported module (NAME.py)")
    parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--save", required=True, help="safetensors checkpoint to write (rank 0)")
    parser.add_argument("--init", help="start from this CnnGen checkpoint instead of PyTorch's initialisation")
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--batch", type=int, default=64, help="global batch, split over the processes")
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--momentum", type=float, default=0.9)
    parser.add_argument("--weight-decay", type=float, default=5e-4)
    parser.add_argument("--mirror", action="store_true")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--train-limit", type=int, default=0)
    parser.add_argument("--test-limit", type=int, default=0)
    args = parser.parse_args()
    if args.epochs < 1 or args.batch < 1 or not (args.lr > 0 and math.isfinite(args.lr)):
        parser.error("--epochs, --batch and --lr must be positive")

    distributed = "WORLD_SIZE" in os.environ
    if distributed:
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    rank, world = (dist.get_rank(), dist.get_world_size()) if distributed else (0, 1)
    if args.batch % world:
        parser.error(f"--batch {args.batch} does not split evenly over {world} processes")
    torch.manual_seed(args.seed)

    model = load_module(args.module)
    if args.init:
        tensors, _ = read_safetensors(args.init)
        model.load_state_dict(tensors, strict=True)
    images, labels = load_split(args.data, "train", args.train_limit)
    if tuple(images.shape[1:]) != tuple(model.input_shape):
        sys.exit(f"the data's images are {tuple(images.shape[1:])}, the network takes {tuple(model.input_shape)}")
    mean = images.mean().item()
    test_images, test_labels = load_split(args.data, "t10k", args.test_limit)

    sampler = DistributedSampler(TensorDataset(images, labels), num_replicas=world, rank=rank, shuffle=True, seed=args.seed, drop_last=False)
    loader = DataLoader(TensorDataset(images, labels), batch_size=args.batch // world, sampler=sampler)
    trained = DistributedDataParallel(model) if distributed else model
    optimizer = torch.optim.SGD(trained.parameters(), lr=args.lr, momentum=args.momentum, weight_decay=args.weight_decay)
    total_steps, step = args.epochs * len(loader), 0
    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)
        trained.train()
        seen, loss_sum = 0, 0.0
        for x, y in loader:
            for group in optimizer.param_groups:
                group["lr"] = args.lr * (1 + math.cos(math.pi * step / total_steps)) / 2
            x = x - mean
            if args.mirror:
                flip = torch.rand(len(x)) < 0.5
                x[flip] = x[flip].flip(-1)
            loss = F.cross_entropy(trained(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if not math.isfinite(loss.item()):
                sys.exit(f"epoch {epoch + 1}, step {step + 1}: the loss is {loss.item()}; lower --lr")
            seen += len(x)
            loss_sum += loss.item() * len(x)
            step += 1
        if rank == 0:
            accuracy, test_loss = evaluate(model, test_images, test_labels, mean)
            print(f"epoch {epoch + 1}/{args.epochs}: train loss {loss_sum / seen:.4f} (rank 0's share), "
                  f"test loss {test_loss:.4f} acc {accuracy * 100:.2f}%", flush=True)
    if rank == 0:
        accuracy, test_loss = evaluate(model, test_images, test_labels, mean)
        write_safetensors(args.save, model.state_dict(), {
            "producer": f"torch {torch.__version__}, DistributedDataParallel on {world} process(es)",
            "network": type(model).__name__,
            "fingerprint": getattr(model, "fingerprint", ""),
            "input_mean": repr(mean),
            "test_accuracy": repr(accuracy),
            "test_loss": repr(test_loss),
            "epoch": args.epochs,
            "step": step,
        })
        print(json.dumps({"saved": args.save, "test_accuracy": accuracy, "test_loss": test_loss, "steps": step, "processes": world}), flush=True)
    if distributed:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
