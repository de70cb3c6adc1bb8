"""What keeps `LatentAutoencoder`'s discriminator from over-fitting a few
thousand faces, and what else the generator takes from it — each an
argument of the model, off by default:

- `discriminator_augment`: DiffAugment (`tfface.layers.DiffAugment`) of
  every image the discriminator sees, real and generated, in its own
  update and in the generator's adversarial loss (gradients pass through).
- `lecam_weight`: the LeCam regulariser on the discriminator's loss
  (`tfface.losses.adversarial.lecam_regularizer`, EMA anchors of its mean
  real and fake logits in `LeCamAnchors`).
- `r1_weight`, `r1_every`: the R1 gradient penalty (γ/2)·E‖∇ₓD(x)‖² on
  the (augmented) real images, lazily (Karras et al. 2020): every
  `r1_every`-th discriminator update, multiplied by `r1_every`.
- `discriminator_spectral_norm`: spectral normalisation of its convs
  (`PatchDiscriminator(spectral_norm=True)`).
- `feature_matching_weight`: L1 distance between the discriminator's hidden
  activations of images and reconstructions (in inference mode), added to
  the generator's loss: a perceptual term that needs no downloaded weights
  (Larsen et al. 2016; pix2pixHD's per-layer L1), reported as
  `feature_matching_loss` and, like the adversarial term, not part of
  `loss`.
- `discriminator_every`: the discriminator's update runs on every k-th
  optimizer step only (a cheaper step; `discriminator_width` and
  `discriminator_layers` make it narrower or shallower).

Which updates a step runs (adversarial term, discriminator update, R1) is
decided per step from the optimizer's step count (`step_mode`): the model
keeps one traced training function per combination and switches between
them (`LatentAutoencoder.make_train_function`), so no discriminator
update sits inside a `tf.cond` (which `MirroredStrategy`'s synchronised
BatchNorm and all-reduce do not allow) and a resumed run takes the same
decisions as an uninterrupted one.
"""

from __future__ import annotations

from typing import NamedTuple

import keras
import tensorflow as tf
from keras import ops

from tfface.losses.adversarial import hinge_discriminator_loss, lecam_regularizer

CRITIC_TERMS = {"lecam_weight": ("lecam_loss",), "r1_weight": ("r1_penalty",),
                "feature_matching_weight": ("feature_matching_loss",)}  # fmt: skip


class StepMode(NamedTuple):
    """What one training step runs."""

    adversarial: bool = False
    discriminator: bool = False
    r1: bool = False


