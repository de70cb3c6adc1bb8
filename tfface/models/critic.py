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
  optimizer step only (a slower discriminator, not a cheaper step: the
  decision is taken in the graph, see below; `discriminator_width` and
  `discriminator_layers` make the discriminator's step cheaper).

Which updates a step runs (discriminator update, R1) is decided in the
graph from the optimizer's step counter (`update_schedule`), so it falls
on its exact step also with `steps_per_execution` > 1, on any number of
replicas, and a resumed run takes the same decisions as an uninterrupted
one. The discriminator's loss and gradients are computed on every step
from the adversarial start; its optimizer applies them on its steps only
(`tfface.models.steps.apply_when`). R1's costly part, the input gradient
and its second-order backward pass, sits in a `tf.cond` (`r1_penalty`):
the branch holds only per-replica gradient ops, no BatchNorm update and no
all-reduce, which `MirroredStrategy` would not allow inside a conditional.
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

from tfface.losses.adversarial import hinge_discriminator_loss, lecam_regularizer

CRITIC_TERMS = {"lecam_weight": ("lecam_loss",), "r1_weight": ("r1_penalty",),
                "feature_matching_weight": ("feature_matching_loss",)}  # fmt: skip


def update_schedule(model, step):
    """(discriminator update, R1 penalty) at optimizer step `step` (the
    step counter in the graph, or an int): the update on every
    `discriminator_every`-th step from `adversarial_start` on, R1 on every
    `r1_every`-th update when `r1_weight` > 0. Boolean tensors.

    Example:

    >>> from types import SimpleNamespace
    >>> model = SimpleNamespace(adversarial_start=2, discriminator_every=2, r1_weight=1.0, r1_every=2)
    >>> [tuple(bool(b) for b in update_schedule(model, step)) for step in range(1, 7)]
    [(False, False), (True, True), (False, False), (True, False), (False, False), (True, True)]
    """
    updates = ops.cast(step, "int64") - model.adversarial_start  # steps since the term is on
    discriminator = ops.logical_and(updates >= 0, ops.equal(updates % model.discriminator_every, 0))
    due = ops.equal((updates // model.discriminator_every) % model.r1_every, 0)
    return discriminator, ops.logical_and(discriminator, ops.logical_and(model.r1_weight > 0, due))


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


def r1_penalty(inner, total, real_inputs, when=True):
    """E‖∇ₓD(x)‖² from the tape `inner` that recorded `total` = ΣD(x) on
    `real_inputs`, where `when` (a bool or boolean tensor) holds, else 0.
    A tensor `when` puts the gradient in a `tf.cond`: its branch holds only
    gradient ops of this replica (no variable update, no all-reduce), so
    the cond works inside a `MirroredStrategy` replica too."""

    def penalty():
        gradient = ops.cast(inner.gradient(total, real_inputs), "float32")
        return ops.mean(ops.sum(ops.square(gradient), axis=(1, 2, 3)))

    if isinstance(when, bool):
        return penalty() if when else tf.constant(0.0, "float32")
    return tf.cond(when, penalty, lambda: tf.constant(0.0, "float32"))


def discriminator_loss(model, images, reconstructions, r1=False, when=None):
    """The discriminator's loss on (augmented) real images and detached
    reconstructions: hinge + LeCam + lazy R1 where `r1` (a bool or a
    boolean tensor) holds; the LeCam anchors move where `when` does (always
    if None). Returns (loss, real logits, fake logits, extra terms)."""
    critic = model.discriminator
    real_inputs = ops.convert_to_tensor(augment(model, images))
    fake_inputs = augment(model, tf.stop_gradient(reconstructions))
    extra = {}
    penalised = model.r1_weight > 0 and r1 is not False
    with tf.GradientTape(watch_accessed_variables=False) as inner:
        inner.watch(real_inputs)
        real = critic(real_inputs, training=True)
        total = ops.sum(ops.cast(real, "float32"))
    fake = critic(fake_inputs, training=True)
    loss = hinge_discriminator_loss(real, fake)
    if model.lecam is not None:
        extra["lecam_loss"] = lecam_regularizer(real, fake, model.lecam.real, model.lecam.fake)
        loss = loss + model.lecam_weight * extra["lecam_loss"]
        model.lecam.update(real, fake, when)
    if penalised:
        extra["r1_penalty"] = r1_penalty(inner, total, real_inputs, r1)
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

    def update(self, real, fake, when=None) -> None:
        """Moves each anchor towards the mean of this step's real / fake
        logits (an EMA with `decay`), only where `when` (a boolean tensor)
        holds if given."""
        for anchor, logits in ((self.real, real), (self.fake, fake)):
            moved = self.decay * anchor + (1.0 - self.decay) * ops.mean(ops.cast(logits, "float32"))
            anchor.assign(moved if when is None else ops.where(when, moved, anchor))

    def get_config(self):
        return {**super().get_config(), "decay": self.decay}
