#!/usr/bin/env python3
"""Summarises the runs of bench/side_by_side_engines.sh: one table per network with medians over rounds, speed ratios
taken within each round (CnnGen/peer, >1: CnnGen faster), CnnGen's GFLOP/s and share of peak, peak memory of
training, and the check that every engine computed the same logits as PyTorch.

    python3 bench/engine_race_table.py RUNS_DIR PEAK1 PEAK2

RUNS_DIR holds <engine>_<model>_t<threads>_r<round>.json, weights/pytorch_check.json, load_start and load_end,
machine (the processor, when the race recorded it) and state_<model>_r<round>.json (what the machine gave two threads
before a network's two-thread runs of a round: Cnn.EngineRace state).
"""
import glob
import json
import math
import os
import re
import statistics
import sys

ENGINES = [("cnngen", "CnnGen"), ("onnx", "ONNX Runtime"), ("libtorch", "LibTorch"), ("libtorch_mmap0", "LibTorch mmap0")]
PEERS = ["onnx", "libtorch", "libtorch_mmap0"]
MODELS = [("lenet5", "LeNet-5 (1x28x28)"), ("cifar_vgg", "CIFAR VGG (3x32x32)"), ("cifar_resnet", "CIFAR ResNet (3x32x32)"),
          ("resnet18", "ResNet-18 (3x224x224)"), ("mobilenetv2", "MobileNetV2 (3x224x224)"),
          ("googlenet", "GoogLeNet (3x224x224)"), ("densenet121", "DenseNet-121 (3x224x224)")]
# (JSON key, label, unit, lower is better, forward passes per image); the batch-inference key carries the model's batch
LATENCY = ("latency_b1_us", "forward, 1 image", "us", True, 1)
TRAINING = ("train_b64_ips", "train step, batch 64", "img/s", False, 3)
INFERENCE_KEY = re.compile(r"infer_b(\d+)_ips")
CHECK_LIMIT = 1e-4
med = statistics.median


def load_runs(directory):
    runs = {}
    models = "|".join(re.escape(name) for name, _ in MODELS)
    pattern = re.compile(rf"(.+)_({models})_t(\d+)_r(\d+)\.json$")
    for path in glob.glob(os.path.join(directory, "*.json")):
        match = pattern.match(os.path.basename(path))
        if not match:
            continue
        engine, model, threads, round_ = match.group(1), match.group(2), int(match.group(3)), int(match.group(4))
        with open(path) as f:
            text = f.read().strip()
        if text:
            runs[(engine, model, threads, round_)] = json.loads(text)
    return runs


def fmt(value):
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def speed_ratio(cnngen, peer, lower):
    return peer / cnngen if lower else cnngen / peer


def per_round(runs, engine, model, threads, key):
    """{round: median of that run} for the runs that have the figure."""
    values = {}
    for (e, m, t, r), run in runs.items():
        if (e, m, t) == (engine, model, threads) and run.get(key) is not None:
            values[r] = run[key]["median"]
    return values


def ratio_text(cnngen, peer, lower):
    rounds = sorted(set(cnngen) & set(peer))
    if not rounds:
        return "-"
    ratios = [speed_ratio(cnngen[r], peer[r], lower) for r in rounds]
    return f"{med(ratios):.2f}x [{min(ratios):.2f}-{max(ratios):.2f}]"


def median_text(values):
    if not values:
        return "-"
    v = list(values.values())
    return f"{fmt(med(v))} [{fmt(min(v))}-{fmt(max(v))}]"


def faster_libtorch(runs, model, threads, key, lower):
    """The LibTorch variant with the better median for this figure (ratios are made against it)."""
    best, best_value = None, None
    for engine in ("libtorch", "libtorch_mmap0"):
        values = per_round(runs, engine, model, threads, key)
        if values:
            value = med(values.values())
            if best is None or (value < best_value if lower else value > best_value):
                best, best_value = engine, value
    return best


def figures(runs, model):
    """The model's figures: single-image latency, batch inference at the batch its runs used (a per-model setting,
    e.g. 32 for the 224x224 networks), training steps."""
    keys = sorted({key for (e, m, t, r), run in runs.items() if m == model for key in run if INFERENCE_KEY.fullmatch(key)})
    if len(keys) != 1:
        found = ", ".join(keys) if keys else "none"
        raise ValueError(f"{model}: the runs must share one batch-inference figure (infer_b<batch>_ips), found {found}")
    batch = INFERENCE_KEY.fullmatch(keys[0]).group(1)
    return [LATENCY, (keys[0], f"forward, batch {batch}", "img/s", False, 1), TRAINING]


def trains(runs, model):
    """Whether any run of the model timed training steps (the 224x224 networks race inference only)."""
    return any(run.get(TRAINING[0]) is not None for (e, m, t, r), run in runs.items() if m == model)


