"""Resumable training state: crash-safe checkpoints of everything `fit` needs
to continue a run exactly where its last checkpoint left it."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np

from tfface.config import ConfigError, ExperimentConfig, config_to_dict
from tfface.io import atomic_path, atomic_write_text

CHECKPOINT_FILE = "checkpoint.json"

# Keys that may change between an interrupted run and its resumption (XLA
# and the distribution strategy change how a step runs, not what it computes).
RESUMABLE_CHANGES = frozenset({"train.epochs", "train.learning_rate", "train.jit_compile", "train.distribution",
                               "train.steps_per_execution"})
RESUMABLE_SECTIONS = frozenset({"run"})
#: Keys that may change when either side is "auto": precision belongs to the
#: device, so a run asking for "auto" continues under the new device's policy
#: (and an "auto" run may be pinned later); two different pinned policies
#: are refused.
RESUMABLE_WITH_AUTO = frozenset({"train.mixed_precision"})
#: Keys whose default became None (the optimizer's own default) after runs
#: had recorded that default's value: such a run resumes under today's None.
RECORDED_DEFAULTS = {"train.beta_1": 0.9, "train.beta_2": 0.999}


@dataclass
class CheckpointState:
    """What `checkpoint.json` records about one saved training state.

    Attributes:
        epoch: completed epochs (the `initial_epoch` of a resumed `fit`).
        weights: file name (in the checkpoint folder) of the model and
            optimizer variables.
        history: per-epoch logs of every completed epoch.
        seed_states: states of the model's `keras.random.SeedGenerator`s, in
            layer order (not part of Keras' weights files).
        finished: the run completed and wrote its final files.
        segments: the stretches of the run up to this epoch that trained
            under one dtype policy: `{"from_epoch", "policy", "requested",
            "reason", "device"}` each (see `tfface.training.precision`).
        loss_scaled: per optimizer attribute of the model ("optimizer",
            "discriminator_optimizer"), whether it was a
            `LossScaleOptimizer` (its saved state then holds the loss scale);
            None in checkpoints written before it was recorded.
    """

    epoch: int
    weights: str
    history: dict[str, list[float]] = field(default_factory=dict)
    seed_states: list[list[int]] = field(default_factory=list)
    finished: bool = False
    segments: list[dict[str, Any]] = field(default_factory=list)
    loss_scaled: dict[str, bool] | None = None

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> "CheckpointState":
        """Builds the state from `checkpoint.json`'s mapping, ignoring keys it does not know."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in raw.items() if k in names})


class ResumeCheckpoint(keras.callbacks.Callback):
    """Backs up the whole training state every `every` epochs and restores it
    when the same run starts again.

    Like `keras.callbacks.BackupAndRestore`, which it replaces because, in
    Keras 3.15, that callback (a) overwrites its weights file in place and
    writes the epoch afterwards, so a kill between the two writes resumes
    with new weights under an old epoch number, (b) leaves out the
    `SeedGenerator` states that drive a VAE's sampling noise, and (c)
    deletes its backup at the end, so a finished run cannot be extended.

    Saved state: model and optimizer variables (Adam moments, `iterations`,
    which also drives KL warm-up), seed-generator states, the completed
    epoch count and the history of every completed epoch. The data order is
    a pure function of (seed, epoch) (`make_dataset(start_batch=...)`), so it
    needs no state.

    A checkpoint restores under another dtype policy than the one that
    wrote it (precision belongs to the device): the weights are float32
    under every policy; a `LossScaleOptimizer`'s own state (loss scale,
    step counter) is dropped when the restoring optimizer is not
    loss-scaled, and starts fresh when it is and the saved one was not,
    while the wrapped optimizer's state (moments, iterations) carries over
    either way. `segments` records which policy trained which epochs.

    Every save writes a new `epoch-NNNNN.weights.h5` under a temporary name
    and renames it, then atomically replaces `checkpoint.json`, which names
    the current and the previous weights file. A kill at any instant leaves
    a `checkpoint.json` that points to complete files; if the current file
    cannot be read, the previous one is used.

    Args:
        directory: str. The checkpoint folder (`RunDir.checkpoints`).
        every: int. Save every this many epochs, and after the last epoch.
            0 disables saving (history is still recorded). Defaults to 1.
        write: bool. Whether this process writes (the chief in multi-worker
            training). A non-writing checkpoint still restores from
            `directory`, and its `save()` serialises the model's variables
            into a scratch file it deletes, so that every worker runs the
            same (possibly collective) variable reads. Defaults to True.

    Example:

    >>> import tempfile
    >>> from tfface.presets import build_preset
    >>> model = build_preset("vae_tiny", image_size=(32, 32))
    >>> model.compile(optimizer="adam")
    >>> x = np.random.rand(8, 32, 32, 3).astype("float32")
    >>> folder = tempfile.mkdtemp()
    >>> _ = model.fit(x, epochs=2, callbacks=[ResumeCheckpoint(folder)], verbose=0)
    >>> ResumeCheckpoint(folder).state.epoch
    2
    """

    def __init__(self, directory: str, every: int = 1, write: bool = True):
        super().__init__()
        self.directory = os.fspath(directory)
        self.every = int(every)
        self.write = write
        self.history: dict[str, list[float]] = {}
        self.epoch = 0
        self.segments: list[dict[str, Any]] = []
        self._restored = False
        self._ignore_saved = False

    # ------------------------------------------------------------ state file

    @property
    def path(self) -> str:
        return os.path.join(self.directory, CHECKPOINT_FILE)

    def _read(self) -> dict[str, Any] | None:
        if self._ignore_saved or not os.path.exists(self.path):
            return None
        try:
            with open(self.path, encoding="utf-8") as handle:
                return json.load(handle)
        except (OSError, ValueError) as error:
            raise OSError(f"checkpoint state {self.path} is unreadable ({error}); "
                          "delete the checkpoints folder or set run.resume=false to start over") from error

    @property
    def state(self) -> CheckpointState | None:
        """The current saved state, or None if nothing was saved yet."""
        raw = self._read()
        return None if raw is None else CheckpointState.from_dict(raw)

    @property
    def finished(self) -> bool:
        state = self.state
        return bool(state and state.finished)

    def clear(self) -> None:
        """Deletes every saved state (starting a run over). A non-writing
        checkpoint leaves the folder to the writer and ignores what it holds."""
        if self.write:
            shutil.rmtree(self.directory, ignore_errors=True)
        else:
            self._ignore_saved = True

    # ------------------------------------------------------------ restore

    def restore(self, model=None) -> int:
        """Loads the latest readable state into `model` (default: the
        callback's model) and returns its completed-epoch count (0 if none).
        The model and its optimizer must be built/compiled."""
        model = model if model is not None else self.model
        if self.model is None:
            self.set_model(model)
        raw = self._read()
        self._restored = True
        if raw is None:
            return 0
        candidates = [raw] + ([raw["previous"]] if raw.get("previous") else [])
        errors = []
        for candidate in candidates:
            state = CheckpointState.from_dict(candidate)
            try:
                self._load(model, state)
            except (OSError, ValueError, KeyError) as error:
                errors.append(f"{state.weights}: {error}")
                continue
            self.epoch = state.epoch
            self.history = {k: list(v) for k, v in state.history.items()}
            self.segments = [dict(s) for s in state.segments if s.get("from_epoch", 0) < state.epoch]
            model._initial_epoch = state.epoch
            return state.epoch
        raise OSError(
            f"no checkpoint in {self.directory} could be loaded ({'; '.join(errors)}); "
            "set run.resume=false to start the run over"
        )

    def _load(self, model, state: CheckpointState) -> None:
        path = os.path.join(self.directory, state.weights)
        if not os.path.exists(path):
            raise OSError(f"missing file {path}")
        optimizer = getattr(model, "optimizer", None)
        if optimizer is not None and not optimizer.built:
            optimizer.build(model.trainable_variables)
        with optimizers_as_saved(model, state.loss_scaled):
            model.load_weights(path)
        generators = seed_generators(model)
        if len(generators) != len(state.seed_states):
            raise ValueError(f"{len(state.seed_states)} saved seed-generator states, the model has {len(generators)}")
        for generator, value in zip(generators, state.seed_states):
            generator.state.assign(np.asarray(value, dtype=generator.state.dtype))

    def on_train_begin(self, logs=None):
        if not self._restored:
            self.restore()

    def begin_segment(self, precision: dict[str, Any]) -> list[dict[str, Any]]:
        """Records that training continues from `self.epoch` under
        `precision` (a `PrecisionChoice.to_dict()`); returns every segment.
        A resumption under the same policy, request, reason and device
        continues the last segment."""
        last = self.segments[-1] if self.segments else None
        if last is None or any(last.get(k) != v for k, v in precision.items()):
            self.segments.append({"from_epoch": self.epoch, **precision})
        return self.segments

    # ------------------------------------------------------------ save

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))
        self.epoch = epoch + 1
        last = self.params.get("epochs") if self.params else None
        if self.every and (self.epoch % self.every == 0 or self.epoch == last):
            self.save()

    def save(self, finished: bool = False) -> None:
        """Writes the model's current state as completed epoch `self.epoch`."""
        if not self.write:
            with tempfile.TemporaryDirectory(prefix="tfface-checkpoint-") as scratch:
                self.model.save_weights(os.path.join(scratch, "scratch.weights.h5"))
            return
        os.makedirs(self.directory, exist_ok=True)
        name = f"epoch-{self.epoch:05d}.weights.h5"
        with atomic_path(os.path.join(self.directory, name)) as tmp:
            self.model.save_weights(tmp)
        state = CheckpointState(
            epoch=self.epoch,
            weights=name,
            history=self.history,
            seed_states=[np.asarray(g.state.numpy()).tolist() for g in seed_generators(self.model)],
            finished=finished,
            segments=self.segments,
            loss_scaled={name: is_loss_scaled(o) for name, o in model_optimizers(self.model).items()},
        )
        self._write_state(state)

    def mark_finished(self) -> None:
        """Records that the run completed (its final files are written); a
        rerun with the same `train.epochs` then trains nothing."""
        raw = self._read()
        if raw is None or not self.write:
            return
        raw["finished"] = True
        raw.pop("previous", None)
        atomic_write_text(self.path, json.dumps(raw) + "\n")
        self._prune({raw["weights"]})

    def _write_state(self, state: CheckpointState) -> None:
        raw = dataclasses.asdict(state)
        previous = self._read()
        if previous and previous.get("weights") != state.weights:
            previous.pop("previous", None)
            raw["previous"] = previous
        atomic_write_text(self.path, json.dumps(raw) + "\n")
        self._prune({state.weights} | ({raw["previous"]["weights"]} if raw.get("previous") else set()))

    def _prune(self, keep: set[str]) -> None:
        for name in os.listdir(self.directory):
            if name.endswith(".weights.h5") and name not in keep:
                try:
                    os.remove(os.path.join(self.directory, name))
                except OSError:
                    pass


