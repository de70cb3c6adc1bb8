"""FID and KID on Inception pool features, from one of two networks
(`FID_NETWORKS`; the protocol is reported with every number, because FID
depends on all of it):

- **"tfgan-inception"** (the default where it can be had): the 2015
  Inception graph that published FIDs use (TTUR, pytorch-fid, TF-GAN; the
  CelebA-64 VAE literature: RAE 40.95, Two-stage VAE 44.4, WAE 55), as
  TF-GAN's TF-Hub module `tfhub.dev/tensorflow/tfgan/eval/inception/1`,
  output `pool_3` (2048-d). Standard protocol: images quantised to uint8,
  resized bilinearly (no antialiasing) to 299², scaled to [-1, 1]. Loaded
  from a local copy of the module (a directory: `module=`,
  `--inception-module`, or `TFFACE_INCEPTION_MODULE`) with
  `tf.saved_model.load` alone, or from the handle through `tensorflow_hub`
  (the `fid` extra), which downloads and caches it (`TFHUB_CACHE_DIR`).
- **"keras-inception-v3"**: the 2048-d global-average-pool features of
  `keras.applications.InceptionV3` (`include_top=False, pooling="avg"`),
  images mapped to [0, 255], resized to `input_size`² with `tf.image.resize`
  (bilinear, antialiased) and scaled by `inception_v3.preprocess_input`.
  Its ImageNet weights are not the 2015 graph's: its FIDs compare runs
  measured the same way, not papers.

- **FID** (Heusel et al. 2017): ‖μ₁ − μ₂‖² + tr(Σ₁ + Σ₂ − 2(Σ₁Σ₂)^½), with the
  matrix square root's trace computed from symmetric eigen-decompositions
  (no scipy): tr((Σ₁Σ₂)^½) = Σ √λᵢ(Σ₁^½ Σ₂ Σ₁^½).
- **KID** (Bińkowski et al. 2018): the unbiased MMD² with the polynomial
  kernel k(x, y) = (xᵀy/d + 1)³, averaged over random subsets; unbiased, so
  it can be slightly negative for identical distributions.

Weights: "imagenet" (downloaded by Keras — online machines, e.g. Colab), a
path to a local `.h5`/`.weights.h5` file with the no-top ImageNet weights
(offline machines), or None for a seeded random initialisation (tests and
smoke runs only: such numbers compare runs of one protocol, nothing else).
"""

from __future__ import annotations

import inspect
import os
import warnings
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from tfface.metrics.image import to_unit
from tfface.registry import Registry
from tfface.value_range import ValueRange

#: FID feature networks by name: constructor(**options) → extractor with
#: `__call__(images, value_range)` → (n, 2048) and a `protocol` dict.
FID_NETWORKS: Registry = Registry("FID network")

#: TF-GAN's Inception module (the 2015 graph of TTUR / pytorch-fid) on TF-Hub.
TFGAN_INCEPTION_HANDLE = "https://tfhub.dev/tensorflow/tfgan/eval/inception/1"
#: Environment variable naming a local copy of that module (offline machines).
INCEPTION_MODULE_ENV = "TFFACE_INCEPTION_MODULE"
#: Papers whose FIDs the TF-GAN network's numbers are comparable with.
COMPARABLE_WITH = "TTUR, pytorch-fid, TF-GAN; CelebA-64: RAE 40.95, Two-stage VAE 44.4, WAE 55"

INCEPTION_WEIGHTS_FILE = "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"


def _sqrtm_psd(matrix: np.ndarray) -> np.ndarray:
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2.0)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def gaussian_statistics(features) -> tuple[np.ndarray, np.ndarray]:
    """Mean (d,) and covariance (d, d) of features (n, d), n ≥ 2."""
    features = np.asarray(features, np.float64)
    if features.ndim != 2 or len(features) < 2:
        raise ValueError(f"need at least 2 feature vectors of shape (n, d), got {features.shape}")
    return features.mean(axis=0), np.cov(features, rowvar=False)


def frechet_distance(mu1, sigma1, mu2, sigma2) -> float:
    """Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2).

    Example:

    >>> round(frechet_distance(np.zeros(2), np.eye(2), np.ones(2), 4 * np.eye(2)), 6)
    4.0
    """
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    sigma1 = np.atleast_2d(np.asarray(sigma1, np.float64))
    sigma2 = np.atleast_2d(np.asarray(sigma2, np.float64))
    root1 = _sqrtm_psd(sigma1)
    middle = root1 @ sigma2 @ root1
    eigen = np.linalg.eigvalsh((middle + middle.T) / 2.0)
    trace_sqrt = float(np.sum(np.sqrt(np.clip(eigen, 0.0, None))))
    diff = mu1 - mu2
    return float(max(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * trace_sqrt, 0.0))


