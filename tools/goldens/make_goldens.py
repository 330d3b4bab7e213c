#!/usr/bin/env python3
"""Reference ("golden") outputs for facefx's Swift/GLES re-implementation of the networks.

WHAT
  For every case below this writes into Tests/Fixtures/goldens/:
    <case>.json        what was run: model file (+ member inside the .task), input tensor
                       name/shape/dtype, how the input was made and the exact uint8→float
                       mapping, output tensor names/shapes/dtypes in the model's output
                       order, the model's op list, and case-specific extras (decoded
                       detections, the landmark ROI, the blendshape subset, ...).
    <case>.in.u8       the network input as uint8 HWC pixels (little-endian raw), or
    <case>.in.f32      float32 raw where the input is not pixels (blendshapes),
    <case>.out<k>.f32  output k (model output order), float32 little-endian raw.
  Plus pipeline_<image>.json: MediaPipe FaceLandmarker (the whole original pipeline) on
  a real image, and Tests/Fixtures/noface.png (a crop of astronaut.png with no face).

WHY
  The Swift engine re-implements these TFLite graphs as OpenGL ES shader passes; the
  tests feed <case>.in.* through the Swift graph and compare with <case>.out*.f32 within
  the tolerances in tools/goldens/README.md.  The goldens come from the original runtime:
  the TFLite interpreter (ai-edge-litert, builtin CPU kernels, XNNPACK off) and
  MediaPipe 0.10.14 for the whole pipeline.

HOW TO RE-RUN
    tools/goldens/setup.sh                       # once: creates tools/.venv (pinned)
    tools/.venv/bin/python tools/goldens/make_goldens.py
        [--samples DIR]   where astronaut.png / camera.png are (default ../shared/samples
                          relative to the repository, i.e. /work/shared/samples)
    tools/.venv/bin/python tools/goldens/make_goldens.py --dump-intermediates DIR [--case C ...]
        runs the committed goldens' inputs again with experimental_preserve_all_tensors
        and writes every tensor (as float32 .npy) + DIR/<case>/index.json; nothing is
        written into the repository in that mode.
  The output is deterministic (fixed crops, single-threaded reference kernels); re-running
  must leave `git status` clean apart from float noise in the MediaPipe pipeline JSONs.
"""
import argparse
import hashlib
import io
import json
import math
import os
import sys
import zipfile

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from describe_models import describe, make_interpreter, model_bytes  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MODELS = os.path.join(ROOT, "Models")
FIXTURES = os.path.join(ROOT, "Tests", "Fixtures")
OUT = os.path.join(FIXTURES, "goldens")
DEFAULT_SAMPLES = os.path.abspath(os.path.join(ROOT, "..", "shared", "samples"))

TASK = "face_landmarker.task"

# --- facts taken from MediaPipe's sources (read, not copied) -------------------------
# mediapipe/tasks/cc/vision/face_landmarker/face_blendshapes_graph.cc, kLandmarksSubsetIdxs:
# the 146 of the 478 landmarks the blendshapes model reads, in this order.
BLENDSHAPE_SUBSET = [
    0, 1, 4, 5, 6, 7, 8, 10, 13, 14, 17, 21, 33, 37, 39,
    40, 46, 52, 53, 54, 55, 58, 61, 63, 65, 66, 67, 70, 78, 80,
    81, 82, 84, 87, 88, 91, 93, 95, 103, 105, 107, 109, 127, 132, 133,
    136, 144, 145, 146, 148, 149, 150, 152, 153, 154, 155, 157, 158, 159, 160,
    161, 162, 163, 168, 172, 173, 176, 178, 181, 185, 191, 195, 197, 234, 246,
    249, 251, 263, 267, 269, 270, 276, 282, 283, 284, 285, 288, 291, 293, 295,
    296, 297, 300, 308, 310, 311, 312, 314, 317, 318, 321, 323, 324, 332, 334,
    336, 338, 356, 361, 362, 365, 373, 374, 375, 377, 378, 379, 380, 381, 382,
    384, 385, 386, 387, 388, 389, 390, 397, 398, 400, 402, 405, 409, 415, 454,
    466, 468, 469, 470, 471, 472, 473, 474, 475, 476, 477]
# Same file, kBlendshapeNames: the 52 outputs in model order (ARKit names + "_neutral").
BLENDSHAPE_NAMES = [
    "_neutral", "browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft",
    "browOuterUpRight", "cheekPuff", "cheekSquintLeft", "cheekSquintRight", "eyeBlinkLeft",
    "eyeBlinkRight", "eyeLookDownLeft", "eyeLookDownRight", "eyeLookInLeft", "eyeLookInRight",
    "eyeLookOutLeft", "eyeLookOutRight", "eyeLookUpLeft", "eyeLookUpRight", "eyeSquintLeft",
    "eyeSquintRight", "eyeWideLeft", "eyeWideRight", "jawForward", "jawLeft", "jawOpen",
    "jawRight", "mouthClose", "mouthDimpleLeft", "mouthDimpleRight", "mouthFrownLeft",
    "mouthFrownRight", "mouthFunnel", "mouthLeft", "mouthLowerDownLeft", "mouthLowerDownRight",
    "mouthPressLeft", "mouthPressRight", "mouthPucker", "mouthRight", "mouthRollLower",
    "mouthRollUpper", "mouthShrugLower", "mouthShrugUpper", "mouthSmileLeft", "mouthSmileRight",
    "mouthStretchLeft", "mouthStretchRight", "mouthUpperUpLeft", "mouthUpperUpRight",
    "noseSneerLeft", "noseSneerRight"]
