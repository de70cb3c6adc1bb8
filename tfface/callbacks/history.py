"""The history written as training goes: `history.csv` and the loss curves,
each rewritten whole and atomically at every epoch end."""

from __future__ import annotations

import csv
import io
import math
import os

import keras

from tfface.io import atomic_path


class HistoryCSV(keras.callbacks.Callback):
    """Per-epoch logs as CSV in Keras' `CSVLogger` layout (`epoch`, then the
    sorted log keys, `val_` columns included even before validation has run,
    "NA" for a missing value), but crash-safe: the whole file is rewritten
    under a temporary name and renamed at each epoch end, so an
    interruption or a full disk leaves the previous complete file, and a
    failed write is a `tfface.io.WriteError` naming the file (see
    `tfface.io.atomic_path`).

    Args:
        path: str. The CSV file.
        append: bool. Keep the rows already in the file (a resumed run,
            after `repair_history_csv` has cut it back to the checkpoint).
            Defaults to False.

    Example:

    >>> import tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "history.csv")
    >>> logger = HistoryCSV(path)
    >>> logger.on_train_begin()
    >>> logger.on_epoch_end(0, {"loss": 0.5, "val_loss": 0.75})
    >>> open(path).read().splitlines()
    ['epoch,loss,val_loss', '0,0.5,0.75']
    """

    def __init__(self, path: str, append: bool = False):
        super().__init__()
        self.path = os.fspath(path)
        self.append = append
        self.keys: list[str] | None = None
        self.rows: list[list[str]] = []

    def on_train_begin(self, logs=None):
        self.keys, self.rows = None, []
        if self.append and os.path.exists(self.path):
            with open(self.path, encoding="utf-8", newline="") as handle:
                table = [row for row in csv.reader(handle) if row]
            if table:
                self.keys, self.rows = table[0][1:], table[1:]

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
            if self.keys and not any(key.startswith("val_") for key in self.keys):
                self.keys += [f"val_{key}" for key in self.keys]
        self.rows.append([str(epoch), *(str(logs[key]) if key in logs else "NA" for key in self.keys)])
        self.write()

    def write(self) -> None:
        """Rewrites the whole CSV atomically (one row per epoch so far)."""
        buffer = io.StringIO()
        writer = csv.writer(buffer)  # "\r\n" line ends, as CSVLogger's
        writer.writerow(["epoch", *(self.keys or [])])
        writer.writerows(self.rows)
        with atomic_path(self.path) as tmp:
            with open(tmp, "w", encoding="utf-8", newline="") as handle:
                handle.write(buffer.getvalue())


class LossCurves(keras.callbacks.Callback):
    """Plots every logged loss (train and `val_`) per epoch to a PNG,
    rewritten at the end of each epoch. Matplotlib's Agg backend; figures
    are closed after saving.

    Args:
        path: str. The PNG file.
        history: dict or None. Earlier epochs' logs (when resuming).
    """

    def __init__(self, path: str, history: dict | None = None):
        super().__init__()
        self.path = os.fspath(path)
        self.history: dict[str, list[float]] = {k: list(v) for k, v in (history or {}).items()}

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))
        self.plot()

    def plot(self) -> None:
        """Draws the loss curves and saves them atomically as a PNG."""
        import matplotlib.pyplot as plt

        fig = self.figure()
        if fig is None:
            return
        with atomic_path(self.path) as tmp:
            fig.savefig(tmp, format="png", dpi=80)
        plt.close(fig)

    def figure(self):
        """The figure (one panel per loss term), or None before any loss."""
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt

        terms = sorted(k for k in self.history if not k.startswith("val_") and "loss" in k)
        if not terms:
            return None
        fig, axes = plt.subplots(1, len(terms), figsize=(4 * len(terms), 3.2), squeeze=False)
        for ax, term in zip(axes[0], terms):
            epochs = range(1, len(self.history[term]) + 1)
            ax.plot(epochs, self.history[term], marker="o", label="train")
            values = list(self.history[term])
            if f"val_{term}" in self.history:
                val = self.history[f"val_{term}"]
                ax.plot(range(1, len(val) + 1), val, marker="o", label="validation")
                values += val
            scale_loss_axis(ax, values, later=self.history[term][1:] + self.history.get(f"val_{term}", [])[1:])
            ax.set_title(term)
            ax.set_xlabel("epoch")
            ax.legend()
        fig.tight_layout()
        return fig


def scale_loss_axis(ax, values, later=()) -> str:
    """Sets a loss panel's y axis so the training shows, not just epoch 1
    (a VAE's first-epoch KL can be 100x the rest): a log scale when every
    value is positive; otherwise linear, limited to the range of the `later`
    epochs' values when the first epochs lie far outside it. Returns the
    scale ("log" or "linear")."""
    finite = [float(v) for v in values if math.isfinite(v)]
    if finite and min(finite) > 0:
        ax.set_yscale("log")
        return "log"
    rest = [float(v) for v in later if math.isfinite(v)]
    if len(rest) >= 2 and finite:
        low, high = min(rest), max(rest)
        span = max(high - low, 1e-12)
        if min(finite) < low - 3 * span or max(finite) > high + 3 * span:
            ax.set_ylim(low - 0.5 * span, high + 0.5 * span)
    return "linear"
