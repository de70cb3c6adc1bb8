"""Hinge losses, the adaptive weight and the perceptual distance on known cases."""

import doctest
import importlib

import keras
import numpy as np
import pytest

from tests.helpers import random_images
from tfface.losses.adversarial import (
    ADAPTIVE_WEIGHT_MAX,
    adaptive_weight,
    hinge_discriminator_loss,
    hinge_generator_loss,
)
from tfface.losses.perceptual import (
    PerceptualLoss,
    PerceptualWeightsError,
    perceptual_distance,
    vgg16_features,
    vgg_preprocess,
)


def test_hinge_losses_by_hand():
    real = np.array([[2.0, 0.5], [1.0, -1.0]], np.float32)  # relu(1 - D): 0, 0.5, 0, 2 → mean 0.625
    fake = np.array([[-2.0, 0.0], [0.5, -0.5]], np.float32)  # relu(1 + D): 0, 1, 1.5, 0.5 → mean 0.75
    assert float(hinge_discriminator_loss(real, fake)) == pytest.approx(0.5 * (0.625 + 0.75))
    assert float(hinge_discriminator_loss(np.full(4, 3.0), np.full(4, -3.0))) == 0.0  # beyond the margins
    assert float(hinge_generator_loss(fake)) == pytest.approx(-(-2.0 + 0.0 + 0.5 - 0.5) / 4)


def test_adaptive_weight_by_hand_with_clip_and_scale():
    rec, adv = np.array([[3.0, 0.0], [0.0, 4.0]]), np.array([1.0, 2.0, 2.0])  # norms 5 and 3
    assert float(adaptive_weight(rec, adv)) == pytest.approx(5.0 / (3.0 + 1e-4))
    # Gradients carrying a factor s (loss scaling) give the unscaled λ.
    assert float(adaptive_weight(rec * 512, adv * 512, scale=512.0)) == pytest.approx(5.0 / (3.0 + 1e-4), rel=1e-6)
    assert float(adaptive_weight(rec, np.zeros(3))) == ADAPTIVE_WEIGHT_MAX


def test_perceptual_distance_by_hand():
    # One layer, one position, two channels: unit vectors (1, 0) and (0.6, 0.8) → (0.4² + 0.8²) = 0.8.
    a = [np.array([[[[2.0, 0.0]]]], np.float32)]
    b = [np.array([[[[3.0, 4.0]]]], np.float32)]
    assert float(perceptual_distance(a, b)[0]) == pytest.approx(0.8, rel=1e-6)
    # Summed over layers, averaged over positions.
    two = [np.concatenate([a[0], b[0]], axis=2)]
    assert float(perceptual_distance(a + two, b + [np.concatenate([b[0], b[0]], axis=2)])[0]) == pytest.approx(0.8 + 0.4)


def test_vgg_preprocess_maps_both_value_ranges_to_caffe_bgr():
    white = np.ones((1, 1, 1, 3), np.float32)
    expected = [255 - 103.939, 255 - 116.779, 255 - 123.68]
    np.testing.assert_allclose(np.asarray(vgg_preprocess(white, "0_1"))[0, 0, 0], expected, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(vgg_preprocess(white, "-1_1"))[0, 0, 0], expected, rtol=1e-6)
    red = np.array([[[[1.0, 0.0, 0.0]]]], np.float32)
    assert np.asarray(vgg_preprocess(red))[0, 0, 0, 2] == pytest.approx(255 - 123.68)  # red is the last (BGR) channel


def test_perceptual_loss_zero_for_identical_larger_for_blur_than_tiny_noise():
    loss = PerceptualLoss((32, 32, 3), weights=None)  # random VGG16: tests only
    x = random_images(4, seed=1)
    blurred = np.asarray(keras.layers.AveragePooling2D(3, strides=1, padding="same")(x))
    noisy = np.clip(x + 0.01 * np.random.default_rng(2).standard_normal(x.shape), 0, 1).astype("float32")
    np.testing.assert_allclose(np.asarray(loss(x, x)), 0.0, atol=1e-6)
    d_blur, d_noise = np.asarray(loss(x, blurred)), np.asarray(loss(x, noisy))
    assert np.all(d_blur > 2 * d_noise), (d_blur, d_noise)
    assert np.all(d_noise > 0)


def test_vgg_features_are_the_five_relu_stages_and_frozen():
    features = vgg16_features((32, 32, 3), weights=None)
    outputs = features(np.zeros((1, 32, 32, 3), np.float32))
    assert [tuple(o.shape[1:]) for o in outputs] == [(32, 32, 64), (16, 16, 128), (8, 8, 256), (4, 4, 512), (2, 2, 512)]
    assert not features.trainable_weights


def test_missing_weights_file_names_the_option(tmp_path):
    with pytest.raises(PerceptualWeightsError, match=r"perceptual_weights.*does not exist"):
        vgg16_features((32, 32, 3), weights=str(tmp_path / "vgg16.h5"))


def test_failed_imagenet_download_says_what_to_do(monkeypatch):
    def offline(**kwargs):
        raise Exception("URL fetch failure on https://storage.googleapis.com/...: None -- [Errno -2]")

    monkeypatch.setattr(keras.applications, "VGG16", offline)
    with pytest.raises(PerceptualWeightsError, match=r"perceptual_weights='imagenet'.*could not be downloaded.*\.h5"):
        vgg16_features((32, 32, 3), weights="imagenet")


@pytest.mark.parametrize(
    "name", ["tfface.losses.adversarial", "tfface.losses.perceptual", "tfface.layers.discriminator", "tfface.models.base"]
)
def test_examples_run(name):
    result = doctest.testmod(importlib.import_module(name), extraglobs={"np": np}, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