assert len(BLENDSHAPE_SUBSET) == 146 and len(BLENDSHAPE_NAMES) == 52

# fer 25.10.3, fer/fer.py: FER._get_labels() order of the 7 softmax outputs.
EMOTION_LABELS = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]

# Detector decoding parameters.  Short range: face_detector_graph.cc
# (ConfigureSsdAnchorsCalculator / ConfigureTensorsToDetectionsCalculator /
# ConfigureNonMaxSuppressionCalculator); full range: mediapipe/modules/face_detection/
# face_detection_full_range*.pbtxt (1 layer, stride 4, no interpolated anchor, score 0.6).
SHORT_RANGE = dict(size=128, strides=[8, 16, 16, 16], interpolated=True, score_thresh=0.5,
                   nms_iou=0.3)
FULL_RANGE = dict(size=192, strides=[4], interpolated=False, score_thresh=0.6, nms_iou=0.3)
# Landmark ROI from a detection: DetectionsToRects rotation from keypoint 0 → 1 (the two
# eyes), target angle 0, then RectTransformation scale 1.5 × 1.5 (face_detector_graph.cc:
# EXPANDED_FACE_RECTS, which FaceLandmarkerGraph uses in IMAGE mode; no square_long there).
ROI_SCALE = 1.5


# --- small helpers ---------------------------------------------------------------------
def sha256(data):
    return hashlib.sha256(data).hexdigest()


def load_rgb(path):
    """uint8 H×W×3; a grey image is replicated to 3 channels."""
    return np.asarray(Image.open(path).convert("RGB"), dtype=np.uint8)


def warp_bilinear(img, out_to_src, out_w, out_h, border):
    """Resample `img` (H×W×C uint8) into out_h×out_w float64 the way MediaPipe's CPU
    ImageToTensorCalculator does (OpenCV warpAffine/warpPerspective, INTER_LINEAR).

    out_to_src is a 2×3 affine matrix taking an output pixel *index* (i, j) to a source
    position in pixel-index coordinates (source pixel (x, y) sits at integer (x, y)); the
    value is the bilinear mix of the 4 surrounding source pixels.  MediaPipe builds the
    matrix by sending the ROI's corners (pixel-index space, centre = x_center·width) to the
    output corners (0, 0) … (out_w, out_h); e.g. a 512→128 resize samples source (4i, 4j)
    exactly (a decimation, no averaging).  This reproduces MediaPipe's detector scores to
    all printed digits.  In GL terms: texcoord = (M·(i, j) + 0.5) / texture_size.
    border: "zero" (0 outside) or "replicate".  No anti-aliasing.
    """
    H, W, C = img.shape
    jj, ii = np.meshgrid(np.arange(out_h, dtype=np.float64), np.arange(out_w, dtype=np.float64),
                         indexing="ij")
    sx = out_to_src[0, 0] * ii + out_to_src[0, 1] * jj + out_to_src[0, 2]
    sy = out_to_src[1, 0] * ii + out_to_src[1, 1] * jj + out_to_src[1, 2]
    x0 = np.floor(sx).astype(np.int64)
    y0 = np.floor(sy).astype(np.int64)
    fx = (sx - x0)[..., None]
    fy = (sy - y0)[..., None]
    src = img.astype(np.float64)

    def tap(y, x):
        if border == "replicate":
            return src[np.clip(y, 0, H - 1), np.clip(x, 0, W - 1)]
        inside = ((x >= 0) & (x < W) & (y >= 0) & (y < H))[..., None]
        return np.where(inside, src[np.clip(y, 0, H - 1), np.clip(x, 0, W - 1)], 0.0)

    out = (tap(y0, x0) * (1 - fx) * (1 - fy) + tap(y0, x0 + 1) * fx * (1 - fy)
           + tap(y0 + 1, x0) * (1 - fx) * fy + tap(y0 + 1, x0 + 1) * fx * fy)
    return out


def to_u8(x):
    return np.clip(np.floor(x + 0.5), 0, 255).astype(np.uint8)


def letterbox_matrix(w, h, size):
    """Output (size×size) → source, keeping aspect ratio, centred (MediaPipe FIT)."""
    s = max(w, h) / size
    ox = (size - w / s) / 2
    oy = (size - h / s) / 2
    return np.array([[s, 0, -ox * s], [0, s, -oy * s]]), (ox / size, oy / size)


def run_model(content, inputs):
    it = make_interpreter(content)
    for d, x in zip(it.get_input_details(), inputs):
        it.set_tensor(d["index"], x.reshape(d["shape"]).astype(np.float32))
    it.invoke()
    return [it.get_tensor(d["index"]).copy() for d in it.get_output_details()]


# --- detection decoding (own code, parameters from MediaPipe as cited above) -----------
def ssd_anchors(size, strides, interpolated):
    anchors = []
    i = 0
    while i < len(strides):
        j = i
        per_cell = 0
        while j < len(strides) and strides[j] == strides[i]:
            per_cell += 2 if interpolated else 1
            j += 1
        fm = int(math.ceil(size / strides[i]))
        for y in range(fm):
            for x in range(fm):
                for _ in range(per_cell):
                    anchors.append(((x + 0.5) / fm, (y + 0.5) / fm))
        i = j
    return np.array(anchors)