def step_mode(model, step: int | None) -> StepMode:
    """The parts of the step at optimizer step `step` (None: the term is off)."""
    if step is None or model.discriminator is None or step < model.adversarial_start:
        return StepMode()
    updates = step - model.adversarial_start  # steps since the term is on
    discriminator = updates % model.discriminator_every == 0
    r1 = discriminator and model.r1_weight > 0 and (updates // model.discriminator_every) % model.r1_every == 0
    return StepMode(True, discriminator, r1)


def critic_metric_names(model) -> tuple[str, ...]:
    """The metrics of the options that are on."""
    return tuple(name for key, names in CRITIC_TERMS.items() if getattr(model, key) for name in names)


def augment(model, images):
    """The images as the discriminator sees them in training."""
    if model.discriminator_augmenter is None:
        return images
    return model.discriminator_augmenter(images, training=True)


def feature_matching_loss(model, images, reconstructions):
    """Mean over the discriminator's hidden blocks of the mean |f(x) − f(x̂)|,
    with the discriminator in inference mode (its BatchNorm statistics and
    spectral-norm vectors are left alone) and the real features constant."""
    count = ops.shape(images)[0]
    both = ops.concatenate([images, ops.cast(reconstructions, images.dtype)], axis=0)
    features = model.discriminator.features(both, training=False)[1:]
    distances = [ops.mean(ops.abs(ops.cast(ops.stop_gradient(f[:count]), "float32") - ops.cast(f[count:], "float32")))
                 for f in features]  # fmt: skip
    return ops.mean(ops.stack(distances))


def generator_extra_terms(model, images, reconstructions) -> dict:
    """The generator's terms from the discriminator besides L_GAN (feature
    matching), as float32 scalars; {} when off."""
    if not model.feature_matching_weight:
        return {}
    return {"feature_matching_loss": feature_matching_loss(model, images, reconstructions)}


def generator_extra_loss(model, terms: dict):
    """The weighted sum of `generator_extra_terms` added to the generator's loss."""
    return model.feature_matching_weight * terms["feature_matching_loss"]


def discriminator_loss(model, images, reconstructions, r1: bool = False):
    """The discriminator's loss on (augmented) real images and detached
    reconstructions: hinge + LeCam + lazy R1 when on. Returns (loss, real
    logits, fake logits, extra terms)."""
    critic = model.discriminator
    real_inputs = ops.convert_to_tensor(augment(model, images))
    fake_inputs = augment(model, tf.stop_gradient(reconstructions))
    extra = {}
    if r1:
        with tf.GradientTape() as inner:
            inner.watch(real_inputs)
            real = critic(real_inputs, training=True)
            total = ops.sum(ops.cast(real, "float32"))
        gradient = ops.cast(inner.gradient(total, real_inputs), "float32")
        extra["r1_penalty"] = ops.mean(ops.sum(ops.square(gradient), axis=(1, 2, 3)))
    else:
        real = critic(real_inputs, training=True)
    fake = critic(fake_inputs, training=True)
    loss = hinge_discriminator_loss(real, fake)
    if model.lecam is not None:
        extra["lecam_loss"] = lecam_regularizer(real, fake, model.lecam.real, model.lecam.fake)
        loss = loss + model.lecam_weight * extra["lecam_loss"]
        model.lecam.update(real, fake)
    if r1:
        loss = loss + 0.5 * model.r1_weight * model.r1_every * extra["r1_penalty"]
    return loss, real, fake, extra


def check_critic_options(model) -> None:
    """Raises ValueError naming the argument for an impossible combination."""
    if model.discriminator_every < 1 or model.r1_every < 1:
        raise ValueError(f"discriminator_every and r1_every must be >= 1, got {model.discriminator_every}, {model.r1_every}")
    if min(model.lecam_weight, model.r1_weight, model.feature_matching_weight) < 0 or not 0 <= model.lecam_decay < 1:
        raise ValueError("lecam_weight, r1_weight and feature_matching_weight must be >= 0 and lecam_decay in [0, 1), got "
                         f"{model.lecam_weight}, {model.r1_weight}, {model.feature_matching_weight}, {model.lecam_decay}")  # fmt: skip
    options = {"discriminator_augment": model.discriminator_augment, "lecam_weight": model.lecam_weight,
               "r1_weight": model.r1_weight, "discriminator_spectral_norm": model.discriminator_spectral_norm,
               "feature_matching_weight": model.feature_matching_weight}  # fmt: skip
    if not model.adversarial_weight:
        used = [name for name, value in options.items() if value]
        if used:
            raise ValueError(f"{used[0]} needs the adversarial term's discriminator: set adversarial_weight > 0")


@keras.saving.register_keras_serializable(package="tfface")
class LeCamAnchors(keras.layers.Layer):
    """The LeCam regulariser's anchors: exponential moving averages of the
    discriminator's mean real and fake logits (float32, not trainable;
    saved with the model and in checkpoints, so a resumed run continues
    them).

    Args:
        decay: float. EMA decay per discriminator update. Defaults to 0.99.

    Example:

    >>> anchors = LeCamAnchors(decay=0.5)
    >>> anchors.update(np.array([2.0]), np.array([-2.0]))
    >>> float(anchors.real.numpy()), float(anchors.fake.numpy())
    (1.0, -1.0)
    """

    def __init__(self, decay: float = 0.99, **kwargs):
        super().__init__(**kwargs)
        self.decay = float(decay)
        # "mean": under tf.distribute the replicas' updates are averaged (the global batch's mean logit)
        self.real = self.add_weight(shape=(), initializer="zeros", trainable=False, name="real", dtype="float32",
                                    aggregation="mean")
        self.fake = self.add_weight(shape=(), initializer="zeros", trainable=False, name="fake", dtype="float32",
                                    aggregation="mean")

    def update(self, real, fake) -> None:
        """Moves each anchor towards the mean of this step's real / fake logits (an EMA with `decay`)."""
        for anchor, logits in ((self.real, real), (self.fake, fake)):
            anchor.assign(self.decay * anchor + (1.0 - self.decay) * ops.mean(ops.cast(logits, "float32")))

    def get_config(self):
        return {**super().get_config(), "decay": self.decay}
