"""Tests for tfface.data.synthetic (procedural cartoon faces)."""

import cv2
import numpy as np
import pytest
import tensorflow as tf

from tfface.data import synthetic
from tfface.data.synthetic import (
    SYNTHETIC_ATTRIBUTES,
    render_face,
    sample_attributes,
    synthetic_face_array,
    synthetic_faces,
)

# Written out independently of the module so a reordering there is caught.
CELEBA_ORDER = (
    "5_o_Clock_Shadow Arched_Eyebrows Attractive Bags_Under_Eyes Bald Bangs "
    "Big_Lips Big_Nose Black_Hair Blond_Hair Blurry Brown_Hair Bushy_Eyebrows "
    "Chubby Double_Chin Eyeglasses Goatee Gray_Hair Heavy_Makeup "
    "High_Cheekbones Male Mouth_Slightly_Open Mustache Narrow_Eyes No_Beard "
    "Oval_Face Pale_Skin Pointy_Nose Receding_Hairline Rosy_Cheeks Sideburns "
    "Smiling Straight_Hair Wavy_Hair Wearing_Earrings Wearing_Hat "
    "Wearing_Lipstick Wearing_Necklace Wearing_Necktie Young"
).split()
REQUIRED = (
    "Bangs Black_Hair Blond_Hair Brown_Hair Eyeglasses Male "
    "Mouth_Slightly_Open No_Beard Pale_Skin Smiling Wearing_Hat"
).split()
HAIR = ("Black_Hair", "Blond_Hair", "Brown_Hair", "Gray_Hair")


def _index(name):
    return SYNTHETIC_ATTRIBUTES.index(name)


# ----------------------------------------------------------------- API / shapes


def test_attribute_names_are_celeba_ordered_and_complete():
    assert len(CELEBA_ORDER) == 40
    assert synthetic.CELEBA_ATTRIBUTES == tuple(CELEBA_ORDER)
    assert set(REQUIRED) <= set(SYNTHETIC_ATTRIBUTES)
    assert len(set(SYNTHETIC_ATTRIBUTES)) == len(SYNTHETIC_ATTRIBUTES)
    positions = [CELEBA_ORDER.index(n) for n in SYNTHETIC_ATTRIBUTES]
    assert positions == sorted(positions)


@pytest.mark.parametrize("size", [64, (64, 48), 112, (218, 178), 24])
def test_dataset_shapes_dtypes_and_ranges(size):
    h, w = (size, size) if isinstance(size, int) else size
    n_attr = len(SYNTHETIC_ATTRIBUTES)
    ds = synthetic_faces(3, image_size=size, seed=5)
    assert ds.element_spec[0].shape == (h, w, 3)
    assert ds.element_spec[0].dtype == tf.float32
    assert ds.element_spec[1].shape == (n_attr,)
    assert ds.element_spec[1].dtype == tf.float32
    assert int(ds.cardinality()) == 3
    images, attrs = next(iter(ds.batch(3)))
    images, attrs = images.numpy(), attrs.numpy()
    assert images.shape == (3, h, w, 3)
    assert 0.0 <= images.min() and images.max() <= 1.0
    assert images.std() > 0.05  # not blank
    assert set(np.unique(attrs)) <= {0.0, 1.0}

    ds8 = synthetic_faces(3, image_size=size, seed=5, as_uint8=True)
    assert ds8.element_spec[0].dtype == tf.uint8
    images8 = np.stack([im.numpy() for im, _ in ds8])
    np.testing.assert_allclose(images8 / 255.0, images, atol=1e-6)


def test_attribute_vector_matches_sampled_dict_order():
    _, attrs = synthetic_face_array(5, 32, seed=11)
    for i in range(5):
        rng = np.random.default_rng([11, i])
        expected = sample_attributes(rng)
        assert list(expected) == list(SYNTHETIC_ATTRIBUTES)
        np.testing.assert_array_equal(
            attrs[i], [float(expected[n]) for n in SYNTHETIC_ATTRIBUTES]
        )


def test_render_face_any_size_and_validation():
    rng = np.random.default_rng(0)
    for size in [(64, 48), (48, 64), 256, 9]:
        image = render_face({"Smiling": True}, size, rng)
        h, w = (size, size) if isinstance(size, int) else size
        assert image.shape == (h, w, 3) and image.dtype == np.uint8
    with pytest.raises(ValueError):
        render_face({"Not_An_Attribute": True}, 64, rng)
    with pytest.raises(ValueError):
        synthetic_faces(4, attribute_probabilities={"Eyeglases": 0.5})
    with pytest.raises(ValueError):
        synthetic_faces(4, attribute_probabilities={"Eyeglasses": 1.5})
    with pytest.raises(ValueError):
        synthetic_faces(4, seed=-1)


