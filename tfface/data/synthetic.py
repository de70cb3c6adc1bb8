"""Procedurally rendered cartoon faces with CelebA-style attribute labels.

This module is the embedded default dataset of `tfface`. It draws simple
cartoon faces with OpenCV (head, hair, eyes, brows, nose, mouth, ears,
neck and shoulders, plus optional eyeglasses, hats, beards, lipstick, ...)
and labels every image with a subset of the 40 binary CelebA attribute
names, in CelebA's canonical order (`SYNTHETIC_ATTRIBUTES`).

**The data is synthetic.** It exists so that demos, tests, tutorials and
teaching material run offline, quickly and deterministically without
downloading CelebA. Numbers measured on these faces (reconstruction error,
FID, attribute accuracy, ...) say nothing about real faces: this dataset is
NOT a stand-in for CelebA results and must never be reported as such.

Every example is a pure function of `(seed, index)`, so datasets are
reproducible bit for bit, and a prefix of a larger dataset equals a smaller
dataset built with the same seed. Images can be rendered at any resolution,
including non-square ones such as CelebA's aligned `218x178`.

Example:

```python
from tfface.data.synthetic import SYNTHETIC_ATTRIBUTES, synthetic_faces

ds = synthetic_faces(num_examples=256, image_size=64, seed=0)
for image, attributes in ds.batch(32).take(1):
    print(image.shape, attributes.shape)  # (32, 64, 64, 3) (32, N)
```
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import cv2
import numpy as np
import tensorflow as tf

from tfface.data.celeba_attributes import CELEBA_ATTRIBUTES

__all__ = [
    "SYNTHETIC_ATTRIBUTES",
    "render_face",
    "sample_attributes",
    "synthetic_face_array",
    "synthetic_faces",
]

_RENDERED = frozenset(
    {
        "Bald", "Bangs", "Black_Hair", "Blond_Hair", "Brown_Hair",
        "Eyeglasses", "Goatee", "Gray_Hair", "Male", "Mouth_Slightly_Open",
        "Mustache", "No_Beard", "Pale_Skin", "Rosy_Cheeks", "Smiling",
        "Wearing_Earrings", "Wearing_Hat", "Wearing_Lipstick", "Wearing_Necktie",
    }
)  # fmt: skip

#: Attributes that the renderer draws, in CelebA's canonical order.
SYNTHETIC_ATTRIBUTES: tuple[str, ...] = tuple(
    name for name in CELEBA_ATTRIBUTES if name in _RENDERED
)

_HAIR_COLOURS = ("Black_Hair", "Blond_Hair", "Brown_Hair", "Gray_Hair", "_Red")
# Hair-colour weights (female, male). "_Red" is ginger/auburn: no CelebA label.
_HAIR_WEIGHTS = {
    "Black_Hair": (0.26, 0.34),
    "Blond_Hair": (0.26, 0.05),
    "Brown_Hair": (0.26, 0.30),
    "Gray_Hair": (0.03, 0.12),
    "_Red": (0.19, 0.19),
}

_SHIFT = 4  # sub-pixel bits for cv2 drawing
_ONE = 1 << _SHIFT
_MIN_RENDER = 128  # smaller images are rendered at >= this size, then INTER_AREA


# --------------------------------------------------------------------------
# Attribute sampling
# --------------------------------------------------------------------------


def _check_probabilities(probabilities):
    if probabilities is None:
        return {}
    out = {}
    for name, p in dict(probabilities).items():
        if name not in _RENDERED:
            raise ValueError(
                f"Unknown synthetic attribute {name!r}; expected one of "
                f"{SYNTHETIC_ATTRIBUTES}."
            )
        p = float(p)
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Probability for {name!r} must be in [0, 1], got {p}.")
        out[name] = p
    total = sum(p for n, p in out.items() if n in _HAIR_COLOURS)
    if total > 1.0 + 1e-9:
        raise ValueError(
            f"Hair colours are mutually exclusive; their probabilities sum to {total}."
        )
    return out


def sample_attributes(
    rng: np.random.Generator,
    *,
    probabilities: Mapping[str, float] | None = None,
) -> dict[str, bool]:
    """Samples a plausible, internally consistent set of face attributes.

    Default frequencies loosely follow CelebA (e.g. ~42% `Male`, ~48%
    `Smiling`, ~7% `Eyeglasses`) and the sampler enforces CelebA-like
    correlations: hair colours are mutually exclusive (and absent when
    `Bald`), `No_Beard` is False only for `Male` faces (and False exactly
    when a `Goatee`, `Mustache` or jaw beard is drawn), there are no `Bangs`
    under a hat or on a bald head, `Mouth_Slightly_Open` is more likely when
    `Smiling`, lipstick and earrings are mostly worn by non-male faces.

    Args:
        rng: `np.random.Generator`. Source of randomness.
        probabilities: `dict` or `None`. Optional overrides of the
            probability that an attribute is True, keyed by names from
            `SYNTHETIC_ATTRIBUTES`. Hard constraints take precedence (a
            forced beard makes the face `Male`, a `Bald` face has no hat,
            bangs or hair colour), so the realised frequency of constrained
            attributes can differ from the requested one. Defaults to `None`.

    Returns:
        A `dict` mapping every name in `SYNTHETIC_ATTRIBUTES` to a `bool`.

    Example:

    ```python
    import numpy as np
    from tfface.data.synthetic import sample_attributes

    attrs = sample_attributes(np.random.default_rng(0))
    assert attrs["No_Beard"] or attrs["Male"]
    ```
    """
    over = _check_probabilities(probabilities)

    def draw(name, default):
        return bool(rng.random() < over.get(name, default))

    male = draw("Male", 0.42)

    # Facial hair. A beard is a jaw band (chinstrap/stubble, drawn whenever
    # there is neither goatee nor mustache), a goatee, a mustache or a mix.
    if "No_Beard" in over:
        beard = bool(rng.random() >= over["No_Beard"])
    else:
        beard = male and bool(rng.random() < 0.35)
    u_goatee, u_mustache = rng.random(2)
    goatee = draw("Goatee", 0.0) if "Goatee" in over else beard and u_goatee < 0.45
    mustache = draw("Mustache", 0.0) if "Mustache" in over else beard and u_mustache < 0.5
    beard = bool(beard or goatee or mustache)
    if beard:
        male = True

    hat = draw("Wearing_Hat", 0.08)
    if "Bald" in over:
        bald = draw("Bald", 0.0)
    else:
        bald = male and not hat and bool(rng.random() < 0.07)
    if bald:
        hat = False

    # Hair colour: categorical with partially overridden probabilities.
    sex = 1 if male else 0
    weights = np.array([_HAIR_WEIGHTS[c][sex] for c in _HAIR_COLOURS])
    fixed = np.array([c in over for c in _HAIR_COLOURS])
    fixed_p = np.array([over.get(c, 0.0) for c in _HAIR_COLOURS])
    free_mass = max(0.0, 1.0 - fixed_p.sum())
    free_w = np.where(fixed, 0.0, weights)
    probs = fixed_p + (free_w / free_w.sum() * free_mass if free_w.sum() > 0 else 0)
    probs = probs / probs.sum() if probs.sum() > 0 else np.full(5, 0.2)
    u_hair = rng.random()
    hair = _HAIR_COLOURS[min(int(np.searchsorted(np.cumsum(probs), u_hair, "right")), 4)]

    bangs = draw("Bangs", 0.12 if male else 0.2)
    if hat or bald:
        bangs = False
    glasses = draw("Eyeglasses", 0.07)
    smiling = draw("Smiling", 0.48)
    mouth_open = draw("Mouth_Slightly_Open", 0.65 if smiling else 0.3)
    pale = draw("Pale_Skin", 0.05)
    rosy = draw("Rosy_Cheeks", 0.02 if male else 0.1)
    earrings = draw("Wearing_Earrings", 0.03 if male else 0.32)
    lipstick = draw("Wearing_Lipstick", 0.0 if male else 0.75)
    necktie = draw("Wearing_Necktie", 0.15 if male else 0.01)

    attrs = {
        "Bald": bald,
        "Bangs": bangs,
        "Eyeglasses": glasses,
        "Goatee": goatee,
        "Male": male,
        "Mouth_Slightly_Open": mouth_open,
        "Mustache": mustache,
        "No_Beard": not beard,
        "Pale_Skin": pale,
        "Rosy_Cheeks": rosy,
        "Smiling": smiling,
        "Wearing_Earrings": earrings,
        "Wearing_Hat": hat,
        "Wearing_Lipstick": lipstick,
        "Wearing_Necktie": necktie,
    }
    for colour in _HAIR_COLOURS[:4]:
        attrs[colour] = (not bald) and hair == colour
    return {name: bool(attrs[name]) for name in SYNTHETIC_ATTRIBUTES}


# --------------------------------------------------------------------------
# Rendering helpers
# --------------------------------------------------------------------------


def _parse_size(image_size) -> tuple[int, int]:
    if isinstance(image_size, (int, np.integer)):
        h = w = int(image_size)
    else:
        h, w = (int(v) for v in image_size)
    if h < 8 or w < 8:
        raise ValueError(f"image_size must be at least 8x8, got {(h, w)}.")
    return h, w


def _col(c) -> tuple[float, float, float]:
    c = np.clip(np.asarray(c, dtype=np.float64), 0, 255)
    return (float(c[0]), float(c[1]), float(c[2]))


def _mix(a, b, t):
    return np.asarray(a, np.float64) * (1 - t) + np.asarray(b, np.float64) * t


def _ell(cx, cy, ax, ay, a0=0.0, a1=360.0, n=48):
    t = np.radians(np.linspace(a0, a1, n))
    return np.stack([cx + ax * np.cos(t), cy + ay * np.sin(t)], axis=1)


def _superellipse(hw, hh, n_top, n_bottom, n=72):
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    c, s = np.cos(t), np.sin(t)
    e = np.where(s > 0, 2.0 / n_bottom, 2.0 / n_top)  # s > 0 is the lower half
    return np.stack(
        [hw * np.sign(c) * np.abs(c) ** e, hh * np.sign(s) * np.abs(s) ** e], axis=1
    )


class _Painter:
    """Draws in normalised face coordinates (origin at face centre, y down)."""

    def __init__(self, img, centre, unit, angle_deg, scale):
        a = math.radians(angle_deg)
        k = unit * scale
        self.img = img
        self.m = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]]) * k
        self.t = np.asarray(centre, np.float64)
        self.px = k  # pixels per face unit

    def pts(self, p):
        q = np.asarray(p, np.float64).reshape(-1, 2) @ self.m.T + self.t
        return np.round(q * _ONE).astype(np.int32)

    def width(self, w):
        return max(1, int(round(w * self.px)))

    def fill(self, p, colour):
        cv2.fillPoly(self.img, [self.pts(p)], _col(colour), cv2.LINE_AA, _SHIFT)

    def stroke(self, p, colour, width, closed=False):
        cv2.polylines(
            self.img, [self.pts(p)], closed, _col(colour), self.width(width),
            cv2.LINE_AA, _SHIFT,
        )  # fmt: skip

    def fill_alpha(self, polys, colour, alpha):
        overlay = self.img.copy()
        cv2.fillPoly(overlay, [self.pts(p) for p in polys], _col(colour), cv2.LINE_AA, _SHIFT)
        cv2.addWeighted(overlay, alpha, self.img, 1 - alpha, 0, dst=self.img)


_IRIS = np.array(
    [(92, 56, 30), (60, 40, 25), (70, 120, 170), (80, 130, 90), (120, 100, 60), (110, 120, 130)],
    np.float64,
)
_LIPSTICK = np.array([(200, 20, 50), (170, 15, 60), (225, 55, 95), (150, 25, 35)], np.float64)
_PALETTE = np.array(
    [(200, 40, 40), (40, 70, 170), (30, 120, 60), (230, 190, 40), (120, 40, 140),
     (30, 30, 30), (230, 230, 230), (200, 100, 30), (40, 150, 160)],
    np.float64,
)  # fmt: skip


def _sample_style(rng: np.random.Generator) -> dict:
    """Draws every continuous rendering parameter.

    Always consumes the same amount of randomness, independent of the
    attributes, so that toggling one attribute for a fixed `rng` seed
    changes only the corresponding part of the picture.
    """
    u = rng.random(64)  # generic uniforms, indexed below
    s = {}
    s["bg_a"] = rng.uniform(35, 225, 3)
    s["bg_b"] = s["bg_a"] + rng.uniform(-45, 45, 3)
    s["bg_angle"] = u[0] * 2 * np.pi
    s["tx"], s["ty"] = rng.uniform(-0.03, 0.03, 2)
    s["rot"] = rng.uniform(-7.0, 7.0)
    s["scale"] = rng.uniform(0.98, 1.1)
    s["hw"] = rng.uniform(0.195, 0.23)
    s["hh"] = rng.uniform(0.265, 0.295)
    s["skin_t"] = u[1]
    s["pale_t"] = u[2]
    s["hair_jitter"] = rng.uniform(-1, 1, 3)
    s["gray_level"] = rng.uniform(150, 200)
    s["hair_long_u"] = u[3]
    s["hair_pad"] = rng.uniform(0.018, 0.04)
    s["hairline"] = rng.uniform(-0.21, -0.17)
    s["hair_len"] = rng.uniform(0.28, 0.45)
    s["bangs_style"] = u[4]
    s["part"] = rng.uniform(-0.08, 0.08)
    s["iris"] = _IRIS[int(u[5] * len(_IRIS))]
    s["eye_dx"] = rng.uniform(0.085, 0.1)
    s["eye_y"] = rng.uniform(-0.03, -0.01)
    s["eye_w"] = rng.uniform(0.04, 0.05)
    s["eye_h"] = rng.uniform(0.021, 0.027)
    s["gaze"] = rng.uniform(-0.008, 0.008)
    s["brow_dy"] = rng.uniform(0.055, 0.07)
    s["brow_tilt"] = rng.uniform(-0.012, 0.012)
    s["nose_len"] = rng.uniform(0.075, 0.1)
    s["nose_w"] = rng.uniform(0.018, 0.03)
    s["mouth_y"] = rng.uniform(0.16, 0.175)
    s["mouth_w"] = rng.uniform(0.05, 0.06)
    s["smile_w"] = rng.uniform(0.075, 0.088)
    s["open_h"] = rng.uniform(0.03, 0.045)
    s["lip_t"] = rng.uniform(0.35, 0.55)
    s["lipstick"] = _LIPSTICK[int(u[6] * len(_LIPSTICK))]
    s["shirt"] = _PALETTE[int(u[7] * len(_PALETTE))] + rng.uniform(-20, 20, 3)
    s["hat"] = _PALETTE[int(u[8] * len(_PALETTE))] + rng.uniform(-20, 20, 3)
    s["hat_type"] = u[9]
    s["tie"] = _PALETTE[int(u[10] * len(_PALETTE))]
    s["glasses"] = rng.uniform(5, 60, 3)
    s["glasses_round"] = u[11] < 0.5
    s["lens_alpha"] = 0.8 if u[12] < 0.12 else rng.uniform(0.12, 0.3)
    s["beard_alpha"] = rng.uniform(0.55, 0.9)
    s["bald_beard"] = u[13]
    s["earring_gold"] = u[14] < 0.6
    s["earring_hoop"] = u[15] < 0.5
    s["highlight"] = u[16]
    s["jaw_u"] = u[17]
    return s


def _hair_colour(attrs, s):
    j = s["hair_jitter"]
    if attrs.get("Black_Hair"):
        return np.array([30, 25, 25]) + j * 10
    if attrs.get("Blond_Hair"):
        return np.array([232, 198, 118]) + j * np.array([15, 15, 25])
    if attrs.get("Brown_Hair"):
        return np.array([115, 72, 38]) + j * 14
    if attrs.get("Gray_Hair"):
        g = s["gray_level"]
        return np.array([g, g, g + 6]) + j * 4
    return np.array([178, 78, 34]) + j * np.array([20, 15, 10])  # ginger/auburn


# --------------------------------------------------------------------------
# Public rendering API
# --------------------------------------------------------------------------


def render_face(
    attributes: Mapping[str, bool],
    image_size: tuple[int, int] | int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Renders one synthetic cartoon face showing the given attributes.

    All random style parameters (colours, proportions, pose jitter) are
    drawn from `rng` in a fixed order that does not depend on `attributes`,
    so rendering twice with identically seeded generators and attribute
    sets that differ in one attribute changes only the matching region.

    Args:
        attributes: `dict`. Maps attribute names to booleans. Names from
            `SYNTHETIC_ATTRIBUTES` are drawn; other CelebA names are
            accepted and ignored; missing names count as False.
        image_size: `int` or `tuple`. Output size, either an `int` for a
            square image or `(height, width)`.
        rng: `np.random.Generator`. Source of the style randomness.

    Returns:
        A `uint8` RGB array of shape `(height, width, 3)`.

    Example:

    ```python
    import numpy as np
    from tfface.data.synthetic import render_face

    image = render_face({"Smiling": True, "Eyeglasses": True}, (64, 48),
                        np.random.default_rng(0))
    assert image.shape == (64, 48, 3)
    ```
    """
    unknown = set(attributes) - set(CELEBA_ATTRIBUTES)
    if unknown:
        raise ValueError(f"Unknown attribute names: {sorted(unknown)}.")
    a = {name: bool(attributes.get(name, False)) for name in SYNTHETIC_ATTRIBUTES}
    h, w = _parse_size(image_size)
    s = _sample_style(rng)

    k = max(1, math.ceil(_MIN_RENDER / min(h, w)))
    rh, rw = h * k, w * k
    img = _background(rh, rw, s)
    unit = min(rh, rw)
    centre = (rw / 2 + s["tx"] * unit, rh / 2 + (0.01 + s["ty"]) * unit)
    p = _Painter(img, centre, unit, s["rot"], s["scale"])
    _draw_face(p, a, s)
    if k > 1:
        img = cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(img, dtype=np.uint8)


