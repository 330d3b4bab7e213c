#!/usr/bin/env bash
# Installs the Debian 12 packages facefx needs, only those that are missing.
# Build: FFmpeg 5.1 and EGL/GLES headers. Run: Mesa's EGL + llvmpipe (software GPU).
# Tests and benchmarks only: the ffmpeg/ffprobe command-line tools (never used by the product) and GNU parallel
# (samples/batch/parallel.sh is run by the batch tests). The release tarball (make dist): binutils (readelf,
# objdump, strip) and xz-utils.
set -euo pipefail
pkgs=(pkg-config libavformat-dev libavcodec-dev libswscale-dev libswresample-dev libavutil-dev
      libegl-dev libgles-dev libegl-mesa0 libgl1-mesa-dri ffmpeg parallel binutils xz-utils)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}" >&2
sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
