"""Latent samplers: where generated faces' codes come from.

Samplers live outside the model classes (as in pythae): a sampler is
fitted on latent codes — usually the posterior means of the training set,
see `fit_sampler` — and then draws codes for the decoder.

- `prior`: N(0, I) scaled by a temperature (a sampling option, not
  report 001's "z closer to the centre", which changed training:
  `r001_vae`'s `kl_boost`).
- `diagonal`: N(mean, diag(std²)) of the codes (report 000's "mean and
  standard deviation of the encoder outputs").
- `gaussian`: N(mean, Σ) with the codes' full covariance.
- `gmm`: a k-component Gaussian mixture fitted by EM (Ghosh et al. 2020's
  ex-post density), so plain autoencoders generate too.

Every sampler has the same interface:

- `fit(latents) -> self`
- `sample(n, seed, temperature=1.0) -> np.ndarray (n, d) float32`
- `tf_sample(count, seed, temperature) -> tf.Tensor (count, d) float32`,
  graph-safe (stateless random ops seeded by a tensor), so a SavedModel
  can embed it in a serving signature. `sample` runs `tf_sample`, so both
  give the same codes for the same seed.
- `get_config()` / `from_config(config)` (fitted state included);
  `save_sampler(sampler, path)` / `load_sampler(path)` write and read JSON;
  a run's fitted sampler lives at `RUN/sampler.json`.

The temperature scales the deviation from the centre: `z = μ + t·(z₀ − μ)`
for a draw `z₀` (for the mixture, from the chosen component's mean).
"""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np
import tensorflow as tf

from tfface.io import atomic_write_text
from tfface.registry import Registry
from tfface.sampling.gmm import COVARIANCE_TYPES, fit_gaussian_mixture

SAMPLERS: Registry[type["LatentSampler"]] = Registry("sampler")
SAMPLER_FILE = "sampler.json"


def seed_pair(seed) -> tf.Tensor:
    """A stateless-op seed of shape (2,) int64 from an int, a scalar tensor
    or a (2,) tensor — graph-safe (no Python branching on values)."""
    flat = tf.reshape(tf.cast(seed, tf.int64), [-1])
    return tf.concat([flat, tf.zeros([2], tf.int64)], axis=0)[:2]


def _check_latents(latents) -> np.ndarray:
    array = np.asarray(latents, dtype=np.float64)
    if array.ndim != 2 or array.shape[0] < 1 or array.shape[1] < 1:
        raise ValueError(f"latents must have shape (n, latent_dim), got {array.shape}")
    if not np.all(np.isfinite(array)):
        bad = int(np.sum(~np.isfinite(array).all(axis=1)))
        raise ValueError(f"latents contain NaN or inf in {bad} of {len(array)} rows")
    return array


def _const(array) -> tf.Tensor:
    return tf.constant(np.asarray(array, dtype=np.float32))


