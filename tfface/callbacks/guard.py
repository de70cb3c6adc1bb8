"""Stops training at the first non-finite loss, before anything saves it."""

from __future__ import annotations

import math

import keras

FIXES = (
    "lower train.learning_rate (e.g. by 10x)",
    "warm the KL term up (train.kl_warmup_epochs=5)",
    "check the data: images must be finite and normalised to the model's value range "
    "([0, 1] for a sigmoid output, [-1, 1] for tanh)",
    "with train.mixed_precision='mixed_float16' keep dynamic loss scaling on, or train in float32",
    "calling model.compile yourself: an optimizer that clips gradients, e.g. keras.optimizers.Adam(clipnorm=1.0) "
    "(no train.* key clips: Keras clips each replica's gradients before they are summed)",
)


class NonFiniteLossError(RuntimeError):
    """Training produced a NaN or infinite loss term.

    Attributes:
        epoch: int. 1-based epoch.
        batch: int or None. 1-based batch within the epoch (None when a
            validation loss at the end of the epoch was the first); with
            `steps_per_execution` > 1 the last batch of the failing call.
        terms: dict. The non-finite loss terms and their values.
    """

    def __init__(self, message: str, epoch: int, batch: int | None, terms: dict[str, float]):
        super().__init__(message)
        self.epoch = epoch
        self.batch = batch
        self.terms = terms


class NonFiniteGuard(keras.callbacks.TerminateOnNaN):
    """Raises `NonFiniteLossError` as soon as any loss term (every logged key
    containing "loss", train and validation) is NaN or infinite.

    Unlike `keras.callbacks.TerminateOnNaN`, which checks only `loss` and by
    default lets the epoch end (so later callbacks record and checkpoint the
    broken state), it checks every term and raises from the batch, before
    `on_epoch_end` runs: place it first so that no checkpoint, history row
    or grid of the failed epoch is written. The runner then restores the
    last good checkpoint. Epochs and batches in the message are 1-based.

    It reads nothing from the device itself: it checks the logs that Keras
    hands every callback after each call into the compiled step (Keras'
    TensorFlow trainer converts them to Python numbers once per call). With
    `steps_per_execution` = k a call runs k steps, so the check runs every
    k steps and names the range of batches of the failing call; the logs
    are the epoch's running means, so a non-finite step anywhere in the
    call shows.

    Args:
        fixes: sequence of str. Suggestions appended to the message.

    Example:

    >>> from tfface.presets import build_preset
    >>> model = build_preset("vae_tiny", image_size=(32, 32))
    >>> model.compile(optimizer="adam")
    >>> x = np.random.rand(8, 32, 32, 3).astype("float32")
    >>> x[4:] = np.nan
    >>> try:
    ...     model.fit(x, batch_size=4, shuffle=False, callbacks=[NonFiniteGuard()], verbose=0)
    ... except NonFiniteLossError as error:
    ...     print(error.epoch, error.batch, sorted(error.terms))
    1 2 ['kl_loss', 'loss', 'reconstruction_loss']
    """

    def __init__(self, fixes=FIXES):
        super().__init__(raise_error=True)
        self.fixes = tuple(fixes)
        self._epoch = 0
        self._first = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self._first = 0

    def on_train_batch_begin(self, batch, logs=None):
        self._first = batch  # the first step of this call (several with steps_per_execution)

    def on_batch_end(self, batch, logs=None):
        self._check(logs, batch)

    def on_epoch_end(self, epoch, logs=None):
        self._epoch = epoch
        self._check(logs, None)

    def _check(self, logs, batch: int | None) -> None:
        bad = {}
        for key, value in (logs or {}).items():
            if "loss" not in key:
                continue
            try:
                number = float(value)
            except (TypeError, ValueError):
                continue
            if not math.isfinite(number):
                bad[key] = number
        if bad:
            raise self._error(bad, batch)

    def _error(self, bad: dict[str, float], batch: int | None) -> NonFiniteLossError:
        epoch = self._epoch + 1
        if batch is None:
            where = f"epoch {epoch} (validation)"
        elif batch > self._first:
            where = f"epoch {epoch}, batches {self._first + 1}-{batch + 1} (one call of steps_per_execution steps)"
        else:
            where = f"epoch {epoch}, batch {batch + 1}"
        terms = ", ".join(f"{key}={value}" for key, value in bad.items())
        fixes = "".join(f"\n  - {fix}" for fix in self.fixes)
        message = f"non-finite loss at {where}: {terms}. Training stopped. Usual fixes:{fixes}"
        return NonFiniteLossError(message, epoch, None if batch is None else batch + 1, bad)
