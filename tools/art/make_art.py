#!/usr/bin/env python3
"""Generates every PNG of the built-in filters (Filters/*/): the project's own art, no inputs but
the canonical face mesh (Models/facemesh/canonical_face_model.obj) for the UV layout.

Run:  python3 -m venv tools/.venv-art && tools/.venv-art/bin/pip install pillow numpy
      tools/.venv-art/bin/python tools/art/make_art.py
Deterministic: the same script gives the same PNGs. Sizes suit 1080p (faces 300-700 px wide).

Sprites are drawn 4x supersampled and reduced (antialiased edges, transparent borders so quads
never show a hard edge). The mesh texture is painted in canonical-model space: every texel of
the 1024^2 UV image gets the 3-D canonical position (cm) of the mesh point mapped there, by
rasterising the mesh's triangles in UV space, and the design is a function of that position.
"""
import math
import os
import numpy as np
from PIL import Image, ImageDraw, ImageFilter

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FILTERS = os.path.join(ROOT, "Filters")
SS = 4  # supersampling factor for sprites


def save(img, *parts):
    path = os.path.join(FILTERS, *parts)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    img.save(path, optimize=True)
    print("wrote", os.path.relpath(path, ROOT), img.size)


def canvas(w, h):
    return Image.new("RGBA", (w * SS, h * SS), (0, 0, 0, 0))