# ------------------------------------------------------------------ determinism


def test_determinism_and_prefix_property():
    a_img, a_att = synthetic_face_array(6, (40, 32), seed=3)
    b_img, b_att = synthetic_face_array(6, (40, 32), seed=3)
    assert a_img.tobytes() == b_img.tobytes()
    assert a_att.tobytes() == b_att.tobytes()

    c_img, _ = synthetic_face_array(6, (40, 32), seed=4)
    assert a_img.tobytes() != c_img.tobytes()
    assert all(not np.array_equal(a_img[i], c_img[i]) for i in range(6))

    p_img, p_att = synthetic_face_array(4, (40, 32), seed=3)
    np.testing.assert_array_equal(p_img, a_img[:4])
    np.testing.assert_array_equal(p_att, a_att[:4])
    assert not np.array_equal(a_img[0], a_img[1])


def test_dataset_matches_eager_array():
    images, attrs = synthetic_face_array(5, (48, 40), seed=7)
    ds = synthetic_faces(5, (48, 40), seed=7, as_uint8=True)
    ds_images, ds_attrs = (t.numpy() for t in next(iter(ds.batch(5))))
    assert ds_images.tobytes() == images.tobytes()
    np.testing.assert_array_equal(ds_attrs, attrs)
    # Parallel map keeps the order: iterating twice gives the same bytes.
    again = next(iter(ds.batch(5)))[0].numpy()
    assert again.tobytes() == images.tobytes()


# ------------------------------------------------------------ attribute sampling


def _sample_many(n, seed=0, **kwargs):
    rng = np.random.default_rng(seed)
    return [sample_attributes(rng, **kwargs) for _ in range(n)]


def test_attribute_correlations():
    samples = _sample_many(4000)
    matrix = np.array([[s[n] for n in SYNTHETIC_ATTRIBUTES] for s in samples])
    freq = matrix.mean(0)
    # Every attribute occurs and is absent, so the checks below are not vacuous.
    assert (freq > 0.01).all() and (freq < 0.99).all(), dict(
        zip(SYNTHETIC_ATTRIBUTES, freq)
    )
    for s in samples:
        assert sum(s[c] for c in HAIR) <= 1
        if not s["No_Beard"]:
            assert s["Male"]
        if s["Goatee"] or s["Mustache"]:
            assert not s["No_Beard"]
        if s["Wearing_Hat"] or s["Bald"]:
            assert not s["Bangs"]
        if s["Bald"]:
            assert not any(s[c] for c in HAIR) and not s["Wearing_Hat"]
    # Soft correlations.
    smiling = matrix[:, _index("Smiling")] == 1
    mouth = matrix[:, _index("Mouth_Slightly_Open")]
    assert mouth[smiling].mean() > mouth[~smiling].mean() + 0.2
    male = matrix[:, _index("Male")] == 1
    lipstick = matrix[:, _index("Wearing_Lipstick")]
    assert lipstick[~male].mean() > 0.5 > lipstick[male].mean()
    assert 0.3 < male.mean() < 0.55


def test_attribute_probability_overrides():
    samples = _sample_many(3000, seed=1, probabilities={"Eyeglasses": 0.5, "Blond_Hair": 0.6})
    assert abs(np.mean([s["Eyeglasses"] for s in samples]) - 0.5) < 0.04
    assert abs(np.mean([s["Blond_Hair"] for s in samples]) - 0.6) < 0.05
    for s in samples:
        assert sum(s[c] for c in HAIR) <= 1
    bearded = _sample_many(500, seed=2, probabilities={"No_Beard": 0.0})
    assert all(s["Male"] and not s["No_Beard"] for s in bearded)
    _, attrs = synthetic_face_array(
        200, 16, seed=0, attribute_probabilities={"Wearing_Hat": 1.0}
    )
    assert attrs[:, _index("Wearing_Hat")].all()


# ------------------------------------------------------------- visible signals

BASE = {
    "Brown_Hair": True,
    "No_Beard": True,
    "Male": False,
}