class LatentSampler:
    """Base class of the registered samplers (see the module docstring).

    Subclasses implement `_fit(latents)`, `_tf_sample(count, seed,
    temperature)` and `_state()` / `_set_state(state)` for serialization.

    Args:
        latent_dim: int or None. Known before fitting for the prior;
            otherwise set by `fit`.
    """

    kind: str = ""

    def __init__(self, latent_dim: int | None = None):
        self.latent_dim = None if latent_dim is None else int(latent_dim)
        self.fitted = False

    # -------------------------------------------------------------- fitting

    def fit(self, latents) -> "LatentSampler":
        """Fits the density to latent codes (n, d); returns self."""
        array = _check_latents(latents)
        if self.latent_dim is not None and self.fitted and array.shape[1] != self.latent_dim:
            raise ValueError(f"latents have dimension {array.shape[1]}, sampler has {self.latent_dim}")
        self.latent_dim = int(array.shape[1])
        self._fit(array)
        self.fitted = True
        return self

    def _fit(self, latents: np.ndarray) -> None:
        raise NotImplementedError

    # ------------------------------------------------------------- sampling

    def sample(self, n: int, seed: int = 0, temperature: float = 1.0) -> np.ndarray:
        """`n` codes as a float32 array (n, latent_dim); same seed, same codes."""
        if int(n) < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        return self.tf_sample(int(n), seed, temperature).numpy()

    def tf_sample(self, count, seed, temperature=1.0) -> tf.Tensor:
        """`count` codes as a float32 tensor (count, latent_dim).

        Graph-safe: `count`, `seed` (int, scalar or (2,) int tensor) and
        `temperature` may be tensors; randomness comes only from
        `tf.random.stateless_*` ops seeded by `seed`.
        """
        if not self.fitted:
            raise ValueError(f"the {self.kind!r} sampler is not fitted: call fit(latents) first")
        count = tf.cast(count, tf.int32)
        temperature = tf.cast(temperature, tf.float32)
        return tf.ensure_shape(self._tf_sample(count, seed_pair(seed), temperature), [None, self.latent_dim])

    def _tf_sample(self, count: tf.Tensor, seed: tf.Tensor, temperature: tf.Tensor) -> tf.Tensor:
        raise NotImplementedError

    def _normal(self, count, seed) -> tf.Tensor:
        return tf.random.stateless_normal(tf.stack([count, self.latent_dim]), seed=seed, dtype=tf.float32)

    # -------------------------------------------------------- serialization

    def _params(self) -> dict[str, Any]:
        return {}

    def _state(self) -> dict[str, Any]:
        return {}

    def _set_state(self, state: dict[str, Any]) -> None:
        pass

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments and, once fitted, the fitted state (as lists)."""
        config = {"kind": self.kind, "latent_dim": self.latent_dim, **self._params()}
        if self.fitted:
            config["state"] = {k: np.asarray(v).tolist() for k, v in self._state().items()}
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "LatentSampler":
        config = dict(config)
        kind = config.pop("kind", cls.kind)
        target = SAMPLERS.get(kind) if cls is LatentSampler else cls
        state = config.pop("state", None)
        sampler = target(**config)
        if state is not None:
            sampler._set_state({k: np.asarray(v, dtype=np.float64) for k, v in state.items()})
            sampler.fitted = True
        return sampler

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self._params().items())
        return f"{type(self).__name__}(latent_dim={self.latent_dim}{', ' if params else ''}{params})"


@SAMPLERS.register("prior")
class PriorSampler(LatentSampler):
    """The VAE prior N(0, I); `temperature` < 1 draws closer to the centre.

    Fitting only records the dimension, so it can be built directly.

    Args:
        latent_dim: int or None. Defaults to None (set by `fit`).

    Example:

    >>> sampler = PriorSampler(latent_dim=4)
    >>> sampler.sample(3, seed=0, temperature=0.5).shape
    (3, 4)
    """

    kind = "prior"

    def __init__(self, latent_dim: int | None = None):
        super().__init__(latent_dim)
        self.fitted = latent_dim is not None

    def _fit(self, latents):
        pass

    def _tf_sample(self, count, seed, temperature):
        return temperature * self._normal(count, seed)


@SAMPLERS.register("diagonal")
class DiagonalGaussianSampler(LatentSampler):
    """N(mean, diag(std²)) of the codes: report 000's statistics sampling.

    Args:
        latent_dim: int or None. Defaults to None (set by `fit`).
        min_std: float. Floor on each standard deviation. Defaults to 1e-6.

    Example:

    >>> codes = np.random.default_rng(0).normal(3.0, 2.0, (1000, 2))
    >>> sampler = DiagonalGaussianSampler().fit(codes)
    >>> np.round(sampler.sample(20000, seed=1).mean(axis=0)).tolist()
    [3.0, 3.0]
    """

    kind = "diagonal"

    def __init__(self, latent_dim: int | None = None, min_std: float = 1e-6):
        super().__init__(latent_dim)
        self.min_std = float(min_std)

    def _fit(self, latents):
        self.mean = latents.mean(axis=0)
        self.std = np.maximum(latents.std(axis=0), self.min_std)

    def _tf_sample(self, count, seed, temperature):
        return _const(self.mean) + temperature * _const(self.std) * self._normal(count, seed)

    def _params(self):
        return {"min_std": self.min_std}

    def _state(self):
        return {"mean": self.mean, "std": self.std}

    def _set_state(self, state):
        self.mean, self.std = state["mean"], state["std"]


@SAMPLERS.register("gaussian")
class GaussianSampler(LatentSampler):
    """N(mean, Σ) with the codes' full covariance (sample covariance plus
    `reg_covar`·I), drawn as μ + t·Lε with Σ = LLᵀ.

    Args:
        latent_dim: int or None. Defaults to None (set by `fit`).
        reg_covar: float. Added to the covariance diagonal. Defaults to 1e-6.
    """

    kind = "gaussian"

    def __init__(self, latent_dim: int | None = None, reg_covar: float = 1e-6):
        super().__init__(latent_dim)
        self.reg_covar = float(reg_covar)

    def _fit(self, latents):
        if len(latents) < 2:
            raise ValueError("the 'gaussian' sampler needs at least 2 latent codes to estimate a covariance")
        self.mean = latents.mean(axis=0)
        cov = np.cov(latents, rowvar=False).reshape(latents.shape[1], latents.shape[1])
        self.scale_tril = np.linalg.cholesky(cov + self.reg_covar * np.eye(latents.shape[1]))

    def _tf_sample(self, count, seed, temperature):
        eps = self._normal(count, seed)
        return _const(self.mean) + temperature * tf.matmul(eps, _const(self.scale_tril), transpose_b=True)

    def _params(self):
        return {"reg_covar": self.reg_covar}

    def _state(self):
        return {"mean": self.mean, "scale_tril": self.scale_tril}

    def _set_state(self, state):
        self.mean, self.scale_tril = state["mean"], state["scale_tril"]


@SAMPLERS.register("gmm")
class GaussianMixtureSampler(LatentSampler):
    """A k-component Gaussian mixture fitted by EM on the codes
    (`tfface.sampling.gmm`), sampled by choosing a component with a stateless
    categorical draw, then μ_k + t·L_k ε.

    Args:
        latent_dim: int or None. Defaults to None (set by `fit`).
        components: int. k. Defaults to 10.
        covariance: str. "full" or "diag". Defaults to "full".
        max_iter: int. EM iterations at most. Defaults to 100.
        tol: float. EM stopping tolerance on the mean log-likelihood.
            Defaults to 1e-4.
        reg_covar: float. Added to each covariance diagonal. Defaults to 1e-6.
        seed: int. Seed of the k-means++ initialisation. Defaults to 0.

    Example:

    >>> rng = np.random.default_rng(0)
    >>> codes = np.concatenate([rng.normal(-4, 0.5, (300, 2)), rng.normal(4, 0.5, (300, 2))])
    >>> sampler = GaussianMixtureSampler(components=2).fit(codes)
    >>> np.round(np.sort(sampler.means[:, 0])).tolist()
    [-4.0, 4.0]
    """

    kind = "gmm"

    def __init__(
        self,
        latent_dim: int | None = None,
        components: int = 10,
        covariance: str = "full",
        max_iter: int = 100,
        tol: float = 1e-4,
        reg_covar: float = 1e-6,
        seed: int = 0,
    ):
        super().__init__(latent_dim)
        if int(components) < 1:
            raise ValueError(f"components must be >= 1, got {components}")
        if covariance not in COVARIANCE_TYPES:
            raise ValueError(f"covariance must be one of {COVARIANCE_TYPES}, got {covariance!r}")
        self.components = int(components)
        self.covariance = covariance
        self.max_iter = int(max_iter)
        self.tol = float(tol)
        self.reg_covar = float(reg_covar)
        self.seed = int(seed)

    def _fit(self, latents):
        fit = fit_gaussian_mixture(
            latents,
            self.components,
            covariance=self.covariance,
            max_iter=self.max_iter,
            tol=self.tol,
            reg_covar=self.reg_covar,
            seed=self.seed,
        )
        self.weights = fit.weights
        self.means = fit.means
        self.scale_tril = np.linalg.cholesky(fit.covariances)
        self.log_likelihood = fit.log_likelihood
        self.converged = fit.converged

    def _tf_sample(self, count, seed, temperature):
        component_seed = tf.random.experimental.stateless_fold_in(seed, 1)
        noise_seed = tf.random.experimental.stateless_fold_in(seed, 2)
        logits = tf.math.log(_const(self.weights))[None, :]
        chosen = tf.random.stateless_categorical(logits, count, seed=component_seed, dtype=tf.int32)[0]
        means = tf.gather(_const(self.means), chosen)
        scales = tf.gather(_const(self.scale_tril), chosen)
        eps = self._normal(count, noise_seed)
        # (n, d, d) @ (n, d, 1) → (n, d): each code uses its component's L_k
        return means + temperature * tf.linalg.matvec(scales, eps)

    def _params(self):
        return {
            "components": self.components,
            "covariance": self.covariance,
            "max_iter": self.max_iter,
            "tol": self.tol,
            "reg_covar": self.reg_covar,
            "seed": self.seed,
        }

    def _state(self):
        return {"weights": self.weights, "means": self.means, "scale_tril": self.scale_tril}

    def _set_state(self, state):
        self.weights, self.means, self.scale_tril = state["weights"], state["means"], state["scale_tril"]


# -------------------------------------------------------------- files


def sampler_path(path: str | os.PathLike) -> str:
    """`path` itself, or `path/sampler.json` when `path` is a run folder."""
    path = os.fspath(path)
    return os.path.join(path, SAMPLER_FILE) if os.path.isdir(path) else path


def save_sampler(sampler: LatentSampler, path: str | os.PathLike) -> str:
    """Writes the sampler's config (with its fitted state) as JSON, atomically.
    A run folder as `path` writes `RUN/sampler.json`."""
    target = sampler_path(path)
    atomic_write_text(target, json.dumps(sampler.get_config()) + "\n")
    return target


def load_sampler(path: str | os.PathLike) -> LatentSampler:
    """Reads a sampler written by `save_sampler` (a file or a run folder)."""
    target = sampler_path(path)
    if not os.path.exists(target):
        raise FileNotFoundError(f"no sampler at {target}: fit one with `tfface sample RUN --sampler KIND --refit`")
    with open(target, encoding="utf-8") as handle:
        try:
            config = json.load(handle)
        except json.JSONDecodeError as error:
            raise ValueError(f"{target}: not valid JSON: {error}") from None
    if not isinstance(config, dict) or "kind" not in config:
        raise ValueError(f"{target}: expected a sampler config with a 'kind' key")
    return LatentSampler.from_config(config)


def make_sampler(kind: str, **kwargs: Any) -> LatentSampler:
    """An unfitted sampler of the registered `kind` with constructor `kwargs`."""
    cls = SAMPLERS.get(kind)
    try:
        return cls(**kwargs)
    except TypeError as error:
        raise TypeError(f"sampler {kind!r}: {error}") from None
