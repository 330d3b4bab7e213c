#!/usr/bin/env bash
# Benchmark on the GPU machine (not a test): facefx's shader networks against the same .tflite graphs run by
# PyTorch + cuDNN as a CUDA graph, same GPU, same run, one table of milliseconds per item.
# The peer is shared/gpu/torch_tflite.py (PyTorch is on the GPU machine; carry the `tflite` wheel as
# shared/gpu/README.md says and put it on PYTHONPATH). The peer runs fp32 (cuDNN may use TF32); facefx runs the
# precision given (fp16 by default, the one inference uses).
#   FX=/tmp/rt/bin/facefx bash bench/vs_pytorch.sh PEER.py [MODELS_DIR] [BATCHES]
# Options: [PRECISION=fp16] [ITERS=50]
set -euo pipefail
fx=${FX:-/tmp/rt/bin/facefx}
peer=$1
models=${2:-${FACEFX_MODELS_DIR:-Models}}
batches=${3:-1,8,32}
work=$(mktemp -d)
# The peer reads plain .tflite files: take the detector and landmark networks out of the .task bundle.
python3 - "$models/face_landmarker.task" "$work" <<'EOF'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    for m in ("face_detector.tflite", "face_landmarks_detector.tflite"):
        open(f"{sys.argv[2]}/{m}", "wb").write(z.read(m))
EOF
# label in `facefx bench networks` → file for the peer
declare -A file=(["detector 128"]="$work/face_detector.tflite" ["landmarks 256"]="$work/face_landmarks_detector.tflite")
for label in "detector 128" "landmarks 256"; do
  python3 "$peer" "${file[$label]}" --batch "$batches" | sed -n "s/.*batch=\([0-9]*\).*per_item_graph_ms=\([0-9.]*\).*/$label|\1|\2/p"
done >"$work/peer.txt"
"$fx" bench networks --batch "$batches" --precision "${PRECISION:-fp16}" --iters "${ITERS:-50}" >"$work/fx.txt"
grep -E 'renderer|passes:' "$work/fx.txt" || true
echo
# Two facefx columns: back to back (runs issued without a wait, outputs left on the GPU: what the peer's loop of
# CUDA graph replays measures, the comparison), and each run waited for with its outputs read back (what one
# analysis step costs).
echo "| network | batch | PyTorch CUDA graph ms / item | facefx ${PRECISION:-fp16} back to back ms / item | facefx / PyTorch | facefx each run waited for + readback ms / item |"
echo "|---|---:|---:|---:|---:|---:|"
python3 - "$work/peer.txt" "$work/fx.txt" <<'EOF'
import sys
peer = {}
for line in open(sys.argv[1]):
    label, batch, ms = line.strip().split("|"); peer[(label, int(batch))] = float(ms)
for line in open(sys.argv[2]):
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    if len(cells) < 13 or not cells[2].isdigit(): continue
    key = (cells[0], int(cells[2]))
    if key in peer:
        ours, waited = float(cells[12]), float(cells[4])
        print(f"| {key[0]} | {key[1]} | {peer[key]:.4f} | {ours:.4f} | {ours / peer[key]:.2f} | {waited:.4f} |")
EOF
rm -rf "$work"
