"""Host memory over a long run: many short epochs with everything a real run
writes each epoch (sample grids at begin and end, reconstruction grid, loss
curves, history CSV, checkpoint, validation). Prints the resident set size
(RSS) after every epoch and the growth between epoch 5 and the last one.

Report 002's 1,500-epoch run died at epoch 234 when the host ran out of RAM;
the target here is < 50 MB growth between epoch 5 and epoch 100.

    python benchmarks/memory_soak.py [--epochs 100] [--steps 4] [--preset vae_tiny]
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import psutil  # noqa: E402

from tfface.config import ExperimentConfig, apply_overrides  # noqa: E402
from tfface.experiments import train  # noqa: E402

TARGET_MB = 50.0
BASELINE_EPOCH = 5


class ResidentMemory(keras.callbacks.Callback):
    """Records the process RSS (MB) at the end of every epoch, after the
    run's own callbacks (grids, curves, checkpoint) have written."""

    def __init__(self, every: int = 1):
        super().__init__()
        self.process = psutil.Process()
        self.every = every
        self.rss: dict[int, float] = {}
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        gc.collect()
        mb = self.process.memory_info().rss / 2**20
        self.rss[epoch + 1] = mb
        if (epoch + 1) % self.every == 0 or epoch == 0:
            print(f"epoch {epoch + 1:4d}  rss {mb:8.1f} MB  ({time.perf_counter() - self.start:6.1f} s)", flush=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--steps", type=int, default=4, help="training batches per epoch")
    parser.add_argument("--preset", default="vae_tiny")
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--print-every", type=int, default=5)
    parser.add_argument("--run-dir", default=None, help="defaults to a temporary folder")
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                        help="config overrides, e.g. run.sample_grid=false to isolate a component")
    args = parser.parse_args(argv)

    run_dir = args.run_dir or tempfile.mkdtemp(prefix="tfface-soak-")
    examples = args.steps * args.batch_size
    config = apply_overrides(
        ExperimentConfig(),
        [
            f"model.preset='{args.preset}'",
            f"data.image_size={args.image_size}",
            f"data.num_examples={int(examples / 0.8)}",
            "data.validation_fraction=0.2",
            f"train.epochs={args.epochs}",
            f"train.batch_size={args.batch_size}",
            "run.verbose=0",
            "run.export=false",
            "run.resume=false",
            f"run.dir='{run_dir}'",
            *args.set,
        ],
    )
    meter = ResidentMemory(args.print_every)
    print(f"{args.epochs} epochs x {args.steps} steps, {args.preset} at {args.image_size}px, "
          f"grids + curves + CSV + checkpoint every epoch; run folder {run_dir}")
    train(config, extra_callbacks=[meter])

    rss = meter.rss
    last = max(rss)
    base = rss[min(BASELINE_EPOCH, last)]
    growth = rss[last] - base
    per_epoch = growth / max(1, last - BASELINE_EPOCH)
    marks = sorted({e for e in (1, 5, 10, 25, 50, 75, 100, 150, 200, last) if e in rss})
    print("\nepoch  " + "  ".join(f"{e:>7d}" for e in marks))
    print("RSS MB " + "  ".join(f"{rss[e]:7.1f}" for e in marks))
    verdict = "OK" if growth < TARGET_MB else "OVER TARGET"
    print(f"growth epoch {BASELINE_EPOCH} -> {last}: {growth:+.1f} MB ({per_epoch * 1000:+.0f} kB/epoch); "
          f"target < {TARGET_MB:.0f} MB: {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
