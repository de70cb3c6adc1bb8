"""Loss curves written as training goes (the CSV comes from Keras' CSVLogger)."""

from __future__ import annotations

import os

import keras

from tfface.io import atomic_path


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
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt

        terms = sorted(k for k in self.history if not k.startswith("val_") and "loss" in k)
        if not terms:
            return
        fig, axes = plt.subplots(1, len(terms), figsize=(4 * len(terms), 3.2), squeeze=False)
        for ax, term in zip(axes[0], terms):
            epochs = range(1, len(self.history[term]) + 1)
            ax.plot(epochs, self.history[term], marker="o", label="train")
            if f"val_{term}" in self.history:
                val = self.history[f"val_{term}"]
                ax.plot(range(1, len(val) + 1), val, marker="o", label="validation")
            ax.set_title(term)
            ax.set_xlabel("epoch")
            ax.legend()
        fig.tight_layout()
        with atomic_path(self.path) as tmp:
            fig.savefig(tmp, format="png", dpi=80)
        plt.close(fig)