def reduce(img):
    return img.resize((img.width // SS, img.height // SS), Image.LANCZOS)


def s(v):
    """Sprite units (final pixels) to supersampled pixels."""
    if isinstance(v, (tuple, list)):
        return [x * SS for x in v]
    return v * SS


# ---------------------------------------------------------------- canonical mesh in UV space

def load_obj():
    v, vt, faces = [], [], []
    with open(os.path.join(ROOT, "Models", "facemesh", "canonical_face_model.obj")) as f:
        for line in f:
            p = line.split()
            if not p:
                continue
            if p[0] == "v":
                v.append([float(x) for x in p[1:4]])
            elif p[0] == "vt":
                vt.append([float(x) for x in p[1:3]])
            elif p[0] == "f":
                faces.append([tuple(int(i) - 1 for i in c.split("/")[:2]) for c in p[1:4]])
    return np.array(v), np.array(vt), faces


def rasterise_positions(size):
    """Per texel of a size^2 UV image (row 0 = top = v 1): canonical xyz (cm) and coverage."""
    v, vt, faces = load_obj()
    pos = np.zeros((size, size, 3))
    cov = np.zeros((size, size), bool)
    for tri in faces:
        vi = [c[0] for c in tri]
        ti = [c[1] for c in tri]
        uv = vt[ti]
        px = np.stack([uv[:, 0] * size - 0.5, (1 - uv[:, 1]) * size - 0.5], 1)
        x0, y0 = np.floor(px.min(0)).astype(int) - 1
        x1, y1 = np.ceil(px.max(0)).astype(int) + 1
        x0, y0 = max(x0, 0), max(y0, 0)
        x1, y1 = min(x1, size - 1), min(y1, size - 1)
        if x1 < x0 or y1 < y0:
            continue
        xs, ys = np.meshgrid(np.arange(x0, x1 + 1), np.arange(y0, y1 + 1))
        a, b, c = px
        det = (b[1] - c[1]) * (a[0] - c[0]) + (c[0] - b[0]) * (a[1] - c[1])
        if abs(det) < 1e-12:
            continue
        l0 = ((b[1] - c[1]) * (xs - c[0]) + (c[0] - b[0]) * (ys - c[1])) / det
        l1 = ((c[1] - a[1]) * (xs - c[0]) + (a[0] - c[0]) * (ys - c[1])) / det
        l2 = 1 - l0 - l1
        eps = -0.02  # a hair of overlap so shared edges leave no gaps
        inside = (l0 >= eps) & (l1 >= eps) & (l2 >= eps)
        p = l0[..., None] * v[vi[0]] + l1[..., None] * v[vi[1]] + l2[..., None] * v[vi[2]]
        pos[ys[inside], xs[inside]] = p[inside]
        cov[ys[inside], xs[inside]] = True
    return pos, cov, v


def smoothstep(e0, e1, x):
    t = np.clip((x - e0) / (e1 - e0), 0, 1)
    return t * t * (3 - 2 * t)


def make_mask():
    """Full-face Venetian masquerade mask (volto): pearl-white face over the whole mesh with almond
    eye holes, midnight-violet sequinned wings over the brows with gold filigree, gold trim, red lips."""
    size = 1024
    pos, cov, v = rasterise_positions(size)
    x, y, z = pos[..., 0], pos[..., 1], pos[..., 2]
    ax = np.abs(x)
    top = 5.6 + 2.6 * (ax / 7.5) ** 2.5            # wings sweep up toward the temples
    bot = 0.55 + 1.6 * np.exp(-(x / 1.25) ** 2) - 0.35 * (ax / 7.5) ** 2  # dips on the cheekbones, rises over the nose
    side = 7.4 - ax
    wing = np.minimum(np.minimum(top - y, y - bot), side)   # ≈ cm inside the violet wings
    # Eye holes: almond ellipses on the eye centres (mean of the eye contour vertices).
    right_eye = v[[33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246]].mean(0)
    eye_d = np.full(x.shape, 1e9)
    for cx, cy in [(right_eye[0], right_eye[1]), (-right_eye[0], right_eye[1])]:
        dx, dy = (x - cx), (y - cy - 0.05)
        tilt = -0.12 if cx < 0 else 0.12
        rx, ry = 1.55, 0.72
        ex = dx * math.cos(tilt) + dy * math.sin(tilt)
        ey = -dx * math.sin(tilt) + dy * math.cos(tilt)
        r = np.sqrt((ex / rx) ** 2 + (ey / ry) ** 2)
        eye_d = np.minimum(eye_d, (r - 1) * ry)   # ≈ cm outside the hole
    aa = 0.06  # cm of edge ramp (≈ 1.5 texels)
    # Inside the painted holes a sheer black lace veil (the eye openings themselves are true holes:
    # the filter drops those mesh triangles).
    hole = 1 - smoothstep(-aa, aa, eye_d)
    lace = 0.35 + 0.15 * (np.sin(x * 40) * np.sin(y * 40) > 0.3)
    alpha = (1 - hole * (1 - lace)) * cov
    edge = np.minimum(wing, eye_d)

    shade = np.clip((z - 1.0) / 5.0, 0, 1)
    # Pearl face: warm ivory, shaded by how far the surface is turned from the camera.
    pearl = np.stack([0.80 + 0.17 * shade, 0.76 + 0.17 * shade, 0.70 + 0.16 * shade], -1)
    # Velvet: deep violet, lighter where the surface faces the camera (z high), a sheen band.
    base = np.stack([0.20 + 0.18 * shade, 0.05 + 0.06 * shade, 0.30 + 0.25 * shade], -1)
    sheen = np.exp(-((y - 5.0 - 0.15 * x) / 0.9) ** 2) * 0.10
    base += sheen[..., None] * np.array([0.8, 0.6, 1.0])
    # Sequins: a hex grid of small discs with a highlight.
    pitch = 0.42
    gy = y / (pitch * 0.866)
    row = np.floor(gy)
    gx = x / pitch + 0.5 * (row % 2)
    cxs = (np.floor(gx) + 0.5 - 0.5 * (row % 2)) * pitch
    cys = (row + 0.5) * pitch * 0.866
    d = np.sqrt((x - cxs) ** 2 + (y - cys) ** 2)
    seq = smoothstep(0.15, 0.11, d) * smoothstep(0.35, 0.9, np.minimum(wing, eye_d))
    glint = np.clip(np.sin(cxs * 3.1 + cys * 5.3) * 0.5 + 0.5, 0, 1)
    seq_col = np.stack([0.55 + 0.35 * glint, 0.35 + 0.3 * glint, 0.75 + 0.2 * glint], -1)
    col = base * (1 - seq[..., None]) + seq_col * seq[..., None]
    # Gold filigree: two swirling lines on each wing.
    u = ax
    fil = np.zeros_like(x)
    for k, (amp, off) in enumerate([(0.55, 4.7), (0.4, 3.4)]):
        curve = off + amp * np.sin(u * 1.7 + k) + 0.18 * np.maximum(u - 3, 0) ** 1.5
        fil = np.maximum(fil, smoothstep(0.09, 0.04, np.abs(y - curve)) * (u > 2.6) * (u < 7.0))
    fil *= smoothstep(0.25, 0.45, edge)
    gold = np.stack([0.93, 0.74, 0.30], -1) * (0.75 + 0.25 * shade[..., None])
    col = col * (1 - fil[..., None]) + gold * fil[..., None]
    inwing = smoothstep(-aa, aa, wing)[..., None]
    col = pearl * (1 - inwing) + col * inwing
    col = col * (1 - hole[..., None]) + np.array([0.06, 0.02, 0.10]) * hole[..., None]
    # Red lips (an ellipse with a cupid's-bow dip) outlined in gold.
    lip_y = y + 4.3 + 0.3 * np.exp(-(x / 0.5) ** 2) * (y > -4.3)
    lip = np.sqrt((x / 2.55) ** 2 + (lip_y / 0.95) ** 2)
    lip_a = smoothstep(1.0 + 0.03, 1.0 - 0.03, lip)[..., None]
    col = col * (1 - lip_a) + np.array([0.62, 0.06, 0.14]) * (0.8 + 0.2 * shade[..., None]) * lip_a
    trim = (smoothstep(0.16, 0.10, np.abs(wing)) + smoothstep(0.30, 0.22, eye_d) * smoothstep(-aa, aa, eye_d)
            + smoothstep(0.06, 0.0, np.abs(lip - 1.04) * 0.95))
    trim = np.clip(trim, 0, 1)
    trim_col = gold * (0.85 + 0.3 * np.cos(edge * 25)[..., None] * 0.5)
    col = col * (1 - trim[..., None]) + trim_col * trim[..., None]
    rgba = np.concatenate([np.clip(col, 0, 1), alpha[..., None]], -1)
    save(Image.fromarray((rgba * 255 + 0.5).astype(np.uint8), "RGBA"), "mask", "mask.png")


# ---------------------------------------------------------------- sprites

def make_glasses():
    """Round-cornered black frames with a warm tint; the front is 70 px/cm (anchors 33/263 at
    x = 640 ∓ 4.45·70, y 200); temples are separate edge-on sprites."""
    W, H = 1280, 400
    img = canvas(W, H)
    d = ImageDraw.Draw(img)
    frame = (22, 20, 24, 255)
    for cx in (640 - 224, 640 + 224):
        box = [cx - 185, 200 - 140, cx + 185, 200 + 135]
        d.rounded_rectangle(s(box), radius=s(95), fill=frame)
        inner = [box[0] + 24, box[1] + 24, box[2] - 24, box[3] - 24]
        d.rounded_rectangle(s(inner), radius=s(72), fill=(0, 0, 0, 0))
    # Lenses: translucent smoky brown, with a soft reflection streak.
    lens = Image.new("RGBA", img.size, (0, 0, 0, 0))
    ld = ImageDraw.Draw(lens)
    for cx in (640 - 224, 640 + 224):
        inner = [cx - 161, 200 - 116, cx + 161, 200 + 111]
        ld.rounded_rectangle(s(inner), radius=s(72), fill=(70, 45, 30, 120))
        ld.polygon(s([cx - 120, 120, cx - 70, 120, cx - 140, 290, cx - 190, 290]), fill=(255, 255, 255, 55))
    mask = Image.new("L", img.size, 0)
    md = ImageDraw.Draw(mask)
    for cx in (640 - 224, 640 + 224):
        md.rounded_rectangle(s([cx - 161, 200 - 116, cx + 161, 200 + 111]), radius=s(72), fill=255)
    lens.putalpha(Image.fromarray(np.minimum(np.array(lens)[..., 3], np.array(mask))))
    img = Image.alpha_composite(lens, img)
    d = ImageDraw.Draw(img)
    # Bridge and end pieces reaching the hinges at ±8.55 cm (x 42 / 1238, y 175), where the temples start.
    d.arc(s([640 - 62, 150, 640 + 62, 260]), 200, 340, fill=frame, width=s(22))
    for x0, x1 in ((42, 640 - 224 - 180), (640 + 224 + 180, 1238)):
        d.rounded_rectangle(s([min(x0, x1), 160, max(x0, x1), 192]), radius=s(14), fill=frame)
    # Small rivets.
    for cx in (640 - 224 - 150, 640 + 224 + 150):
        d.ellipse(s([cx - 9, 167, cx + 9, 185]), fill=(190, 190, 200, 255))
    save(reduce(img), "glasses", "front.png")

    T = canvas(600, 64)
    td = ImageDraw.Draw(T)
    td.rounded_rectangle(s([0, 20, 520, 44]), radius=s(12), fill=frame)
    td.pieslice(s([440, 20, 600, 140]), 270, 360, fill=frame)
    td.pieslice(s([462, 44, 578, 118]), 270, 360, fill=(0, 0, 0, 0))
    save(reduce(T), "glasses", "temple.png")


def ear_shape(d, pts, fill):
    d.polygon([tuple(s(p)) for p in pts], fill=fill)


def make_dog():
    """Perky brown ears (60 px/cm; anchors 54/284 at x = 600 ∓ 377, y 470), a glossy nose, a tongue."""
    W, H = 1200, 600
    img = canvas(W, H)
    d = ImageDraw.Draw(img)
    for sign in (-1, 1):
        def P(xcm, ycm):  # canonical cm (y up) → image px
            return (600 + sign * xcm * 60, 470 - (ycm - 6.62) * 60)
        outer = [P(2.2, 9.0), P(3.2, 11.6), P(5.6, 14.2), P(8.3, 14.0), P(8.6, 11.0), P(7.4, 8.6), P(5.0, 8.0)]
        inner = [P(3.6, 10.0), P(4.3, 11.8), P(6.0, 13.4), P(7.6, 13.1), P(7.7, 11.0), P(6.8, 9.4), P(5.0, 9.1)]
        ear_shape(d, outer, (120, 72, 40, 255))
        ear_shape(d, inner, (232, 150, 150, 255))
    img = img.filter(ImageFilter.GaussianBlur(1.5 * SS / 2))
    save(reduce(img), "dog", "ears.png")

    N = canvas(300, 220)
    nd = ImageDraw.Draw(N)
    nd.ellipse(s([20, 20, 280, 190]), fill=(25, 18, 16, 255))
    nd.ellipse(s([70, 110, 135, 160]), fill=(5, 3, 3, 255))
    nd.ellipse(s([165, 110, 230, 160]), fill=(5, 3, 3, 255))
    nd.ellipse(s([95, 40, 190, 85]), fill=(150, 150, 160, 200))
    N = N.filter(ImageFilter.GaussianBlur(SS))
    save(reduce(N), "dog", "nose.png")

    T = canvas(260, 340)
    tdraw = ImageDraw.Draw(T)
    tdraw.rounded_rectangle(s([30, 10, 230, 320]), radius=s(100), fill=(226, 92, 120, 255))
    tdraw.line(s([130, 60, 130, 250]), fill=(180, 50, 80, 255), width=s(8))
    tdraw.ellipse(s([60, 60, 110, 120]), fill=(245, 140, 160, 160))
    T = T.filter(ImageFilter.GaussianBlur(SS * 0.8))
    save(reduce(T), "dog", "tongue.png")


def make_crown():
    """Gold crown (70 px/cm; anchors 103/332 at x = 500 ∓ 359, y 520) with jewels, and a heart."""
    W, H = 1000, 560
    img = canvas(W, H)
    d = ImageDraw.Draw(img)
    gold, dark = (236, 186, 60, 255), (176, 122, 28, 255)
    pts = [(110, 540), (110, 250), (230, 380), (330, 130), (430, 350), (500, 60), (570, 350), (670, 130), (770, 380), (890, 250), (890, 540)]
    d.polygon([tuple(s(p)) for p in pts], fill=gold)
    d.polygon([tuple(s(p)) for p in [(110, 540), (110, 450), (890, 450), (890, 540)]], fill=dark)
    for x, y, c in [(330, 130, (220, 30, 60, 255)), (500, 60, (40, 120, 230, 255)), (670, 130, (220, 30, 60, 255))]:
        d.ellipse(s([x - 26, y - 26, x + 26, y + 26]), fill=c)
    for i, x in enumerate(range(170, 880, 100)):
        c = [(40, 170, 90, 255), (220, 30, 60, 255), (40, 120, 230, 255)][i % 3]
        d.ellipse(s([x - 20, 475, x + 20, 515]), fill=c)
    d.line([tuple(s(p)) for p in [(110, 450), (890, 450)]], fill=(255, 230, 150, 255), width=s(6))
    save(reduce(img), "crown", "crown.png")

    Hh = canvas(256, 240)
    hd = ImageDraw.Draw(Hh)
    hd.ellipse(s([20, 20, 136, 136]), fill=(230, 40, 80, 255))
    hd.ellipse(s([120, 20, 236, 136]), fill=(230, 40, 80, 255))
    hd.polygon([tuple(s(p)) for p in [(28, 100), (228, 100), (128, 225)]], fill=(230, 40, 80, 255))
    hd.ellipse(s([50, 45, 95, 85]), fill=(255, 180, 200, 200))
    save(reduce(Hh), "crown", "heart.png")


if __name__ == "__main__":
    make_mask()
    make_glasses()
    make_dog()
    make_crown()
