#!/usr/bin/env bash
# Creates tools/.venv (gitignored) with the pinned reference runtimes for the golden files.
# Usage: tools/goldens/setup.sh        (PYTHON=/path/to/python3.11 to pick the interpreter)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/../.venv"
py="${PYTHON:-}"
if [[ -z "$py" ]]; then
  for c in python3.11 python3.12 python3.10 python3; do
    if command -v "$c" >/dev/null 2>&1; then py="$c"; break; fi
  done
fi
ver="$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
case "$ver" in
  3.9|3.10|3.11|3.12) ;;
  *) echo "setup.sh: $py is Python $ver; mediapipe 0.10.14 needs 3.9–3.12 (set PYTHON=...)" >&2; exit 1;;
esac
if [[ ! -x "$venv/bin/python" ]]; then
  "$py" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --upgrade pip
if ! "$venv/bin/python" -m pip install --quiet -r "$here/requirements.txt"; then
  echo "setup.sh: full install failed; installing without mediapipe (no pipeline_*.json," \
       "run make_goldens.py --no-mediapipe)" >&2
  grep -v '^mediapipe==' "$here/requirements.txt" > "$venv/requirements-nomp.txt"
  "$venv/bin/python" -m pip install --quiet -r "$venv/requirements-nomp.txt"
fi
"$venv/bin/python" - <<'PY'
from ai_edge_litert.interpreter import Interpreter  # noqa: F401
try:
    import mediapipe
    print("ok: ai-edge-litert + mediapipe", mediapipe.__version__)
except ImportError:
    print("ok: ai-edge-litert (mediapipe missing)")
PY
echo "venv: $venv"
