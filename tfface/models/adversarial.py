"""The adversarial term of `LatentAutoencoder`: a PatchGAN discriminator with
its own optimizer, hinge losses and VQGAN's adaptive weight.

The generator side adds w · λ · L_GAN to the loss the autoencoder minimises,
with L_GAN = −mean D(x̂) and λ = ‖∇_last L‖ / (‖∇_last L_GAN‖ + 1e-4) at the
kernel of the decoder's last layer (L is the rest of the loss; its KL part
does not reach the decoder). λ is a constant: the step differentiates L and
L_GAN once each and adds w·λ times the second gradient to the first. Before
`adversarial_start` optimizer steps the term is off: the discriminator is
neither run nor updated and the gradients are those of L alone.
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

from tfface.losses.adversarial import adaptive_weight, hinge_discriminator_loss, hinge_generator_loss
from tfface.models.steps import apply_gradient_list, scale_for

ADVERSARIAL_TERMS = ("adversarial_loss", "adversarial_weight", "discriminator_loss",
                     "discriminator_real", "discriminator_fake")  # fmt: skip


def default_discriminator_optimizer(optimizer) -> keras.optimizers.Optimizer:
    """Adam(β₁=0.5, β₂=0.9) at the autoencoder optimizer's learning rate (as
    VQGAN), loss-scaled when that one is."""
    scaled = isinstance(optimizer, keras.optimizers.LossScaleOptimizer)
    inner = optimizer.inner_optimizer if scaled else optimizer
    learning_rate = float(keras.ops.convert_to_numpy(inner.learning_rate)) if inner is not None else 1e-4
    adam = keras.optimizers.Adam(learning_rate, beta_1=0.5, beta_2=0.9, name="discriminator_adam")
    return keras.optimizers.LossScaleOptimizer(adam) if scaled else adam


def last_layer_kernel(decoder: keras.Model):
    """The kernel of the decoder's last layer that has one (its output conv)."""
    for layer in reversed(decoder.layers):
        kernel = getattr(layer, "kernel", None)
        if kernel is not None and kernel.trainable:
            return kernel
    raise ValueError(f"decoder {decoder.name!r} has no layer with a trainable kernel for the adaptive weight")


def adversarial_active(model):
    """True (a bool tensor) once the autoencoder optimizer has taken
    `adversarial_start` steps."""
    return model.optimizer.iterations >= model.adversarial_start


def generator_loss(model, reconstructions, active):
    """L_GAN of the reconstructions, 0 (and D not run) while inactive."""
    return tf.cond(
        active,
        lambda: hinge_generator_loss(model.discriminator(reconstructions, training=True)),
        lambda: tf.constant(0.0, "float32"),
    )


def add_adversarial_gradients(model, tape, grads, variables, adversarial_loss, active):
    """`grads` (of the rest of the loss, scaled) plus w·λ·∇L_GAN; returns
    (gradients, w·λ as applied: 0 while inactive)."""
    # The cotangent `factor` scales L_GAN's gradient as `scale_for` scales a loss.
    factor = scale_for(model.optimizer, tf.constant(1.0, "float32"))
    adversarial = tape.gradient(adversarial_loss, variables, output_gradients=factor,
                                unconnected_gradients=tf.UnconnectedGradients.ZERO)
    kernel = last_layer_kernel(model.decoder)
    index = next(i for i, v in enumerate(variables) if v is kernel)
    lam = adaptive_weight(grads[index], adversarial[index], scale=factor)
    weight = ops.where(active, model.adversarial_weight * lam, 0.0)
    combined = [g if a is None or g is None else g + ops.cast(weight, g.dtype) * a for g, a in zip(grads, adversarial)]
    return combined, weight


def discriminator_step(model, images, reconstructions, active):
    """One hinge-loss update of the discriminator on real images and the
    (detached) reconstructions; skipped while inactive. Returns
    (D loss, mean real logit, mean fake logit)."""
    critic, optimizer = model.discriminator, model.discriminator_optimizer
    fakes = tf.stop_gradient(reconstructions)

    def update():
        with tf.GradientTape() as tape:
            real = critic(images, training=True)
            fake = critic(fakes, training=True)
            loss = hinge_discriminator_loss(real, fake)
            scaled = scale_for(optimizer, loss)
        apply_gradient_list(optimizer, tape.gradient(scaled, critic.trainable_weights), critic.trainable_weights)
        return loss, ops.mean(ops.cast(real, "float32")), ops.mean(ops.cast(fake, "float32"))

    def skip():
        zero = tf.constant(0.0, "float32")
        return zero, zero, zero

    return tf.cond(active, update, skip)


def adversarial_train_terms(model, tape, grads, variables, images, reconstructions, adversarial_loss, active):
    """The generator's combined gradients and the step's adversarial metrics;
    also runs the discriminator's update."""
    grads, weight = add_adversarial_gradients(model, tape, grads, variables, adversarial_loss, active)
    d_loss, real, fake = discriminator_step(model, images, reconstructions, active)
    terms = {"adversarial_loss": adversarial_loss, "adversarial_weight": weight,
             "discriminator_loss": d_loss, "discriminator_real": real, "discriminator_fake": fake}  # fmt: skip
    return grads, terms


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
