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
[ -x .build/release/facefx ] || swift build -c release --product facefx >/dev/null

py=""
for v in tools/.venv bench/.venv; do
  if [ -x "$v/bin/python" ] && "$v/bin/python" -c "import mediapipe, cv2" 2>/dev/null; then py=$v/bin/python; break; fi
done
if [ -z "$py" ]; then
  python3 -m venv bench/.venv
  bench/.venv/bin/pip install --quiet mediapipe==0.10.14 opencv-python-headless
  py=bench/.venv/bin/python
fi

frames=$(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 "$clip")
size=$(ffprobe -v error -select_streams v:0 -show_entries stream=width,height -of csv=s=x:p=0 "$clip")
now() { date +%s.%N; }
facefx_run() {   # label, extra args...
  local label=$1; shift
  local s e faces
  s=$(now)
  .build/release/facefx analyze "$clip" --csv "$work/f.csv" --overwrite --quiet "$@"
  e=$(now)
  faces=$(($(wc -l <"$work/f.csv") - 1))
  awk -v l="$label" -v n="$frames" -v f="$faces" -v a="$s" -v b="$e" \
    'BEGIN{printf "| %s | %d | %d | %.1f | %.2f |\n", l, n, f, b-a, n/(b-a)}'
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load average now: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "renderer: $(.build/release/facefx info 2>/dev/null | grep -i 'GL renderer' | head -1 | xargs)"
echo "clip: $size, $frames frames; mediapipe $("$py" -c 'import mediapipe; print(mediapipe.__version__)')"
echo
echo "| tool (decode included) | frames | face-frames | seconds | fps |"
echo "|---|---|---|---|---|"
facefx_run "facefx analyze (default: detector every frame, 31 tiles at 720p; + emotion; offline smoothing)"
facefx_run "facefx analyze --detect-every 30 (detector like MediaPipe's VIDEO mode)" --detect-every 30
read -r n f secs < <("$py" bench/mediapipe_landmarker.py "$clip" Models/face_landmarker.task 2>/dev/null)
awk -v n="$n" -v f="$f" -v t="$secs" \
  'BEGIN{printf "| MediaPipe Face Landmarker 0.10 Python, CPU (VIDEO mode, blendshapes + matrices) | %d | %d | %.1f | %.2f |\n", n, f, t, n/t}'
