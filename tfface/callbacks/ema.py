"""The EMA weights in the model while they are shown, measured and kept."""

from __future__ import annotations

import keras


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

    The swap copies values (Keras' callback swaps by addition under
    TensorFlow, which rounds), so an epoch's trained weights are not
    changed by being shown.

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

    def __init__(self):
        super().__init__(swap_on_epoch=False)
        self.swap_back = _SwapBack(self)

    def _swap_variables(self):
        self._apply_to_ema_optimizers(self._backend_swap_variables, self._backend_swap_variables)

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


class _SwapBack(keras.callbacks.Callback):
    """`EMAWeights.swap_back`: the trained weights back into the model."""

    def __init__(self, owner: EMAWeights):
        super().__init__()
        self.owner = owner

    def on_epoch_end(self, epoch, logs=None):
        self.owner.swap_out()