def fid_from_features(real, generated) -> float:
    """FID between two feature sets (n₁, d) and (n₂, d).

    With fewer images than feature dimensions (the usual case for 2048-d
    Inception features and a few hundred images), the covariances have low
    rank and the trace term is computed from the features directly: with
    Σ₁ = AAᵀ, Σ₂ = BBᵀ (A, B the centred features / √(n − 1)), the non-zero
    eigenvalues of Σ₁Σ₂ are the squared singular values of AᵀB, so
    tr((Σ₁Σ₂)^½) = ‖AᵀB‖_* (n₁ × n₂ instead of d × d). Otherwise the
    covariance form `frechet_distance` is used; both give the same value.
    """
    real, generated = np.asarray(real, np.float64), np.asarray(generated, np.float64)
    gaussian_statistics(real[:2]), gaussian_statistics(generated[:2])  # shape checks
    if max(len(real), len(generated)) > real.shape[1]:
        return frechet_distance(*gaussian_statistics(real), *gaussian_statistics(generated))
    mu1, mu2 = real.mean(axis=0), generated.mean(axis=0)
    a = (real - mu1) / np.sqrt(len(real) - 1)
    b = (generated - mu2) / np.sqrt(len(generated) - 1)
    trace_sqrt = float(np.sum(np.linalg.svd(a @ b.T, compute_uv=False)))
    diff = mu1 - mu2
    return float(max(diff @ diff + np.sum(a * a) + np.sum(b * b) - 2.0 * trace_sqrt, 0.0))


def _polynomial_mmd2(x: np.ndarray, y: np.ndarray) -> float:
    d = x.shape[1]
    kxx = (x @ x.T / d + 1.0) ** 3
    kyy = (y @ y.T / d + 1.0) ** 3
    kxy = (x @ y.T / d + 1.0) ** 3
    m, n = len(x), len(y)
    # unbiased: the diagonals k(x_i, x_i) are left out of the within-set means
    within_x = (kxx.sum() - np.trace(kxx)) / (m * (m - 1))
    within_y = (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
    return float(within_x + within_y - 2.0 * kxy.mean())


def kid_from_features(real, generated, subsets: int = 100, subset_size: int = 1000, seed: int = 0) -> tuple[float, float]:
    """KID (mean, std over subsets) between two feature sets (n, d).

    Each subset draws `min(subset_size, n_real, n_generated)` rows of each
    set without replacement.
    """
    real, generated = np.asarray(real, np.float64), np.asarray(generated, np.float64)
    size = min(int(subset_size), len(real), len(generated))
    if size < 2:
        raise ValueError(f"KID needs at least 2 images per set, got {len(real)} real and {len(generated)} generated")
    rng = np.random.default_rng(seed)
    values = [
        _polynomial_mmd2(real[rng.choice(len(real), size, replace=False)], generated[rng.choice(len(generated), size, replace=False)])
        for _ in range(int(subsets))
    ]
    return float(np.mean(values)), float(np.std(values))


def resolve_inception_weights(weights):
    """"imagenet", None ("none"/"random") or an existing local file path."""
    if weights is None or (isinstance(weights, str) and weights.lower() in ("none", "random")):
        return None
    if weights == "imagenet":
        return "imagenet"
    path = os.fspath(weights)
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"InceptionV3 weights file not found: {path} (expected the no-top ImageNet weights, "
            f"{INCEPTION_WEIGHTS_FILE}; or pass 'imagenet' to download, 'none' for random weights)"
        )
    return path


class FIDNetworkUnavailable(RuntimeError):
    """The requested FID network cannot be loaded here; the message says how to get it."""


class FIDFallbackWarning(UserWarning):
    """`fid_network="auto"` fell back from TF-GAN's Inception to Keras' InceptionV3."""


