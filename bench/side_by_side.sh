#!/usr/bin/env bash
# LeNet-5 on this machine: PyTorch (bench/pytorch_lenet.py) against CnnGen (the samples' `bench --json`), for 1 and 2
# threads. Runs of the two alternate (the first one swaps every round) so that slow moments of the machine hit both;
# one table at the end. Installs nothing.
#
#   bash bench/side_by_side.sh              # ROUNDS=5 alternations, REPEATS=9 timed repeats inside every run
#   ROUNDS=3 REPEATS=7 bash bench/side_by_side.sh
#   KEEP=dir bash bench/side_by_side.sh     # keep every run's JSON in dir (else a temporary one)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PY=/usr/bin/python3
ROUNDS=${ROUNDS:-5}
REPEATS=${REPEATS:-9}
THREADS=(1 2)
# Peak single-precision FLOP/s of a plain AVX-512 FMA loop (2 cores of the Zen 4 generation, which run a 512-bit FMA
# as two halves): one core, both cores. On another machine, give its own (`Cnn.EngineRace.dll peak --threads 1` and 2).
PEAK1=${PEAK1:-117}
PEAK2=${PEAK2:-232}

if (( ROUNDS < 3 )); then echo "ROUNDS must be at least 3" >&2; exit 2; fi
if ! "$PY" -c 'import torch' 2>/dev/null; then
    cat >&2 <<'MSG'
PyTorch is not importable by /usr/bin/python3. Install Debian's packages (as root):
    apt-get install -y python3-torch libopenblas0-openmp
MSG
    exit 1
fi

echo "Building the samples (Release)..." >&2
dotnet build "$ROOT/Cnn.Samples" -c Release -nologo -v quiet >&2
SAMPLES="$ROOT/Cnn.Samples/bin/Release/net10.0/Cnn.Samples.dll"

OUT=${KEEP:-$(mktemp -d)}
mkdir -p "$OUT"
[[ -n "${KEEP:-}" ]] || trap 'rm -rf "$OUT"' EXIT
cut -d' ' -f1-3 /proc/loadavg > "$OUT/load_start"

run_pytorch() { "$PY" "$ROOT/bench/pytorch_lenet.py" --threads "$1" --repeats "$REPEATS" > "$OUT/pytorch_t$1_r$2.json"; }
run_cnngen() { dotnet "$SAMPLES" bench --model lenet5 --threads "$1" --repeats "$REPEATS" --json > "$OUT/cnngen_t$1_r$2.json"; }

for (( r = 1; r <= ROUNDS; r++ )); do
    for t in "${THREADS[@]}"; do
        echo "round $r/$ROUNDS, $t thread(s)" >&2
        if (( r % 2 )); then run_pytorch "$t" "$r"; run_cnngen "$t" "$r"
        else run_cnngen "$t" "$r"; run_pytorch "$t" "$r"; fi
    done
done
cut -d' ' -f1-3 /proc/loadavg > "$OUT/load_end"

"$PY" - "$OUT" "$ROUNDS" "$REPEATS" "$PEAK1" "$PEAK2" <<'PYEOF'
import json, statistics, sys

out, rounds, repeats, peak1, peak2 = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
FWD = 833_040            # LeNet-5 forward FLOPs per image (416,520 MACs)
TRAIN = 3 * FWD          # a training step is about three forward passes
peak = {1: peak1, 2: peak2}
med = statistics.median

def load(kind, t, r):
    with open(f"{out}/{kind}_t{t}_r{r}.json") as f:
        return json.load(f)

runs = {(k, t): [load(k, t, r) for r in range(1, rounds + 1)] for k in ("pytorch", "cnngen") for t in (1, 2)}