def _background(h, w, s):
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    d = math.cos(s["bg_angle"]) * xx / w + math.sin(s["bg_angle"]) * yy / h
    d = (d - d.min()) / max(float(d.max() - d.min()), 1e-6)
    a = s["bg_a"].astype(np.float32)
    b = s["bg_b"].astype(np.float32)
    img = a[None, None, :] * (1 - d[..., None]) + b[None, None, :] * d[..., None]
    return np.clip(img, 0, 255).astype(np.uint8)


def _draw_face(p: _Painter, a: dict, s: dict) -> None:
    male = a["Male"]
    hw, hh = s["hw"] * (1.06 if male else 1.0), s["hh"]
    # Skin: pale faces are much lighter and pinker than the regular range.
    if a["Pale_Skin"]:
        skin = _mix((250, 232, 220), (238, 218, 206), s["pale_t"])
    else:
        t = 0.2 + 0.8 * s["skin_t"]
        skin = (
            _mix((245, 208, 175), (205, 150, 110), t / 0.6)
            if t < 0.6
            else _mix((205, 150, 110), (120, 75, 50), (t - 0.6) / 0.4)
        )
    skin_dark = skin * 0.78
    bald = a["Bald"]
    hair = _hair_colour(a, s)
    if bald:  # beard/brow colour for bald heads
        hair = (np.array([40, 32, 28]), np.array([105, 70, 40]), np.array([170, 170, 172]))[
            int(s["bald_beard"] * 3)
        ]
    long_hair = (not bald) and s["hair_long_u"] < (0.12 if male else 0.8)
    pad = s["hair_pad"] * (0.7 if male else 1.0)

    # --- shoulders and clothes
    shoulders = [(-0.75, 1.6), (-0.6, 0.6), (-0.42, 0.47), (-0.16, 0.40),
                 (0.16, 0.40), (0.42, 0.47), (0.6, 0.6), (0.75, 1.6)]  # fmt: skip
    p.fill(shoulders, s["shirt"])
    # --- long hair falls behind the head onto the shoulders
    if long_hair:
        r = hw + pad + 0.035
        top = _ell(0, -0.01, hw + pad, hh + pad, 180, 360, 40)
        L = s["hair_len"]
        side = [(r, 0.08), (r + 0.03, L), (0.12, L + 0.03), (-0.12, L + 0.03), (-r - 0.03, L), (-r, 0.08)]
        p.fill(np.concatenate([top, side]), hair * 0.92)
    # --- neck
    neck = [(-0.085, 0.1), (0.085, 0.1), (0.09, 0.43), (0.0, 0.45), (-0.09, 0.43)]
    p.fill(neck, skin * 0.88)
    if a["Wearing_Necktie"]:
        p.fill([(-0.12, 0.39), (0.0, 0.45), (-0.07, 0.52)], (245, 245, 245))
        p.fill([(0.12, 0.39), (0.0, 0.45), (0.07, 0.52)], (245, 245, 245))
        p.fill([(-0.028, 0.42), (0.028, 0.42), (0.02, 0.47), (-0.02, 0.47)], s["tie"] * 0.85)
        p.fill([(-0.02, 0.47), (0.02, 0.47), (0.045, 0.72), (0.0, 0.78), (-0.045, 0.72)], s["tie"])
    # --- ears and earrings
    for sx in (-1, 1):
        p.fill(_ell(sx * (hw - 0.004), 0.015, 0.036, 0.058), skin * 0.95)
        p.fill(_ell(sx * (hw + 0.006), 0.015, 0.016, 0.035), skin_dark)
        if a["Wearing_Earrings"]:
            metal = (235, 195, 60) if s["earring_gold"] else (215, 215, 225)
            if s["earring_hoop"]:
                p.stroke(_ell(sx * (hw + 0.004), 0.1, 0.022, 0.026), metal, 0.011, closed=True)
            else:
                p.fill(_ell(sx * (hw + 0.004), 0.075, 0.015, 0.015), metal)
    # --- head
    head = _superellipse(hw, hh, 2.0, 2.6 if male else 2.05)
    p.fill(head, skin)
    if bald and s["highlight"] < 0.7:
        p.fill_alpha([_ell(-0.05, -hh * 0.72, 0.06, 0.03)], (255, 255, 255), 0.35)
    # --- facial hair: jaw band (chinstrap / stubble)
    beard_col = hair * 0.85
    if not a["No_Beard"]:
        if not (a["Goatee"] or a["Mustache"]) or s["jaw_u"] < 0.5:
            hs = head[head[:, 1] >= 0.04]
            hs = hs[np.argsort(np.arctan2(hs[:, 1], hs[:, 0]))]  # right -> bottom -> left
            inner = _ell(0, 0.04, hw * 0.72, hh * 0.66 - 0.02, 180, 0, 30)
            inner = inner[inner[:, 1] >= 0.04 - 1e-9]
            p.fill_alpha([np.concatenate([hs, inner])], beard_col, s["beard_alpha"])
    # --- rosy cheeks
    if a["Rosy_Cheeks"]:
        p.fill_alpha(
            [_ell(-0.12, 0.075, 0.045, 0.035), _ell(0.12, 0.075, 0.045, 0.035)],
            (235, 95, 110),
            0.55,
        )
    # --- nose
    nl, nw = s["nose_len"], s["nose_w"]
    p.stroke([(0.008, -0.01), (-0.004, nl * 0.7), (-nw * 0.6, nl)], skin * 0.7, 0.012)
    p.stroke([(-nw, nl - 0.006), (0.0, nl + 0.01), (nw, nl - 0.006)], skin * 0.68, 0.012)
    # --- eyes and brows
    ey, ex, ew, eh = s["eye_y"], s["eye_dx"], s["eye_w"], s["eye_h"]
    brow_col = hair * 0.7 if not a["Gray_Hair"] else hair * 0.6
    for sx in (-1, 1):
        cx = sx * ex
        white = _ell(cx, ey, ew, eh)
        p.fill(white, (248, 248, 245))
        p.fill(_ell(cx + s["gaze"], ey, eh * 0.95, eh * 0.95), s["iris"])
        p.fill(_ell(cx + s["gaze"], ey, eh * 0.45, eh * 0.45), (15, 12, 12))
        p.fill(_ell(cx + s["gaze"] + eh * 0.3, ey - eh * 0.3, eh * 0.18, eh * 0.18), (255, 255, 255))
        p.stroke(_ell(cx, ey, ew, eh, 180, 360, 20), (35, 25, 25), 0.012 if male else 0.017)
        by = ey - s["brow_dy"]
        brow = [(cx - sx * 0.045, by + 0.008 + s["brow_tilt"]), (cx, by - 0.006), (cx + sx * 0.05, by + 0.006)]
        p.stroke(brow, brow_col, 0.022 if male else 0.015)
    # --- goatee (under the mouth, following the chin), then the mouth
    if a["Goatee"]:
        top = s["mouth_y"] + 0.03
        depth = max(0.03, hh * 0.97 - top)
        chin = np.concatenate(
            [[(-0.045, top - 0.006), (0.0, top + 0.004), (0.045, top - 0.006)],
             _ell(0, top, 0.05, depth, 0, 180, 24)]
        )  # fmt: skip
        p.fill_alpha([chin], beard_col, 0.92)
    _draw_mouth(p, a, s, skin)
    if a["Mustache"]:
        my = s["mouth_y"]
        must = [(-0.075, my + 0.012), (-0.045, my - 0.016), (0.0, my - 0.024),
                (0.045, my - 0.016), (0.075, my + 0.012)]  # fmt: skip
        p.stroke(must, beard_col, 0.026)
    # --- top hair (cap + optional bangs)
    if not bald:
        _draw_hair_top(p, a, s, hw, hh, pad, hair, long_hair, male)
    # --- eyeglasses
    if a["Eyeglasses"]:
        g = s["glasses"]
        fw, fh = ew + 0.022, eh + 0.022
        lenses = []
        for sx in (-1, 1):
            cx = sx * ex
            if s["glasses_round"]:
                lens = _ell(cx, ey, fw, fh + 0.004)
            else:
                lens = _superellipse(fw, fh, 4.0, 4.0, 48) + (cx, ey)
            lenses.append(lens)
        p.fill_alpha(lenses, (30, 30, 40), s["lens_alpha"])
        for lens in lenses:
            p.stroke(lens, g, 0.02, closed=True)
        p.stroke([(-ex + fw, ey - 0.008), (0.0, ey - 0.016), (ex - fw, ey - 0.008)], g, 0.018)
        for sx in (-1, 1):
            p.stroke([(sx * (ex + fw), ey - 0.01), (sx * (hw - 0.002), ey - 0.016)], g, 0.016)
    # --- hat
    if a["Wearing_Hat"]:
        _draw_hat(p, s, hw, hh)


