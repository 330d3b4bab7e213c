#!/usr/bin/env bash
# Benchmark on the GPU machine (not a test): offline tracking against the detector on every frame
# (`--detect-every 1`, the behaviour before keyframes), same binary, same run, on the clips given.
# Runs the facefx at $FACEFX: the release tarball's bin/facefx (README "Install from the release tarball"),
# by default the runtime pack's (shared/gpu/README.md) unpacked at /tmp/rt. Prints a Markdown table.
# Usage (on the GPU machine, after the README's first lines): bash bench/gpu_offline_tracking.sh CLIP...
# The clips of the README's figures, made here (the GPU machine has no ffmpeg CLI) into the carried .gpurt/:
#   ffmpeg -f lavfi -i "color=c=0x506070:s=1280x720:r=30:d=10" -loop 1 -i samples/astronaut.png -filter_complex \
#     "[1]scale=1440:1440[a];[0][a]overlay=x='4+100*sin(2*PI*t/4)':y='8+30*sin(2*PI*t/3)':shortest=1,format=yuv420p" \
#     -t 10 -r 30 -c:v libx264 -crf 18 -preset fast .gpurt/c720.mp4            # 720p, one 260-px face
#   ffmpeg -f lavfi -i "testsrc2=s=1920x1080:r=30:d=10" -loop 1 -i samples/astronaut.png \
#     -filter_complex "[0]eq=saturation=0.4[bg];[1]split[p][q];[p]scale=420:420,split[a1][a2];[q]hflip,hue=h=-25:s=1.2,scale=420:420,split[h1][h2];\
#     [bg][a1]overlay=x='100+80*sin(2*PI*t/5)':y=80:shortest=1[s1];[s1][h1]overlay=x=700:y='120+60*sin(2*PI*t/4)'[s2];\
#     [s2][a2]overlay=x='1350+50*sin(2*PI*t/3)':y=560[s3];[s3][h2]overlay=x=450:y=600,format=yuv420p" \
#     -t 10 -r 30 -c:v libx264 -crf 23 -preset fast .gpurt/c1080x4.mp4        # 1080p, four faces, two looks
#   ffmpeg -stream_loop 2 -i .gpurt/c1080x4.mp4 -c copy .gpurt/c1080x4-30s.mp4  # the same, 30 s
set -euo pipefail
fx=${FACEFX:-/tmp/rt/bin/facefx}
out=$(mktemp -d)
now() { date +%s.%N; }
row() {   # clip label args...
  local clip=$1 label=$2; shift 2
  local s e line
  s=$(now)
  if [ "$1" = env ]; then line=$("$@" --overwrite 2>&1 | grep '^facefx: .*frames' | tail -1) || true
  else line=$("$fx" "$@" --overwrite 2>&1 | grep '^facefx: .*frames' | tail -1) || true; fi
  e=$(now)
  python3 -c "import sys; s,e=float(sys.argv[1]),float(sys.argv[2]); print(f'| {sys.argv[3]} | {sys.argv[4]} | {e-s:.2f} | {sys.argv[5]} |')" \
    "$s" "$e" "$(basename "$clip")" "$label" "${line#facefx: }"
}
"$fx" info 2>/dev/null | grep -iE 'renderer|device' | head -2
"$fx" analyze "$1" --csv "$out/w.csv" >/dev/null 2>&1 || true   # warm-up: NVIDIA compiles the shaders on the first run
echo "| clip | command | wall s | summary |"
echo "|---|---|---:|---|"
for clip in "$@"; do
  row "$clip" "analyze" analyze "$clip" --csv "$out/a.csv" --timings
  row "$clip" "analyze, landmarks frame by frame (FACEFX_TRACK_BATCH=1)" env FACEFX_TRACK_BATCH=1 "$fx" analyze "$clip" --csv "$out/c.csv"
  row "$clip" "analyze --detect-every 1" analyze "$clip" --csv "$out/b.csv" --detect-every 1
  row "$clip" "analyze --segments 1 (start to end, landmarks of 8 frames from extrapolated ROIs)" analyze "$clip" --csv "$out/s1.csv" --segments 1
  row "$clip" "analyze --segments 4" analyze "$clip" --csv "$out/s4.csv" --segments 4
  row "$clip" "analyze --segments 8, landmarks frame by frame (FACEFX_TRACK_BATCH=1)" env FACEFX_TRACK_BATCH=1 "$fx" analyze "$clip" --csv "$out/s8t1.csv" --segments 8
  python3 - "$out/s1.csv" "$out/a.csv" <<'PY'
import csv, sys
a = {(r["frame"], r["face_id"]): r for r in csv.DictReader(open(sys.argv[1]))}
b = {(r["frame"], r["face_id"]): r for r in csv.DictReader(open(sys.argv[2]))}
common = [k for k in a if k in b]
d = max((abs(float(a[k][c]) - float(b[k][c])) for k in common for c in ("x", "y", "w", "h")), default=0)
print(f"segments 1 vs default: {len(a)} / {len(b)} face-frames, {len(common)} in both, largest box difference {d:.3f} px")
PY
  row "$clip" "render, no filter" "$clip" "$out/n.mp4"
  row "$clip" "render --filter mask" "$clip" "$out/m.mp4" --filter mask
  row "$clip" "render --filter mask --detect-every 1" "$clip" "$out/m1.mp4" --filter mask --detect-every 1
done
for clip in "$@"; do
  for b in 8 1; do FACEFX_TRACK_BATCH=$b "$fx" analyze "$clip" --csv "$out/a.csv" --timings --overwrite 2>&1 | grep 'detector tiles' || true; done
  "$fx" analyze "$clip" --csv "$out/a.csv" --timings --overwrite --detect-every 1 2>&1 | grep 'detector tiles' || true
done
python3 - "$out/a.csv" <<'PY'
import csv, sys, collections
rows = list(csv.DictReader(open(sys.argv[1])))
ids = collections.Counter(r["face_id"] for r in rows)
print("last clip: face-frames per id:", dict(ids))
PY
