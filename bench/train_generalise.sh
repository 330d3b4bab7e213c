#!/usr/bin/env bash
# Benchmark (not a test) of issue 15's generalisation target: a classifier trained on one clip's labels,
# scored on a different clip of the same person. Train: samples/face.mp4 (720p, the face 360-440 px wide,
# drifting left to right over a blue gradient) against its `--filter lipstick` render. Score: a new clip
# made here from the same photo (540p, the face 300 -> 220 px, moving right to left and up, rolling by up to
# +-9 degrees, brightness swinging, over a green gradient, 25 fps), plain and with lipstick, through
# `facefx analyze --classifier`: a frame counts as right when class_lipstick > 0.5 exactly on the lipstick clip.
# Uses the ffmpeg CLI to make the clip (tooling only).
#   FX=facefx bash bench/train_generalise.sh [grey64|rgb128] [EPOCHS]
set -euo pipefail
fx=${FX:-facefx}
input=${1:-grey64}; epochs=${2:-6}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
ffmpeg -hide_banner -v error -y \
  -f lavfi -i "gradients=size=960x540:rate=25:duration=4:c0=0x304018:c1=0x708040:speed=0.03" \
  -loop 1 -framerate 25 -t 4 -i "$root/samples/astronaut.png" \
  -filter_complex "\
[1:v]format=rgba,scale=w='trunc((300-20*t)/2)*2':h=-2:eval=frame,rotate='0.16*sin(t*1.7)':c=none:ow='hypot(iw,ih)':oh='hypot(iw,ih)'[face];\
[0:v][face]overlay=x='520-90*t':y='(H-h)/2+30-15*t':eval=frame:shortest=1,eq=brightness='0.07*sin(t*2.5)':eval=frame,format=yuv420p[v]" \
  -map "[v]" -c:v libx264 -crf 20 -t 4 "$work/other.mp4"
cp "$root/samples/face.mp4" "$work/train.mp4"
"$fx" "$work/train.mp4" "$work/train-lip.mp4" --filter lipstick --quiet
"$fx" "$work/other.mp4" "$work/other-lip.mp4" --filter lipstick --quiet
printf 'video,start_s,end_s,label\ntrain.mp4,0,100,plain\ntrain-lip.mp4,0,100,lipstick\n' > "$work/labels.csv"
"$fx" train "$work/labels.csv" -o "$work/m.tflite" --input "$input" --epochs "$epochs" --batch 16 --learning-rate 0.01 2>&1 \
  | grep -E "epoch $epochs/|classes,|trained" || true
for clip in other other-lip; do
  "$fx" analyze "$work/$clip.mp4" --classifier "$work/m.tflite" --csv "$work/$clip.csv" --quiet
done
python3 - "$work" "$input" <<'PY'
import csv, sys
work, input = sys.argv[1:]
right = total = 0
for clip, want in (("other", False), ("other-lip", True)):
    rows = list(csv.DictReader(open(f"{work}/{clip}.csv")))
    frames = {r["frame"] for r in rows}
    hits = sum(1 for r in rows if (float(r["class_lipstick"]) > 0.5) == want)
    print(f"{clip}: {len(rows)} face rows on {len(frames)} frames, {hits} right")
    right += hits; total += len(rows)
print(f"input {input}: trained on samples/face.mp4, scored on another clip of the same person: {right}/{total} = {100 * right / max(total, 1):.1f} % right")
PY