def _draw_mouth(p: _Painter, a: dict, s: dict, skin) -> None:
    my = s["mouth_y"]
    lip = _mix(skin, (175, 60, 65), s["lip_t"])
    lipstick = a["Wearing_Lipstick"]
    if lipstick:
        lip = s["lipstick"]
    smiling, mouth_open = a["Smiling"], a["Mouth_Slightly_Open"]
    mw = s["smile_w"] if smiling else s["mouth_w"]
    x = np.linspace(-mw, mw, 25)
    r = (x / mw) ** 2
    line = my - 0.036 * r + 0.014 if smiling else my + 0.004 * r
    if mouth_open:
        depth = s["open_h"] + (0.012 if smiling else 0.0)
        top = line - (0.0 if smiling else depth * 0.5) * (1 - r)
        bottom = line + depth * (1 - r) ** 0.8 * (1.0 if smiling else 0.75)
        poly = np.concatenate([np.stack([x, top], 1), np.stack([x, bottom], 1)[::-1]])
        if lipstick:
            lips = np.concatenate(
                [np.stack([x, top - 0.016 * (1 - r) - 0.004], 1),
                 np.stack([x, bottom + 0.016 * (1 - r) + 0.004], 1)[::-1]]
            )  # fmt: skip
            p.fill(lips, lip)
        p.fill(poly, (80, 22, 32))
        xt = x[3:-3]
        rt = r[3:-3]
        t_top = top[3:-3]
        teeth = np.concatenate(
            [np.stack([xt, t_top], 1), np.stack([xt, t_top + 0.014 * (1 - rt) ** 0.5 + 0.002], 1)[::-1]]
        )
        p.fill(teeth, (245, 243, 235))
        p.stroke(poly, lip, 0.012, closed=True)
    else:
        if lipstick:
            lips = np.concatenate(
                [np.stack([x, line - 0.016 * (1 - r) ** 0.7], 1),
                 np.stack([x, line + 0.02 * (1 - r) ** 0.7], 1)[::-1]]
            )  # fmt: skip
            p.fill(lips, lip)
            p.stroke(np.stack([x, line], 1), lip * 0.55, 0.008)
        else:
            dark = _mix(lip, (45, 12, 18), 0.55 if smiling else 0.35)
            p.stroke(np.stack([x, line], 1), dark, 0.022 if smiling else 0.016)
            p.stroke(np.stack([x[6:-6], line[6:-6] + 0.018], 1), lip, 0.012)
    if smiling:  # dimples / cheek lines
        for sx in (-1, 1):
            cx = sx * (mw + 0.012)
            p.stroke([(cx - sx * 0.008, line[0] - 0.028), (cx + sx * 0.006, line[0]), (cx - sx * 0.002, line[0] + 0.02)],
                     skin * 0.68, 0.012)  # fmt: skip