def decode_detections(regressors, scores, cfg):
    """Boxes + 6 keypoints, normalised to the detector input, after weighted NMS."""
    size = cfg["size"]
    anchors = ssd_anchors(size, cfg["strides"], cfg["interpolated"])
    raw = regressors.reshape(-1, 16).astype(np.float64)
    assert len(anchors) == len(raw)
    logit = np.clip(scores.reshape(-1).astype(np.float64), -100, 100)
    score = 1 / (1 + np.exp(-logit))
    xc = raw[:, 0] / size + anchors[:, 0]
    yc = raw[:, 1] / size + anchors[:, 1]
    w = raw[:, 2] / size
    h = raw[:, 3] / size
    kps = raw[:, 4:].reshape(-1, 6, 2) / size + anchors[:, None, :]
    boxes = np.stack([xc - w / 2, yc - h / 2, xc + w / 2, yc + h / 2], 1)
    keep = np.where(score >= cfg["score_thresh"])[0]
    order = keep[np.argsort(-score[keep], kind="stable")]
    dets = []
    remaining = list(order)
    while remaining:
        top = remaining[0]
        b = boxes[top]
        rest, group = [], []
        for k in remaining:
            o = boxes[k]
            iw = max(0.0, min(b[2], o[2]) - max(b[0], o[0]))
            ih = max(0.0, min(b[3], o[3]) - max(b[1], o[1]))
            inter = iw * ih
            union = (b[2] - b[0]) * (b[3] - b[1]) + (o[2] - o[0]) * (o[3] - o[1]) - inter
            iou = inter / union if union > 0 else 0.0
            (group if iou > cfg["nms_iou"] else rest).append(k)
        wts = score[group]
        box = (boxes[group] * wts[:, None]).sum(0) / wts.sum()
        kp = (kps[group] * wts[:, None, None]).sum(0) / wts.sum()
        dets.append({"score": float(score[top]), "anchor_index": int(top),
                     "merged_anchors": len(group),
                     "box_xyxy": box.tolist(), "keypoints": kp.tolist()})
        remaining = rest
    return dets


def unletterbox(dets, pad):
    """Detector-input-normalised → image-normalised (removes the FIT letterbox)."""
    px, py = pad
    sx, sy = 1 - 2 * px, 1 - 2 * py
    out = []
    for d in dets:
        b = d["box_xyxy"]
        e = dict(d)
        e["box_xyxy"] = [(b[0] - px) / sx, (b[1] - py) / sy, (b[2] - px) / sx, (b[3] - py) / sy]
        e["keypoints"] = [[(x - px) / sx, (y - py) / sy] for x, y in d["keypoints"]]
        out.append(e)
    return out


def roi_from_detection(det, img_w, img_h):
    """MediaPipe's EXPANDED_FACE_RECT for one detection, in image pixels."""
    x0, y0, x1, y1 = det["box_xyxy"]
    (ax, ay), (bx, by) = det["keypoints"][0], det["keypoints"][1]
    angle = 0.0 - math.atan2(-(by - ay) * img_h, (bx - ax) * img_w)
    angle = angle - 2 * math.pi * math.floor((angle + math.pi) / (2 * math.pi))
    return {"center_px": [(x0 + x1) / 2 * img_w, (y0 + y1) / 2 * img_h],
            "size_px": [(x1 - x0) * img_w * ROI_SCALE, (y1 - y0) * img_h * ROI_SCALE],
            "rotation_rad": angle}


def roi_matrix(roi, out_size):
    """2×3: crop pixel index (u, v) → image pixel-index coords (see warp_bilinear); the
    ROI corners go to the crop corners (0, 0) … (out_size, out_size).  The crop's x axis runs
    along the rotated ROI's x axis (image y grows downwards; positive rotation turns the
    crop's x axis towards +y)."""
    cx, cy = roi["center_px"]
    w, h = roi["size_px"]
    c, s = math.cos(roi["rotation_rad"]), math.sin(roi["rotation_rad"])
    a = w / out_size
    b = h / out_size
    # p_img = C + R · ((u - out/2)·a, (v - out/2)·b)
    m = np.array([[c * a, -s * b, 0.0], [s * a, c * b, 0.0]])
    m[:, 2] = np.array([cx, cy]) - m[:, :2] @ np.array([out_size / 2, out_size / 2])
    return m


# --- model helpers -------------------------------------------------------------------
def float_weight_model(content):
    """The same flatbuffer with every quantized constant (int8 weights) replaced by its
    float32 dequantisation.  TFLite runs int8-weight CONV/DEPTHWISE on float activations
    as *hybrid* kernels that also quantize the activations on the fly; an engine that
    dequantises weights at load time must be compared with this model's output."""
    import flatbuffers
    from ai_edge_litert import schema_py_generated as sch
    model = sch.ModelT.InitFromPackedBuf(bytearray(content), 0)
    changed = 0
    for sg in model.subgraphs:
        for t in sg.tensors:
            buf = model.buffers[t.buffer]
            if t.type != sch.TensorType.INT8 or buf.data is None or len(buf.data) == 0:
                continue
            q = t.quantization
            vals = np.frombuffer(bytes(bytearray(buf.data)), dtype=np.int8).astype(np.float64)
            vals = vals.reshape(t.shape)
            scale = np.asarray(q.scale, dtype=np.float64)
            zp = np.asarray(q.zeroPoint if q.zeroPoint is not None else [0] * len(scale),
                            dtype=np.float64)
            shp = [1] * vals.ndim
            if len(scale) > 1:
                shp[q.quantizedDimension] = len(scale)
            f = ((vals - zp.reshape(shp)) * scale.reshape(shp)).astype(np.float32)
            buf.data = np.frombuffer(f.tobytes(), dtype=np.uint8)
            t.type = sch.TensorType.FLOAT32
            t.quantization = None
            changed += 1
    b = flatbuffers.Builder(len(content) * 2)
    b.Finish(model.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output()), changed


