"""What one replica of a `tf.distribute` strategy needs to compute what one
device computes on the global batch: sums over replicas, and random draws
that depend on an example's place in the global batch, not on the replica
it lands on.

On one device (or outside a strategy) every function here is the identity
of its single-device meaning, at no cost.
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops


def replica_position() -> tuple[int | tf.Tensor, int]:
    """(this replica's index, the number of replicas in sync): (0, 1) on one
    device or in a cross-replica context."""
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return 0, 1
    return context.replica_id_in_sync_group, context.num_replicas_in_sync


def sum_over_replicas(value):
    """`value` summed over the replicas in sync (an all-reduce; no gradient
    flows through it): the global-batch total of a per-replica sum.

    Example:

    >>> float(sum_over_replicas(np.float32(3.0)))  # one device
    3.0
    """
    value = ops.stop_gradient(ops.convert_to_tensor(value))
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return value
    return context.all_reduce(tf.distribute.ReduceOp.SUM, value)


def global_batch_normal(shape, seed, dtype="float32"):
    """Standard normal noise of `shape` (batch first, this replica's share)
    equal to the rows that one device would draw for the same examples
    (see `global_batch_draw`).

    Example:

    >>> noise = global_batch_normal((4, 2), keras.random.SeedGenerator(0))
    >>> tuple(noise.shape)
    (4, 2)
    """
    return global_batch_draw(keras.random.normal, shape, seed, dtype=dtype)


def global_batch_draw(draw, shape, seed, **kwargs):
    """`draw(shape, seed=seed, **kwargs)` (a `keras.random` function such as
    `normal` or `uniform`) for this replica's share of the batch, equal to
    the rows one device draws for the same examples.

    Every replica draws for the global batch (`shape[0]` × replicas rows)
    from the same seed state and keeps its own consecutive slice, so
    example `i` of the global batch gets the same draw whichever replica it
    lands on, and replicas never share draws. This assumes the replicas'
    batches are consecutive slices of the global batch in replica order, as
    `tfface.training.runner.training_stream` and Keras' own input splitting
    make them on one host.

    Args:
        draw: a `keras.random` function taking `(shape, seed=..., **kwargs)`.
        shape: this replica's shape, batch first.
        seed: a `keras.random.SeedGenerator` (its state advances once per
            call, on every replica alike) or an int.
        **kwargs: passed to `draw` (dtype, minval, maxval, ...).

    Example:

    >>> flips = global_batch_draw(keras.random.uniform, (3, 1, 1, 1), seed=1)
    >>> tuple(flips.shape)
    (3, 1, 1, 1)
    """
    replica, replicas = replica_position()
    if replicas == 1:
        return draw(shape, seed=seed, **kwargs)
    batch = shape[0]
    values = draw([batch * replicas, *shape[1:]], seed=seed, **kwargs)
    return values[replica * batch:(replica + 1) * batch]