def seed_generators(model) -> list:
    """Every `keras.random.SeedGenerator` of `model`, in layer order."""
    found = []
    for layer in model._flatten_layers(include_self=True):
        found.extend(getattr(layer, "_seed_generators", []))
    return found


def model_optimizers(model) -> dict[str, keras.optimizers.Optimizer]:
    """The optimizers a compiled model holds, by attribute name ("optimizer",
    and e.g. "discriminator_optimizer")."""
    return {name: value for name, value in vars(model).items() if isinstance(value, keras.optimizers.Optimizer)}


def is_loss_scaled(optimizer) -> bool:
    """Whether `optimizer` is wrapped in Keras' `LossScaleOptimizer` (float16 loss scaling)."""
    return isinstance(optimizer, keras.optimizers.LossScaleOptimizer)


@contextlib.contextmanager
def optimizers_as_saved(model, loss_scaled: dict[str, bool] | None):
    """While loading a checkpoint: each optimizer of `model` shaped as the
    one that wrote it. A `LossScaleOptimizer` saved, a plain one restoring:
    a stand-in `LossScaleOptimizer` wraps it and takes the loss-scale state,
    which is dropped. A plain one saved, a `LossScaleOptimizer` restoring:
    its inner optimizer loads the state, the loss scale starts fresh. Keras
    would otherwise skip the whole optimizer state (variable counts differ)."""
    swapped = {}
    for name, optimizer in model_optimizers(model).items():
        saved = (loss_scaled or {}).get(name)
        if saved is None or saved == is_loss_scaled(optimizer):
            continue
        if saved:
            stand_in = keras.optimizers.LossScaleOptimizer(optimizer)
            stand_in.build(optimizer._trainable_variables)
        else:
            stand_in = optimizer.inner_optimizer
        swapped[name] = optimizer
        setattr(model, name, stand_in)
    try:
        yield
    finally:
        for name, optimizer in swapped.items():
            setattr(model, name, optimizer)


