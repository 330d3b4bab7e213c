#!/usr/bin/env bash
# Builds samples/face.mp4: the astronaut portrait (one real, frontal face) drifting and slowly zooming over a
# moving gradient, 1280×720 30 fps H.264 + AAC, ~4 s. Known motion makes it usable as ground truth for tracking.
# Uses the ffmpeg CLI (tooling only; the product links libav* directly).
set -euo pipefail
cd "$(dirname "$0")/.."
src="${1:-/work/shared/samples/astronaut.png}"
out="${2:-samples/face.mp4}"
[ -f "$src" ] || { echo "missing $src" >&2; exit 1; }
mkdir -p "$(dirname "$out")"

# Face: scaled from 360 to 440 px over 4 s, moving left to right, slight vertical bob.
# Audio: a quiet two-tone chord over soft pink noise, so audio copy/transcode paths have real content.
ffmpeg -hide_banner -v error -y \
  -f lavfi -i "gradients=size=1280x720:rate=30:duration=4:c0=0x203050:c1=0x506080:speed=0.02" \
  -loop 1 -framerate 30 -t 4 -i "$src" \
  -f lavfi -i "sine=frequency=220:sample_rate=48000:duration=4" \
  -f lavfi -i "sine=frequency=330:sample_rate=48000:duration=4" \
  -f lavfi -i "anoisesrc=color=pink:amplitude=0.05:sample_rate=48000:duration=4" \
  -filter_complex "\
[1:v]format=rgba,scale=w='trunc((360+20*t)/2)*2':h=-2:eval=frame[face];\
[0:v][face]overlay=x='200+180*t':y='(H-h)/2+20*sin(t*1.5)':eval=frame:shortest=1,format=yuv420p[v];\
[2:a][3:a][4:a]amix=inputs=3:weights=0.3 0.2 1,volume=0.6[a]" \
  -map "[v]" -map "[a]" \
  -c:v libx264 -preset slow -crf 22 -profile:v high -pix_fmt yuv420p -colorspace bt709 -color_primaries bt709 -color_trc bt709 \
  -c:a aac -b:a 96k -movflags +faststart -t 4 "$out"

size=$(stat -c %s "$out")
echo "wrote $out ($size bytes)"
[ "$size" -le 2097152 ] || { echo "warning: $out is over 2 MB" >&2; exit 1; }
