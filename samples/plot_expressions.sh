#!/usr/bin/env bash
# Plots expression columns of a `facefx analyze` CSV over time into a PNG.
#   samples/plot_expressions.sh faces.csv out.png [COLUMN ...] [--face ID]
# Creates samples/.venv-plot (python3 + matplotlib from PyPI) on first use; gnuplot is not needed.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$here/.venv-plot"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import matplotlib" 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet matplotlib
fi
exec "$venv/bin/python" "$here/plot_expressions.py" "$@"
