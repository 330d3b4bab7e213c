#!/usr/bin/env bash
# Benchmark on the GPU machine (not a test): filtered render against the same render without a filter,
# with x264 and with NVENC, same binary, same run, alternating, median of RUNS; optionally a second binary
# (OLD=path) for before/after. Runs where the runtime (release tarball or pack, shared/gpu/README.md) is
# unpacked; prints a Markdown table. Encoded outputs of the first clip are left in $KEEP (if set) so their
# quality can be compared elsewhere (the GPU machine has no ffmpeg CLI).
# Usage: [FX=/tmp/rt/bin/facefx] [OLD=/tmp/old/facefx] [RUNS=3] [KEEP=dir] [CODECS="h264 h264_nvenc"] [JOBS="1 4 8"]
#        bash bench/gpu_render.sh CLIP...   (the batch rows use the first clip)
set -euo pipefail
fx=${FX:-/tmp/rt/bin/facefx}
runs=${RUNS:-3}
out=$(mktemp -d)
"$fx" info 2>/dev/null | grep -E 'GL renderer|hardware encoder' || true
"$fx" "$1" "$out/w.mp4" --filter mask --overwrite --quiet || true   # warm-up: NVIDIA compiles the shaders on the first run
# Wall seconds of a command, or nan when it fails (its last lines go to stderr).
secs() { local s e; s=$(date +%s.%N); "$@" >"$out/log" 2>&1 || { tail -3 "$out/log" >&2; echo nan; return 0; }; e=$(date +%s.%N)
         python3 -c "import sys; print(f'{float(sys.argv[2])-float(sys.argv[1]):.3f}')" "$s" "$e"; }
median() { python3 -c "import sys, statistics; print(f'{statistics.median(map(float, sys.argv[1:])):.2f}')" "$@"; }
echo
echo "| clip | binary | codec | no filter s | --filter mask s | mask / no filter | mask fps |"
echo "|---|---|---|---:|---:|---:|---:|"
first=1
for clip in "$@"; do
  n=$("$fx" "$clip" "$out/n.mp4" --overwrite 2>&1 | sed -n 's/.*: \([0-9]*\) frames.*/\1/p' | tail -1)
  for codec in ${CODECS:-h264 h264_nvenc}; do
    for bin in new ${OLD:+old}; do
      b=$fx; [ "$bin" = old ] && b=$OLD
      [ "$bin" = old ] && [ "$codec" != h264 ] && continue   # the old binary has no NVENC
      plain=(); masked=()
      for i in $(seq "$runs"); do
        plain+=("$(secs "$b" "$clip" "$out/p.mp4" --codec "$codec" --overwrite --quiet)")
        masked+=("$(secs "$b" "$clip" "$out/m.mp4" --codec "$codec" --filter mask --overwrite --quiet)")
      done
      p=$(median "${plain[@]}"); m=$(median "${masked[@]}")
      python3 -c "import sys; n,p,m=int(sys.argv[1]),float(sys.argv[2]),float(sys.argv[3]); print(f'| {sys.argv[4]} | {sys.argv[5]} | {sys.argv[6]} | {p:.2f} | {m:.2f} | {m/p:.2f} | {n/m:.0f} |')" \
        "$n" "$p" "$m" "$(basename "$clip")" "$bin" "$codec"
      if [ -n "${KEEP:-}" ] && [ $first = 1 ] && [ "$bin" = new ]; then mkdir -p "$KEEP"; cp "$out/p.mp4" "$KEEP/plain-$codec.mp4"; fi
    done
  done
  first=0
done
# Many streams: a batch of 8 copies of the first clip, filtered, aggregate frames per second.
mkdir -p "$out/in"; for i in 1 2 3 4 5 6 7 8; do ln -s "$(realpath "$1")" "$out/in/c$i.mp4"; done
n=$("$fx" "$1" "$out/n.mp4" --overwrite 2>&1 | sed -n 's/.*: \([0-9]*\) frames.*/\1/p' | tail -1)
echo
echo "| batch of 8 × $(basename "$1") --filter mask | jobs | wall s | aggregate fps |"
echo "|---|---:|---:|---:|"
for codec in ${CODECS:-h264 h264_nvenc}; do
  for jobs in ${JOBS:-1 4 8}; do
    s=$(secs "$fx" batch "$out/in" --out-dir "$out/done" --filter mask --codec "$codec" --jobs "$jobs" --overwrite --quiet)
    python3 -c "import sys; print(f'| {sys.argv[1]} | {sys.argv[2]} | {float(sys.argv[3]):.2f} | {8*int(sys.argv[4])/float(sys.argv[3]):.0f} |')" "$codec" "$jobs" "$s" "$n"
  done
done
rm -rf "$out"
