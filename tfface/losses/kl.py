"""KL divergence of a diagonal Gaussian posterior from the standard normal."""

from keras import ops


def gaussian_kl(mean, log_var, reduction: str = "sum"):
    """Per-example KL(N(mean, exp(log_var)) || N(0, I)).

    KL = -1/2 · Σ_j (1 + log σ_j² − μ_j² − σ_j²), over the latent axis (-1).

    Args:
        mean: tensor of shape (batch, latent_dim).
        log_var: tensor of the same shape: log σ².
        reduction: str. "sum" or "mean" over latent dimensions.
            Defaults to "sum".

    Returns:
        A float32 tensor of shape (batch,).

    Example:

    >>> float(gaussian_kl(np.zeros((1, 4)), np.zeros((1, 4)))[0])
    0.0
    """
    mean = ops.cast(mean, "float32")
    log_var = ops.cast(log_var, "float32")
    per_dim = -0.5 * (1.0 + log_var - ops.square(mean) - ops.exp(log_var))
    if reduction == "sum":
        return ops.sum(per_dim, axis=-1)
    if reduction == "mean":
        return ops.mean(per_dim, axis=-1)
    raise ValueError(f"reduction must be 'sum' or 'mean', got {reduction!r}")
