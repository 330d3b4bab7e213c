#!/usr/bin/env bash
# Benchmark (not a test): wall time of `facefx IN OUT` (no filter, and with FILTER: the face
# networks + overlay, 1 face) against the equivalent `ffmpeg -i IN -c:v libx264 -crf 18 -preset medium
# -c:a copy OUT`, on the same 720p clip, alternating them, median of N runs each. Prints a Markdown table.
# Usage: [FILTER=mask] bench/render_vs_ffmpeg.sh [CLIP] [RUNS]   (default: a 10 s 720p clip made from
# samples/face.mp4; FILTER=none skips the filtered rows)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${2:-5}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
clip=${1:-}
if [ -z "$clip" ]; then
  clip=$work/clip720.mp4
  # 10 s of 1280x720 30 fps with audio: the sample looped; re-encoded once so both tools get the same input.
  ffmpeg -v error -stream_loop 2 -i samples/face.mp4 -t 10 -vf scale=1280:720 -c:v libx264 -crf 18 -preset fast \
    -c:a aac -b:a 128k "$clip"
fi
swift build -c release --product facefx >/dev/null
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
t() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N); awk -v a="$s" -v b="$e" 'BEGIN{printf "%.3f\n", b-a}'; }
: >"$work/f"; : >"$work/g"; : >"$work/r"; : >"$work/m"; : >"$work/p"
filter=${FILTER:-mask}
for i in $(seq "$runs"); do
  [ "$filter" = none ] || t .build/release/facefx "$clip" "$work/m.mp4" --filter "$filter" --overwrite --quiet >>"$work/m"
  # The previous stop's defaults: detector on every frame, no frame batches, baked kernels.
  [ "$filter" = none ] || t env FACEFX_FRAME_BATCH=1 FACEFX_TRACK_BATCH=1 FACEFX_NN_BAKE=1 .build/release/facefx "$clip" "$work/p.mp4" \
    --filter "$filter" --detect-every 1 --overwrite --quiet >>"$work/p"
  t .build/release/facefx "$clip" "$work/a.mp4" --overwrite --quiet >>"$work/f"
  t env FACEFX_FORCE_RGBA=1 .build/release/facefx "$clip" "$work/c.mp4" --overwrite --quiet >>"$work/r"
  t ffmpeg -y -v error -i "$clip" -c:v libx264 -crf 18 -preset medium -c:a copy "$work/b.mp4" >>"$work/g"
done
f=$(median <"$work/f"); g=$(median <"$work/g"); r=$(median <"$work/r"); m=$(median <"$work/m"); p=$(median <"$work/p")
frames=$(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 "$clip")
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "renderer: $(.build/release/facefx info 2>/dev/null | grep -i renderer | head -1 | xargs)"
echo
echo "| command | median wall s ($runs runs) | fps | ratio |"
echo "|---|---|---|---|"
printf '| ffmpeg -c:v libx264 -crf 18 -preset medium -c:a copy | %.2f | %.1f | 1.00 |\n' "$g" "$(awk -v n="$frames" -v t="$g" 'BEGIN{print n/t}')"
printf '| facefx (no filter: GPU copy path) | %.2f | %.1f | %.2f |\n' "$f" "$(awk -v n="$frames" -v t="$f" 'BEGIN{print n/t}')" "$(awk -v a="$f" -v b="$g" 'BEGIN{print a/b}')"
printf '| facefx, RGBA round trip forced (the filter path, FACEFX_FORCE_RGBA=1) | %.2f | %.1f | %.2f |\n' "$r" "$(awk -v n="$frames" -v t="$r" 'BEGIN{print n/t}')" "$(awk -v a="$r" -v b="$g" 'BEGIN{print a/b}')"
[ "$filter" = none ] || printf '| facefx --filter %s (face networks + overlay, 1 face) | %.2f | %.1f | %.2f |\n' "$filter" "$m" "$(awk -v n="$frames" -v t="$m" 'BEGIN{print n/t}')" "$(awk -v a="$m" -v b="$g" 'BEGIN{print a/b}')"
[ "$filter" = none ] || printf '| facefx --filter %s, before (detector every frame, no frame batches, baked kernels) | %.2f | %.1f | %.2f |\n' "$filter" "$p" "$(awk -v n="$frames" -v t="$p" 'BEGIN{print n/t}')" "$(awk -v a="$p" -v b="$g" 'BEGIN{print a/b}')"
echo
echo "load average during the run: $(cut -d' ' -f1-3 /proc/loadavg)"