def _draw_hair_top(p, a, s, hw, hh, pad, hair, long_hair, male):
    ys = 0.04 if long_hair else (-0.02 if male else -0.01)
    ox, oy = hw + pad, hh + pad
    ang = math.degrees(math.asin(max(-0.99, min(0.99, (ys + 0.01) / oy))))
    outer = _ell(0, -0.01, ox, oy, 180 - ang, 360 + ang, 48)
    side_x = hw * math.sqrt(max(0.0, 1 - (ys / hh) ** 2)) - 0.004
    if a["Bangs"]:
        yb = s["eye_y"] - s["brow_dy"] - 0.03
        if s["bangs_style"] < 0.5:  # straight fringe with a few locks
            n = 7
            xs = np.linspace(hw * 0.9, -hw * 0.9, 2 * n + 1)
            yy = np.where(np.arange(2 * n + 1) % 2 == 0, yb - 0.025, yb)
            fringe = np.stack([xs, yy], 1)
        else:  # side-swept fringe
            fringe = np.array([(hw * 0.9, yb - 0.06), (hw * 0.3, yb - 0.035), (-hw * 0.3, yb - 0.005),
                               (-hw * 0.9, yb + 0.01)])  # fmt: skip
        inner = np.concatenate([[(side_x, ys)], fringe, [(-side_x, ys)]])
    else:
        hl = s["hairline"]
        xs = np.linspace(1, -1, 15)
        inner_pts = np.stack([xs * hw * 0.86, hl + (1 - (1 - np.abs(xs)) ** 2) * 0.06 - 0.0], 1)
        inner = np.concatenate([[(side_x, ys)], inner_pts, [(-side_x, ys)]])
    cap = np.concatenate([outer, inner])
    p.fill(cap, hair)
    # parting / strand texture
    if not a["Bangs"]:
        px = s["part"]
        p.stroke([(px, -hh - pad * 0.6), (px * 0.8, s["hairline"] + 0.01)], hair * 0.72, 0.008)
    p.stroke(_ell(0, -0.01, ox * 0.85, oy * 0.9, 215, 325, 16), hair * 0.8, 0.007)


