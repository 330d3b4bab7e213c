#!/usr/bin/env bash
# Benchmark (not a test): frames per second of `facefx analyze` against MediaPipe's Face Landmarker
# in Python on the CPU (same networks: Models/face_landmarker.task), decode included for both, on
# the same ~10 s 720p clip (samples/face.mp4 looped), in the same run. Prints a Markdown table.
# Usage: bench/analyze_vs_mediapipe.sh [CLIP]
# MediaPipe comes from tools/.venv (if it has mediapipe) or bench/.venv, created here with
# `pip install mediapipe==0.10.14 opencv-python-headless`.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
clip=${1:-}
if [ -z "$clip" ]; then
  clip=$work/face10s.mp4
  # 4 s sample looped to 10 s (300 frames), re-encoded once so both tools decode the same H.264 stream.
  ffmpeg -v error -stream_loop 2 -i samples/face.mp4 -t 10 -an -c:v libx264 -crf 18 -preset fast "$clip"
fi
# A second 720p clip with a large face (astronaut.png at 2.8×: face ≈ 260 px wide, moving), because
# MediaPipe's short-range detector (whole frame letterboxed to 128²) misses face.mp4's 64 px face.
big=$work/bigface10s.mp4
ffmpeg -v error -f lavfi -i "color=c=0x506070:s=1280x720:r=30:d=10" -loop 1 -i samples/astronaut.png -filter_complex \
  "[1]scale=1440:1440[a];[0][a]overlay=x='4+100*sin(2*PI*t/4)':y='8+30*sin(2*PI*t/3)':shortest=1,format=yuv420p" \
  -t 10 -r 30 -c:v libx264 -crf 18 -preset fast "$big"
swift build -c release --product facefx >/dev/null 2>"$work/build.log" || { cat "$work/build.log"; exit 1; }   # incremental

py=""
for v in tools/.venv bench/.venv; do
  if [ -x "$v/bin/python" ] && "$v/bin/python" -c "import mediapipe, cv2" 2>/dev/null; then py=$v/bin/python; break; fi
done
if [ -z "$py" ]; then
  python3 -m venv bench/.venv
  bench/.venv/bin/pip install --quiet mediapipe==0.10.14 opencv-python-headless
  py=bench/.venv/bin/python
fi

count() { ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 "$1"; }
now() { date +%s.%N; }
facefx_run() {   # clip, label, extra args...
  local c=$1 label=$2; shift 2
  local s e faces n
  n=$(count "$c")
  s=$(now)
  .build/release/facefx analyze "$c" --csv "$work/f.csv" --overwrite --quiet "$@"
  e=$(now)
  faces=$(($(wc -l <"$work/f.csv") - 1))
  awk -v l="$label" -v n="$n" -v f="$faces" -v a="$s" -v b="$e" \
    'BEGIN{printf "| %s | %d | %d | %.1f | %.2f |\n", l, n, f, b-a, n/(b-a)}'
}
facefx_before() { FACEFX_FRAME_BATCH=1 FACEFX_TRACK_BATCH=1 FACEFX_NN_BAKE=1 facefx_run "$@"; }
mediapipe_run() {   # clip, label
  local n f secs
  read -r n f secs < <("$py" bench/mediapipe_landmarker.py "$1" Models/face_landmarker.task 2>/dev/null)
  awk -v l="$2" -v n="$n" -v f="$f" -v t="$secs" 'BEGIN{printf "| %s | %d | %d | %.1f | %.2f |\n", l, n, f, t, n/t}'
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (shared machine)"
echo "renderer: $(.build/release/facefx info 2>/dev/null | grep -i 'GL renderer' | head -1 | xargs)"
echo "mediapipe $("$py" -c 'import mediapipe; print(mediapipe.__version__)') (Python, CPU, XNNPACK); decode included for both"
echo
echo "| clip / tool | frames | face-frames | seconds | fps |"
echo "|---|---|---|---|---|"
# "before": the previous stop's defaults (detector on every frame, no frame batches, baked kernels).
facefx_run "$clip" "face.mp4 ×2.5 (720p, 64 px face): facefx analyze, defaults (keyframes every 0.4 s with look-back, 31 tiles; refine; emotion; offline smoothing)"
facefx_before "$clip" "face.mp4 ×2.5: before (detector on every frame, no frame batches, baked kernels)" --detect-every 1
mediapipe_run "$clip" "face.mp4 ×2.5: MediaPipe Face Landmarker (VIDEO mode, blendshapes + matrices)"
facefx_run "$big" "big face (720p, 260 px face): facefx analyze --min-face 200" --min-face 200
facefx_before "$big" "big face: before, --min-face 200 --detect-every 1" --min-face 200 --detect-every 1
mediapipe_run "$big" "big face: MediaPipe Face Landmarker (VIDEO mode, blendshapes + matrices)"
echo
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
