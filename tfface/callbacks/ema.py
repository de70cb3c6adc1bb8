"""The EMA weights in the model while they are shown, measured and kept,
with BatchNorm statistics computed for them."""

from __future__ import annotations

import contextlib

import keras
import numpy as np

#: Training images whose batch statistics become the averaged weights'
#: BatchNorm statistics (`recalibrate_batch_norm`).
RECALIBRATION_IMAGES = 512


def batch_norm_layers(model) -> list:
    """The BatchNormalization layers `model(x, training=True)` runs: every
    one of the model's except a GAN discriminator's."""
    critic = getattr(model, "discriminator", None)
    skip = {id(layer) for layer in critic._flatten_layers(include_self=True)} if critic is not None else set()
    return [layer for layer in model._flatten_layers(include_self=False)
            if isinstance(layer, keras.layers.BatchNormalization) and id(layer) not in skip]  # fmt: skip


def recalibrate_batch_norm(model, images: np.ndarray, batch_size: int = 64) -> int:
    """Sets the moving statistics of `model`'s BatchNorm layers to the mean
    of their batch statistics over `images`, run in training mode in
    batches of `batch_size` (SWA's `update_bn`, Izmailov et al. 2018):
    statistics that belong to the weights in the model. A weight average's
    own BatchNorm statistics do not exist: the trained weights' running
    statistics make the averaged weights' activations drift (a face model
    trained 700 steps decoded grey noise with them). Random-seed states are
    left as they were. Returns the number of layers recalibrated.

    Example:

    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.BatchNormalization()])
    >>> data = np.array([[1.0, 2.0], [3.0, 6.0], [5.0, 10.0], [7.0, 14.0]], "float32")
    >>> recalibrate_batch_norm(model, data, batch_size=2)
    1
    >>> model.layers[0].moving_mean.numpy()  # the mean of the two batches' means
    array([4., 8.], dtype=float32)
    """
    layers = batch_norm_layers(model)
    if not layers or images is None or not len(images):
        return 0
    seeds = [v for v in model.non_trainable_variables if "seed_generator_state" in v.path]
    settings = [(layer.momentum, getattr(layer, "synchronized", False)) for layer in layers]
    with kept_state_of(seeds):
        try:
            for layer in layers:
                layer.synchronized = False  # one device sees the whole batch here
            for index, start in enumerate(range(0, len(images), batch_size)):
                for layer in layers:  # momentum i/(i+1): the running value is the mean of the batches so far
                    layer.momentum = index / (index + 1.0)
                model(images[start : start + batch_size], training=True)
        finally:
            for layer, (momentum, synchronized) in zip(layers, settings):
                layer.momentum, layer.synchronized = momentum, synchronized
    return len(layers)


@contextlib.contextmanager
def kept_state_of(variables):
    """Restores `variables` on leaving."""
    saved = [(variable, keras.ops.convert_to_numpy(variable.value)) for variable in variables]
    try:
        yield
    finally:
        for variable, value in saved:
            variable.assign(value)


class EMAWeights(keras.callbacks.SwapEMAWeights):
    """Puts the optimizer's exponential moving average of the weights
    (`use_ema=True`, see `train.ema`) into the model for validation (as
    Keras' `SwapEMAWeights`) and, at the end of every epoch, for the
    callbacks listed between this one and its `swap_back` callback (the
    sample and reconstruction grids, the best-weights copy), then puts the
    trained weights back before the resumable checkpoint, which so holds
    the trained weights and, in the optimizer's state, their average. At
    the end of `fit` Keras' `finalize_variable_values` leaves the average in
    the model: what `model.keras`, the sampler and the export get.

    With `images`, BatchNorm statistics follow the weights: while the
    average is in the model its BatchNorm layers hold statistics
    recalibrated for it on those images (`recalibrate_batch_norm`, once per
    optimizer step however often it is swapped in), the trained statistics
    come back with the trained weights, and at the end of `fit` the
    average keeps recalibrated ones.

    The swap copies values (Keras' callback swaps by addition under
    TensorFlow, which rounds), so an epoch's trained weights are not
    changed by being shown.

    Args:
        images: array or None. Training images for the BatchNorm
            statistics of the average (None: the trained statistics stay).
        batch_size: int. Batch size of the recalibration (the training
            batch size: the statistics are per batch). Defaults to 64.

    Example:

    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> model.compile(keras.optimizers.SGD(0.1, use_ema=True, ema_momentum=0.5), "mse")
    >>> ema = EMAWeights()
    >>> seen = []
    >>> probe = keras.callbacks.LambdaCallback(on_epoch_end=lambda e, logs: seen.append(model.get_weights()[1][0]))
    >>> _ = model.fit(np.ones((4, 2)), np.ones((4, 1)), epochs=1, verbose=0, callbacks=[ema, probe, ema.swap_back])
    >>> average = model.optimizer._model_variables_moving_average[1].numpy()[0]
    >>> bool(seen[0] == model.get_weights()[1][0]), bool(model.trainable_weights[1].numpy()[0] == average)
    (True, True)
    """

    def __init__(self, images=None, batch_size: int = 64):
        super().__init__(swap_on_epoch=False)
        self.swap_back = _SwapBack(self)
        self.images = images
        self.batch_size = int(batch_size)
        self._trained_statistics = None
        self._average_statistics = None  # (optimizer step, values) of the last recalibration

    def _statistics(self) -> list:
        return [v for layer in batch_norm_layers(self.model) for v in (layer.moving_mean, layer.moving_variance)]

    def _step(self) -> int:
        optimizer = getattr(self.model.optimizer, "inner_optimizer", self.model.optimizer)
        return int(keras.ops.convert_to_numpy(optimizer.iterations))

    def _swap_variables(self):
        entering = not self._ema_weights_in_model
        self._apply_to_ema_optimizers(self._backend_swap_variables, self._backend_swap_variables)
        if self.images is None:
            return
        statistics = self._statistics()
        if entering:
            self._trained_statistics = [keras.ops.convert_to_numpy(v.value) for v in statistics]
            step = self._step()
            if self._average_statistics is not None and self._average_statistics[0] == step:
                for variable, value in zip(statistics, self._average_statistics[1]):
                    variable.assign(value)
            else:
                recalibrate_batch_norm(self.model, self.images, self.batch_size)
                self._average_statistics = (step, [keras.ops.convert_to_numpy(v.value) for v in statistics])
        elif self._trained_statistics is not None:
            for variable, value in zip(statistics, self._trained_statistics):
                variable.assign(value)
            self._trained_statistics = None

    def swap_in(self) -> None:
        """Puts the weight average into the model (a no-op when it is there)."""
        if not self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = True

    def swap_out(self) -> None:
        """Puts the trained weights back into the model (a no-op when they are there)."""
        if self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = False

    def on_epoch_end(self, epoch, logs=None):
        self.swap_in()

    def on_train_end(self, logs=None):
        self.swap_out()
        # `fit` has put the average into the model (`finalize_variable_values`): its statistics to it
        recalibrate_batch_norm(self.model, self.images, self.batch_size)


class _SwapBack(keras.callbacks.Callback):
    """`EMAWeights.swap_back`: the trained weights back into the model."""

    def __init__(self, owner: EMAWeights):
        super().__init__()
        self.owner = owner

    def on_epoch_end(self, epoch, logs=None):
        self.owner.swap_out()
