"""Gaussian mixtures fitted by expectation-maximisation, in numpy.

No scikit-learn: the mixture is small (tens of components over a latent
space of at most a few hundred dimensions) and EM is a few lines. Means
start from k-means++ seeds drawn with a seeded generator, so a fit is a
pure function of (data, arguments).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

COVARIANCE_TYPES = ("full", "diag")


@dataclass(frozen=True)
class MixtureFit:
    """A fitted mixture.

    Attributes:
        weights: (k,) mixing proportions, summing to 1.
        means: (k, d) component means.
        covariances: (k, d, d) component covariances (diagonal matrices for
            `covariance="diag"`).
        log_likelihood: mean log-likelihood per point at the last step.
        iterations: EM iterations run.
        converged: whether the change in mean log-likelihood fell below `tol`.
    """

    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray
    log_likelihood: float
    iterations: int
    converged: bool


def kmeans_plus_plus(x: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """k initial centres: the first uniformly, each next one with probability
    proportional to its squared distance to the nearest chosen centre."""
    n = len(x)
    centres = [x[rng.integers(n)]]
    nearest = np.sum((x - centres[0]) ** 2, axis=1)
    for _ in range(1, k):
        total = nearest.sum()
        index = rng.integers(n) if total <= 0 else rng.choice(n, p=nearest / total)
        centres.append(x[index])
        nearest = np.minimum(nearest, np.sum((x - x[index]) ** 2, axis=1))
    return np.stack(centres)


def nearest_centre(x: np.ndarray, centres: np.ndarray, max_elements: int = 1 << 18) -> np.ndarray:
    """Index of each point's nearest centre (squared Euclidean distance),
    computed over chunks of points so memory stays at about `max_elements`
    float64 values (2 MiB by default) whatever the number of points."""
    k, d = centres.shape
    rows = max(1, max_elements // max(1, k * d))
    out = np.empty(len(x), dtype=np.int64)
    for start in range(0, len(x), rows):
        chunk = x[start : start + rows]
        # (rows, k, d) differences for this chunk only
        out[start : start + rows] = np.argmin(((chunk[:, None, :] - centres[None]) ** 2).sum(-1), axis=1)
    return out


def gaussian_log_density(x: np.ndarray, means: np.ndarray, covariances: np.ndarray) -> np.ndarray:
    """log N(x_n | μ_k, Σ_k) for every point and component, shape (n, k)."""
    n, d = x.shape
    out = np.empty((n, len(means)))
    for k, (mean, cov) in enumerate(zip(means, covariances)):
        chol = np.linalg.cholesky(cov)
        # rows y = (x − μ) L⁻ᵀ, so (x − μ)ᵀ Σ⁻¹ (x − μ) = |y|²
        y = (x - mean) @ np.linalg.inv(chol).T
        log_det = 2.0 * np.sum(np.log(np.diag(chol)))
        out[:, k] = -0.5 * (d * np.log(2.0 * np.pi) + log_det + np.sum(y * y, axis=1))
    return out


def _logsumexp(a: np.ndarray) -> np.ndarray:
    top = np.max(a, axis=1, keepdims=True)
    return (top + np.log(np.sum(np.exp(a - top), axis=1, keepdims=True)))[:, 0]


def _m_step(x, resp, covariance, reg_covar):
    d = x.shape[1]
    counts = resp.sum(axis=0) + 10.0 * np.finfo(np.float64).eps
    means = resp.T @ x / counts[:, None]
    covariances = np.empty((len(counts), d, d))
    for k in range(len(counts)):
        diff = x - means[k]
        if covariance == "full":
            weighted = diff * np.sqrt(resp[:, k])[:, None]
            cov = weighted.T @ weighted / counts[k]
        else:
            cov = np.diag(resp[:, k] @ (diff * diff) / counts[k])
        covariances[k] = cov + reg_covar * np.eye(d)
    return counts / counts.sum(), means, covariances


def fit_gaussian_mixture(
    x: np.ndarray,
    components: int,
    *,
    covariance: str = "full",
    max_iter: int = 100,
    tol: float = 1e-4,
    reg_covar: float = 1e-6,
    seed: int = 0,
) -> MixtureFit:
    """Fits a k-component Gaussian mixture to points `x` (n, d) by EM.

    Initialisation: k-means++ centres, hard assignment of every point to its
    nearest centre (in chunks: memory grows with n·d and n·k, never n·k·d),
    then one M-step. `reg_covar` is added to every
    covariance diagonal so components never collapse onto single points.

    Args:
        x: array (n, d). The points, e.g. latent codes.
        components: int. k, at most n.
        covariance: str. "full" or "diag". Defaults to "full".
        max_iter: int. Defaults to 100.
        tol: float. Stop when the mean log-likelihood improves by less.
            Defaults to 1e-4.
        reg_covar: float. Defaults to 1e-6.
        seed: int. Seed of the k-means++ initialisation. Defaults to 0.

    Example:

    >>> rng = np.random.default_rng(0)
    >>> x = np.concatenate([rng.normal(-5, 1, (200, 2)), rng.normal(5, 1, (200, 2))])
    >>> fit = fit_gaussian_mixture(x, 2)
    >>> np.round(np.sort(fit.means[:, 0])).tolist()
    [-5.0, 5.0]
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"expected points of shape (n, d), got {x.shape}")
    if covariance not in COVARIANCE_TYPES:
        raise ValueError(f"covariance must be one of {COVARIANCE_TYPES}, got {covariance!r}")
    if not 1 <= components <= len(x):
        raise ValueError(f"components={components} must be between 1 and the number of points ({len(x)})")
    rng = np.random.default_rng(seed)
    centres = kmeans_plus_plus(x, components, rng)
    resp = np.eye(components)[nearest_centre(x, centres)]
    weights, means, covariances = _m_step(x, resp, covariance, reg_covar)
    previous, converged, iteration = -np.inf, False, 0
    log_likelihood = -np.inf
    for iteration in range(1, max_iter + 1):
        weighted = gaussian_log_density(x, means, covariances) + np.log(weights)
        norm = _logsumexp(weighted)
        log_likelihood = float(norm.mean())
        resp = np.exp(weighted - norm[:, None])
        weights, means, covariances = _m_step(x, resp, covariance, reg_covar)
        if abs(log_likelihood - previous) < tol:
            converged = True
            break
        previous = log_likelihood
    return MixtureFit(weights, means, covariances, log_likelihood, iteration, converged)