def check_resumable(saved: ExperimentConfig, config: ExperimentConfig, run_dir: str) -> None:
    """Raises `ConfigError` when `config` differs from the config a run was
    started with in anything but `RESUMABLE_CHANGES`, the `run` section,
    `RESUMABLE_WITH_AUTO` keys with "auto" on either side and a recorded
    default against today's None (`RECORDED_DEFAULTS`)."""
    before, after = _flat(config_to_dict(saved)), _flat(config_to_dict(config))
    changed = [
        key
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
        and {before.get(key), after.get(key)} != {None, RECORDED_DEFAULTS.get(key, None)}
        and key not in RESUMABLE_CHANGES
        and key.split(".")[0] not in RESUMABLE_SECTIONS
        and not (key in RESUMABLE_WITH_AUTO and "auto" in (before.get(key), after.get(key)))
    ]
    if changed:
        details = ", ".join(f"{k}: {before.get(k)!r} -> {after.get(k)!r}" for k in changed)
        raise ConfigError(
            f"{changed[0]}: run folder {run_dir} holds a run started with a different config "
            f"({details}). Resuming needs the same data, model and training settings: use another run.dir, "
            "or set run.resume=false to start this one over."
        )


def _flat(tree: dict, prefix: str = "") -> dict[str, Any]:
    out = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and not prefix.count("."):
            out.update(_flat(value, name + "."))
        else:
            out[name] = value
    return out