def _pair(attr, on, off=None, seed=0, size=96):
    a = dict(BASE, **(off or {}))
    b = dict(a, **on)
    img_a = render_face(a, size, np.random.default_rng(seed)).astype(np.float64)
    img_b = render_face(b, size, np.random.default_rng(seed)).astype(np.float64)
    return img_a, img_b


def _band_fraction(diff, y0, y1):
    h = diff.shape[0]
    band = diff[int(y0 * h) : int(y1 * h)].sum()
    return band / max(diff.sum(), 1e-9)


@pytest.mark.parametrize("seed", range(6))
def test_eyeglasses_change_only_eye_region(seed):
    off, on = _pair("Eyeglasses", {"Eyeglasses": True}, seed=seed)
    diff = np.abs(on - off).sum(-1)
    assert (diff > 60).sum() >= 100  # clearly visible: many strongly changed pixels
    assert _band_fraction(diff, 0.3, 0.68) > 0.97


@pytest.mark.parametrize("seed", range(6))
def test_smiling_changes_mouth_region(seed):
    off, on = _pair("Smiling", {"Smiling": True}, seed=seed)
    diff = np.abs(on - off).sum(-1)
    assert (diff > 60).sum() >= 25  # clearly visible: many strongly changed pixels
    assert _band_fraction(diff, 0.58, 0.86) > 0.97
    # The mouth is drawn curved upward: the smile's dark/lip pixels sit lower
    # in the middle than at the corners, i.e. changes span several rows.
    rows = np.nonzero(diff.sum(1) > 30)[0]
    assert rows.max() - rows.min() >= 4


@pytest.mark.parametrize("seed", range(6))
def test_black_vs_blond_hair_brightness(seed):
    black, blond = _pair(
        "Blond_Hair",
        {"Black_Hair": False, "Blond_Hair": True},
        off={"Brown_Hair": False, "Black_Hair": True},
        seed=seed,
    )
    h, w = black.shape[:2]
    region = (slice(int(0.22 * h), int(0.30 * h)), slice(int(0.42 * w), int(0.58 * w)))
    assert blond[region].mean() - black[region].mean() > 100
    # Elsewhere (face below the brows) the two renders are identical.
    assert np.array_equal(black[int(0.5 * h) : int(0.7 * h), int(0.4 * w) : int(0.6 * w)],
                          blond[int(0.5 * h) : int(0.7 * h), int(0.4 * w) : int(0.6 * w)])  # fmt: skip


def test_attributes_change_the_picture():
    for name in SYNTHETIC_ATTRIBUTES:
        for seed in range(3):
            male = name in ("Bald", "Goatee", "Male", "Mustache")
            on = {"Male": male, name: True}
            if name == "No_Beard":
                off, img_on = _pair(name, {"No_Beard": False, "Male": True}, {"Male": True}, seed)
            else:
                off_attrs = {"Male": name in ("Bald", "Goatee", "Mustache"), "Brown_Hair": name not in HAIR}
                off, img_on = _pair(name, on, off_attrs, seed)
            assert np.abs(img_on - off).sum() > 96 * 96 * 0.3, (name, seed)


# ---------------------------------------------------------------- learnability


def _logistic_accuracy(x_train, y_train, x_test, y_test, steps=300, lr=0.5):
    mean, std = x_train.mean(0), x_train.std(0) + 1e-6
    x_train, x_test = (x_train - mean) / std, (x_test - mean) / std
    w = np.zeros(x_train.shape[1])
    b = 0.0
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(x_train @ w + b)))
        g = p - y_train
        w -= lr * (x_train.T @ g / len(g) + 1e-3 * w)
        b -= lr * g.mean()
    return float((((x_test @ w + b) > 0) == (y_test > 0.5)).mean())


def test_eyeglasses_learnable_from_16x16_pixels():
    images, attrs = synthetic_face_array(
        800, 64, seed=2024, attribute_probabilities={"Eyeglasses": 0.5}
    )
    small = np.stack([cv2.resize(im, (16, 16), interpolation=cv2.INTER_AREA) for im in images])
    x = small.reshape(len(small), -1).astype(np.float64) / 255.0
    y = attrs[:, _index("Eyeglasses")].astype(np.float64)
    assert 0.35 < y[600:].mean() < 0.65  # balanced, so chance level is ~0.5
    acc = _logistic_accuracy(x[:600], y[:600], x[600:], y[600:])
    assert acc >= 0.9, acc
