"""Runtime set-up for a run: seeds, determinism, precision, distribution."""

from __future__ import annotations

from dataclasses import dataclass

import keras
import tensorflow as tf

from tfface.config import TrainConfig


@dataclass
class Runtime:
    """What the runner needs to know about the execution environment.

    Attributes:
        strategy: the `tf.distribute.Strategy` to build and train under.
        jit_compile: bool or "auto", passed to `compile`.
        is_chief: whether this process writes files (grids, checkpoints).
    """

    strategy: tf.distribute.Strategy
    jit_compile: bool | str = False
    is_chief: bool = True


def configure_runtime(config: TrainConfig) -> Runtime:
    """Seeds, op determinism and the global dtype policy, then the strategy."""
    keras.utils.set_random_seed(config.seed)
    if config.deterministic:
        tf.config.experimental.enable_op_determinism()
    keras.mixed_precision.set_global_policy(config.mixed_precision)
    jit = {"on": True, "off": False, "auto": "auto"}[config.jit_compile]
    return Runtime(strategy=tf.distribute.get_strategy(), jit_compile=jit)
