#!/usr/bin/env bash
# Benchmark (not a test): `facefx train` against PyTorch training the same network on the very same crops
# (`--save-crops`, then bench/train_pytorch.py --data), same machine, same run: the time to the first
# epoch at >= 90 % validation accuracy, seconds per epoch, and training steps on random crops at batch 8
# and 32 (`facefx bench train` beside `train_pytorch.py --bench`). PyTorch runs CUDA where it has a GPU
# (else the CPU, all cores) and the CPU in every case.
#   FX=facefx bash bench/train_vs_pytorch.sh LABELS.csv [EPOCHS] [BATCH] [LEARNING_RATE]
# The README's figures: LABELS.csv of samples/face.mp4 (plain) and its `--filter lipstick` render, 0-100 s.
set -euo pipefail
fx=${FX:-facefx}
labels=$1; epochs=${2:-12}; batch=${3:-16}; lr=${4:-0.01}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
"$fx" train "$labels" -o "$work/m.tflite" --epochs "$epochs" --batch "$batch" --learning-rate "$lr" \
    --save-crops "$work/crops" 2>&1 | tee "$work/facefx.txt" | grep -E "renderer|classes," || true
devices=$(python3 -c "import torch; print('cuda cpu' if torch.cuda.is_available() else 'cpu')")
for d in $devices; do
  python3 "$here/train_pytorch.py" --data "$work/crops" --epochs "$epochs" --batch "$batch" --lr "$lr" --device "$d" >"$work/torch-$d.txt"
done
echo
echo "| trainer | time to >= 90 % validation (s, epoch) | s / epoch after the first |"
echo "|---|---:|---:|"
python3 - "$work" $devices <<'PY'
import re, sys
work, devices = sys.argv[1], sys.argv[2:]
def row(name, path):
    epochs = [(int(e), float(v), float(t)) for e, v, t in
              re.findall(r"epoch (\d+)/\d+: .*validation ([\d.]+) % \(([\d.]+) s\)", open(path).read())]
    hit = next(((e, t) for e, v, t in epochs if v >= 90), None)
    per = (epochs[-1][2] - epochs[0][2]) / max(1, len(epochs) - 1)
    print(f"| {name} | {'%.1f (%d)' % (hit[1], hit[0]) if hit else 'not reached'} | {per:.3f} |")
row("facefx (GLES passes)", f"{work}/facefx.txt")
for d in devices:
    row(f"PyTorch eager ({d})", f"{work}/torch-{d}.txt")
PY
echo
"$fx" bench train --batch 8,32 --iters 20
for d in $devices; do python3 "$here/train_pytorch.py" --bench 8,32 --iters 30 --device "$d"; done
rm -rf "$work"