@FID_NETWORKS.register("keras-inception-v3")
class InceptionFeatures:
    """InceptionV3 global-average-pool features (2048-d) of images, from
    `keras.applications` (the "keras-inception-v3" FID network).

    Args:
        weights: str or None. "imagenet", a local weights file path, or None
            for random weights (seeded by `seed`). Defaults to "imagenet".
        input_size: int. Images are resized to this square size; 299 is the
            standard protocol, 75 the smallest InceptionV3 accepts.
            Defaults to 299.
        batch_size: int. Defaults to 64.
        seed: int. Seed of the random initialisation when weights is None.
            Defaults to 0.

    Example:

    >>> extractor = InceptionFeatures(weights=None, input_size=75)
    >>> extractor(np.zeros((2, 32, 32, 3), np.float32)).shape
    (2, 2048)
    """

    def __init__(self, weights="imagenet", input_size: int = 299, batch_size: int = 64, seed: int = 0):
        self.weights = resolve_inception_weights(weights)
        self.input_size = int(input_size)
        if self.input_size < 75:
            raise ValueError(f"InceptionV3 needs input_size >= 75, got {input_size}")
        self.batch_size = int(batch_size)
        self.seed = int(seed)
        if self.weights is None:
            keras.utils.set_random_seed(self.seed)
        try:
            self.model = keras.applications.InceptionV3(
                include_top=False,
                pooling="avg",
                weights=self.weights,
                input_shape=(self.input_size, self.input_size, 3),
            )
        except Exception as error:  # download failures surface as many types
            if self.weights != "imagenet":
                raise
            raise ValueError(
                f"could not load the InceptionV3 ImageNet weights ({type(error).__name__}: {error}). "
                f"Offline: download {INCEPTION_WEIGHTS_FILE} elsewhere and pass its path as the weights, "
                "or use weights='none' (random features, comparable only within one protocol)"
            ) from None

    name = "keras-inception-v3"

    @property
    def protocol(self) -> dict:
        return {
            "network": self.name,
            "comparable_with": "runs measured with this network, weights and size only (not papers)",
            "features": "InceptionV3 avg-pool 2048",
            "weights": "random" if self.weights is None else ("imagenet" if self.weights == "imagenet" else os.path.basename(self.weights)),
            "inception_input_size": self.input_size,
        }

    def __call__(self, images, value_range: str | ValueRange = ValueRange.ZERO_ONE) -> np.ndarray:
        """Features (n, 2048) float64 of float images in `value_range`."""
        images = np.asarray(images)
        out = []
        for start in range(0, len(images), self.batch_size):
            batch = to_unit(images[start : start + self.batch_size], value_range)
            batch = tf.image.resize(tf.clip_by_value(batch, 0.0, 1.0) * 255.0, (self.input_size, self.input_size), antialias=True)
            out.append(np.asarray(self.model(keras.applications.inception_v3.preprocess_input(batch), training=False), np.float64))
        return np.concatenate(out) if out else np.zeros((0, 2048))


def _is_handle(module: str) -> bool:
    return module.startswith(("http://", "https://", "gs://")) or module.startswith(("tfhub.dev/", "kaggle.com/"))


@FID_NETWORKS.register("tfgan-inception")
class TFGANInceptionFeatures:
    """`pool_3` features (2048-d) of TF-GAN's Inception module, the 2015
    graph behind published FIDs (the "tfgan-inception" FID network).

    Images are quantised to uint8, resized bilinearly (no antialiasing) to
    299² and scaled to [-1, 1], the module's input, as TF-GAN's
    `preprocess_image` does.

    Args:
        module: str or None. A local directory holding the module (SavedModel
            or TF1 Hub format, e.g. the extracted `inception_1.tar.gz`), or a
            TF-Hub handle (needs `tensorflow_hub`, downloads once). None: the
            directory in `$TFFACE_INCEPTION_MODULE`, else
            `TFGAN_INCEPTION_HANDLE`. Defaults to None.
        batch_size: int. Defaults to 64.

    Example:

    >>> import tempfile, tensorflow as tf
    >>> class StandIn(tf.Module):  # the module's signature; a real copy: its extracted folder
    ...     @tf.function(input_signature=[tf.TensorSpec([None, 299, 299, 3], tf.float32)])
    ...     def __call__(self, images):
    ...         return {"pool_3": tf.tile(tf.reduce_mean(images, [1, 2]), [1, 683])[:, :2048]}
    >>> module = tempfile.mkdtemp()
    >>> tf.saved_model.save(StandIn(), module)
    >>> TFGANInceptionFeatures(module=module)(np.zeros((2, 64, 64, 3), np.float32)).shape
    (2, 2048)
    """

    name = "tfgan-inception"
    input_size = 299

    def __init__(self, module: str | None = None, batch_size: int = 64):
        self.module = os.fspath(module) if module else os.environ.get(INCEPTION_MODULE_ENV) or TFGAN_INCEPTION_HANDLE
        self.batch_size = int(batch_size)
        if not _is_handle(self.module):
            path = os.path.expanduser(self.module)
            if not os.path.isdir(path):
                raise FileNotFoundError(
                    f"TF-GAN Inception module not found: {path} (expected the directory of "
                    f"{TFGAN_INCEPTION_HANDLE}, downloaded elsewhere and extracted)"
                )
            self.model = tf.saved_model.load(path)
            return
        try:
            import tensorflow_hub as hub
        except ImportError:
            raise FIDNetworkUnavailable(
                f"TF-GAN's Inception ({self.module}) needs tensorflow_hub to download: `pip install tfface[fid]` "
                f"(or tensorflow-hub); offline, download the module elsewhere and pass its directory "
                f"(--inception-module DIR or ${INCEPTION_MODULE_ENV})"
            ) from None
        try:
            self.model = hub.load(self.module)
        except Exception as error:  # no network, moved handle, corrupt cache: many types
            raise FIDNetworkUnavailable(
                f"could not load TF-GAN's Inception from {self.module} ({type(error).__name__}: {error}); "
                f"offline, pass a local copy of the module (--inception-module DIR or ${INCEPTION_MODULE_ENV})"
            ) from None

    @property
    def protocol(self) -> dict:
        return {
            "network": self.name,
            "comparable_with": COMPARABLE_WITH,
            "features": "TF-GAN Inception (2015 graph) pool_3 2048",
            "module": self.module if _is_handle(self.module) else os.path.basename(os.path.normpath(self.module)),
            "inception_input_size": self.input_size,
            "preprocessing": "uint8 quantisation, bilinear resize to 299x299 (no antialias), scaled to [-1, 1]",
        }

    def _pool_3(self, batch):
        if callable(self.model):
            outputs = self.model(batch)
        else:  # a TF1 Hub module loaded as a SavedModel: its default signature
            signature = self.model.signatures["default"]
            (name,) = signature.structured_input_signature[1]
            outputs = signature(**{name: batch})
        return np.reshape(np.asarray(outputs["pool_3"], np.float64), (len(batch), -1))

    def __call__(self, images, value_range: str | ValueRange = ValueRange.ZERO_ONE) -> np.ndarray:
        """Features (n, 2048) float64 of float images in `value_range`."""
        images = np.asarray(images)
        out = []
        value_range = ValueRange.parse(value_range)
        for start in range(0, len(images), self.batch_size):
            pixels = value_range.to_uint8(images[start : start + self.batch_size])
            quantised = tf.cast(pixels, tf.float32) / 255.0
            resized = tf.image.resize(quantised, (self.input_size, self.input_size), method="bilinear", antialias=False)
            out.append(self._pool_3(ValueRange.MINUS_ONE_ONE.from_unit(resized)))
        return np.concatenate(out) if out else np.zeros((0, 2048))