def _draw_hat(p, s, hw, hh):
    col = s["hat"]
    brim_y = -0.15
    if s["hat_type"] < 0.5:  # beanie
        dome = _ell(0, brim_y + 0.01, hw + 0.035, hh * 0.7 + 0.06, 180, 360, 40)
        p.fill(dome, col)
        band = [(-hw - 0.04, brim_y - 0.03), (hw + 0.04, brim_y - 0.03),
                (hw + 0.045, brim_y + 0.035), (-hw - 0.045, brim_y + 0.035)]  # fmt: skip
        p.fill(band, col * 0.75)
        p.fill(_ell(0, brim_y - hh * 0.7 - 0.07, 0.035, 0.03), col * 0.85)
    else:  # brimmed hat
        crown = np.concatenate(
            [_ell(0, brim_y - 0.17, hw - 0.005, 0.05, 180, 360, 24),
             [(hw - 0.005, brim_y), (-hw + 0.005, brim_y)]]
        )  # fmt: skip
        p.fill(crown, col)
        p.fill([(-hw + 0.005, brim_y - 0.055), (hw - 0.005, brim_y - 0.055),
                (hw - 0.005, brim_y - 0.015), (-hw + 0.005, brim_y - 0.015)], col * 0.6)  # fmt: skip
        p.fill(_ell(0, brim_y, hw + 0.13, 0.035), col * 0.9)


