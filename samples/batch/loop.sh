#!/usr/bin/env bash
# The simplest batch: a shell loop calling `facefx IN OUT` once per file (no folders, no shards, no summary).
# Outputs appear only when complete, so an existing output means done: re-running after a crash redoes only
# the missing files. Keeps going after a failure; exits 1 if any file failed.
#
#   samples/batch/loop.sh clips out          # clips/*.mp4|mov|mkv|webm|avi|m4v → out/<name>.mp4
#   FACEFX=.build/release/facefx samples/batch/loop.sh clips out
#
# `facefx batch clips --out-dir out --skip-existing` does the same with recursion, a summary and shards.
set -uo pipefail
in=${1:?usage: loop.sh IN_DIR OUT_DIR}
out=${2:?usage: loop.sh IN_DIR OUT_DIR}
facefx=${FACEFX:-facefx}
mkdir -p "$out"
shopt -s nullglob
status=0
for f in "$in"/*.{mp4,mov,mkv,webm,avi,m4v}; do
  target="$out/$(basename "${f%.*}").mp4"
  if [ -e "$target" ]; then
    echo "skip $f (done)" >&2
    continue
  fi
  echo "$f → $target" >&2
  "$facefx" "$f" "$target" --quiet || status=1
done
exit $status