def tensor_meta(d):
    return {"name": d["name"], "shape": [int(s) for s in d["shape"]],
            "dtype": np.dtype(d["dtype"]).name}


def stats(a):
    a = np.asarray(a, dtype=np.float64)
    return {"min": float(a.min()), "max": float(a.max()), "range": float(a.max() - a.min()),
            "mean": float(a.mean())}


def write_raw(name, arr, dtype):
    path = os.path.join(OUT, name)
    np.ascontiguousarray(arr, dtype=np.dtype(dtype).newbyteorder("<")).tofile(path)
    return name


def write_json(name, obj):
    with open(os.path.join(OUT, name), "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=1, ensure_ascii=False)
        f.write("\n")


_DESCRIBE_CACHE = {}


def model_info(file_name, member):
    key = (file_name, member)
    if key not in _DESCRIBE_CACHE:
        _DESCRIBE_CACHE[key] = describe(file_name, member)
    d = _DESCRIBE_CACHE[key]
    return {"file": "Models/" + file_name, "member": member,
            "sha256": sha256(model_bytes(file_name, member)),
            "ops": {"counts": d["op_counts"], "sequence": d["op_sequence"]}}


def golden_case(case, file_name, member, in_u8=None, in_f32=None, mapping=None, made_by=None,
                extra=None, content=None):
    """Run one network on one input and write <case>.json + raw files.  Returns outputs."""
    content = content or model_bytes(file_name, member)
    it = make_interpreter(content)
    ind = it.get_input_details()[0]
    if in_u8 is not None:
        x = mapping["fn"](in_u8)
        in_file = write_raw(case + ".in.u8", in_u8, np.uint8)
        input_desc = {"file": in_file, "file_dtype": "uint8", "file_layout": "HWC",
                      "file_shape": list(in_u8.shape), "mapping": mapping["text"],
                      "mapping_scale": mapping["scale"], "mapping_offset": mapping["offset"]}
    else:
        x = in_f32.astype(np.float32)
        in_file = write_raw(case + ".in.f32", in_f32, np.float32)
        input_desc = {"file": in_file, "file_dtype": "float32", "file_shape": list(in_f32.shape),
                      "mapping": "none: the file holds the float32 tensor itself"}
    input_desc.update(tensor_meta(ind))
    input_desc["made_by"] = made_by
    it.set_tensor(ind["index"], x.reshape(ind["shape"]).astype(np.float32))
    it.invoke()
    outs, out_desc = [], []
    for k, d in enumerate(it.get_output_details()):
        y = it.get_tensor(d["index"]).copy()
        outs.append(y)
        e = tensor_meta(d)
        e["file"] = write_raw(f"{case}.out{k}.f32", y, np.float32)
        e.update(stats(y))
        out_desc.append(e)
    meta = {"case": case, "model": model_info(file_name, member), "input": input_desc,
            "outputs": out_desc,
            "runtime": "ai-edge-litert Interpreter, builtin kernels "
                       "(BUILTIN_WITHOUT_DEFAULT_DELEGATES: XNNPACK off), 1 thread"}
    if extra:
        meta.update(extra)
    write_json(case + ".json", meta)
    return outs


MAP_DETECTOR = {"text": "x/127.5 - 1 (float32), i.e. [0,255] → [-1,1] "
                        "(model metadata NormalizationOptions mean 127.5 std 127.5)",
                "scale": 1 / 127.5, "offset": -1.0,
                "fn": lambda u: u.astype(np.float32) / np.float32(127.5) - np.float32(1.0)}
MAP_LANDMARKS = {"text": "x/255 (float32), i.e. [0,255] → [0,1] "
                         "(model metadata NormalizationOptions mean 0 std 255)",
                 "scale": 1 / 255.0, "offset": 0.0,
                 "fn": lambda u: u.astype(np.float32) / np.float32(255.0)}
# fer/fer.py FER.detect_emotions: gray_faces/255.0 then (x - 0.5) * 2.0, in float32.
MAP_EMOTION = {"text": "(x/255 - 0.5) * 2 in float32, as fer 25.10.3 FER.detect_emotions does; "
                       "bit-identical in float32 to x/127.5 - 1 for all 256 uint8 values",
               "scale": 1 / 127.5, "offset": -1.0,
               "fn": lambda u: (u.astype(np.float32) / np.float32(255.0) - np.float32(0.5))
               * np.float32(2.0)}


# --- cases ---------------------------------------------------------------------------
def detector_case(case, img, img_name, file_name, member, cfg):
    h, w, _ = img.shape
    size = cfg["size"]
    m, pad = letterbox_matrix(w, h, size)
    crop = to_u8(warp_bilinear(img, m, size, size, "zero"))
    made = (f"{img_name} ({w}×{h}) letterboxed to {size}×{size} (aspect kept, centred, zero "
            "border; the image is square so no border here) as MediaPipe's CPU "
            "ImageToTensorCalculator does: output pixel (i, j) samples the source at "
            f"pixel-index position ({w / size:g}·i, {h / size:g}·j), bilinear (here: exact source "
            "pixels, a decimation), no anti-aliasing; uint8"
            + ("; grey replicated to RGB" if img_name == "camera.png" else ""))
    outs = golden_case(case, file_name, member, in_u8=crop, mapping=MAP_DETECTOR, made_by=made)
    dets = unletterbox(decode_detections(outs[0], outs[1], cfg), pad)
    meta = json.load(open(os.path.join(OUT, case + ".json")))
    meta["decoded_detections"] = {
        "note": "own decoding of the raw outputs with MediaPipe's parameters; boxes "
                "[xmin,ymin,xmax,ymax] and 6 keypoints (0 = one eye, 1 = the other eye, "
                "2 nose tip, 3 mouth, 4/5 ear tragions) normalised to the image",
        "params": {"anchors": f"SSD, input {size}, strides {cfg['strides']}, "
                              f"{'2' if cfg['interpolated'] else '1'} anchors per layer per cell, "
                              "fixed size 1, centres ((x+0.5)/fm, (y+0.5)/fm)",
                   "box": f"reg[0..3] = dx, dy, w, h in input pixels (÷{size}) around the anchor",
                   "score": "sigmoid(clip(logit, -100, 100))",
                   "min_score": cfg["score_thresh"], "nms": f"weighted, IoU > {cfg['nms_iou']}"},
        "detections": dets}
    write_json(case + ".json", meta)
    return dets


def landmarks_case(case, img, img_name, det, det_source):
    h, w, _ = img.shape
    roi = roi_from_detection(det, w, h)
    m = roi_matrix(roi, 256)
    crop = to_u8(warp_bilinear(img, m, 256, 256, "replicate"))
    made = (f"{img_name}: rotated ROI from the face detection ({det_source}) as MediaPipe "
            "builds it (centre = box centre, size = box size × 1.5 in x and y, rotation "
            "so the eye keypoints 0→1 are horizontal), resampled to 256×256 (stretch, no "
            "letterbox) as MediaPipe's CPU ImageToTensorCalculator does: ROI corners → crop "
            "corners, crop pixel (u, v) samples the image at pixel-index position "
            "roi.crop_to_image · (u, v, 1), bilinear, replicate border; rounded to uint8")
    outs = golden_case(case, TASK, "face_landmarks_detector.tflite", in_u8=crop,
                       mapping=MAP_LANDMARKS, made_by=made)
    lm = outs[0].reshape(478, 3).astype(np.float64)
    # back to the image: crop pixels → image pixels; z scaled like x (MediaPipe: z/256 *
    # roi width normalised by the image width)
    p = np.c_[lm[:, :2], np.ones(478)] @ m.T
    norm = np.c_[p[:, 0] / w, p[:, 1] / h, lm[:, 2] / 256 * roi["size_px"][0] / w]
    presence = float(1 / (1 + math.exp(-float(outs[1].reshape(-1)[0]))))
    meta = json.load(open(os.path.join(OUT, case + ".json")))
    meta["outputs"][0]["meaning"] = ("478 landmarks × (x, y, z); x, y in pixels of the 256×256 "
                                     "crop, z in the same scale (relative depth)")
    meta["outputs"][1]["meaning"] = "face presence logit (MediaPipe applies sigmoid, threshold 0.5)"
    meta["outputs"][2]["meaning"] = ("'tongue_out' score (model metadata); MediaPipe's graph "
                                     "ignores this third output")
    meta["roi"] = dict(roi, image_size=[w, h],
                       crop_to_image=m.tolist(),
                       crop_to_image_note="2×3 affine: crop pixel index (u, v) → image "
                                          "pixel-index position (pixel (x, y) at integer "
                                          "(x, y)); landmark out0 x, y go through the same "
                                          "matrix back to the image")
    meta["presence_sigmoid"] = presence
    meta["projection_to_image"] = ("as MediaPipe's LandmarkProjectionCalculator: (x, y) image "
                                   "pixels = crop_to_image · (x, y, 1); normalised = that / "
                                   "image_size; z normalised = z / 256 · size_px[0] / image width. "
                                   "blendshapes_* and pipeline_*.json use these")
    write_json(case + ".json", meta)
    return norm, roi, presence


def blendshapes_case(case, norm_landmarks, img_w, img_h, src_case):
    pts = np.c_[norm_landmarks[BLENDSHAPE_SUBSET, 0] * img_w,
                norm_landmarks[BLENDSHAPE_SUBSET, 1] * img_h].astype(np.float32)
    made = (f"landmarks of {src_case} (out0), projected back to the {img_w}×{img_h} image "
            "(its roi.crop_to_image), subset `landmark_subset` (kLandmarksSubsetIdxs, "
            "mediapipe/tasks/cc/vision/face_landmarker/face_blendshapes_graph.cc), then x·width, "
            "y·height of the image as LandmarksToTensorCalculator does with IMAGE_SIZE: "
            "146×2 float32 image pixels")
    outs = golden_case(case, TASK, "face_blendshapes.tflite", in_f32=pts[None], made_by=made)
    meta = json.load(open(os.path.join(OUT, case + ".json")))
    meta["landmark_subset"] = BLENDSHAPE_SUBSET
    meta["output_names"] = BLENDSHAPE_NAMES
    meta["outputs"][0]["meaning"] = "52 blendshape coefficients in [0,1], order output_names"
    write_json(case + ".json", meta)
    return outs[0].reshape(-1)


def emotion_case(case, img, img_name):
    """fer 25.10.3's own crop (fer/fer.py FER.detect_emotions), reproduced step by step."""
    import cv2
    bgr = cv2.cvtColor(img, cv2.COLOR_RGB2BGR)
    grey = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
    faces = cascade.detectMultiScale(grey, scaleFactor=1.1, minNeighbors=5,
                                     flags=cv2.CASCADE_SCALE_IMAGE, minSize=(50, 50))
    if len(faces) == 0:
        return None
    faces = sorted([tuple(int(v) for v in f) for f in faces], key=lambda f: -f[2] * f[3])
    x, y, bw, bh = faces[0]
    # tosquare: elongate the shorter side
    if bh > bw:
        x -= (bh - bw) // 2
        bw = bh
    elif bw > bh:
        y -= (bw - bh) // 2
        bh = bw
    PAD, OFF = 40, 10  # fer.py: PADDING = 40, offsets=(10, 10)
    mean = cv2.mean(grey[-2:, :])[0]
    padded = cv2.copyMakeBorder(grey, PAD, PAD, PAD, PAD, cv2.BORDER_CONSTANT,
                                value=[mean, mean, mean])
    x1, x2, y1, y2 = x - OFF + PAD, x + bw + OFF + PAD, y - OFF + PAD, y + bh + OFF + PAD
    x1, y1 = max(0, x1), max(0, y1)
    face = cv2.resize(padded[y1:y2, x1:x2], (64, 64))  # INTER_LINEAR, as fer
    crop = face[..., None].astype(np.uint8)
    made = (f"fer 25.10.3 preprocessing on {img_name}: OpenCV BGR→GRAY, Haar cascade "
            "haarcascade_frontalface_default (scaleFactor 1.1, minNeighbors 5, minSize 50) → "
            f"largest box x,y,w,h = {list(faces[0])}; made square; padded image by 40 px of "
            "the mean of the last 2 rows; box grown by 10 px each side; cv2.resize to 64×64 "
            "(INTER_LINEAR); uint8")
    outs = golden_case(case, "emotion_fer_quantized.tflite", None, in_u8=crop, mapping=MAP_EMOTION,
                       made_by=made)
    probs = outs[0].reshape(-1)
    # the same network with int8 weights dequantised to float32 (what a dequantise-at-load
    # engine computes); TFLite's hybrid kernels also quantise activations → small differences
    fw_content, n_changed = float_weight_model(model_bytes("emotion_fer_quantized.tflite"))
    fw = run_model(fw_content, [MAP_EMOTION["fn"](crop)])[0].reshape(-1)
    write_raw(case + ".fw.out0.f32", fw, np.float32)
    x_fer = MAP_EMOTION["fn"](crop)
    x_alt = crop.astype(np.float32) / np.float32(127.5) - np.float32(1.0)
    meta = json.load(open(os.path.join(OUT, case + ".json")))
    meta["output_labels"] = EMOTION_LABELS
    meta["top_emotion"] = EMOTION_LABELS[int(np.argmax(probs))]
    meta["face_box_xywh"] = list(faces[0])
    meta["crop_box_in_padded_image_x1x2y1y2"] = [x1, x2, y1, y2]
    meta["float_weights_reference"] = {
        "file": case + ".fw.out0.f32",
        "what": f"same input, model with its {n_changed} int8 weight tensors dequantised to "
                "float32 (w = scale_c · q, per output channel) and run with float kernels",
        "probabilities": fw.tolist(),
        "max_abs_diff_to_hybrid": float(np.abs(fw - probs).max()),
        "why": "TFLite executes int8-weight CONV_2D / DEPTHWISE_CONV_2D with float inputs as "
               "hybrid kernels that quantise the activations to int8 per batch on the fly; "
               "an engine that dequantises weights at load time should match this file "
               "tightly and out0 only loosely"}
    meta["mapping_check"] = {"max_abs_diff_fer_formula_vs_x_over_127.5_minus_1":
                             float(np.abs(x_fer - x_alt).max())}
    write_json(case + ".json", meta)
    return probs, fw, faces[0]


# --- MediaPipe whole pipeline -----------------------------------------------------------
def mediapipe_pipeline(name, path):
    import mediapipe as mp
    from mediapipe.tasks import python as mpt
    from mediapipe.tasks.python import vision
    opts = vision.FaceLandmarkerOptions(
        base_options=mpt.BaseOptions(model_asset_path=os.path.join(MODELS, TASK)),
        running_mode=vision.RunningMode.IMAGE, num_faces=2,
        output_face_blendshapes=True, output_facial_transformation_matrixes=True)
    rgb = load_rgb(path)
    with vision.FaceLandmarker.create_from_options(opts) as lmk:
        res = lmk.detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb)))
    faces = []
    for i, lms in enumerate(res.face_landmarks):
        f = {"landmarks_xyz": [[round(l.x, 6), round(l.y, 6), round(l.z, 6)] for l in lms]}
        if res.face_blendshapes:
            f["blendshapes"] = [round(c.score, 6) for c in res.face_blendshapes[i]]
            assert [c.category_name for c in res.face_blendshapes[i]] == BLENDSHAPE_NAMES
        if res.facial_transformation_matrixes:
            f["transformation_matrix_row_major"] = np.round(
                np.asarray(res.facial_transformation_matrixes[i], dtype=np.float64), 6).tolist()
        faces.append(f)
    with open(path, "rb") as fh:
        img_sha = sha256(fh.read())
    out = {"case": "pipeline_" + name,
           "what": "MediaPipe FaceLandmarker (the original whole pipeline) on a still image",
           "image": {"file": os.path.basename(path), "sha256": img_sha,
                     "size": [int(rgb.shape[1]), int(rgb.shape[0])],
                     "note": "loaded as 8-bit RGB (grey replicated)"},
           "mediapipe_version": mp.__version__,
           "options": {"model": "Models/" + TASK, "running_mode": "IMAGE", "num_faces": 2,
                       "min_face_detection_confidence": 0.5, "min_face_presence_confidence": 0.5,
                       "output_face_blendshapes": True,
                       "output_facial_transformation_matrixes": True},
           "face_count": len(faces),
           "landmarks_note": "x, y normalised by image width/height; z relative depth in "
                             "roughly x's scale (MediaPipe NormalizedLandmark)",
           "blendshape_names": BLENDSHAPE_NAMES,
           "matrix_note": "4×4 facial transformation matrix (canonical face model → camera "
                          "space, cm), row-major as MediaPipe returns it",
           "faces": faces}
    write_json("pipeline_" + name + ".json", out)
    return out