def repair_history_csv(path: str, epochs: int, history: dict[str, list[float]]) -> None:
    """Makes `history.csv` hold exactly the first `epochs` epochs before a
    resumed run appends to it: drops rows of epochs after the checkpoint (and
    a half-written last line) or rewrites it from the checkpoint's history."""
    lines: list[str] = []
    end = "\r\n"  # the csv module's (and so HistoryCSV's) line terminator
    if os.path.exists(path):
        with open(path, encoding="utf-8", newline="") as handle:
            text = handle.read()
        end = "\r\n" if "\r\n" in text or not text else "\n"
        lines = text.split(end)
    rows = [line for line in lines[1:] if line.strip()]
    if lines and len(rows) >= epochs and all(_complete(row, lines[0]) for row in rows[:epochs]):
        text = end.join([lines[0], *rows[:epochs]])
    else:
        keys = sorted(history)
        if not any(k.startswith("val_") for k in keys):
            keys += [f"val_{k}" for k in keys]
        body = [
            ",".join([str(e)] + [str(history[k][e]) if k in history else "NA" for k in keys])
            for e in range(epochs)
        ]
        text = end.join([",".join(["epoch", *keys]), *body])
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8", newline="") as handle:
            handle.write(text + end)


def _complete(row: str, header: str) -> bool:
    return row.count(",") == header.count(",")
