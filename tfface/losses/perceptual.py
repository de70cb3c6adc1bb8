"""The perceptual term: LPIPS-style distances between VGG16 features."""

from __future__ import annotations

import os

import keras
from keras import ops

from tfface.value_range import ValueRange

VGG_LAYERS = ("block1_conv2", "block2_conv2", "block3_conv3", "block4_conv3", "block5_conv3")
# Keras' VGG16 ImageNet weights are converted from Caffe: BGR, 0-255, mean-subtracted.
_CAFFE_BGR_MEAN = (103.939, 116.779, 123.68)
_NORM_EPSILON = 1e-10
VGG16_NOTOP_URL = (
    "https://storage.googleapis.com/tensorflow/keras-applications/vgg16/"
    "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"
)


class PerceptualWeightsError(RuntimeError):
    """The VGG16 weights of the perceptual term cannot be had; the message
    names the option and says what to do."""


def vgg16_features(image_shape, weights: str | None = "imagenet", option: str = "perceptual_weights") -> keras.Model:
    """A frozen VGG16 trunk returning its relu1_2, relu2_2, relu3_3, relu4_3
    and relu5_3 activations (Keras' convs carry their ReLU).

    Args:
        image_shape: (int, int, int). Input (height, width, 3); sides >= 32.
        weights: str or None. "imagenet" (downloaded by Keras into
            `~/.keras/models` once, or read from there), the path of a local
            `vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5`, or "random"
            (or None) for random weights — for tests only: random features
            measure nothing perceptual. Defaults to "imagenet".
        option: str. The option name used in error messages.

    Raises:
        PerceptualWeightsError: the weights file is missing or the download
            failed (no network); the message names `option`.
    """
    if weights == "random":
        weights = None
    if weights not in (None, "imagenet") and not os.path.isfile(str(weights)):
        raise PerceptualWeightsError(
            f"{option} (model.{option} in a run config): VGG16 weights file {weights!r} does not exist; give the path of "
            f"vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5 (from {VGG16_NOTOP_URL}) or 'imagenet'"
        )
    try:
        vgg = keras.applications.VGG16(include_top=False, weights=weights, input_shape=tuple(image_shape))
    except Exception as error:  # Keras raises a bare Exception when the URL fetch fails
        if weights != "imagenet":
            raise PerceptualWeightsError(f"{option}: cannot load VGG16 weights from {weights!r}: {error}") from error
        raise PerceptualWeightsError(
            f"{option}='imagenet': the VGG16 ImageNet weights could not be downloaded ({error}). "
            f"Download {VGG16_NOTOP_URL} where there is network and set {option} (model.{option} in a "
            "run config) to the file's path, or place the file in ~/.keras/models/; or switch the "
            "perceptual term off (perceptual_weight=0)."
        ) from error
    features = keras.Model(vgg.input, [vgg.get_layer(name).output for name in VGG_LAYERS], name="vgg16_features")
    features.trainable = False
    return features


def vgg_preprocess(images, value_range: str | ValueRange = ValueRange.ZERO_ONE):
    """Images in the model's value range → VGG16's Caffe input (BGR, 0-255,
    ImageNet mean subtracted)."""
    images = ops.cast(images, "float32")
    unit = ValueRange.parse(value_range).to_unit(images)
    bgr = ops.flip(unit * 255.0, axis=-1)
    return bgr - ops.convert_to_tensor(_CAFFE_BGR_MEAN, dtype="float32")


def _unit_normalize(features):
    features = ops.cast(features, "float32")
    norm = ops.sqrt(ops.sum(ops.square(features), axis=-1, keepdims=True))
    return features / (norm + _NORM_EPSILON)


def perceptual_distance(features_a, features_b):
    """Per-example LPIPS distance with equal layer weights (LPIPS'
    `lpips=False` variant): at every layer, features unit-normalised over
    channels, squared differences summed over channels and averaged over
    positions; then summed over layers.

    Args:
        features_a, features_b: lists of (batch, H_l, W_l, C_l) feature maps.

    Returns:
        A float32 tensor of shape (batch,).

    Example:

    >>> a = [np.ones((1, 2, 2, 3))]; b = [np.ones((1, 2, 2, 3))]
    >>> float(perceptual_distance(a, b)[0])
    0.0

    Reference:
        Zhang et al., "The Unreasonable Effectiveness of Deep Features as a
        Perceptual Metric", CVPR 2018.
    """
    total = 0.0
    for a, b in zip(features_a, features_b, strict=True):
        per_position = ops.sum(ops.square(_unit_normalize(a) - _unit_normalize(b)), axis=-1)
        total = total + ops.mean(per_position, axis=(1, 2))
    return total


class PerceptualLoss:
    """The perceptual distance between images and their reconstructions
    through a frozen VGG16 (a callable, not a layer: its weights are fixed,
    so they are not saved with the model nor trained).

    Args:
        image_shape: (int, int, int). Image shape.
        value_range: str. "0_1" or "-1_1", the images' range.
        weights: str or None. See `vgg16_features`.
        option: str. The option name used in error messages.

    Example:

    >>> loss = PerceptualLoss((32, 32, 3), weights=None)  # random VGG: tests only
    >>> x = np.random.rand(2, 32, 32, 3).astype("float32")
    >>> [float(v) for v in loss(x, x)]
    [0.0, 0.0]
    """

    def __init__(self, image_shape, value_range: str = "0_1", weights: str | None = "imagenet",
                 option: str = "perceptual_weights"):
        self.value_range = value_range
        self.network = vgg16_features(image_shape, weights, option)

    def __call__(self, images, reconstructions):
        batch = ops.shape(images)[0]
        both = vgg_preprocess(ops.concatenate([images, reconstructions], axis=0), self.value_range)
        features = self.network(both, training=False)
        return perceptual_distance([f[:batch] for f in features], [f[batch:] for f in features])
