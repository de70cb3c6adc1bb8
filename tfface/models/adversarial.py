"""The adversarial term of `LatentAutoencoder`: a PatchGAN discriminator with
its own optimizer, hinge losses and VQGAN's adaptive weight.

The generator side adds w · λ · L_GAN to the loss the autoencoder minimises,
with L_GAN = −mean D(x̂) and λ = ‖∇_last L‖ / (‖∇_last L_GAN‖ + 1e-4) at the
kernel of the decoder's last layer (L is the rest of the loss; its KL part
does not reach the decoder). λ is a constant: the step runs the
discriminator's backward once (L_GAN's gradient at the reconstructions),
takes both gradients at the last kernel through that layer alone, and
differentiates the autoencoder once, with w·λ times L_GAN's gradient
joined to L's at the reconstructions (`generator_gradients`). Before
`adversarial_start` optimizer steps the term is off: the generator's
gradients are those of L alone and the discriminator is not updated (its
optimizer takes no step).

Every decision that depends on the step is taken in the graph, from the
optimizer's step counter, so no step reads it on the host and each falls
on its exact step also with `steps_per_execution` > 1: the start
(`adversarial_gate`), the discriminator's update on every
`discriminator_every`-th step from the start and lazy R1 on every
`r1_every`-th of those (`tfface.models.critic.update_schedule`). The
discriminator's conditional update is taken in the cross-replica context
(`tfface.models.steps.apply_when`), as `LossScaleOptimizer` takes its own;
on a step without it, its BatchNorm statistics, its augmentation's seed
and the LeCam anchors are left as they were.
To spare the discriminator's cost long before the start, the step is first
traced without it; `AdversarialSwitch` (added by `LatentAutoencoder.fit`)
retraces it with the gated term when the start may fall within the next
execution, counting steps on the host (an upper bound: a skipped float16
step does not count), never reading the device.
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

from tfface.losses.adversarial import adaptive_weight, hinge_discriminator_loss, hinge_generator_loss
from tfface.models.critic import augment, discriminator_loss, update_schedule
from tfface.models.steps import apply_gradient_list, scale_for
from tfface.replicas import sum_over_replicas

ADVERSARIAL_TERMS = ("adversarial_loss", "adversarial_weight_effective", "discriminator_loss",
                     "discriminator_real", "discriminator_fake")  # fmt: skip


def default_discriminator_optimizer(optimizer) -> keras.optimizers.Optimizer:
    """Adam(β₁=0.5, β₂=0.9) at the autoencoder optimizer's learning rate (as
    VQGAN), loss-scaled when that one is."""
    scaled = isinstance(optimizer, keras.optimizers.LossScaleOptimizer)
    inner = optimizer.inner_optimizer if scaled else optimizer
    learning_rate = float(keras.ops.convert_to_numpy(inner.learning_rate))
    return keras.optimizers.Adam(learning_rate, beta_1=0.5, beta_2=0.9, name="discriminator_adam")


def discriminator_optimizer_for(model, discriminator_optimizer=None) -> keras.optimizers.Optimizer:
    """The discriminator's optimizer: the one given (a name, config or
    instance) or `default_discriminator_optimizer`, wrapped in a
    `LossScaleOptimizer` when the model computes in float16 or its own
    optimizer is loss-scaled (an unscaled float16 loss underflows to zero
    gradients)."""
    optimizer = (keras.optimizers.get(discriminator_optimizer) if discriminator_optimizer is not None
                 else default_discriminator_optimizer(model.optimizer))  # fmt: skip
    scaled = isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
    if (scaled or model.dtype_policy.name == "mixed_float16") and not isinstance(
        optimizer, keras.optimizers.LossScaleOptimizer
    ):
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer


def last_layer_kernel(decoder: keras.Model):
    """The kernel of the decoder's last layer that has one (its output conv)."""
    for layer in reversed(decoder.layers):
        kernel = getattr(layer, "kernel", None)
        if kernel is not None and kernel.trainable:
            return kernel
    raise ValueError(f"decoder {decoder.name!r} has no layer with a trainable kernel for the adaptive weight")


def optimizer_steps(model) -> int:
    """The autoencoder optimizer's step count, read on the host (once per
    trace or fit, never per batch)."""
    return int(keras.ops.convert_to_numpy(model.optimizer.iterations))


def adversarial_due(model, steps_ahead: int = 1) -> bool:
    """Whether a step traced now must hold the adversarial term: the model
    has a discriminator and its start falls within the next `steps_ahead`
    optimizer steps or before (read on the host)."""
    if model.discriminator is None or getattr(model, "optimizer", None) is None:
        return False
    return optimizer_steps(model) + steps_ahead > model.adversarial_start


def adversarial_gate(model):
    """1.0 from optimizer step `adversarial_start` on, else 0.0: a float32
    scalar computed in the graph from the step counter (equal on every
    replica)."""
    return ops.cast(ops.greater_equal(model.optimizer.iterations, model.adversarial_start), "float32")


class AdversarialSwitch(keras.callbacks.Callback):
    """Retraces the training step with the (gated) adversarial term once its
    start step may fall within the next execution of `steps_per_execution`
    steps. Steps are counted on the host from one read at the start of
    `fit`: no batch reads the device."""

    def on_train_begin(self, logs=None):
        self.steps = optimizer_steps(self.model)
        self.begin = 0
        self._maybe_switch()

    def on_train_batch_begin(self, batch, logs=None):
        self.begin = batch
        self._maybe_switch()

    def on_train_batch_end(self, batch, logs=None):
        self.steps += batch - self.begin + 1

    def _maybe_switch(self):
        model = self.model
        if not model.adversarial_on and self.steps + model.steps_per_execution > model.adversarial_start:
            model.adversarial_on = True
            model.make_train_function(force=True)


