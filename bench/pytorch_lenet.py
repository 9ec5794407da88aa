#!/usr/bin/python3
"""PyTorch's LeNet-5 (the same layers as CnnGen's sample) timed on random inputs, for comparison with CnnGen.

Figures (medians of --repeats runs; the variants of one figure are timed in interleaved order, so a slow moment of the
machine hits all of them alike):
  latency_b1_us     single-image forward under torch.no_grad(), microseconds per image
  infer_b256_ips    forward of batches of 256 images, images per second
  train_b64_ips     forward, cross-entropy, backward and an SGD (momentum 0.9) step on batches of 64, images per second
Inference variants: eager, and torch.jit.trace + torch.jit.optimize_for_inference ("jit_trace_ofi").
Prints one JSON object. Installs nothing; run with /usr/bin/python3.
"""
import argparse
import json
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def lenet5():
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(),
        nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, 10),
    )


def loaded_libraries(words=("blas", "lapack", "mkl", "dnnl", "gomp")):
    """Shared libraries of this process whose names mention BLAS and friends (read from /proc/self/maps)."""
    found = set()
    try:
        with open("/proc/self/maps") as maps:
            for line in maps:
                path = line.split()[-1]
                if any(w in path for w in words):
                    found.add(path.rsplit("/", 1)[-1])
    except OSError:
        pass
    return sorted(found)


def summary(values):
    v = sorted(values)
    return {"median": round(statistics.median(v), 3), "min": round(v[0], 3), "max": round(v[-1], 3)}


def interleaved(variants, run_once, repeats):
    """variants: name -> callable; run_once(fn) returns one measurement. Round-robin over the variants."""
    values = {name: [] for name in variants}
    for _ in range(repeats):
        for name, fn in variants.items():
            values[name].append(run_once(fn))
    return {name: summary(v) for name, v in values.items()}


def inference_variants(model, example):
    """Eager and traced+optimised instances, checked against each other; a failing variant is reported, not fatal."""
    variants, errors = {"eager": model}, {}
    try:
        traced = torch.jit.optimize_for_inference(torch.jit.trace(model, example))
        for _ in range(3):  # the profiling executor specialises over the first calls
            out = traced(example)
        if not torch.allclose(out, model(example), atol=1e-4, rtol=1e-4):
            raise RuntimeError("traced output differs from eager")
        variants["jit_trace_ofi"] = traced
    except Exception as e:  # keep going with eager alone
        errors["jit_trace_ofi"] = f"{type(e).__name__}: {e}"
    return variants, errors


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=1, help="torch.set_num_threads value")
    ap.add_argument("--repeats", type=int, default=9)
    ap.add_argument("--latency-calls", type=int, default=500, help="single-image calls per repeat")
    ap.add_argument("--infer-batches", type=int, default=8, help="batches of 256 per repeat")
    ap.add_argument("--train-steps", type=int, default=40, help="training steps of 64 per repeat")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    perf = time.perf_counter
    result = {"framework": "PyTorch", "torch": torch.__version__, "threads": torch.get_num_threads(),
              "repeats": args.repeats}
    errors = {}

    model = lenet5().eval()
    with torch.no_grad():
        # single image: every variant is built for this shape only
        images = [torch.randn(1, 1, 28, 28) for _ in range(64)]
        variants, err = inference_variants(model, images[0])
        errors.update(err)

        def latency(fn):
            t0 = perf()
            for i in range(args.latency_calls):
                fn(images[i % len(images)])
            return (perf() - t0) / args.latency_calls * 1e6

        for fn in variants.values():
            for i in range(200):
                fn(images[i % len(images)])
        result["latency_b1_us"] = interleaved(variants, latency, args.repeats)

        # batches of 256: fresh variants, traced at this shape
        batches = [torch.randn(256, 1, 28, 28) for _ in range(args.infer_batches)]
        variants, err = inference_variants(model, batches[0])
        errors.update(err)

        def throughput(fn):
            t0 = perf()
            for b in batches:
                fn(b)
            return 256 * len(batches) / (perf() - t0)

        for fn in variants.values():
            throughput(fn)
        result["infer_b256_ips"] = interleaved(variants, throughput, args.repeats)

    # training steps of 64
    train_model = lenet5().train()
    optimizer = torch.optim.SGD(train_model.parameters(), lr=0.01, momentum=0.9)
    xs = [torch.randn(64, 1, 28, 28) for _ in range(8)]
    ys = [torch.randint(0, 10, (64,)) for _ in range(8)]

    def train(_):
        t0 = perf()
        for i in range(args.train_steps):
            optimizer.zero_grad(set_to_none=True)
            F.cross_entropy(train_model(xs[i % len(xs)]), ys[i % len(ys)]).backward()
            optimizer.step()
        return 64 * args.train_steps / (perf() - t0)

    train(None)  # warm-up: one repeat's worth of steps
    result["train_b64_ips"] = interleaved({"eager": None}, train, args.repeats)

    result["errors"] = errors
    result["libraries"] = loaded_libraries()
    result["openblas_loaded"] = any("openblas" in lib for lib in result["libraries"])
    print(json.dumps(result, separators=(",", ":")))


if __name__ == "__main__":
    main()