# --------------------------------------------------------------------------
# Datasets
# --------------------------------------------------------------------------


def _example(seed, index, size, probabilities):
    rng = np.random.default_rng([seed, index])
    attrs = sample_attributes(rng, probabilities=probabilities)
    image = render_face(attrs, size, rng)
    vector = np.array([attrs[n] for n in SYNTHETIC_ATTRIBUTES], np.float32)
    return image, vector


def _check_common(num_examples, seed):
    if int(num_examples) < 0:
        raise ValueError(f"num_examples must be >= 0, got {num_examples}.")
    if int(seed) < 0:
        raise ValueError(f"seed must be >= 0, got {seed}.")


def synthetic_faces(
    num_examples: int = 1024,
    image_size: int | tuple[int, int] = 64,
    seed: int = 0,
    *,
    as_uint8: bool = False,
    attribute_probabilities: Mapping[str, float] | None = None,
) -> tf.data.Dataset:
    """Builds a `tf.data.Dataset` of synthetic cartoon faces with attributes.

    The faces are procedurally drawn cartoons meant for demos, tests and
    teaching, so that `tfface` runs offline without CelebA. They are NOT a
    stand-in for CelebA: metrics measured on them do not transfer to real
    faces and must not be reported as CelebA results.

    Images are rendered lazily (one `tf.numpy_function` call per example,
    in parallel and in deterministic order), so memory stays flat for any
    `num_examples` and resolution. Example `i` depends only on
    `(seed, i)`: equal seeds give identical datasets, and the first `n`
    elements of a larger dataset equal `synthetic_faces(n, ...)`.

    Args:
        num_examples: `int`. Number of faces. Defaults to `1024`.
        image_size: `int` or `tuple`. Square size or `(height, width)`;
            any resolution works, e.g. `64`, `(64, 48)` or `(218, 178)`.
            Defaults to `64`.
        seed: `int`. Non-negative dataset seed. Defaults to `0`.
        as_uint8: `bool`. If True, images are `uint8` in `[0, 255]`
            instead of `float32` in `[0, 1]`. Defaults to `False`.
        attribute_probabilities: `dict` or `None`. Overrides the probability
            of named attributes (see `sample_attributes`), e.g.
            `{"Eyeglasses": 0.5}` for a balanced attribute. Defaults to `None`.

    Returns:
        A `tf.data.Dataset` of `(image, attributes)` pairs: `image` of shape
        `(height, width, 3)` and `attributes` a `float32` vector of 0/1
        values of length `len(SYNTHETIC_ATTRIBUTES)`, in that order.

    Example:

    ```python
    from tfface.data.synthetic import synthetic_faces

    ds = synthetic_faces(num_examples=64, image_size=(64, 48), seed=1)
    images = ds.map(lambda image, attributes: image).batch(16)
    print(next(iter(images)).shape)  # (16, 64, 48, 3)
    ```
    """
    _check_common(num_examples, seed)
    h, w = _parse_size(image_size)
    probs = _check_probabilities(attribute_probabilities)
    seed = int(seed)
    n_attr = len(SYNTHETIC_ATTRIBUTES)

    def _worker(index):
        cv2.setNumThreads(1)
        return _example(seed, int(index), (h, w), probs)

    def _map(index):
        image, attrs = tf.numpy_function(
            _worker, [index], [tf.uint8, tf.float32], stateful=False
        )
        image = tf.ensure_shape(image, (h, w, 3))
        attrs = tf.ensure_shape(attrs, (n_attr,))
        if not as_uint8:
            image = tf.cast(image, tf.float32) / 255.0
        return image, attrs

    ds = tf.data.Dataset.range(int(num_examples))
    ds = ds.map(_map, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return ds.apply(tf.data.experimental.assert_cardinality(int(num_examples)))


def synthetic_face_array(
    num_examples: int,
    image_size: int | tuple[int, int] = 64,
    seed: int = 0,
    *,
    attribute_probabilities: Mapping[str, float] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Renders synthetic faces eagerly into numpy arrays.

    Same data as `synthetic_faces(..., as_uint8=True)`, for tests and small
    demos. Synthetic data for demos, tests and teaching only, not a
    stand-in for CelebA.

    Args:
        num_examples: `int`. Number of faces.
        image_size: `int` or `tuple`. Square size or `(height, width)`.
            Defaults to `64`.
        seed: `int`. Non-negative dataset seed. Defaults to `0`.
        attribute_probabilities: `dict` or `None`. Attribute probability
            overrides, see `sample_attributes`. Defaults to `None`.

    Returns:
        A tuple `(images, attributes)`: `uint8` images of shape
        `(num_examples, height, width, 3)` and `float32` 0/1 attributes of
        shape `(num_examples, len(SYNTHETIC_ATTRIBUTES))`.

    Example:

    ```python
    from tfface.data.synthetic import synthetic_face_array

    images, attributes = synthetic_face_array(8, image_size=32)
    assert images.shape == (8, 32, 32, 3) and images.dtype == "uint8"
    ```
    """
    _check_common(num_examples, seed)
    h, w = _parse_size(image_size)
    probs = _check_probabilities(attribute_probabilities)
    n = int(num_examples)
    images = np.empty((n, h, w, 3), np.uint8)
    attrs = np.empty((n, len(SYNTHETIC_ATTRIBUTES)), np.float32)
    for i in range(n):
        images[i], attrs[i] = _example(int(seed), i, (h, w), probs)
    return images, attrs
