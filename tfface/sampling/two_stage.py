"""The two-stage VAE sampler (Dai & Wipf 2019): a second, small VAE fitted
on the first stage's latent codes; sampling draws u ~ N(0, I), decodes it
and adds the second-stage decoder's Gaussian noise, giving a first-stage code.

The second stage is tfface's own `VAE` (the same `train_step`) over dense
trunks on codes shaped (1, 1, d), with a calibrated Gaussian decoder
(σ-VAE) — the learned γ → 0 of the paper. After fitting, only its decoder's
weights are kept, as the sampler's state: `tf_sample` is a graph-safe
dense forward pass over constants, so an exported `sample` signature
serves it, and `RUN/sampler.json` holds the weights.
"""

from __future__ import annotations

from typing import Any, Sequence

import keras
import numpy as np
import tensorflow as tf

from tfface.layers import Decoder, Encoder
from tfface.models import VAE
from tfface.sampling.samplers import SAMPLERS, LatentSampler, _const


@SAMPLERS.register("two_stage")
class TwoStageVAESampler(LatentSampler):
    """A small dense VAE fitted on the (standardised) codes; a sample is
    g(u) + σ ⊙ ε for u ~ N(0, t²I), ε ~ N(0, t²I), with g the second stage's
    decoder and σ its per-dimension residual scale on the training codes.

    The noise term matters: codes that are close to independent Gaussians
    are modelled equally well by a second stage that ignores u (g constant,
    σ = the codes' spread), and decoding g(u) alone would then give the
    mean code every time. With the noise, that solution samples the right
    diagonal Gaussian, and a second stage that uses u (σ → 0, the paper's
    γ → 0) samples its curved density.

    Fitting trains for `epochs` with Adam and seeds Keras' global random
    state with `seed` (weights initialisation and shuffling), so a fit is a
    function of (codes, arguments).

    Args:
        latent_dim: int or None. Defaults to None (set by `fit`).
        inner_dim: int or None. Size of u; None uses the codes' dimension
            (as in the paper). Defaults to None.
        hidden_units: list of int. Hidden dense layers of both the encoder
            and the decoder. Defaults to (512, 512).
        activation: str. Hidden activation. Defaults to "relu".
        decoder_sigma: str. The second stage's Gaussian decoder (see
            `tfface.layers.GaussianLikelihood`). The default, one analytic σ
            per code dimension, lets dimensions the first stage does not use
            (noise around 0) be explained by their own σ ≈ 1 instead of
            inflating one shared σ until the second stage ignores u and every
            sample is the mean code. Defaults to "optimal_channel".
        epochs: int. Defaults to 100.
        batch_size: int. Defaults to 128.
        learning_rate: float. Defaults to 1e-3.
        seed: int. Defaults to 0.

    Example:

    >>> codes = np.random.default_rng(0).normal(3.0, 2.0, (512, 2))
    >>> sampler = TwoStageVAESampler(hidden_units=(16,), epochs=2).fit(codes)
    >>> sampler.sample(4, seed=0).shape
    (4, 2)

    Reference:
        Dai & Wipf, "Diagnosing and Enhancing VAE Models", ICLR 2019.
    """

    kind = "two_stage"

    def __init__(
        self,
        latent_dim: int | None = None,
        inner_dim: int | None = None,
        hidden_units: Sequence[int] = (512, 512),
        activation: str = "relu",
        decoder_sigma: str = "optimal_channel",
        epochs: int = 100,
        batch_size: int = 128,
        learning_rate: float = 1e-3,
        seed: int = 0,
    ):
        super().__init__(latent_dim)
        if inner_dim is not None and int(inner_dim) < 1:
            raise ValueError(f"inner_dim must be >= 1, got {inner_dim}")
        if int(epochs) < 1:
            raise ValueError(f"epochs must be >= 1, got {epochs}")
        self.inner_dim = None if inner_dim is None else int(inner_dim)
        self.hidden_units = [int(u) for u in hidden_units]
        self.activation = activation
        self.decoder_sigma = decoder_sigma
        self.epochs = int(epochs)
        self.batch_size = int(batch_size)
        self.learning_rate = float(learning_rate)
        self.seed = int(seed)

    # -------------------------------------------------------------- fitting

    def second_stage(self, latent_dim: int) -> VAE:
        """The (unfitted) second-stage VAE over codes shaped (1, 1, d)."""
        inner = self.inner_dim or latent_dim
        shape = (1, 1, latent_dim)
        encoder = Encoder(image_shape=shape, latent_dim=inner, dense_units=self.hidden_units,
                          dense_activation=self.activation, name="stage2_encoder")  # fmt: skip
        decoder = Decoder(latent_dim=inner, image_shape=shape, start_shape=shape, dense_units=self.hidden_units,
                          dense_activation=self.activation, output_activation=None, value_range="-1_1",
                          name="stage2_decoder")  # fmt: skip
        return VAE(encoder, decoder, decoder_sigma=self.decoder_sigma, seed=self.seed, name="two_stage_vae")

    def _fit(self, latents):
        self.mean = latents.mean(axis=0)
        self.std = np.maximum(latents.std(axis=0), 1e-6)
        codes = ((latents - self.mean) / self.std).astype(np.float32)[:, None, None, :]
        policy = keras.config.dtype_policy()
        keras.config.set_dtype_policy("float32")
        try:
            keras.utils.set_random_seed(self.seed)
            model = self.second_stage(latents.shape[1])
            model.compile(optimizer=keras.optimizers.Adam(self.learning_rate))
            history = model.fit(codes, epochs=self.epochs, batch_size=min(self.batch_size, len(codes)), verbose=0)
        finally:
            keras.config.set_dtype_policy(policy)
        self.final_loss = float(history.history["loss"][-1])
        reconstructed = keras.ops.convert_to_numpy(model(codes, training=False))
        self.noise_std = np.sqrt(np.mean((reconstructed - codes) ** 2, axis=(0, 1, 2))).astype(np.float64)
        dense = [layer for layer in model.decoder.layers if isinstance(layer, keras.layers.Dense)]
        self.kernels = [np.asarray(layer.kernel.numpy(), np.float64) for layer in dense]
        self.biases = [np.asarray(layer.bias.numpy(), np.float64) for layer in dense]

    # ------------------------------------------------------------- sampling

    def _tf_sample(self, count, seed, temperature):
        inner = self.kernels[0].shape[0]
        u_seed = tf.random.experimental.stateless_fold_in(seed, 1)
        noise_seed = tf.random.experimental.stateless_fold_in(seed, 2)
        x = temperature * tf.random.stateless_normal(tf.stack([count, inner]), seed=u_seed, dtype=tf.float32)
        activation = keras.activations.get(self.activation)
        for i, (kernel, bias) in enumerate(zip(self.kernels, self.biases)):
            x = tf.matmul(x, _const(kernel)) + _const(bias)
            if i < len(self.kernels) - 1:
                x = activation(x)
        x = x + temperature * _const(self.noise_std) * self._normal(count, noise_seed)
        return _const(self.mean) + _const(self.std) * x

    # -------------------------------------------------------- serialization

    def _params(self) -> dict[str, Any]:
        return {
            "inner_dim": self.inner_dim,
            "hidden_units": self.hidden_units,
            "activation": self.activation,
            "decoder_sigma": self.decoder_sigma,
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "learning_rate": self.learning_rate,
            "seed": self.seed,
        }

    def _state(self) -> dict[str, Any]:
        state = {"mean": self.mean, "std": self.std, "noise_std": self.noise_std}
        for i, (kernel, bias) in enumerate(zip(self.kernels, self.biases)):
            state[f"kernel_{i}"] = kernel.astype(np.float32)
            state[f"bias_{i}"] = bias.astype(np.float32)
        return state

    def _set_state(self, state):
        self.mean, self.std, self.noise_std = state["mean"], state["std"], state["noise_std"]
        layers = sum(1 for key in state if key.startswith("kernel_"))
        self.kernels = [state[f"kernel_{i}"] for i in range(layers)]
        self.biases = [state[f"bias_{i}"] for i in range(layers)]
