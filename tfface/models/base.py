"""`LatentAutoencoder`: the one training step every tfface model shares."""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf
from keras import ops

from tfface.layers.augment import DiffAugment
from tfface.layers.discriminator import PatchDiscriminator
from tfface.layers.likelihood import GaussianLikelihood
from tfface.layers.serialization import Configurable
from tfface.layers.trunks import Decoder, Encoder
from tfface.losses import reconstruction_loss
from tfface.losses.perceptual import PerceptualLoss
from tfface.models.adversarial import (
    ADVERSARIAL_TERMS,
    AdversarialSwitch,
    adversarial_test_terms,
    adversarial_train_terms,
    adversarial_due,
    adversarial_gate,
    critic_statistics,
    discriminator_optimizer_for,
    generator_loss,
    inactive_terms,
)
from tfface.models.critic import (
    LeCamAnchors,
    check_critic_options,
    critic_metric_names,
    generator_extra_loss,
    generator_extra_terms,
)
from tfface.models.posterior import DiagonalGaussian, PointMass
from tfface.models.steps import apply_gradient_list, scale_for, scaled_loss, step_results
from tfface.replicas import global_batch_normal
from tfface.value_range import ValueRange

#: What `reconstruction_reduction=None` means without a calibrated decoder.
DEFAULT_RECONSTRUCTION_REDUCTION = "sum"


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
               [+ perceptual_weight · mean_batch(perceptual distance)]

    with the reconstruction summed (or averaged) over pixels, see
    `tfface.losses`. Two optional terms sharpen images:

    - perceptual (`perceptual_weight > 0`): the LPIPS-style distance between
      VGG16 features of images and reconstructions (equal layer weights, see
      `tfface.losses.perceptual`). It is per image, on LPIPS' scale (~0.1-1):
      with `reconstruction_reduction="sum"` the reconstruction is H·W·C times
      the per-pixel mean, so weigh it accordingly. The VGG16 is built when
      training or evaluation starts (not saved with the model; loading and
      serving never need its weights).
    - adversarial (`adversarial_weight > 0`): a `PatchDiscriminator` with its
      own optimizer (`compile(discriminator_optimizer=...)`, by default
      Adam(β=0.5, 0.9) at the model's learning rate; loss-scaled under
      mixed_float16), hinge losses and VQGAN's adaptive weight, on from
      optimizer step `adversarial_start`, decided in the graph
      (see `tfface.models.adversarial`). Its weights and optimizer state are
      saved with the model and in checkpoints; the export serves only the
      encoder and decoder. The term is reported, not added to `loss`
      (which stays comparable with and without it), as `adversarial_loss`
      (−mean D(x̂)), `adversarial_weight_effective` (w·λ as applied: the
      argument `adversarial_weight` is w, λ the adaptive weight),
      `discriminator_loss`, `discriminator_real` and `discriminator_fake`
      (mean logits).
    - the discriminator's options against over-fitting a small face set
      (DiffAugment, LeCam, lazy R1, spectral
      normalisation, feature matching, an update every k steps; all off by
      default), see `tfface.models.critic`.

    With `decoder_sigma` the reconstruction term is the
    negative log-likelihood of a calibrated Gaussian decoder (σ-VAE,
    `tfface.layers.GaussianLikelihood`), and log σ is reported as a metric.

    Args:
        encoder: `tfface.layers.Encoder`. Its head decides the posterior
            (Gaussian → `DiagonalGaussian`, deterministic → `PointMass`).
        decoder: `tfface.layers.Decoder`.
        reconstruction_loss: str. "mse" or "bce". Defaults to "mse".
        reconstruction_reduction: str or None. "sum" or "mean" over pixels;
            None is "sum". A calibrated decoder (`decoder_sigma`) has its
            own likelihood: setting both is a ValueError. Defaults to None.
        input_noise_stddev: float. Std of Gaussian noise added to inputs in
            training (targets stay clean). Defaults to 0.
        freeze_encoder: bool. Train the decoder only (report 000, model 3).
            Defaults to False.
        decoder_sigma: str or None. A calibrated Gaussian decoder replacing
            `reconstruction_loss`: "learned", "learned_channel", "optimal"
            or "optimal_channel" (see `GaussianLikelihood`). Defaults to None.
        seed: int or None. Seed of the model's own random draws.
        perceptual_weight: float. Weight of the perceptual term; 0 = off.
            Defaults to 0.
        perceptual_weights: str or None. VGG16 weights: "imagenet" (Keras
            downloads them once), the path of a local
            `vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5`, or "random"
            (random VGG, for tests only). Defaults to "imagenet".
        adversarial_weight: float. Base weight w of the adversarial term;
            0 = off (no discriminator). Defaults to 0.
        adversarial_start: int. Optimizer step from which the adversarial
            term is on. Defaults to 0.
        discriminator_layers: int. Stride-2 convs of the PatchGAN.
            Defaults to 3.
        discriminator_width: int. Its first conv's channels. Defaults to 64.
        discriminator_norm: str or None. Its norm. Defaults to "batch".
        discriminator_augment: str or None. DiffAugment policy of every
            image the discriminator sees ("color,translation,cutout" or a
            subset); None = off. Defaults to None.
        discriminator_spectral_norm: bool. Spectral normalisation of its
            convs. Defaults to False.
        discriminator_every: int. Update the discriminator on every k-th
            step only. Defaults to 1.
        lecam_weight: float. Weight of the LeCam regulariser; 0 = off.
            Defaults to 0.
        lecam_decay: float. Decay of its EMA anchors. Defaults to 0.99.
        r1_weight: float. γ of the R1 penalty (γ/2)·E‖∇D(x)‖²; 0 = off.
            Defaults to 0.
        r1_every: int. Lazy R1: every k-th discriminator update, scaled by
            k. Defaults to 16.
        feature_matching_weight: float. Weight of the L1 distance between
            the discriminator's hidden features of images and
            reconstructions in the generator's loss; 0 = off. Defaults to 0.

    Example:

    >>> from tfface.layers import symmetric_trunks
    >>> enc, dec = symmetric_trunks((32, 32), [8, 16], 8, head="deterministic")
    >>> model = LatentAutoencoder(enc, dec, adversarial_weight=0.5, discriminator_width=8)
    >>> model.compile(optimizer="adam")
    >>> logs = model.fit(np.random.rand(8, 32, 32, 3).astype("float32"), epochs=1, batch_size=4, verbose=0)
    >>> sorted(logs.history)[:3]
    ['adversarial_loss', 'adversarial_weight_effective', 'discriminator_fake']
    """

    nested = ("encoder", "decoder")
    loss_terms: tuple[str, ...] = ("loss", "reconstruction_loss")
    kl_reduction: str = "sum"

    def __init__(
        self,
        encoder: Encoder,
        decoder: Decoder,
        reconstruction_loss: str = "mse",
        reconstruction_reduction: str | None = None,
        input_noise_stddev: float = 0.0,
        freeze_encoder: bool = False,
        decoder_sigma: str | None = None,
        seed: int | None = None,
        perceptual_weight: float = 0.0,
        perceptual_weights: str | None = "imagenet",
        adversarial_weight: float = 0.0,
        adversarial_start: int = 0,
        discriminator_layers: int = 3,
        discriminator_width: int = 64,
        discriminator_norm: str | None = "batch",
        discriminator_augment: str | None = None,
        discriminator_spectral_norm: bool = False,
        discriminator_every: int = 1,
        lecam_weight: float = 0.0,
        lecam_decay: float = 0.99,
        r1_weight: float = 0.0,
        r1_every: int = 16,
        feature_matching_weight: float = 0.0,
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
        self.decoder_sigma = decoder_sigma
        self.likelihood = None
        if decoder_sigma is not None:
            if reconstruction_reduction is not None:
                raise ValueError(
                    f"reconstruction_reduction={reconstruction_reduction!r} does not apply to decoder_sigma={decoder_sigma!r}: "
                    "a Gaussian decoder's loss is its negative log-likelihood summed over pixels; remove one of them"
                )
            if reconstruction_loss != "mse":
                raise ValueError(f"decoder_sigma={decoder_sigma!r} is a Gaussian decoder: reconstruction_loss must be 'mse', got {reconstruction_loss!r}")
            self.likelihood = GaussianLikelihood(decoder_sigma, channels=decoder.image_shape[-1], name="likelihood")
            self.loss_terms = (*self.loss_terms, "log_sigma")
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        if perceptual_weight < 0 or adversarial_weight < 0 or adversarial_start < 0:
            raise ValueError(
                "perceptual_weight, adversarial_weight and adversarial_start must be >= 0, got "
                f"{perceptual_weight}, {adversarial_weight}, {adversarial_start}"
            )
        self.perceptual_weight = float(perceptual_weight)
        self.perceptual_weights = perceptual_weights
        self.perceptual = None  # a PerceptualLoss, built by make_train/test_function
        self.adversarial_weight = float(adversarial_weight)
        self.adversarial_start = int(adversarial_start)
        self.discriminator_layers = int(discriminator_layers)
        self.discriminator_width = int(discriminator_width)
        self.discriminator_norm = discriminator_norm
        self.discriminator_augment = discriminator_augment or None
        self.discriminator_spectral_norm = bool(discriminator_spectral_norm)
        self.discriminator_every = int(discriminator_every)
        self.lecam_weight = float(lecam_weight)
        self.lecam_decay = float(lecam_decay)
        self.r1_weight = float(r1_weight)
        self.r1_every = int(r1_every)
        self.feature_matching_weight = float(feature_matching_weight)
        check_critic_options(self)
        self.discriminator = None
        self.discriminator_optimizer = None
        self.discriminator_augmenter = None
        self.lecam = None
        self.adversarial_on = False  # whether the traced step holds the (gated) term, see make_train_function
        if self.adversarial_weight:
            self.discriminator = PatchDiscriminator(
                self.image_shape, discriminator_layers, discriminator_width, discriminator_norm,
                spectral_norm=self.discriminator_spectral_norm, name="discriminator",
            )  # fmt: skip
            if self.discriminator_augment:
                self.discriminator_augmenter = DiffAugment(self.discriminator_augment, self.value_range.value,
                                                           seed=seed, name="discriminator_augment")  # fmt: skip
            if self.lecam_weight:
                self.lecam = LeCamAnchors(self.lecam_decay, name="lecam_anchors")
        self.trackers = {name: keras.metrics.Mean(name=name) for name in self.metric_names()}
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

    def metric_names(self) -> tuple[str, ...]:
        """Every reported term: `loss_terms` and those of the optional terms."""
        perceptual = ("perceptual_loss",) if self.perceptual_weight else ()
        adversarial = (*ADVERSARIAL_TERMS, *critic_metric_names(self)) if self.adversarial_weight else ()
        return (*self.loss_terms, *perceptual, *adversarial)

    @property
    def trainable_variables(self):
        """The variables the model's optimizer updates (`autoencoder_variables`):
        Keras' own hooks on the optimizer (the weight average's swap and
        finalisation) read this name; `trainable_weights` and `summary()`
        count the discriminator too."""
        return self.autoencoder_variables

    @property
    def autoencoder_variables(self) -> list:
        """The trainable variables the model's optimizer updates: all but the
        discriminator's, which has its own optimizer (`trainable_weights`
        and `summary()` count both)."""
        own = self.trainable_weights
        if self.discriminator is None:
            return own
        critic = {id(v) for v in self.discriminator.trainable_variables}
        return [v for v in own if id(v) not in critic]

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
        """Decodes latent codes `z` (N, latent_dim) into images in the model's value range."""
        return self.decoder(z, training=training)

    def call(self, images, training: bool = False):
        return self.decode(self.encode(images, training=training), training=training)

    # -------------------------------------------------------------- training

    def corrupt(self, images):
        """Adds `input_noise_stddev` Gaussian noise, clipped to the value range
        (each example's noise independent of the replica it lands on)."""
        if not self.input_noise_stddev:
            return images
        noise = global_batch_normal(ops.shape(images), self.seed_generator, dtype=images.dtype)
        low, high = self.value_range.bounds
        return ops.clip(images + self.input_noise_stddev * noise, low, high)

    def regularizer(self, kl, posterior, z):
        """Extra loss added to the reconstruction term; 0 for autoencoders."""
        return ops.convert_to_tensor(0.0, dtype="float32")

    def compute_losses(self, images, training: bool = False) -> dict[str, Any]:
        """Every loss term for a batch of images, as scalars (float32)."""
        return self.losses_and_outputs(images, training=training)[0]

    def losses_and_outputs(self, images, training: bool = False):
        """(every loss term as float32 scalars, the reconstructions)."""
        inputs = self.corrupt(images) if training else images
        posterior = self.posterior(inputs, training=training)
        z = posterior.sample(self.seed_generator) if training else posterior.mode()
        outputs = self.decode(z, training=training)
        terms = self.reconstruction_terms(images, outputs)
        rec = terms["reconstruction_loss"]
        kl = posterior.kl(self.kl_reduction)
        reg = self.regularizer(kl, posterior, z)
        terms = {**terms, "loss": rec + reg, "kl_loss": ops.mean(kl)}
        if self.perceptual_weight:
            terms["perceptual_loss"] = ops.mean(self.perceptual(images, outputs))
            terms["loss"] = terms["loss"] + self.perceptual_weight * terms["perceptual_loss"]
        return terms, outputs

    def reconstruction_terms(self, images, outputs) -> dict[str, Any]:
        """{"reconstruction_loss": batch mean} (plus "log_sigma" for a
        calibrated decoder): the data term of the loss."""
        if self.likelihood is not None:
            nll, log_sigma = self.likelihood(images, outputs)
            return {"reconstruction_loss": ops.mean(nll), "log_sigma": log_sigma}
        per_example = reconstruction_loss(
            images,
            outputs,
            kind=self.reconstruction_loss,
            reduction=self.reconstruction_reduction or DEFAULT_RECONSTRUCTION_REDUCTION,
            value_range=self.value_range,
        )
        return {"reconstruction_loss": ops.mean(per_example)}

    def _record(self, terms: dict[str, Any], every_tracker: bool = False, weights=None) -> dict[str, Any]:
        """Updates the trackers of the terms given and returns their results
        (with `every_tracker`, those of every tracker). `weights` maps a
        term to its weight in the epoch's mean (0 on a step without it, such
        as lazy R1's penalty: the mean is over the steps with it)."""
        weights = weights or {}
        names = [name for name in self.trackers if name in terms]
        for name in names:
            self.trackers[name].update_state(terms[name], sample_weight=weights.get(name))
        reported = list(self.trackers) if every_tracker else names
        return step_results({name: self.trackers[name].result() for name in reported})

    def train_step(self, data):
        images = images_from_batch(data)
        variables = self.autoencoder_variables
        with tf.GradientTape(persistent=self.adversarial_on) as tape:
            terms, outputs = self.losses_and_outputs(images, training=True)
            scaled = scaled_loss(self, terms["loss"])
            if self.adversarial_on:
                statistics = critic_statistics(self)
                adversarial_loss = generator_loss(self, outputs)
                # gated like L_GAN: off before the start (decided in the graph)
                extra = {name: adversarial_gate(self) * value
                         for name, value in generator_extra_terms(self, images, outputs).items()}  # fmt: skip
                if extra:
                    terms.update(extra)
                    scaled = scaled + scale_for(self.optimizer, generator_extra_loss(self, extra))
        weights = {}
        if self.adversarial_on:
            grads, more, weights = adversarial_train_terms(self, tape, scaled, variables, images, outputs,
                                                           adversarial_loss, statistics)  # fmt: skip
            terms.update(more)
        else:
            grads = tape.gradient(scaled, variables)
            if self.discriminator is not None:
                terms.update(inactive_terms())
        apply_gradient_list(self.optimizer, grads, variables)
        return self._record(terms, every_tracker=True, weights=weights)

    def test_step(self, data):
        images = images_from_batch(data)
        terms, outputs = self.losses_and_outputs(images, training=False)
        if self.discriminator is not None:
            terms.update(adversarial_test_terms(self, images, outputs))
            terms.update(generator_extra_terms(self, images, outputs))
        return self._record(terms)

    # ------------------------------------------- training-only parts

    def compile(self, optimizer="rmsprop", *args, discriminator_optimizer=None, **kwargs):
        """`keras.Model.compile`, plus the discriminator's own optimizer
        (adversarial term; see `discriminator_optimizer_for`: default
        `default_discriminator_optimizer`, loss-scaled under mixed_float16)."""
        super().compile(optimizer, *args, **kwargs)
        if self.discriminator is not None:
            self.discriminator_optimizer = discriminator_optimizer_for(self, discriminator_optimizer)
            # Built now, so that checkpoints and `.keras` files load into
            # them, and so that `fit` does not build the model's optimizer
            # over the discriminator's variables too.
            self.discriminator_optimizer.build(self.discriminator.trainable_variables)
            self.optimizer.build(self.autoencoder_variables)

    def get_compile_config(self):
        config = super().get_compile_config()
        if config is not None and self.discriminator_optimizer is not None:
            config = {**config, "discriminator_optimizer": keras.saving.serialize_keras_object(self.discriminator_optimizer)}
        return config

    def compile_from_config(self, config):
        """Recompiles a loaded model (both optimizers; their state is loaded after)."""
        self.compile(**keras.saving.deserialize_keras_object(config))
        if self.optimizer is not None and not self.optimizer.built:
            self.optimizer.build(self.autoencoder_variables)

    def build_perceptual(self) -> None:
        """Builds the perceptual term's VGG16 (once), under the model's
        distribution strategy; raises `PerceptualWeightsError` naming
        `perceptual_weights` when its weights cannot be had."""
        if self.perceptual_weight and self.perceptual is None:
            with self.distribute_strategy.scope():
                self.perceptual = PerceptualLoss(self.image_shape, self.value_range, self.perceptual_weights)

    def make_train_function(self, force=False):
        """Keras' train function; retraced with the adversarial term (gated
        by the step in the graph) once its start may fall within the next
        execution. Until then each call reads the step counter once (`fit`
        calls this once, then `AdversarialSwitch` counts on the host)."""
        self.build_perceptual()
        if not self.adversarial_on and adversarial_due(self, self.steps_per_execution):
            self.adversarial_on = force = True
        return super().make_train_function(force)

    def fit(self, *args, callbacks=None, **kwargs):
        """`keras.Model.fit`; with a later adversarial start, also the
        callback that retraces the step with the term before its start step."""
        if self.discriminator is not None and self.adversarial_start > 0:
            callbacks = [*(callbacks or []), AdversarialSwitch()]
        return super().fit(*args, callbacks=callbacks, **kwargs)

    def make_test_function(self, force=False):
        self.build_perceptual()
        return super().make_test_function(force)

    # --------------------------------------------------------- serialization

    @classmethod
    def from_config(cls, config: dict[str, Any]):
        if config.get("decoder_sigma") is not None and config.get("reconstruction_reduction") == "sum":
            config = {**config, "reconstruction_reduction": None}  # files saved when "sum" was the default
        return super().from_config(config)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({
            "reconstruction_loss": self.reconstruction_loss,
            "reconstruction_reduction": self.reconstruction_reduction,
            "input_noise_stddev": self.input_noise_stddev,
            "freeze_encoder": self.freeze_encoder,
            "decoder_sigma": self.decoder_sigma,
            "seed": self.seed,
            "perceptual_weight": self.perceptual_weight,
            "perceptual_weights": self.perceptual_weights,
            "adversarial_weight": self.adversarial_weight,
            "adversarial_start": self.adversarial_start,
            "discriminator_layers": self.discriminator_layers,
            "discriminator_width": self.discriminator_width,
            "discriminator_norm": self.discriminator_norm,
            "discriminator_augment": self.discriminator_augment,
            "discriminator_spectral_norm": self.discriminator_spectral_norm,
            "discriminator_every": self.discriminator_every,
            "lecam_weight": self.lecam_weight,
            "lecam_decay": self.lecam_decay,
            "r1_weight": self.r1_weight,
            "r1_every": self.r1_every,
            "feature_matching_weight": self.feature_matching_weight,
        })
        return config
