#!/usr/bin/env bash
# Benchmark (not a test): peak RSS of `facefx IN OUT` on a 10-second and a 10-minute 1080p clip
# (the long one is the short one concatenated 60 times by stream copy, so only length differs).
# Bounded queues between decode, GPU and encode should keep memory flat: target long/short ≤ 1.5.
# Usage: bench/memory_flat.sh [EXTRA facefx ARGS...]   e.g. --filter mask   (default preset ultrafast to keep it short)
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
swift build -c release --product facefx >/dev/null
ffmpeg -v error -loop 1 -framerate 30 -i samples/astronaut.png -f lavfi -i sine=frequency=330:sample_rate=48000 \
  -t 10 -filter_complex "[0:v]scale=1080:1080,pad=1920:1080:(ow-iw)/2:0,format=yuv420p[v]" -map "[v]" -map 1:a \
  -c:v libx264 -preset veryfast -crf 23 -c:a aac -shortest "$work/short.mp4"
for i in $(seq 60); do echo "file '$work/short.mp4'"; done >"$work/list.txt"
ffmpeg -v error -f concat -safe 0 -i "$work/list.txt" -c copy "$work/long.mp4"
peak() { /usr/bin/time -v "$@" 2>&1 >/dev/null | awk -F': ' '/Maximum resident set size/ {print $2}'; }
s=$(peak .build/release/facefx "$work/short.mp4" "$work/o1.mp4" --preset ultrafast --quiet "$@")
l=$(peak .build/release/facefx "$work/long.mp4" "$work/o2.mp4" --preset ultrafast --quiet "$@")
echo "| clip (1920x1080, 30 fps) | peak RSS (MiB) |"
echo "|---|---|"
printf '| 10 s | %.0f |\n| 10 min | %.0f |\n' "$(awk -v k="$s" 'BEGIN{print k/1024}')" "$(awk -v k="$l" 'BEGIN{print k/1024}')"
echo
echo "ratio long/short: $(awk -v a="$l" -v b="$s" 'BEGIN{printf "%.2f", a/b}') (target ≤ 1.5); args: ${*:-none}"