def mediapipe_face_detector(path):
    """MediaPipe's own FaceDetector task with the bundle's face_detector.tflite: a check
    on our decoding (it returns integer pixel boxes and normalised keypoints)."""
    import mediapipe as mp
    from mediapipe.tasks import python as mpt
    from mediapipe.tasks.python import vision
    opts = vision.FaceDetectorOptions(
        base_options=mpt.BaseOptions(model_asset_buffer=model_bytes(TASK, "face_detector.tflite")),
        running_mode=vision.RunningMode.IMAGE)
    rgb = load_rgb(path)
    with vision.FaceDetector.create_from_options(opts) as det:
        res = det.detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb)))
    return [{"score": d.categories[0].score,
             "box_px_xywh": [d.bounding_box.origin_x, d.bounding_box.origin_y,
                             d.bounding_box.width, d.bounding_box.height],
             "keypoints": [[k.x, k.y] for k in d.keypoints]} for d in res.detections]


# --- intermediate dumps ------------------------------------------------------------------
def dump_intermediates(out_dir, cases, float_weights=False):
    os.makedirs(out_dir, exist_ok=True)
    if not cases:
        cases = sorted(f[:-5] for f in os.listdir(OUT)
                       if f.endswith(".json") and not f.startswith("pipeline_"))
    for case in cases:
        meta = json.load(open(os.path.join(OUT, case + ".json")))
        mf, member = meta["model"]["file"], meta["model"]["member"]
        content = model_bytes(os.path.basename(mf), member)
        if float_weights:
            content, n = float_weight_model(content)
        inp = meta["input"]
        if inp["file_dtype"] == "uint8":
            u = np.fromfile(os.path.join(OUT, inp["file"]), dtype=np.uint8).reshape(inp["file_shape"])
            fn = {"detector": MAP_DETECTOR, "landmarks": MAP_LANDMARKS, "emotion": MAP_EMOTION}
            mapping = next(v for k, v in fn.items() if case.startswith(k))
            x = mapping["fn"](u)
        else:
            x = np.fromfile(os.path.join(OUT, inp["file"]), dtype="<f4")
        it = make_interpreter(content, preserve_all=True)
        d = it.get_input_details()[0]
        it.set_tensor(d["index"], x.reshape(d["shape"]).astype(np.float32))
        it.invoke()
        producer = {}
        for o in it._get_ops_details():
            for t in o["outputs"]:
                producer[int(t)] = {"op_index": int(o["index"]), "op": o["op_name"]}
        cdir = os.path.join(out_dir, case)
        os.makedirs(cdir, exist_ok=True)
        index = []
        for t in it.get_tensor_details():
            e = {"index": int(t["index"]), "name": t["name"],
                 "shape": [int(s) for s in t["shape"]], "dtype": np.dtype(t["dtype"]).name}
            e.update(producer.get(int(t["index"]), {"op": None}))
            try:
                v = it.get_tensor(t["index"])
            except ValueError as err:
                e["error"] = str(err)
                index.append(e)
                continue
            fname = f"t{int(t['index']):04d}.npy"
            np.save(os.path.join(cdir, fname), np.asarray(v, dtype=np.float32))
            e["file"] = fname
            index.append(e)
        with open(os.path.join(cdir, "index.json"), "w") as f:
            json.dump({"case": case, "model": meta["model"]["file"], "member": member,
                       "tensors": index}, f, indent=1)
        # sanity: the run reproduces the committed outputs
        diffs = []
        for k, od in enumerate(it.get_output_details()):
            gfile = meta["outputs"][k]["file"]
            if float_weights and "float_weights_reference" in meta:
                gfile = meta["float_weights_reference"]["file"]
            gold = np.fromfile(os.path.join(OUT, gfile), dtype="<f4")
            diffs.append(float(np.abs(it.get_tensor(od["index"]).ravel() - gold).max()))
        print(f"{case}: {len(index)} tensors → {cdir}; max |out - golden| per output: {diffs}")


