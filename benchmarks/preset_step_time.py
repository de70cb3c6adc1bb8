"""CPU time of one training step of every preset at batch 8 (native input size).

Prints one line per preset: parameters (encoder / decoder / total) and the
median wall time of `train_on_batch` over a few steps after one warm-up step
(graph mode, as `tfface train` runs). Timings on a shared machine are noisy.

    python benchmarks/preset_step_time.py [--batch 8] [--steps 3] [NAME ...]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="presets (default: all)")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--steps", type=int, default=3)
    args = parser.parse_args()

    import keras
    import numpy as np

    from tfface.presets import load_all

    registry = load_all()
    print(f"{'preset':28s} {'encoder':>12s} {'decoder':>12s} {'total':>12s} {'step (s)':>9s}")
    for name in args.names or registry.names():
        keras.backend.clear_session()
        model = registry.get(name).build()
        rng = np.random.default_rng(0)
        images = rng.random((args.batch, *model.image_shape), dtype=np.float32)
        if model.value_range == "-1_1":
            images = images * 2 - 1
        names = getattr(model, "attribute_names", None)
        labels = (rng.random((args.batch, len(names))) > 0.5).astype("float32") if names else None
        model.compile(optimizer="adam")
        model.train_on_batch(images, labels)  # trace + warm-up
        times = []
        for _ in range(args.steps):
            start = time.perf_counter()
            model.train_on_batch(images, labels)
            times.append(time.perf_counter() - start)
        parts = [getattr(model, part, None) for part in ("encoder", "decoder")]
        counts = [f"{p.count_params():,}" if p is not None else "-" for p in parts]
        step = statistics.median(times)
        print(f"{name:28s} {counts[0]:>12s} {counts[1]:>12s} {model.count_params():>12,} {step:>9.3f}", flush=True)


if __name__ == "__main__":
    main()
