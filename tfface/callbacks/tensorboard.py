"""TensorBoard logs of a run (`RUN/tensorboard/`): Keras' `TensorBoard`
callback writes the loss terms and the learning rate per epoch (step =
0-based epoch, runs `train/` and `validation/`); `GridSummaries` adds the
sample and reconstruction grids as image summaries (run `grids/`), at the
same steps. `trim_event_files` drops the events of epochs a resumed run is
about to train again, so the logs never hold a step twice."""

from __future__ import annotations

import os

import keras
import tensorflow as tf
from tensorflow.core.util import event_pb2

from tfface.io import atomic_path


class GridSummaries:
    """Writes saved grid PNGs as TensorBoard image summaries.

    Args:
        directory: str. Event-file folder (e.g. `RUN/tensorboard/grids`).

    Example:

    >>> import tempfile, numpy as np
    >>> from tfface.imaging import save_grid
    >>> out = tempfile.mkdtemp()
    >>> png = save_grid(os.path.join(out, "g.png"), np.zeros((4, 8, 8, 3), np.float32))
    >>> GridSummaries(os.path.join(out, "tb")).add("samples/end", png, step=0)
    >>> len(os.listdir(os.path.join(out, "tb")))
    1
    """

    def __init__(self, directory: str):
        self.directory = os.fspath(directory)
        self._writer = None

    def add(self, tag: str, png_path: str, step: int) -> None:
        """Writes the PNG at `png_path` as image summary `tag` at `step`."""
        if self._writer is None:
            self._writer = tf.summary.create_file_writer(self.directory)
        image = tf.io.decode_png(tf.io.read_file(png_path), channels=3)
        with self._writer.as_default():
            tf.summary.image(tag, image[tf.newaxis], step=int(step))
        self._writer.flush()


def tensorboard_callback(log_dir: str) -> keras.callbacks.TensorBoard:
    """Keras' TensorBoard callback as a run uses it: epoch scalars (every
    loss term, validation terms, the learning rate), no graph, no profiler."""
    return keras.callbacks.TensorBoard(log_dir=log_dir, update_freq="epoch", write_graph=False, profile_batch=0)


def _keeps(event, start_epoch: int) -> bool:
    return not event.HasField("summary") or event.step < start_epoch


def trim_event_files(log_dir: str, start_epoch: int) -> int:
    """Removes the summaries of epochs ≥ `start_epoch` from every event file
    under `log_dir` (0: all of them, a fresh start), rewriting files
    atomically; files left without summaries are deleted. A record cut off
    by a killed process ends its file. Returns the number of events dropped."""
    dropped = 0
    if not os.path.isdir(log_dir):
        return 0
    for root, _, names in os.walk(log_dir):
        for name in names:
            if "tfevents" not in name or name.startswith("."):
                continue
            path = os.path.join(root, name)
            records, complete = [], True
            try:
                for record in tf.data.TFRecordDataset(path):
                    records.append(record.numpy())
            except tf.errors.DataLossError:
                complete = False
            events = [event_pb2.Event.FromString(record) for record in records]
            kept = [(record, event) for record, event in zip(records, events) if _keeps(event, start_epoch)]
            dropped += len(records) - len(kept)
            if len(kept) == len(records) and complete:
                continue
            if not any(event.HasField("summary") for _, event in kept):
                os.remove(path)
                continue
            with atomic_path(path) as tmp:
                with tf.io.TFRecordWriter(tmp) as writer:
                    for record, _ in kept:
                        writer.write(record)
    return dropped