# figure: (label, PyTorch key, CnnGen getter, lower is better, FLOPs per unit, unit)
figures = [
    ("forward, 1 image", "latency_b1_us", lambda j, t: j["latency_b1_us"]["median"], True, FWD, "us"),
    ("forward, batch 256", "infer_b256_ips", lambda j, t: j["infer_b256_ips"][str(t)]["median"], False, FWD, "img/s"),
    ("train step, batch 64", "train_b64_ips", lambda j, t: j["train_b64_ips"][str(t)]["median"], False, TRAIN, "img/s"),
]

def fmt(v):
    return f"{v:,.1f}" if v < 100 else f"{v:,.0f}"

header = ["figure", "thr", "PyTorch best (variant)", "CnnGen", "unit", "CnnGen/PyTorch speed [range]",
          "CnnGen GFLOP/s", "of peak"]
rows, notes = [], []
for label, key, cnn, lower, flops, unit in figures:
    for t in (1, 2):
        py, cg = runs[("pytorch", t)], runs[("cnngen", t)]
        variants = list(py[0][key])
        per_variant = {v: med(j[key][v]["median"] for j in py) for v in variants}
        best = (min if lower else max)(variants, key=lambda v: per_variant[v])
        cg_values = [cnn(j, t) for j in cg]
        py_values = [j[key][best]["median"] for j in py]
        # ratios first: speed ratio within every round, then the median over rounds
        ratios = [(p / c) if lower else (c / p) for p, c in zip(py_values, cg_values)]
        cg_med = med(cg_values)
        gflops = flops / (cg_med * 1e-6) / 1e9 if lower else cg_med * flops / 1e9
        used = 1 if lower else t   # CnnGen never splits one image over threads
        rows.append([label, str(t), f"{fmt(per_variant[best])} ({best})", fmt(cg_med), unit,
                     f"{med(ratios):.2f}x [{min(ratios):.2f}-{max(ratios):.2f}]",
                     f"{gflops:.1f}", f"{100 * gflops / peak[used]:.1f}% of {peak[used]:.0f}"])

widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
line = lambda cells: "| " + " | ".join(c.ljust(w) if i in (0, 2) else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths))) + " |"
with open(f"{out}/load_start") as f: load_start = f.read().strip()
with open(f"{out}/load_end") as f: load_end = f.read().strip()
py0 = runs[("pytorch", 1)][0]
print(f"LeNet-5, random inputs; {rounds} alternating rounds per thread count, each run the median of {repeats} repeats;")
print(f"table: median over rounds. PyTorch {py0['torch']}, OpenBLAS loaded: {py0['openblas_loaded']}; "
      f"load average (1/5/15 min) at start {load_start}, at end {load_end}.")
print(line(header))
print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
for r in rows:
    print(line(r))
print(f"Speed ratio: CnnGen's speed over PyTorch's best variant's, taken in every round (runs next to each other), then")
print(f"the median and range over rounds (>1: CnnGen faster). GFLOP/s count {FWD:,} FLOPs per image forward and 3x that")
print(f"per training image; peak = a plain AVX-512 FMA loop measured on this machine: {peak1:.0f} GFLOP/s on one core,")
print(f"{peak2:.0f} on both. CnnGen runs a single image on one thread whatever the count (so its peak is one core's).")

def scaling(kind, get):
    per_round = [get(b, 2) / get(a, 1) for a, b in zip(runs[(kind, 1)], runs[(kind, 2)])]
    return f"{med(per_round):.2f}x [{min(per_round):.2f}-{max(per_round):.2f}]"
print("Training scaling 1 -> 2 threads (images/s ratio, median [range] over rounds): "
      f"PyTorch {scaling('pytorch', lambda j, t: j['train_b64_ips']['eager']['median'])}, "
      f"CnnGen {scaling('cnngen', lambda j, t: j['train_b64_ips'][str(t)]['median'])}")
errors = {e for (k, t), js in runs.items() if k == "pytorch" for j in js for e in j.get("errors", {}).items()}
for name, message in sorted(errors):
    print(f"PyTorch variant {name} failed: {message}")
PYEOF