# --- main --------------------------------------------------------------------------------
def main():
    ap = argparse.ArgumentParser(description="Write facefx's golden network outputs.")
    ap.add_argument("--samples", default=DEFAULT_SAMPLES)
    ap.add_argument("--dump-intermediates", metavar="DIR")
    ap.add_argument("--case", action="append", default=[],
                    help="with --dump-intermediates: only these cases (repeatable)")
    ap.add_argument("--float-weights", action="store_true",
                    help="with --dump-intermediates: run models with int8 weights dequantised "
                         "to float32 (emotion), compare with <case>.fw.out0.f32 instead")
    ap.add_argument("--no-mediapipe", action="store_true", help="skip the pipeline_*.json")
    args = ap.parse_args()
    if args.dump_intermediates:
        dump_intermediates(args.dump_intermediates, args.case, args.float_weights)
        return 0

    os.makedirs(OUT, exist_ok=True)
    astro_path = os.path.join(args.samples, "astronaut.png")
    camera_path = os.path.join(args.samples, "camera.png")
    astro, camera = load_rgb(astro_path), load_rgb(camera_path)
    summary = {}

    # face-free image: lower-right 200×200 of astronaut.png (helmet / suit), upscaled ×2
    noface = Image.fromarray(astro[312:512, 312:512]).resize((400, 400), Image.BILINEAR)
    noface_path = os.path.join(FIXTURES, "noface.png")
    noface.save(noface_path, optimize=True)

    det_a = detector_case("detector_astronaut", astro, "astronaut.png", TASK,
                          "face_detector.tflite", SHORT_RANGE)
    det_c = detector_case("detector_camera", camera, "camera.png", TASK,
                          "face_detector.tflite", SHORT_RANGE)
    det_f = detector_case("detector_fullrange_astronaut", astro, "astronaut.png",
                          "face_detection_full_range_sparse.tflite", None, FULL_RANGE)
    summary["detections"] = {"astronaut_short": det_a, "camera_short": det_c,
                             "astronaut_full": det_f}
    det_cf = None
    if not det_c:
        det_cf = decode_detections(*run_model(
            model_bytes("face_detection_full_range_sparse.tflite"),
            [MAP_DETECTOR["fn"](to_u8(warp_bilinear(camera, letterbox_matrix(512, 512, 192)[0],
                                                    192, 192, "zero")))]), FULL_RANGE)
        summary["detections"]["camera_full"] = det_cf

    # landmarks from the detections
    norm_a, roi_a, pres_a = landmarks_case("landmarks_astronaut", astro, "astronaut.png", det_a[0],
                                           "detector_astronaut, short range, best detection")
    if det_c:
        cam_det, src = det_c[0], "detector_camera, short range, best detection"
    elif det_cf:
        cam_det, src = det_cf[0], "full range model on camera.png (short range found none)"
    else:
        cam_det = None
    if cam_det is not None:
        norm_c, roi_c, pres_c = landmarks_case("landmarks_camera", camera, "camera.png", cam_det, src)
        summary["landmarks_camera"] = {"roi": roi_c, "presence": pres_c}
    summary["landmarks_astronaut"] = {"roi": roi_a, "presence": pres_a}

    bs_a = blendshapes_case("blendshapes_astronaut", norm_a, 512, 512, "landmarks_astronaut")
    summary["blendshapes_astronaut_top"] = sorted(
        zip(BLENDSHAPE_NAMES, bs_a.tolist()), key=lambda t: -t[1])[:6]

    emo = emotion_case("emotion_astronaut", astro, "astronaut.png")
    if emo:
        summary["emotion_astronaut"] = {"probs": dict(zip(EMOTION_LABELS, emo[0].tolist())),
                                        "float_weights": dict(zip(EMOTION_LABELS, emo[1].tolist())),
                                        "box": emo[2]}
    emo_c = emotion_case("emotion_camera", camera, "camera.png")
    summary["emotion_camera"] = ({"probs": dict(zip(EMOTION_LABELS, emo_c[0].tolist())),
                                  "box": emo_c[2]} if emo_c else "no Haar face found; no case")

    if not args.no_mediapipe:
        try:
            pa = mediapipe_pipeline("astronaut", astro_path)
            pc = mediapipe_pipeline("camera", camera_path)
            pn = mediapipe_pipeline("noface", noface_path)
            summary["pipeline_face_counts"] = {"astronaut": pa["face_count"],
                                               "camera": pc["face_count"],
                                               "noface": pn["face_count"]}
            summary["mp_face_detector"] = {"astronaut": mediapipe_face_detector(astro_path),
                                           "camera": mediapipe_face_detector(camera_path)}
            # how close our own reconstruction is to MediaPipe's pipeline
            if pa["faces"]:
                mp_lm = np.asarray(pa["faces"][0]["landmarks_xyz"])
                d = np.linalg.norm((mp_lm[:, :2] - norm_a[:, :2]) * 512, axis=1)
                summary["astronaut_landmarks_vs_mediapipe_px"] = {
                    "mean": float(d.mean()), "max": float(d.max())}
                mp_bs = np.asarray(pa["faces"][0]["blendshapes"])
                summary["astronaut_blendshapes_vs_mediapipe"] = {
                    "mean_abs": float(np.abs(mp_bs - bs_a).mean()),
                    "max_abs": float(np.abs(mp_bs - bs_a).max())}
            if pc["faces"] and cam_det is not None:
                mp_lm = np.asarray(pc["faces"][0]["landmarks_xyz"])
                d = np.linalg.norm((mp_lm[:, :2] - norm_c[:, :2]) * 512, axis=1)
                summary["camera_landmarks_vs_mediapipe_px"] = {
                    "mean": float(d.mean()), "max": float(d.max())}
        except ImportError as e:
            summary["mediapipe"] = f"not available: {e}"
    print(json.dumps(summary, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