def fid_network(name: str = "auto", **options):
    """The FID feature extractor named `name` ("tfgan-inception",
    "keras-inception-v3"), built with `options` (module, weights, input_size,
    batch_size, seed). "auto": TF-GAN's Inception where it can be had, else
    Keras' InceptionV3 with a `FIDFallbackWarning` saying why and what the
    numbers then compare with; the extractor's protocol records the reason."""
    if name != "auto":
        return _build(FID_NETWORKS.get(name), options)
    try:
        return _build(TFGANInceptionFeatures, options)
    except FIDNetworkUnavailable as error:
        reason = str(error)
    warnings.warn(
        f"FID: TF-GAN's Inception is unavailable, using Keras' InceptionV3 instead; these FIDs are not comparable "
        f"with papers. {reason}",
        FIDFallbackWarning,
        stacklevel=2,
    )
    extractor = _build(InceptionFeatures, options)
    extractor.fallback = reason
    return extractor


def _build(network, options: dict):
    """`network(**options)` with the options it takes (each network has its own)."""
    accepted = inspect.signature(network).parameters
    return network(**{k: v for k, v in options.items() if k in accepted})


@dataclass
class GenerationScores:
    """FID, KID and the protocol that produced them."""

    fid: float
    kid: float
    kid_std: float
    protocol: dict


def generation_scores(
    real_images,
    generated_images,
    value_range: str | ValueRange = ValueRange.ZERO_ONE,
    extractor=None,
    kid_subsets: int = 100,
    kid_subset_size: int = 1000,
    seed: int = 0,
) -> GenerationScores:
    """FID and KID of generated images against real ones (same value range),
    on `extractor`'s features (default: `fid_network("auto")`)."""
    extractor = extractor or fid_network("auto")
    real = extractor(real_images, value_range)
    generated = extractor(generated_images, value_range)
    kid, kid_std = kid_from_features(real, generated, kid_subsets, kid_subset_size, seed)
    protocol = {
        **extractor.protocol,
        **({"fallback": extractor.fallback} if getattr(extractor, "fallback", None) else {}),
        "real_images": len(real),
        "generated_images": len(generated),
        "image_size": "x".join(str(n) for n in np.asarray(real_images).shape[1:3]),
        "kid_subsets": int(kid_subsets),
        "kid_subset_size": min(int(kid_subset_size), len(real), len(generated)),
    }
    return GenerationScores(fid_from_features(real, generated), kid, kid_std, protocol)
