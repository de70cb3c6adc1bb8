"""The parts of a training step every tfface model shares: loss scaling
for tf.distribute and mixed precision, applying gradients, and step results
that Keras can reduce across workers. `LatentAutoencoder` and
`AttributeClassifier` both build their `train_step` from these, so a fix
here holds for every model family."""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf
from keras import ops


def scaled_loss(model: keras.Model, loss):
    """The loss to differentiate, inside the tape: plus the model's own
    `losses`, divided by the replicas (per-replica mean → global mean under
    tf.distribute) and loss-scaled under mixed_float16. Both are no-ops on
    one float32 device."""
    if model.losses:
        loss = loss + ops.cast(ops.sum(model.losses), "float32")
    return scale_for(model.optimizer, loss)


def scale_for(optimizer, loss):
    """`loss` divided by the replicas and loss-scaled for `optimizer` (a
    second network's own optimizer, e.g. a discriminator's)."""
    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    return optimizer.scale_loss(loss / replicas)


def apply_gradients(model: keras.Model, tape: tf.GradientTape, scaled) -> None:
    """Gradients of `scaled` (from `scaled_loss`) applied to the model's
    trainable weights, every replica agreeing on loss-scale overflow."""
    apply_gradient_list(model.optimizer, tape.gradient(scaled, model.trainable_weights), model.trainable_weights)


def apply_gradient_list(optimizer, grads, variables, when=None) -> None:
    """Applies gradients already computed (from losses scaled with
    `scale_for(optimizer, ...)`), every replica agreeing on overflow. With
    `when` (a boolean tensor, equal on every replica) the update, and the
    optimizer's step count, happen only where it is true: decided in the
    graph, with no read on the host."""
    grads = agree_on_overflow(optimizer, grads)
    if when is None:
        optimizer.apply(grads, variables)
    else:
        apply_when(optimizer, grads, variables, when)


def apply_when(optimizer, grads, variables, when) -> None:
    """`optimizer.apply(grads, variables)` if `when`, else nothing. Under a
    strategy that needs merge calls (MirroredStrategy), the condition is
    taken in the cross-replica context, as `LossScaleOptimizer` takes its
    own: a branch of a `tf.cond` inside a replica may not call
    `merge_call`, which the optimizer's update does."""

    def skip():
        return None

    def update():
        optimizer.apply(grads, variables)

    context = tf.distribute.get_replica_context()
    if context is None or not tf.distribute.has_strategy() or tf.__internal__.distribute.strategy_supports_no_merge_call():
        tf.cond(when, update, skip)
        return

    def cross_replica(strategy, grads, when):
        first = strategy.experimental_local_results(when)[0]

        def update_each():
            strategy.extended.call_for_each_replica(optimizer.apply, args=(grads, variables))

        tf.cond(first, update_each, skip)

    context.merge_call(cross_replica, args=(grads, when))


def agree_on_overflow(optimizer, grads):
    """With loss scaling on several replicas: when any replica's gradients
    overflow, all replicas' become non-finite, so that every replica skips
    the step (`LossScaleOptimizer` decides from one replica's local
    gradients, before they are summed)."""
    context = tf.distribute.get_replica_context()
    if (
        context is None
        or context.num_replicas_in_sync == 1
        or not isinstance(optimizer, keras.optimizers.LossScaleOptimizer)
    ):
        return grads
    local_overflow = 1.0 - ops.cast(optimizer.check_finite(grads), "float32")
    finite = context.all_reduce(tf.distribute.ReduceOp.SUM, local_overflow) == 0.0
    return [g if g is None else ops.where(finite, g, ops.full_like(g, float("nan"))) for g in grads]


def step_results(results: dict[str, Any]) -> dict[str, Any]:
    """A step's metric results, shaped so Keras can reduce them: it averages
    them over workers along axis 0, which fails on scalars under
    MultiWorkerMirroredStrategy (tensorflow/tensorflow#72388)."""
    if isinstance(tf.distribute.get_strategy(), tf.distribute.MultiWorkerMirroredStrategy):
        return {name: ops.reshape(value, (1,)) for name, value in results.items()}
    return results