def table(runs, model, threads_list, peaks):
    macs = next(run["forward_macs"] for (e, m, t, r), run in runs.items() if m == model)
    header = ["figure", "thr"] + [label for _, label in ENGINES] + ["unit", "CnnGen/ORT", "CnnGen/LibTorch (faster)",
                                                                     "CnnGen GFLOP/s", "of peak"]
    rows = []
    for key, label, unit, lower, passes in figures(runs, model):
        for t in threads_list:
            cells = [label, str(t)]
            values = {engine: per_round(runs, engine, model, t, key) for engine, _ in ENGINES}
            cells += [median_text(values[engine]) for engine, _ in ENGINES]
            cells.append(unit)
            cells.append(ratio_text(values["cnngen"], values["onnx"], lower))
            best = faster_libtorch(runs, model, t, key, lower)
            if best is None:
                cells.append("-")
            else:
                tag = "mmap0" if best == "libtorch_mmap0" else "plain"
                cells.append(f"{ratio_text(values['cnngen'], values[best], lower)} ({tag})")
            if values["cnngen"]:
                c = med(values["cnngen"].values())
                flops = 2 * macs * passes
                gflops = flops / (c * 1e-6) / 1e9 if lower else c * flops / 1e9
                cores = 1 if lower else t   # CnnGen never splits one image over threads
                cells += [f"{gflops:.1f}", f"{100 * gflops / peaks[cores]:.1f}% of {peaks[cores]:.0f}"]
            else:
                cells += ["-", "-"]
            rows.append(cells)
    for t in threads_list:
        cells = ["train peak RSS, batch 64", str(t)]
        for engine, _ in ENGINES:
            values = {r: run["train_peak_rss_mib"] for (e, m, tt, r), run in runs.items()
                      if (e, m, tt) == (engine, model, t) and run.get("train_peak_rss_mib") is not None}
            cells.append(fmt(med(values.values())) if values else "-")
        rows.append(cells + ["MiB", "", "", "", ""])
    return header, rows, macs


def print_table(header, rows):
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    line = lambda cells: "| " + " | ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths))) + " |"
    print(line(header))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print(line(row))


def check_line(runs, model, reference):
    """Largest |logit - PyTorch's| over all runs of each engine, relative to the largest |PyTorch logit|: of each run's
    first call, and of its second call on the same batch where the run recorded one. The check fails if either is
    beyond the limit; an engine whose first call alone is off is named as such."""
    ref = reference["logits"][model]
    scale = max(abs(v) for v in ref)
    # A logit the run could not write as a number (null: not finite) is an error beyond any limit.
    error = lambda logits: max(math.inf if a is None else abs(a - b) for a, b in zip(logits, ref)) / scale
    parts, ok = [], True
    for engine, label in ENGINES:
        engine_runs = [run for (e, m, t, r), run in runs.items() if (e, m) == (engine, model)]
        if not engine_runs:
            continue
        first = max(error(run["check_logits"]) for run in engine_runs)
        again = [error(run["check_logits_again"]) for run in engine_runs if "check_logits_again" in run]
        ok = ok and first <= CHECK_LIMIT and all(e <= CHECK_LIMIT for e in again)
        if again and first > CHECK_LIMIT and max(again) <= CHECK_LIMIT:
            parts.append(f"{label} {first:.1e} on its first call, {max(again):.1e} on its second")
        else:
            parts.append(f"{label} {max([first] + again):.1e}")
    verdict = "OK" if ok else f"FAILED (limit {CHECK_LIMIT:.0e})"
    return f"same function: largest |logit - PyTorch {reference['torch']}| / largest |logit| over every run: " \
           + ", ".join(parts) + f" -> {verdict}", ok


def load_states(directory, model):
    """{round: state} of the machine before the network's two-thread runs of each round, where the race recorded it."""
    states = {}
    pattern = re.compile(rf"state_{re.escape(model)}_r(\d+)\.json$")
    for path in glob.glob(os.path.join(directory, f"state_{model}_r*.json")):
        match = pattern.search(os.path.basename(path))
        if not match:
            continue
        with open(path) as f:
            text = f.read().strip()
        if text:
            states[int(match.group(1))] = json.loads(text)
    return states


