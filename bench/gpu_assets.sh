#!/usr/bin/env bash
# Decodes every filter PNG to raw RGBA (a "W H" line, then W*H*4 bytes) under DIR/<filter>/<file>.rgba,
# so facefx-gpubench, which links no FFmpeg, can load every built-in filter on a bare GPU machine
# (FACEFX_RGBA_ASSETS=DIR). Usage: bench/gpu_assets.sh DIR
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: bench/gpu_assets.sh DIR}
find Filters -name '*.png' | while read -r png; do
  rel=${png#Filters/}
  mkdir -p "$out/$(dirname "$rel")"
  size=$(ffprobe -v error -select_streams v:0 -show_entries stream=width,height -of csv=p=0 "$png" </dev/null | tr ',' ' ')
  { echo "$size"; ffmpeg -nostdin -v error -i "$png" -f rawvideo -pix_fmt rgba -; } >"$out/$rel.rgba"
done