def critic_state(model) -> list:
    """The discriminator's non-trainable variables (BatchNorm moving
    statistics, spectral-norm vectors) and its augmentation's seed state:
    what a step changes besides the weights its optimizer updates."""
    augmenter = model.discriminator_augmenter
    return [*model.discriminator.non_trainable_variables, *(augmenter.non_trainable_variables if augmenter else ())]


def critic_statistics(model) -> list:
    """The values of `critic_state` before a step, so that a step without
    the discriminator's update leaves them as they were
    (`adversarial_train_terms` puts them back)."""
    # A copy: a plain read may share the variable's buffer, which BatchNorm's
    # in-place moving-average update then changes under it.
    return [tf.raw_ops.DeepCopy(x=ops.convert_to_tensor(v)) for v in critic_state(model)]


def restore_unless(model, keep, statistics) -> None:
    """Puts `critic_state` back to `statistics` (from `critic_statistics`)
    unless `keep` (a boolean tensor)."""
    for variable, before in zip(critic_state(model), statistics, strict=True):
        variable.assign(ops.where(keep, variable, before))


def generator_loss(model, reconstructions):
    """L_GAN = −mean D(x̂) of the reconstructions (augmented when
    `discriminator_augment` is on, see `tfface.models.critic`)."""
    return hinge_generator_loss(model.discriminator(augment(model, reconstructions), training=True))


def generator_gradients(model, tape, scaled, variables, outputs, adversarial_loss, gate=1.0):
    """∇(L + gate·w·λ·L_GAN) over `variables` in one backward pass through
    the autoencoder (`scaled`: L, scaled for the optimizer; `outputs`: the
    reconstructions D scored); returns (gradients, gate·w·λ).

    The discriminator's backward runs once, to L_GAN's gradient at the
    outputs; λ comes from the two losses' gradients at the decoder's last
    kernel (a pass through that layer alone), and w·λ times L_GAN's
    output gradient joins L's at the outputs, so the autoencoder's
    backward is not run a second time for L_GAN. Before the start what
    joins is exactly 0: the gradients are those of L, bit for bit, even
    where L_GAN's are not finite."""
    # The cotangent `factor` scales L_GAN's gradient as `scale_for` scales a loss.
    factor = scale_for(model.optimizer, tf.constant(1.0, "float32"))
    at_outputs = tape.gradient(adversarial_loss, outputs, output_gradients=factor)
    kernel = last_layer_kernel(model.decoder)
    # λ from the global batch's gradients (each replica's are its share of
    # the sum), which carry the loss scale alone.
    weight = model.adversarial_weight * adaptive_weight(
        sum_over_replicas(tape.gradient(scaled, kernel)),
        sum_over_replicas(tape.gradient(outputs, kernel, output_gradients=at_outputs)),
        scale=model.optimizer.scale_loss(tf.constant(1.0, "float32")),
    )
    on = gate > 0.0
    # 0 before the start, also where a float16 overflow made λ = inf/inf (0·NaN is NaN)
    weight = ops.where(on, weight, ops.zeros_like(weight))
    joined = ops.where(on, ops.cast(weight, at_outputs.dtype) * at_outputs, ops.zeros_like(at_outputs))
    grads = tape.gradient([scaled, outputs], variables, output_gradients=[ops.ones_like(scaled), joined])
    return grads, weight


def discriminator_step(model, images, reconstructions, when=None, r1=False):
    """One hinge-loss update of the discriminator on real images and the
    (detached) reconstructions, with the regularisers of
    `tfface.models.critic` that are on; the update (and the LeCam anchors'
    move) only where `when` (a boolean tensor) holds if given, the R1
    penalty where `r1` (a bool or boolean tensor) does. Returns its
    metrics."""
    critic, optimizer = model.discriminator, model.discriminator_optimizer
    with tf.GradientTape() as tape:
        loss, real, fake, extra = discriminator_loss(model, images, reconstructions, r1=r1, when=when)
        scaled = scale_for(optimizer, loss)
    apply_gradient_list(optimizer, tape.gradient(scaled, critic.trainable_weights), critic.trainable_weights, when)
    return {"discriminator_loss": loss, "discriminator_real": ops.mean(ops.cast(real, "float32")),
            "discriminator_fake": ops.mean(ops.cast(fake, "float32")), **extra}  # fmt: skip


def adversarial_train_terms(model, tape, scaled, variables, images, reconstructions, adversarial_loss, statistics):
    """The generator's combined gradients (`generator_gradients`), the step's adversarial metrics
    (all 0 before the start step, see `adversarial_gate`) and their weights
    in the epoch's means (`r1_penalty`: 1 on a step with R1, else 0); also runs the
    discriminator's update on its steps (`update_schedule`). `statistics`
    are `critic_statistics` before the step: put back before the start, so
    a step traced with the gated term changes what a step traced without it
    changes, bit for bit; and on a step after the start without the
    discriminator's update, its own pass's changes are undone."""
    gate = adversarial_gate(model)
    grads, weight = generator_gradients(model, tape, scaled, variables, reconstructions, adversarial_loss, gate)
    update, r1 = update_schedule(model, model.optimizer.iterations)
    generator_side = critic_statistics(model)  # after L_GAN's pass, before the discriminator's own
    critic_terms = discriminator_step(model, images, reconstructions, when=update, r1=r1)
    restore_unless(model, update, generator_side)
    restore_unless(model, gate > 0.0, statistics)
    terms = {"adversarial_loss": gate * adversarial_loss, "adversarial_weight_effective": weight,
             **{name: gate * value for name, value in critic_terms.items()}}  # fmt: skip
    weights = {"r1_penalty": ops.cast(r1, "float32")} if "r1_penalty" in terms else {}
    return grads, terms, weights


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
