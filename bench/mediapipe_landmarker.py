#!/usr/bin/env python3
"""MediaPipe Face Landmarker (Python, CPU) over a video, decode included, for
bench/analyze_vs_mediapipe.sh. Prints one line: frames, face-frames, seconds.

    mediapipe_landmarker.py CLIP MODEL.task [--max-faces N]

VIDEO running mode (the detector runs only while fewer than N faces are tracked), blendshapes and
facial transformation matrices on, like `facefx analyze` (which adds the emotion network).
"""
import argparse
import time

import cv2
import mediapipe as mp
from mediapipe.tasks import python as mp_python
from mediapipe.tasks.python import vision


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("clip")
    ap.add_argument("model")
    ap.add_argument("--max-faces", type=int, default=8)
    args = ap.parse_args()

    options = vision.FaceLandmarkerOptions(
        base_options=mp_python.BaseOptions(model_asset_path=args.model),
        running_mode=vision.RunningMode.VIDEO,
        num_faces=args.max_faces,
        output_face_blendshapes=True,
        output_facial_transformation_matrixes=True,
    )
    start = time.monotonic()
    frames = face_frames = 0
    with vision.FaceLandmarker.create_from_options(options) as landmarker:
        cap = cv2.VideoCapture(args.clip)
        while True:
            ok, bgr = cap.read()
            if not ok:
                break
            ms = int(round(cap.get(cv2.CAP_PROP_POS_MSEC)))
            rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            result = landmarker.detect_for_video(mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb), max(ms, frames))
            face_frames += len(result.face_landmarks)
            frames += 1
        cap.release()
    print(f"{frames} {face_frames} {time.monotonic() - start:.3f}")


if __name__ == "__main__":
    main()