def rounds_lines(runs, model, states, threads=2):
    """One line per round: one image on two threads, CnnGen against ONNX Runtime, beside the machine's state then."""
    cnngen = per_round(runs, "cnngen", model, threads, LATENCY[0])
    onnx = per_round(runs, "onnx", model, threads, LATENCY[0])
    lines = []
    for r in sorted(set(cnngen) & set(onnx)):
        line = f"  round {r}: {fmt(cnngen[r])} against {fmt(onnx[r])} us ({speed_ratio(cnngen[r], onnx[r], True):.2f}x)"
        state = states.get(r)
        if state:
            times = lambda key: " / ".join(f"{t:,.0f}" for t in state.get(key) or []) or "-"
            cost = lambda key: "-" if state.get(key) is None else f"{state[key]:,.0f}"
            line += (f"; CPUs {times('kernel_us_by_cpu')} us on one kernel alone, {times('kernel_us_together')} both at once, a write after the other "
                     f"core's read {cost('write_after_other_read_us_per_mib')} us per MiB (its own lines {cost('own_write_us_per_mib')})")
        lines.append(line)
    return lines


def main():
    directory, peak1, peak2 = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
    peaks = {1: peak1, 2: peak2}
    runs = load_runs(directory)
    if not runs:
        print(f"no runs in {directory}", file=sys.stderr)
        return 1
    with open(os.path.join(directory, "weights", "pytorch_check.json")) as f:
        reference = json.load(f)
    with open(os.path.join(directory, "load_start")) as f:
        load_start = f.read().strip()
    with open(os.path.join(directory, "load_end")) as f:
        load_end = f.read().strip()
    rounds = max(r for (_, _, _, r) in runs)
    repeats = next(iter(runs.values()))["repeats"]
    threads_list = sorted({t for (_, _, t, _) in runs})
    versions = sorted({run["engine"] for run in runs.values()})
    print(f"{rounds} alternating rounds (engine order rotates every round), each run the median of {repeats} repeats; "
          f"cells: median over rounds [range].")
    print(f"Engines: {'; '.join(versions)}; ONNX exported by PyTorch {reference['torch']} at opset {reference['opset']}.")
    print(f"Load average (1/5/15 min) at start {load_start}, at end {load_end}.")
    machine_file = os.path.join(directory, "machine")
    if os.path.exists(machine_file):
        with open(machine_file) as f:
            print(f"Machine: {f.read().strip()}.")
    busiest = max(float(load_start.split()[0]), float(load_end.split()[0]))
    if busiest > os.cpu_count():
        print(f"WARNING: the machine was busy (load {busiest:.1f} on {os.cpu_count()} cores): every figure is slowed by other "
              "processes, by tens of times for engines whose OpenMP threads spin (LibTorch at 2 threads); "
              "run it again on a quiet machine.")
    all_ok = True
    for model, title in MODELS:
        if not any(m == model for (_, m, _, _) in runs):
            continue
        try:
            header, rows, macs = table(runs, model, threads_list, peaks)
        except ValueError as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
        print()
        if trains(runs, model):
            print(f"{title}: {macs:,} MACs per image forward ({2 * macs / 1e6:,.2f} MFLOP; a training image counts 3x)")
        else:
            print(f"{title}, inference only: {macs:,} MACs per image forward ({2 * macs / 1e6:,.2f} MFLOP)")
        print_table(header, rows)
        if not trains(runs, model):
            print("Training is not raced for this network (inference only): its training rows print -.")
        states = load_states(directory, model)
        if states:
            print("One image on 2 threads by round, CnnGen against ONNX Runtime, and the machine just before the round's "
                  "two-thread runs (Cnn.EngineRace state: MobileNetV2's stem convolution timed on each CPU alone and on both at once; 256 KiB "
                  "written by one core after the other read it, against lines it wrote itself):")
            for line in rounds_lines(runs, model, states):
                print(line)
        line, ok = check_line(runs, model, reference)
        all_ok = all_ok and ok
        print(line)
        losses = [run.get("train_final_loss") for (e, m, t, r), run in runs.items() if m == model]
        if any(l is not None and not (l == l and abs(l) < 1e30) for l in losses):
            print("warning: a training run ended with a non-finite loss; its later timings may be off")
    print()
    print("Speed ratios are CnnGen's speed over the peer's, taken within each round (runs next to each other), then the")
    print("median [range] over rounds; against LibTorch, against its faster variant for that figure (plain, or with")
    print("MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=4294967296: mmap0). ONNX Runtime runs inference only.")
    print(f"GFLOP/s count 2 FLOPs per multiply-add; peak = a plain FMA loop (AVX-512, else AVX2): {peak1:.0f} GFLOP/s on one core, "
          f"{peak2:.0f} on both; CnnGen splits one image over the threads for networks of 20 million multiply-adds or more\n"
          "(SplitImages on by default: every network here but LeNet-5) and runs it on one thread for smaller ones.")
    print("Peak RSS: the process's VmHWM right after its training steps (runtime, libraries, weights and training).")
    return 0 if all_ok else 3


if __name__ == "__main__":
    sys.exit(main())
