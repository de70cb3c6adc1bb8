"""`LatentAutoencoder`: the one training step every tfface model shares."""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf
from keras import ops

from tfface.layers.serialization import Configurable
from tfface.layers.trunks import Decoder, Encoder
from tfface.losses import reconstruction_loss
from tfface.models.posterior import DiagonalGaussian, PointMass
from tfface.models.steps import apply_gradients, scaled_loss, step_results
from tfface.value_range import ValueRange

def images_from_batch(data: Any):
    """The images of a batch given as `x`, `(x, y)`, `(x, y, w)` or a dict."""
    x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
    if isinstance(x, dict):
        x = x["image"]
    return x


class FaceModel(Configurable, keras.Model):
    """Base of tfface's subclassed model families: the config written once
    (`Configurable`: name, trainable, the trunks in `nested`) and the
    `build()` every family needs.

    Subclasses store each constructor argument under its own name and
    extend `get_config()` with `super().get_config()` then `update`.

    Args:
        **kwargs: `keras.Model` arguments (name, trainable, dtype).
    """

    nested = ("encoder",)

    def build(self, input_shape=None):
        # The trunks are functional models, built at construction. Marking
        # the wrapper built makes count_params(), save() and export() work
        # before and after fit() (which does not build subclassed models).
        self.built = True


class LatentAutoencoder(FaceModel):
    """Base class: encoder → posterior → latent → decoder, trained by one
    `train_step`/`test_step` pair that reports every loss term as a metric.

    Subclasses change behaviour only through `regularizer()` (e.g. the KL
    term of the VAE) and `loss_terms`. `call()` is deterministic: it decodes
    the posterior mode. In training the latent is sampled from the posterior
    (a point mass for autoencoders), inputs may be corrupted with Gaussian
    noise (`input_noise_stddev`, the denoising autoencoder), and the loss is

        loss = mean_batch(reconstruction) + regularizer(...)

    with the reconstruction summed (or averaged) over pixels, see
    `tfface.losses`.

    Args:
        encoder: `tfface.layers.Encoder`. Its head decides the posterior
            (Gaussian → `DiagonalGaussian`, deterministic → `PointMass`).
        decoder: `tfface.layers.Decoder`.
        reconstruction_loss: str. "mse" or "bce". Defaults to "mse".
        reconstruction_reduction: str. "sum" or "mean" over pixels.
            Defaults to "sum".
        input_noise_stddev: float. Std of Gaussian noise added to inputs in
            training (targets stay clean). Defaults to 0.
        freeze_encoder: bool. Train the decoder only (report 000, model 3).
            Defaults to False.
        seed: int or None. Seed of the model's own random draws.
    """

    nested = ("encoder", "decoder")
    loss_terms: tuple[str, ...] = ("loss", "reconstruction_loss")
    kl_reduction: str = "sum"

    def __init__(
        self,
        encoder: Encoder,
        decoder: Decoder,
        reconstruction_loss: str = "mse",
        reconstruction_reduction: str = "sum",
        input_noise_stddev: float = 0.0,
        freeze_encoder: bool = False,
        seed: int | None = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        if encoder.latent_dim != decoder.latent_dim:
            raise ValueError(
                f"encoder latent_dim {encoder.latent_dim} != decoder latent_dim {decoder.latent_dim}"
            )
        if tuple(encoder.image_shape) != tuple(decoder.image_shape):
            raise ValueError(
                f"encoder input {encoder.image_shape} != decoder output {decoder.image_shape}"
            )
        self.encoder = encoder
        self.decoder = decoder
        self.reconstruction_loss = reconstruction_loss
        self.reconstruction_reduction = reconstruction_reduction
        self.input_noise_stddev = float(input_noise_stddev)
        self.freeze_encoder = bool(freeze_encoder)
        if self.freeze_encoder:
            self.encoder.trainable = False
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.trackers = {name: keras.metrics.Mean(name=name) for name in self.loss_terms}
        self.build(self.encoder.input_shape)

    # ------------------------------------------------------------ structure

    @property
    def latent_dim(self) -> int:
        return self.decoder.latent_dim

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.decoder.image_shape)

    @property
    def value_range(self) -> ValueRange:
        """The range of inputs and outputs ("0_1" or "-1_1")."""
        return self.decoder.value_range

    @property
    def metrics(self):
        return list(self.trackers.values())

    # ------------------------------------------------------------- inference

    def posterior(self, images, training: bool = False):
        """q(z|x): a `DiagonalGaussian` or a `PointMass`."""
        out = self.encoder(images, training=training and not self.freeze_encoder)
        if self.encoder.head == "gaussian":
            return DiagonalGaussian(out[0], out[1])
        return PointMass(out)

    def encode(self, images, training: bool = False):
        """The latent code used by `call()`: the posterior mode."""
        return self.posterior(images, training=training).mode()

    def decode(self, z, training: bool = False):
        return self.decoder(z, training=training)

    def call(self, images, training: bool = False):
        return self.decode(self.encode(images, training=training), training=training)

    # -------------------------------------------------------------- training

    def corrupt(self, images):
        """Adds `input_noise_stddev` Gaussian noise, clipped to the value range."""
        if not self.input_noise_stddev:
            return images
        noise = keras.random.normal(ops.shape(images), seed=self.seed_generator, dtype=images.dtype)
        low, high = self.value_range.bounds
        return ops.clip(images + self.input_noise_stddev * noise, low, high)

    def regularizer(self, kl, posterior, z):
        """Extra loss added to the reconstruction term; 0 for autoencoders."""
        return ops.convert_to_tensor(0.0, dtype="float32")

    def compute_losses(self, images, training: bool = False) -> dict[str, Any]:
        """Every loss term for a batch of images, as scalars (float32)."""
        inputs = self.corrupt(images) if training else images
        posterior = self.posterior(inputs, training=training)
        z = posterior.sample(self.seed_generator) if training else posterior.mode()
        outputs = self.decode(z, training=training)
        rec = ops.mean(
            reconstruction_loss(
                images,
                outputs,
                kind=self.reconstruction_loss,
                reduction=self.reconstruction_reduction,
                value_range=self.value_range,
            )
        )
        kl = posterior.kl(self.kl_reduction)
        reg = self.regularizer(kl, posterior, z)
        return {"loss": rec + reg, "reconstruction_loss": rec, "kl_loss": ops.mean(kl)}

    def _record(self, terms: dict[str, Any]) -> dict[str, Any]:
        for name, tracker in self.trackers.items():
            tracker.update_state(terms[name])
        return step_results({name: tracker.result() for name, tracker in self.trackers.items()})

    def train_step(self, data):
        images = images_from_batch(data)
        with tf.GradientTape() as tape:
            terms = self.compute_losses(images, training=True)
            scaled = scaled_loss(self, terms["loss"])
        apply_gradients(self, tape, scaled)
        return self._record(terms)

    def test_step(self, data):
        return self._record(self.compute_losses(images_from_batch(data), training=False))

    # --------------------------------------------------------- serialization

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({
            "reconstruction_loss": self.reconstruction_loss,
            "reconstruction_reduction": self.reconstruction_reduction,
            "input_noise_stddev": self.input_noise_stddev,
            "freeze_encoder": self.freeze_encoder,
            "seed": self.seed,
        })
        return config
