"""The optimizers `train.optimizer` names (`tfface.registry.OPTIMIZERS`),
and `FusedAdam`, the runner's "adam".

It is Keras' Adam with its update on TensorFlow's fused kernel:
Keras 3 writes Adam's update as about ten element-wise ops per variable
(two moment updates, the square root, the division, three assignments),
each a pass over the weights; `ResourceApplyAdam` does it in one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import keras
import tensorflow as tf

from tfface.registry import OPTIMIZERS


#: The average's warm-up: its momentum at optimizer step t is
#: min(ema_momentum, (1 + t) / (WARMUP_STEPS + 1 + t)), as TensorFlow's
#: `ExponentialMovingAverage(num_updates=...)`.
EMA_WARMUP = 9.0


class WarmedUpAverage:
    """Mixin for a Keras optimizer: the `use_ema` weight average with a
    warm-up. Keras' average uses `ema_momentum` from its second step, so
    with 0.999 it still holds half of the random initial weights after 700
    steps (a face model's samples after a short run are noise); here the
    momentum at step t is min(ema_momentum, (1 + t) / (10 + t)) —
    TensorFlow's `ExponentialMovingAverage(num_updates)` rule: 0.1 at the
    first step, 0.9 at the 80th, 0.99 at the 890th. The variables,
    checkpoints and `get_config` are Keras'.

    Example:

    >>> class WarmedSGD(WarmedUpAverage, keras.optimizers.SGD):
    ...     pass
    >>> w = keras.Variable([0.0])
    >>> sgd = WarmedSGD(1.0, use_ema=True, ema_momentum=0.999)
    >>> for _ in range(3):
    ...     _ = sgd.apply_gradients([(np.array([-1.0], "float32"), w)])
    >>> w.numpy(), sgd._model_variables_moving_average[0].numpy().round(3)  # Keras alone: 1.003
    (array([3.], dtype=float32), array([2.7], dtype=float32))
    """

    def _update_model_variables_moving_average(self, trainable_variables):
        if not self.use_ema:
            return
        step = keras.ops.cast(self.iterations, "float32")
        momentum = keras.ops.minimum(float(self.ema_momentum), (1.0 + step) / (1.0 + EMA_WARMUP + step))
        for variable, average in zip(trainable_variables, self._model_variables_moving_average):
            if average is not None:
                rate = keras.ops.cast(momentum, variable.dtype)
                average.assign(rate * average + (1.0 - rate) * variable)


@keras.saving.register_keras_serializable(package="tfface")
class FusedAdam(WarmedUpAverage, keras.optimizers.Adam):
    """`keras.optimizers.Adam` whose update of each variable runs as
    TensorFlow's fused `ResourceApplyAdam` kernel: the same maths (Keras'
    bias-corrected step size, epsilon added to √v), variables, config and
    checkpoints, to float rounding.

    The fused kernel is used for dense gradients of plain variables outside
    a `tf.distribute` strategy without AMSGrad; every other case (AMSGrad,
    sparse gradients, mirrored variables) runs Keras' own update.

    Args:
        **kwargs: the arguments of `keras.optimizers.Adam`.

    Example:

    >>> w = keras.Variable([1.0, -2.0])
    >>> fused, plain = FusedAdam(0.1), keras.optimizers.Adam(0.1)
    >>> w2 = keras.Variable([1.0, -2.0])
    >>> for _ in range(3):
    ...     _ = fused.apply_gradients([(np.array([0.5, -1.0], "float32"), w)])
    ...     _ = plain.apply_gradients([(np.array([0.5, -1.0], "float32"), w2)])
    >>> bool(np.allclose(w.numpy(), w2.numpy(), atol=1e-6))
    True
    """

    def update_step(self, gradient, variable, learning_rate):
        if self.amsgrad or isinstance(gradient, tf.IndexedSlices) or tf.distribute.has_strategy():
            return super().update_step(gradient, variable, learning_rate)
        index = self._get_variable_index(variable)
        if isinstance(variable, keras.Variable):
            variable = variable.value
        dtype = variable.dtype
        step = tf.cast(self.iterations + 1, dtype)
        beta_1, beta_2 = tf.cast(self.beta_1, dtype), tf.cast(self.beta_2, dtype)
        tf.raw_ops.ResourceApplyAdam(
            var=variable.handle,
            m=self._momentums[index].value.handle,
            v=self._velocities[index].value.handle,
            beta1_power=tf.pow(beta_1, step),
            beta2_power=tf.pow(beta_2, step),
            lr=tf.cast(learning_rate, dtype),
            beta1=beta_1,
            beta2=beta_2,
            epsilon=tf.cast(self.epsilon, dtype),
            grad=tf.cast(gradient, dtype),
        )



@dataclass(frozen=True)
class OptimizerChoice:
    """An entry of `OPTIMIZERS`: builds the optimizer from a `TrainConfig`.

    Args:
        optimizer: callable. The Keras optimizer class (or a function with
            its arguments): called with the learning rate and the `options`
            the config sets.
        options: tuple of str. The optional train keys it takes
            (`tfface.config.OPTIMIZER_OPTIONS`: "beta_1", "beta_2",
            "momentum"); the config rejects the others. Unset keys keep the
            optimizer's own defaults.

    Example:

    >>> from tfface.config import TrainConfig
    >>> sgd = OptimizerChoice(keras.optimizers.SGD, ("momentum",))
    >>> sgd(TrainConfig(optimizer="sgd", momentum=0.5, learning_rate=0.1)).momentum
    0.5
    """

    optimizer: Callable[..., keras.optimizers.Optimizer]
    options: tuple[str, ...] = ()

    def __call__(self, config: Any) -> keras.optimizers.Optimizer:
        given = {name: getattr(config, name) for name in self.options if getattr(config, name) is not None}
        if getattr(config, "ema", False):  # `train.ema`: Keras' weight average, warmed up (`WarmedUpAverage`)
            given.update(use_ema=True, ema_momentum=config.ema_momentum)
        return self.optimizer(config.learning_rate, **given)


@keras.saving.register_keras_serializable(package="tfface")
class AdamW(WarmedUpAverage, keras.optimizers.AdamW):
    """`keras.optimizers.AdamW` with the warmed-up weight average of
    `WarmedUpAverage` (`train.optimizer = "adamw"`).

    Example:

    >>> AdamW(1e-3, weight_decay=0.01).weight_decay
    0.01
    """


@keras.saving.register_keras_serializable(package="tfface")
class RMSprop(WarmedUpAverage, keras.optimizers.RMSprop):
    """`keras.optimizers.RMSprop` with the warmed-up weight average of
    `WarmedUpAverage` (`train.optimizer = "rmsprop"`).

    Example:

    >>> RMSprop(1e-3, momentum=0.5).momentum
    0.5
    """


@keras.saving.register_keras_serializable(package="tfface")
class SGD(WarmedUpAverage, keras.optimizers.SGD):
    """`keras.optimizers.SGD` with the warmed-up weight average of
    `WarmedUpAverage` (`train.optimizer = "sgd"`).

    Example:

    >>> SGD(0.1, momentum=0.9).momentum
    0.9
    """


OPTIMIZERS.register("adam", OptimizerChoice(FusedAdam, ("beta_1", "beta_2")))
OPTIMIZERS.register("adamw", OptimizerChoice(AdamW, ("beta_1", "beta_2")))
OPTIMIZERS.register("rmsprop", OptimizerChoice(RMSprop, ("momentum",)))
OPTIMIZERS.register("sgd", OptimizerChoice(SGD, ("momentum",)))
