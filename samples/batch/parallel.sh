#!/usr/bin/env bash
# GNU parallel (apt install parallel), two ways to use the cores or GPUs of one machine:
#
#   files   one `facefx IN OUT` per file, JOBS at a time — the classic one-liner:
#             parallel -j2 facefx {} out/{/.}.mp4 ::: clips/*.mp4
#   shards  N `facefx batch` processes, each owning every N-th file of the sorted list (--shard K/N),
#           each with its own summary; folders are searched recursively and the tree is mirrored:
#             parallel -j2 facefx batch clips --out-dir out --shard {}/2 --skip-existing \
#                 --summary out/summary-{}.json ::: 1 2
#
#   samples/batch/parallel.sh files  clips out [JOBS]
#   samples/batch/parallel.sh shards clips out [JOBS]      (FACEFX=path/to/facefx to pick a build)
#
# On a 2-core machine JOBS=2 mostly overlaps one file's decode/encode with another's GPU work; llvmpipe and
# x264 already use every core, so more jobs than cores rarely helps. Exit status: 0 when every job succeeded.
set -euo pipefail
mode=${1:?usage: parallel.sh files|shards IN_DIR OUT_DIR [JOBS]}
in=${2:?usage: parallel.sh files|shards IN_DIR OUT_DIR [JOBS]}
out=${3:?usage: parallel.sh files|shards IN_DIR OUT_DIR [JOBS]}
jobs=${4:-2}
facefx=${FACEFX:-facefx}
mkdir -p "$out"
case "$mode" in
  files)
    shopt -s nullglob
    clips=("$in"/*.mp4)
    [ ${#clips[@]} -gt 0 ] || { echo "parallel.sh: no .mp4 files in $in" >&2; exit 2; }
    parallel -j"$jobs" "$facefx" {} "$out"/{/.}.mp4 --quiet ::: "${clips[@]}"
    ;;
  shards)
    parallel -j"$jobs" "$facefx" batch "$in" --out-dir "$out" --shard {}/"$jobs" --skip-existing --quiet \
      --summary "$out"/summary-{}.json ::: $(seq 1 "$jobs")
    ;;
  *)
    echo "parallel.sh: mode must be files or shards, got '$mode'" >&2
    exit 2
    ;;
esac
