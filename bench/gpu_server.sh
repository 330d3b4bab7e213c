#!/usr/bin/env bash
# Benchmark on the GPU machine (not a test): the whole product there, same binary, same run, one table per
# question: one file analysed (software and NVDEC decoding; as 1-8 segments at once); a filtered render's start
# (cold and warm); filtered render against the same render without
# a filter, with x264 and NVENC (alternating, median of RUNS); batches of 8 copies of the first clip at
# several --jobs (render with the mask, and --analyze-only). Optionally a second binary (OLD=path) in the
# render rows. Encoded outputs of the first clip are left in $KEEP (if set) for quality comparisons elsewhere
# (the GPU machine has no ffmpeg CLI). A command that fails prints its error and counts as nan.
# How to get it there: `make dist`, carry the tarball (two parts if it and the tree pass the device tool's
# 64 MiB: README "Install from the release tarball"), unpack it, install the EGL loaders as in
# shared/gpu/README.md, then
#   FX=/tmp/u/facefx-0.1.0-linux-x86_64/bin/facefx bash bench/gpu_server.sh CLIP...
# Options: [OLD=path] [RUNS=3] [KEEP=dir] [CODECS="h264 h264_nvenc"] [JOBS="1 4 8"] [SEGMENTS="1 2 4 8"]; the clips of the README's
# figures are made as bench/gpu_offline_tracking.sh says.
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
frames() { "$fx" "$1" "$out/n.mp4" --overwrite 2>&1 | sed -n 's/.*: \([0-9]*\) frames.*/\1/p' | tail -1; }
echo
echo "| clip | analyze --hwdec | wall s | fps |"
echo "|---|---|---:|---:|"
for clip in "$@"; do
  n=$(frames "$clip")
  for mode in none nvdec; do
    s=$(secs "$fx" analyze "$clip" --csv "$out/$mode.csv" --hwdec "$mode" --overwrite --quiet)
    python3 -c "import sys; n,t=int(sys.argv[1]),float(sys.argv[2]); print(f'| {sys.argv[3]} | {sys.argv[4]} | {t:.2f} | {n/t:.0f} |')" "$n" "$s" "$(basename "$clip")" "$mode"
  done
  if [ -s "$out/nvdec.csv" ]; then cmp -s "$out/none.csv" "$out/nvdec.csv" && echo "(NVDEC CSV identical)" || echo "(NVDEC CSV DIFFERS)"; fi
done
# One file as segments analysed at once (`--segments N`): does a long file go faster on several lanes?
echo
echo "| clip | analyze --segments | wall s | fps |"
echo "|---|---:|---:|---:|"
for clip in "$@"; do
  n=$(frames "$clip")
  for seg in ${SEGMENTS:-1 2 4 8}; do
    s=$(secs "$fx" analyze "$clip" --csv "$out/seg.csv" --segments "$seg" --overwrite --quiet)
    python3 -c "import sys; n,t=int(sys.argv[1]),float(sys.argv[2]); print(f'| {sys.argv[3]} | {sys.argv[4]} | {t:.2f} | {n/t:.0f} |')" "$n" "$s" "$(basename "$clip")" "$seg"
  done
done
echo
echo "| clip | binary | codec | no filter s | --filter mask s | mask / no filter | mask fps |"
echo "|---|---|---|---:|---:|---:|---:|"
first=1
for clip in "$@"; do
  n=$(frames "$clip")
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
# A filtered render's start (FACEFX_GL_PROFILE's timeline): a batch of two copies of the first clip, one job,
# so the second job starts with the programs compiled and the networks built (what of the start is first use).
mkdir -p "$out/two"; for i in 1 2; do ln -s "$(realpath "$1")" "$out/two/c$i.mp4"; done
echo
echo "start of a --filter mask render, $(basename "$1") (seconds from the job's start; job 2 reuses job 1's programs and networks):"
FACEFX_GL_PROFILE=1 "$fx" batch "$out/two" --out-dir "$out/twoout" --filter mask --jobs 1 --overwrite 2>&1 \
  | sed -n 's/^facefx: render set-up/  set-up/p'
# Many streams: a batch of 8 copies of the first clip, filtered, aggregate frames per second.
mkdir -p "$out/in"; for i in 1 2 3 4 5 6 7 8; do ln -s "$(realpath "$1")" "$out/in/c$i.mp4"; done
n=$(frames "$1")
echo
echo "| batch of 8 × $(basename "$1") --filter mask | jobs | wall s | aggregate fps |"
echo "|---|---:|---:|---:|"
for codec in ${CODECS:-h264 h264_nvenc}; do
  for jobs in ${JOBS:-1 4 8}; do
    s=$(secs "$fx" batch "$out/in" --out-dir "$out/done" --filter mask --codec "$codec" --jobs "$jobs" --overwrite --quiet)
    python3 -c "import sys; print(f'| {sys.argv[1]} | {sys.argv[2]} | {float(sys.argv[3]):.2f} | {8*int(sys.argv[4])/float(sys.argv[3]):.0f} |')" "$codec" "$jobs" "$s" "$n"
  done
done
echo
echo "| batch of 8 × $(basename "$1") --analyze-only | jobs | wall s | aggregate fps |"
echo "|---|---:|---:|---:|"
for jobs in ${JOBS:-1 4 8}; do
  s=$(secs "$fx" batch "$out/in" --out-dir "$out/csv" --analyze-only --jobs "$jobs" --overwrite --quiet)
  python3 -c "import sys; print(f'| analyze | {sys.argv[1]} | {float(sys.argv[2]):.2f} | {8*int(sys.argv[3])/float(sys.argv[2]):.0f} |')" "$jobs" "$s" "$n"
done
rm -rf "$out"
