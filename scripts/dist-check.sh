#!/usr/bin/env bash
# Checks a release tarball as a user meets it: unpacked into an empty folder and run from there with
# LD_LIBRARY_PATH and the FACEFX_* data variables unset, from a folder holding no Models/ or Filters/.
# Fails unless the binary's only library path is $ORIGIN/../lib, every library but those left to the
# system (scripts/dist-system-libraries.txt) resolves inside lib/ (ldd), `facefx info` shows every
# FFmpeg library loaded from lib/, the sample renders with the mask filter and analyze finds its face.
# usage: scripts/dist-check.sh TARBALL [GPU]   GPU: facefx's --gpu (default auto); a device index must
# give a hardware renderer. make dist-check runs it on the tarball make dist builds.
set -euo pipefail
cd "$(dirname "$0")/.."
tarball=$(readlink -f "${1:?usage: scripts/dist-check.sh TARBALL [GPU]}")
gpu=${2:-auto}
sample=$PWD/samples/face.mp4
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
work=$(readlink -f "$work")
tar -C "$work" -xJf "$tarball"
root=$(echo "$work"/facefx-*)
fx=$root/bin/facefx
run() { env -u LD_LIBRARY_PATH -u FACEFX_MODELS_DIR -u FACEFX_FILTERS "$@"; }
fail() { echo "dist-check: $*" >&2; exit 1; }

run ldd "$fx" >"$work/ldd.txt"
! grep 'not found' "$work/ldd.txt" || fail "libraries not found (above)"
# The GPU machine may lack binutils; the library list of facefx info below still proves where FFmpeg came from.
if command -v readelf >/dev/null; then
  paths=$(readelf -d "$fx" | grep -E '\((RPATH|RUNPATH)\)' || true)
  [[ $paths =~ ^\ *0x[0-9a-f]+\ \(RPATH\)\ +Library\ rpath:\ \[\$ORIGIN/\.\./lib\]$ ]] ||
    fail "bin/facefx must have the one library path RPATH \$ORIGIN/../lib, has: ${paths:-none}"
  # Every library that bin/facefx or a bundled library names, except those left to the system, must
  # resolve inside lib/; what the system's own libraries need is theirs to find.
  system=" $(grep -v '^#' scripts/dist-system-libraries.txt | paste -sd' ') "
  declare -A resolved
  while read -r soname path; do resolved[$soname]=$(readlink -f "$path"); done < <(awk '$2 == "=>" { print $1, $3 }' "$work/ldd.txt")
  named=$(for f in "$fx" "$root"/lib/*; do readelf -d "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; done | sort -u)
  bundled=0
  for soname in $named; do
    [[ $system == *" $soname "* ]] && continue
    [ "${resolved[$soname]:-}" = "$root/lib/$soname" ] || fail "$soname resolves outside the tarball: ${resolved[$soname]:-nowhere}"
    bundled=$((bundled + 1))
  done
  [ "$bundled" -eq "$(ls "$root/lib" | wc -l)" ] || fail "lib/ holds $(ls "$root/lib" | wc -l) files, of which $bundled are needed"
else
  echo "dist-check: no readelf (binutils) here: the RPATH and bundled-library checks are skipped" >&2
fi

cd "$work"   # no Models/ or Filters/ here or above: the data must come from share/facefx
run "$fx" info --gpu "$gpu" >info.txt || { cat info.txt; fail "facefx info failed"; }
grep -E '^(FFmpeg:|selected|GL renderer|software renderer)' info.txt
ffmpeg_libraries=$(grep -E '^  /.*/lib(av|sw)[a-z]+\.so' info.txt || true)
[ "$(echo "$ffmpeg_libraries" | grep -c "^  $root/lib/")" -eq 5 ] && [ "$(echo "$ffmpeg_libraries" | wc -l)" -eq 5 ] ||
  fail "FFmpeg's 5 libraries must all be loaded from $root/lib, facefx info lists: ${ffmpeg_libraries:-none}"
if [[ $gpu =~ ^[0-9]+$ ]]; then grep -q '^software renderer: no' info.txt || fail "--gpu $gpu gave a software renderer"; fi

seconds() { local start=$EPOCHREALTIME; "$@" || return; awk -v s="$start" -v e="$EPOCHREALTIME" 'BEGIN { printf "%.1f", e - s }'; }
t=$(seconds run "$fx" "$sample" out.mp4 --filter mask --gpu "$gpu" --quiet)
[ -s out.mp4 ] || fail "render wrote no out.mp4"
echo "render --filter mask: $t s"
t=$(seconds run "$fx" analyze "$sample" --csv faces.csv --gpu "$gpu" --quiet)
rows=$(awk -F, 'NR > 1 && $3 != ""' faces.csv | wc -l)
[ "$rows" -gt 0 ] || fail "analyze found no face in $sample"
echo "analyze: $t s, $rows face rows"
echo "dist-check: OK: ${tarball##*/}, $(du -b "$tarball" | cut -f1) bytes ($(du -sb "$root" | cut -f1) unpacked, $(ls "$root/lib" | wc -l) libraries)"
