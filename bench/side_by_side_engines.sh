#!/usr/bin/env bash
# The engine race: CnnGen against ONNX Runtime (inference) and LibTorch through TorchSharp (inference and training),
# on LeNet-5, a CIFAR VGG and a CIFAR ResNet, and (inference only, batch 32) torchvision's ResNet-18 and MobileNetV2
# at 3x224x224, with the same weights, for 1 and 2 threads. Every run is its own process;
# the engines' order rotates every round so that slow moments of the machine hit all of them. One table per network
# at the end. Installs nothing (see bench/README.md).
#
#   bash bench/side_by_side_engines.sh                  # ROUNDS=3 rotations, REPEATS=5 timed repeats inside every run
#   ROUNDS=5 REPEATS=7 MODELS="cifar_vgg" bash bench/side_by_side_engines.sh
#   KEEP=dir bash bench/side_by_side_engines.sh         # keep weights, ONNX files and every run's JSON in dir
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PY=/usr/bin/python3
ROUNDS=${ROUNDS:-3}
REPEATS=${REPEATS:-5}
MODELS=${MODELS:-lenet5 cifar_vgg cifar_resnet resnet18 mobilenetv2}
THREADS=${THREADS:-1 2}
# Peak single-precision GFLOP/s of a plain FMA loop (AVX-512, else AVX2), one core and both cores: measured before the race unless given.
PEAK1=${PEAK1:-}
PEAK2=${PEAK2:-}
ENGINES=(cnngen onnx libtorch libtorch_mmap0)

if (( ROUNDS < 1 )); then echo "ROUNDS must be at least 1" >&2; exit 2; fi
if ! "$PY" -c 'import torch, torchvision' 2>/dev/null; then
    cat >&2 <<'MSG'
PyTorch or torchvision is not importable by /usr/bin/python3; they export the networks to ONNX. Install Debian's
packages (as root):
    apt-get install -y python3-torch python3-torchvision
MSG
    exit 1
fi

echo "Building bench/Cnn.EngineRace (Release; the first build restores ONNX Runtime and TorchSharp)..." >&2
dotnet build "$ROOT/bench/Cnn.EngineRace" -c Release -nologo -v quiet >&2
BIN="$ROOT/bench/Cnn.EngineRace/bin/Release/net10.0"
RACE="$BIN/Cnn.EngineRace.dll"
# TorchSharp's glue library wants GLIBCXX_3.4.32 only for a marker symbol: weaken that in the build's copy.
"$PY" "$ROOT/bench/weaken_glibcxx_requirement.py" "$BIN/runtimes/linux-x64/native/libLibTorchSharp.so" >&2
if [[ -z "$PEAK1" || -z "$PEAK2" ]]; then
    echo "Measuring the peak (a plain FMA loop on 1 and 2 threads)..." >&2
    [[ -n "$PEAK1" ]] || PEAK1=$(dotnet "$RACE" peak --threads 1)
    [[ -n "$PEAK2" ]] || PEAK2=$(dotnet "$RACE" peak --threads 2)
fi

OUT=${KEEP:-$(mktemp -d)}
mkdir -p "$OUT/weights"
[[ -n "${KEEP:-}" ]] || trap 'rm -rf "$OUT"' EXIT

echo "Saving the weights and exporting them to ONNX..." >&2
dotnet "$RACE" save --dir "$OUT/weights"
"$PY" "$ROOT/bench/export_onnx.py" --dir "$OUT/weights"
cut -d' ' -f1-3 /proc/loadavg > "$OUT/load_start"
# The machine, for the table's heading: the processor's name, family and model (which say how wide its FMAs run), and
# its logical CPUs.
awk -F': ' '/^model name/ && n == "" {n = $2} /^cpu family/ && f == "" {f = $2} /^model[ \t]*:/ && m == "" {m = $2}
    END {printf "%s (CPU family %s, model %s), %d logical CPUs\n", n, f, m, cpus}' cpus="$(nproc)" /proc/cpuinfo > "$OUT/machine"

# One run; its JSON goes to the table, its standard error (LibTorch's start-up warnings) is shown only if it fails.
run() {   # engine model threads round
    local engine=$1 json="$OUT/$1_$2_t$3_r$4.json" log="$OUT/$1_$2_t$3_r$4.err"
    local args=(run --model "$2" --threads "$3" --repeats "$REPEATS" --dir "$OUT/weights")
    case $engine in
        libtorch_mmap0) env MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=4294967296 dotnet "$RACE" "${args[@]}" --engine libtorch > "$json" 2> "$log" ;;
        *) dotnet "$RACE" "${args[@]}" --engine "$engine" > "$json" 2> "$log" ;;
    esac || { echo "  $engine $2 t$3 round $4 failed; left out of the table:" >&2; cat "$log" >&2; rm -f "$json"; }
}

for (( r = 1; r <= ROUNDS; r++ )); do
    for t in $THREADS; do
        for model in $MODELS; do
            echo "round $r/$ROUNDS, $t thread(s), $model" >&2
            # Before a network's two-thread runs, what the machine gives two threads (each CPU's speed on one kernel, what
            # cache lines cost between the cores): the table prints it beside each round's two-thread figures.
            if (( t > 1 )); then
                dotnet "$RACE" state > "$OUT/state_${model}_r$r.json" 2> /dev/null || rm -f "$OUT/state_${model}_r$r.json"
            fi
            for (( i = 0; i < ${#ENGINES[@]}; i++ )); do
                run "${ENGINES[(i + r - 1) % ${#ENGINES[@]}]}" "$model" "$t" "$r"
            done
        done
    done
done
cut -d' ' -f1-3 /proc/loadavg > "$OUT/load_end"

"$PY" "$ROOT/bench/engine_race_table.py" "$OUT" "$PEAK1" "$PEAK2"
