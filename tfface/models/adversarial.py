"""The adversarial term of `LatentAutoencoder`: a PatchGAN discriminator with
its own optimizer, hinge losses and VQGAN's adaptive weight.

The generator side adds w · λ · L_GAN to the loss the autoencoder minimises,
with L_GAN = −mean D(x̂) and λ = ‖∇_last L‖ / (‖∇_last L_GAN‖ + 1e-4) at the
kernel of the decoder's last layer (L is the rest of the loss; its KL part
does not reach the decoder). λ is a constant: the step differentiates L and
L_GAN once each and adds w·λ times the second gradient to the first. Before
`adversarial_start` optimizer steps the term is off: the discriminator is
neither run nor updated and the gradients are those of L alone.

The switch is static: the step is traced with the term off or on, and
`AdversarialSwitch` (added by `LatentAutoencoder.fit`) retraces it at the
start step. A `tf.cond` around the discriminator's update cannot be used:
under `MirroredStrategy` its synchronised BatchNorm and gradient all-reduce
may not run inside a conditional.
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

from tfface.losses.adversarial import adaptive_weight, hinge_discriminator_loss, hinge_generator_loss
from tfface.models.critic import augment, discriminator_loss, step_mode
from tfface.models.steps import apply_gradient_list, scale_for

ADVERSARIAL_TERMS = ("adversarial_loss", "adversarial_weight_effective", "discriminator_loss",
                     "discriminator_real", "discriminator_fake")  # fmt: skip


def default_discriminator_optimizer(optimizer) -> keras.optimizers.Optimizer:
    """Adam(β₁=0.5, β₂=0.9) at the autoencoder optimizer's learning rate (as
    VQGAN), loss-scaled when that one is."""
    scaled = isinstance(optimizer, keras.optimizers.LossScaleOptimizer)
    inner = optimizer.inner_optimizer if scaled else optimizer
    learning_rate = float(keras.ops.convert_to_numpy(inner.learning_rate))
    adam = keras.optimizers.Adam(learning_rate, beta_1=0.5, beta_2=0.9, name="discriminator_adam")
    return keras.optimizers.LossScaleOptimizer(adam) if scaled else adam


def last_layer_kernel(decoder: keras.Model):
    """The kernel of the decoder's last layer that has one (its output conv)."""
    for layer in reversed(decoder.layers):
        kernel = getattr(layer, "kernel", None)
        if kernel is not None and kernel.trainable:
            return kernel
    raise ValueError(f"decoder {decoder.name!r} has no layer with a trainable kernel for the adaptive weight")


def adversarial_due(model) -> bool:
    """Whether the term is on: the model has a discriminator and its
    optimizer has taken `adversarial_start` steps (read eagerly)."""
    return current_step_mode(model).adversarial


def current_step_mode(model):
    """`tfface.models.critic.step_mode` at the optimizer's step (read eagerly)."""
    optimizer = getattr(model, "optimizer", None)
    if model.discriminator is None or optimizer is None:
        return step_mode(model, None)
    return step_mode(model, int(keras.ops.convert_to_numpy(optimizer.iterations)))


class AdversarialSwitch(keras.callbacks.Callback):
    """Switches the training function when the step's parts change: the
    adversarial term's start step, and with `discriminator_every` > 1 or
    lazy R1 the steps with a discriminator update or a penalty
    (`make_train_function` compares the step's mode with the trace's)."""

    def on_train_batch_begin(self, batch, logs=None):
        self.model.make_train_function()


def generator_loss(model, reconstructions):
    """L_GAN = −mean D(x̂) of the reconstructions (augmented when
    `discriminator_augment` is on, see `tfface.models.critic`)."""
    return hinge_generator_loss(model.discriminator(augment(model, reconstructions), training=True))


def add_adversarial_gradients(model, tape, grads, variables, adversarial_loss):
    """`grads` (of the rest of the loss, scaled) plus w·λ·∇L_GAN; returns
    (gradients, w·λ)."""
    # The cotangent `factor` scales L_GAN's gradient as `scale_for` scales a loss.
    factor = scale_for(model.optimizer, tf.constant(1.0, "float32"))
    adversarial = tape.gradient(adversarial_loss, variables, output_gradients=factor,
                                unconnected_gradients=tf.UnconnectedGradients.ZERO)
    kernel = last_layer_kernel(model.decoder)
    index = next(i for i, v in enumerate(variables) if v is kernel)
    weight = model.adversarial_weight * adaptive_weight(grads[index], adversarial[index], scale=factor)
    combined = [g if a is None or g is None else g + ops.cast(weight, g.dtype) * a for g, a in zip(grads, adversarial)]
    return combined, weight


def discriminator_step(model, images, reconstructions, r1: bool = False):
    """One hinge-loss update of the discriminator on real images and the
    (detached) reconstructions, with the regularisers of
    `tfface.models.critic` that are on. Returns its metrics."""
    critic, optimizer = model.discriminator, model.discriminator_optimizer
    with tf.GradientTape() as tape:
        loss, real, fake, extra = discriminator_loss(model, images, reconstructions, r1=r1)
        scaled = scale_for(optimizer, loss)
    apply_gradient_list(optimizer, tape.gradient(scaled, critic.trainable_weights), critic.trainable_weights)
    return {"discriminator_loss": loss, "discriminator_real": ops.mean(ops.cast(real, "float32")),
            "discriminator_fake": ops.mean(ops.cast(fake, "float32")), **extra}  # fmt: skip


def adversarial_train_terms(model, tape, grads, variables, images, reconstructions, adversarial_loss):
    """The generator's combined gradients and the step's adversarial metrics;
    also runs the discriminator's update when this step has one
    (`model.step_mode`, see `tfface.models.critic`)."""
    grads, weight = add_adversarial_gradients(model, tape, grads, variables, adversarial_loss)
    terms = {"adversarial_loss": adversarial_loss, "adversarial_weight_effective": weight}
    if model.step_mode.discriminator:
        terms.update(discriminator_step(model, images, reconstructions, r1=model.step_mode.r1))
    return grads, terms


def inactive_terms() -> dict:
    """The adversarial metrics of a step before the start: all 0."""
    return {name: tf.constant(0.0, "float32") for name in ADVERSARIAL_TERMS}


def adversarial_test_terms(model, images, reconstructions):
    """The adversarial metrics on held-out data (no update, D in inference mode)."""
    real = model.discriminator(images, training=False)
    fake = model.discriminator(reconstructions, training=False)
    return {
        "adversarial_loss": hinge_generator_loss(fake),
        "discriminator_loss": hinge_discriminator_loss(real, fake),
        "discriminator_real": ops.mean(ops.cast(real, "float32")),
        "discriminator_fake": ops.mean(ops.cast(fake, "float32")),
    }
