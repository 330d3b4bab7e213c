#!/usr/bin/env python3
"""Plot expression columns of a `facefx analyze` CSV over time into a PNG.

    python3 plot_expressions.py faces.csv out.png [COLUMN ...] [--face ID]

COLUMNs are CSV column names (blendshapes such as mouthSmileLeft, emotion_happy, yaw, ...);
default: mouthSmileLeft mouthSmileRight eyeBlinkLeft eyeBlinkRight jawOpen emotion_happy.
One line per column and face id; x axis = time_s. Needs matplotlib (plot_expressions.sh makes a venv).
"""
import argparse
import csv
import sys

DEFAULT_COLUMNS = ["mouthSmileLeft", "mouthSmileRight", "eyeBlinkLeft", "eyeBlinkRight", "jawOpen", "emotion_happy"]


def read_series(path, columns, only_face):
    """{(face_id, column): ([t...], [v...])} from the CSV; rows without a face are skipped."""
    series = {}
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = [c for c in columns if c not in (reader.fieldnames or [])]
        if missing:
            sys.exit(f"plot_expressions: {path}: no column {', '.join(missing)}")
        for row in reader:
            face = row["face_id"]
            if face == "" or (only_face is not None and face != only_face):
                continue
            t = float(row["time_s"])
            for c in columns:
                if row[c] == "":
                    continue
                ts, vs = series.setdefault((face, c), ([], []))
                ts.append(t)
                vs.append(float(row[c]))
    return series


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("csv")
    ap.add_argument("png")
    ap.add_argument("columns", nargs="*", default=DEFAULT_COLUMNS)
    ap.add_argument("--face", help="only this face id")
    ap.add_argument("--title", default=None)
    args = ap.parse_args()

    import matplotlib
    matplotlib.use("Agg")  # no display
    import matplotlib.pyplot as plt

    series = read_series(args.csv, args.columns, args.face)
    if not series:
        sys.exit(f"plot_expressions: {args.csv}: no face rows to plot")
    fig, ax = plt.subplots(figsize=(10, 4.5), dpi=100)
    for (face, column), (ts, vs) in sorted(series.items()):
        ax.plot(ts, vs, label=f"{column} (face {face})", linewidth=1.4)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("value")
    ax.set_title(args.title or args.csv)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    fig.savefig(args.png)
    print(f"plot_expressions: wrote {args.png} ({len(series)} series)")


if __name__ == "__main__":
    main()
