"""Early stopping and keep-best-weights whose state survives a kill/resume."""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass
from typing import Callable, Mapping, Sequence

import keras

from tfface.io import atomic_path, atomic_write_text

STATE_FILE = "best.json"
_WEIGHTS = re.compile(r"^best-e(\d{5})\.weights\.h5$")
_HIGHER_IS_BETTER = ("acc", "psnr", "ssim")


def resolve_mode(monitor: str, mode: str = "auto") -> str:
    """"min" or "max": "auto" means max for accuracies, PSNR and SSIM."""
    if mode != "auto":
        return mode
    return "max" if any(word in monitor.lower() for word in _HIGHER_IS_BETTER) else "min"


@dataclass
class BestState:
    """Where early stopping stands after `epochs` completed epochs.

    Attributes:
        monitor: the followed metric. mode: "min" or "max".
        epochs: completed epochs the state covers.
        best: the best value so far (None before the first epoch).
        best_epoch: 1-based epoch of `best` (0 before the first epoch).
        wait: epochs since the last improvement by more than `min_delta`.
        stopped: whether patience ran out (training stops after `epochs`).
    """

    monitor: str
    mode: str
    epochs: int = 0
    best: float | None = None
    best_epoch: int = 0
    wait: int = 0
    stopped: bool = False

    def update(self, value: float, min_delta: float, patience: int | None) -> bool:
        """Adds one epoch's value; returns whether it is a new best."""
        self.epochs += 1
        sign = 1.0 if self.mode == "min" else -1.0
        improved = self.best is None or sign * (self.best - value) > min_delta
        if improved:
            self.best, self.best_epoch, self.wait = float(value), self.epochs, 0
        else:
            self.wait += 1
            if patience is not None and self.wait >= max(patience, 1):
                self.stopped = True
        return improved


def replay(history: Mapping[str, Sequence[float]], monitor: str, mode: str, min_delta: float,
           patience: int | None, epochs: int) -> BestState:
    """The state after the first `epochs` epochs of `history`: early
    stopping's state is a function of the logged values, so a resumed run
    recomputes it from its checkpoint's history."""
    state = BestState(monitor, mode)
    values = list(history.get(monitor, []))[:epochs]
    for value in values:
        state.update(value, min_delta, patience)
    return state


class BestWeights(keras.callbacks.Callback):
    """Follows `monitor` each epoch: saves the weights of every new best
    epoch to `directory/best-eNNNNN.weights.h5`, records the state in
    `directory/best.json`, and with `patience` stops training after
    `patience` epochs in a row without an improvement by more than
    `min_delta` (Keras' `EarlyStopping` semantics).

    Resumable: `resume(history, epochs)` rebuilds the state from a
    checkpoint's history, and a best-weights file newer than the last
    checkpoint is kept until the checkpoint covers its epoch, so a kill at
    any moment leaves the best epoch's weights on disk.

    Args:
        directory: str. Folder of the state and weights (`RUN/best`).
        monitor: str. A key of the epoch logs, e.g. "val_loss".
        patience: int or None. None only tracks the best (no stopping).
        min_delta: float. Smallest change counted as improvement. Defaults to 0.
        mode: str. "min", "max" or "auto". Defaults to "auto".
        saved_epoch: callable returning the last checkpointed epoch count,
            or None (then older best files are pruned at once).

    Example:

    >>> import tempfile
    >>> from tfface.presets import build_preset
    >>> best = BestWeights(tempfile.mkdtemp(), monitor="loss", patience=2)
    >>> vae = build_preset("vae_tiny")
    >>> vae.compile(optimizer="adam")
    >>> images = np.random.default_rng(0).random((8, 32, 32, 3), dtype=np.float32)
    >>> _ = vae.fit(images, epochs=2, callbacks=[best], verbose=0)
    >>> best.state.epochs, best.state.best_epoch >= 1
    (2, True)
    """

    def __init__(
        self,
        directory: str,
        monitor: str = "val_loss",
        patience: int | None = None,
        min_delta: float = 0.0,
        mode: str = "auto",
        saved_epoch: Callable[[], int] | None = None,
    ):
        super().__init__()
        self.directory = os.fspath(directory)
        self.monitor = monitor
        self.patience = patience
        self.min_delta = float(min_delta)
        self.mode = resolve_mode(monitor, mode)
        self.saved_epoch = saved_epoch
        self.state = BestState(monitor, self.mode)

    # ------------------------------------------------------------ files

    @property
    def state_path(self) -> str:
        return os.path.join(self.directory, STATE_FILE)

    def weights_path(self, epoch: int) -> str:
        """The weights file of `epoch` under this callback's directory."""
        return os.path.join(self.directory, f"best-e{epoch:05d}.weights.h5")

    def _files(self) -> dict[int, str]:
        if not os.path.isdir(self.directory):
            return {}
        found = {}
        for name in os.listdir(self.directory):
            match = _WEIGHTS.match(name)
            if match:
                found[int(match.group(1))] = os.path.join(self.directory, name)
        return found

    def _write_state(self) -> None:
        os.makedirs(self.directory, exist_ok=True)
        weights = os.path.basename(self.weights_path(self.state.best_epoch)) if self.state.best_epoch else None
        record = {**asdict(self.state), "patience": self.patience, "min_delta": self.min_delta, "weights": weights}
        atomic_write_text(self.state_path, json.dumps(record, indent=2) + "\n")

    def _prune(self) -> None:
        saved = self.saved_epoch() if self.saved_epoch else self.state.epochs
        # The best file as of the last checkpoint must survive until the
        # checkpoint moves past any newer best (a resume goes back to it).
        keep = {self.state.best_epoch}
        covered = [e for e in self._files() if e <= saved]
        if covered:
            keep.add(max(e for e in covered if e <= max(saved, 0)))
        keep |= {e for e in self._files() if e > saved}
        for epoch, path in self._files().items():
            if epoch not in keep:
                try:
                    os.remove(path)
                except OSError:
                    pass

    # ------------------------------------------------------------ resume

    def resume(self, history: Mapping[str, Sequence[float]], epochs: int) -> BestState:
        """Rebuilds the state of the first `epochs` epochs and drops best
        files of epochs the checkpoint does not cover (they were lost)."""
        self.state = replay(history, self.monitor, self.mode, self.min_delta, self.patience, epochs)
        for epoch, path in self._files().items():
            if epoch > epochs:
                os.remove(path)
        if epochs:
            self._write_state()
        return self.state

    def restore_best(self, model=None) -> int:
        """Loads the best epoch's weights into `model`; returns that epoch
        (0 if there is none on disk, the model is then left as it is)."""
        model = model if model is not None else self.model
        path = self.weights_path(self.state.best_epoch)
        if not self.state.best_epoch or not os.path.exists(path):
            return 0
        model.load_weights(path)
        return self.state.best_epoch

    # ------------------------------------------------------------ callback

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.monitor not in logs:
            raise KeyError(
                f"train.early_stopping.monitor: {self.monitor!r} is not logged by this run; "
                f"logged: {', '.join(sorted(logs))}"
            )
        self.state.epochs = epoch  # completed epochs before this one
        if self.state.update(float(logs[self.monitor]), self.min_delta, self.patience):
            os.makedirs(self.directory, exist_ok=True)
            with atomic_path(self.weights_path(self.state.best_epoch)) as tmp:
                self.model.save_weights(tmp)
        self._write_state()
        self._prune()
        if self.state.stopped:
            self.model.stop_training = True
