"""Training throughput of the report presets on this CPU, and how far it is
from the machine's limit.

For each preset, at its native input size and `--batch`, every combination
of precision (float32, mixed_bfloat16) and XLA (off, on) runs in its own
process (so peak memory is per configuration and no thread pool outlives
its run):

  images/s      median over `--repeats` timed `model.fit` epochs of
                `--steps` in-memory batches, after a warm-up epoch
  GFLOP/s       counted training FLOPs per image x images/s
  of matmul     that as a fraction of a 2048^3 float32 matmul measured in
                the same process right after (the machine's practical peak)
  peak RSS      the process' peak resident memory (ru_maxrss)

Training FLOPs are counted by `tf.profiler` on the graph of one gradient
step (forward + backward, optimizer excluded), beside an analytic
forward count of the conv and dense layers (2 FLOPs per multiply-add).

Then, per preset, the input pipeline's images/s at that input size
(`make_dataset` decoding and resizing a temporary folder of 218x178 JPEGs
like `benchmarks/data_pipeline.py`: decoding every file as in epoch 1 or
with `data.cache=false`, and reading the cache as later epochs do) against the fastest training configuration's consumption, with the
ratio (target >= 3), and peak memory per batch size (`--memory-batches`).
Figures, not assertions; the cores are shared, so compare the ratios.

    python benchmarks/train_throughput.py [--presets r003_vae ...] [--batch 8]
        [--steps 10] [--repeats 3] [--precisions float32 mixed_bfloat16]
        [--xla off on] [--memory-batches 8 32]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, REPO)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

# The presets whose reports quote training times, and the stand-in used
# before they exist (the same trunk family).
HEADLINE_PRESETS = ("r002_anime_vae", "r003_vae", "r004_ae_baseline")
FALLBACK_PRESETS = ("vae_demo",)
MATMUL_N = 2048
RESULT_TAG = "RESULT "

# NVIDIA T4 peaks (TFLOP/s): FP32 CUDA cores, FP16 tensor cores (mixed_float16).
T4_PEAK = {"float32": 8.1, "mixed_float16": 65.0}
# Training images per epoch of each report's data set, and the epoch time it
# reports (minutes; None if not given), by preset name prefix.
REPORT_EPOCHS = {
    "r000_model1": ("CelebA train", 162_770, 1.23),
    "r000_model2": ("CelebA train", 162_770, 1.33),
    "r000_model3": ("CelebA train", 162_770, 1.35),
    "r000_model4": ("CelebA train", 162_770, 1.38),
    "r001_": ("CelebA train", 162_770, None),
    "r002_anime": ("anime faces", 30_750, None),
    "r002_iiitb": ("IIITB faces", 832, None),
    "r003_": ("CelebA train", 162_770, 2.0),
    "r004_": ("FFHQ subset train", 39_000, None),
}


# ------------------------------------------------------------------ children


def run_child(script: str, spec: dict, timeout: float = 1800) -> dict:
    """Runs `script --child SPEC` in a fresh Python and returns its result dict."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([REPO, os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    proc = subprocess.run(
        [sys.executable, script, "--child", json.dumps(spec)],
        capture_output=True, text=True, timeout=timeout, env=env,
    )  # fmt: skip
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(RESULT_TAG):
            return json.loads(line[len(RESULT_TAG):])
    tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
    raise RuntimeError(f"benchmark child {spec} failed (exit {proc.returncode}):\n{tail}")


def report_result(result: dict) -> None:
    result.setdefault("peak_rss_mb", peak_rss_mb())
    print(RESULT_TAG + json.dumps(result), flush=True)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def current_rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def matmul_gflops(n: int = MATMUL_N, dtype: str = "float32", repeats: int = 5) -> float:
    """Median GFLOP/s of an n x n x n matmul (2 n^3 FLOPs) in graph mode."""
    import tensorflow as tf

    a = tf.random.uniform((n, n), dtype=tf.float32)
    a, b = tf.cast(a, dtype), tf.cast(tf.transpose(a), dtype)
    product = tf.function(lambda a, b: tf.reduce_sum(tf.cast(tf.linalg.matmul(a, b)[:1, :1], tf.float32)))
    product(a, b).numpy()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        product(a, b).numpy()
        times.append(time.perf_counter() - start)
    return 2 * n**3 / statistics.median(times) / 1e9


def set_tf_threads(threads: int) -> None:
    """The same thread counts for every framework: intra-op = inter-op = `threads`."""
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)


def input_shape(model) -> tuple[int, ...]:
    """(height, width, channels) a model takes."""
    if hasattr(model, "image_shape"):
        return tuple(model.image_shape)
    return tuple(int(d) for d in model.input_shape[1:])


def training_data(model, batch: int):
    """One in-memory batch repeated forever, in the form `fit` expects for
    this model: images (autoencoders) or (images, zero targets)."""
    import numpy as np
    import tensorflow as tf

    from tfface.models.base import LatentAutoencoder

    rng = np.random.default_rng(0)
    images = rng.random((batch, *input_shape(model)), dtype=np.float32)
    if getattr(model, "value_range", "0_1") == "-1_1":
        images = images * 2 - 1
    if isinstance(model, LatentAutoencoder):
        return tf.data.Dataset.from_tensors(images).repeat()
    targets = np.zeros((batch, *model.output_shape[1:]), np.float32)
    return tf.data.Dataset.from_tensors((images, targets)).repeat()


def timed_fit(model, data, steps: int, repeats: int, warmup: int) -> list[float]:
    """Seconds of each of `repeats` fit epochs of `steps` steps, after one
    warm-up epoch of `warmup` steps (tracing, XLA compilation)."""
    import keras

    class EpochTimes(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.seconds: list[float] = []

        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append(time.perf_counter() - self.start)

    model.fit(data, steps_per_epoch=warmup, epochs=1, verbose=0)
    timer = EpochTimes()
    model.fit(data, steps_per_epoch=steps, epochs=repeats, verbose=0, callbacks=[timer])
    return timer.seconds


def tf_child(spec: dict) -> dict:
    """One configuration: build, compile with tfface's optimizer, time fit."""
    import keras

    set_tf_threads(spec["threads"])
    keras.mixed_precision.set_global_policy(spec["precision"])
    keras.utils.set_random_seed(0)
    from tfface.config import TrainConfig
    from tfface.presets import build_preset, get_preset
    from tfface.training.runner import make_optimizer

    recipe = get_preset(spec["preset"]).recipe
    model = build_preset(spec["preset"])
    lr = float(recipe.get("learning_rate", 1e-3))
    model.compile(optimizer=make_optimizer(TrainConfig(learning_rate=lr)), jit_compile=spec["xla"])
    rss_built = current_rss_mb()
    start = time.perf_counter()
    seconds = timed_fit(model, training_data(model, spec["batch"]), spec["steps"], spec["repeats"], spec["warmup"])
    total = time.perf_counter() - start
    result = {
        "params": int(model.count_params()),
        "images_per_s": spec["batch"] * spec["steps"] / statistics.median(seconds),
        "repeat_images_per_s": [spec["batch"] * spec["steps"] / s for s in seconds],
        "warmup_s": total - sum(seconds),
        "rss_built_mb": rss_built,
        "peak_rss_mb": peak_rss_mb(),  # before the matmul below
    }
    if spec.get("matmul", True):
        result["matmul_gflops"] = matmul_gflops()
    return result


# ------------------------------------------------------------- FLOP counting


def analytic_forward_flops(model) -> int:
    """2 x multiply-adds per image of every Conv2D, Conv2DTranspose and
    Dense layer (nested models included); norms and activations ignored."""
    import keras

    total = 0
    for layer in model._flatten_layers(include_self=False, recursive=True):
        if isinstance(layer, keras.layers.Conv2DTranspose):
            h, w, c_in = layer.input.shape[1:]
            kh, kw = layer.kernel_size
            total += 2 * kh * kw * c_in * layer.filters * h * w
        elif isinstance(layer, keras.layers.Conv2D):
            h, w, c_out = layer.output.shape[1:]
            kh, kw = layer.kernel_size
            total += 2 * kh * kw * (layer.input.shape[-1] // layer.groups) * c_out * h * w
        elif isinstance(layer, keras.layers.Dense):
            positions = 1
            for d in layer.input.shape[1:-1]:
                positions *= d
            total += 2 * layer.input.shape[-1] * layer.units * positions
    return int(total)


def profiled_flops(model) -> tuple[int, int]:
    """(forward, training) FLOPs per image counted by `tf.profiler` on the
    graphs of `model(x)` and of one loss + gradient computation."""
    import tensorflow as tf

    from tfface.models.base import LatentAutoencoder

    images = tf.TensorSpec((1, *input_shape(model)), tf.float32)

    def count(function, *specs) -> int:
        graph = tf.function(function).get_concrete_function(*specs).graph
        options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
        options["output"] = "none"
        return int(tf.compat.v1.profiler.profile(graph=graph, options=options).total_float_ops)

    def gradients(x, *targets):
        with tf.GradientTape() as tape:
            if isinstance(model, LatentAutoencoder):
                loss = model.compute_losses(x, training=True)["loss"]
            else:
                loss = tf.reduce_mean(model.compute_loss(x, targets[0], model(x, training=True)))
        return tape.gradient(loss, model.trainable_weights)

    forward = count(lambda x: model(x, training=False), images)
    if isinstance(model, LatentAutoencoder):
        train = count(gradients, images)
    else:
        train = count(gradients, images, tf.TensorSpec((1, *model.output_shape[1:]), tf.float32))
    return forward, train


# ----------------------------------------------------------------- presets


def resolve_presets(names: list[str] | None) -> list[str]:
    """The presets to run: the given names, "reports" for every report
    preset, or by default the headline report presets that exist here
    (`vae_demo` as a stand-in if none does)."""
    from tfface.presets import load_all

    registry = load_all()
    if names and names != ["reports"]:
        for name in names:
            registry.get(name)  # unknown names fail with the known ones
        return names
    if names == ["reports"]:
        found = [name for name, preset in registry.items() if preset.report]
    else:
        found = [name for name in HEADLINE_PRESETS if name in registry]
    if not found:
        print(f"note: none of {', '.join(HEADLINE_PRESETS)} is registered; measuring {', '.join(FALLBACK_PRESETS)}")
        return list(FALLBACK_PRESETS)
    return found


def describe_preset(name: str) -> dict:
    """Input size, parameters and FLOP counts of a preset (float32 build)."""
    import keras

    from tfface.presets import build_preset

    keras.mixed_precision.set_global_policy("float32")
    model = build_preset(name)
    forward, train = profiled_flops(model)
    return {
        "input": input_shape(model),
        "params": int(model.count_params()),
        "analytic_forward": analytic_forward_flops(model),
        "forward": forward,
        "train": train,
        "value_range": getattr(model, "value_range", "0_1"),
    }


# ------------------------------------------------------------------ pipeline


def pipeline_rates(folder: str, count: int, size, batch: int, value_range: str, passes: int = 3) -> tuple[float, float]:
    """(decoding, cached) images/s of tfface's training pipeline (shuffled,
    batched, prefetched) over a folder of JPEGs, each the median of `passes`
    passes: reading, decoding and resizing every file (`data.cache=false`,
    or the first epoch), and reading the in-memory cache (later epochs)."""
    from tfface.config import DataConfig
    from tfface.data import load_split, make_dataset

    def rates(cache: bool, skip: int) -> list[float]:
        config = DataConfig(source="folder", path=folder, validation_fraction=0.0, cache=cache)
        split = load_split(config, "train", size)
        dataset = make_dataset(config, batch_size=batch, image_size=size, value_range=value_range, source=split)
        measured = []
        for _ in range(passes + skip):
            start = time.perf_counter()
            seen = sum(int(images.shape[0]) for images in dataset)
            measured.append(seen / (time.perf_counter() - start))
            assert seen == count, (seen, count)
        return measured[skip:]

    return statistics.median(rates(cache=False, skip=0)), statistics.median(rates(cache=True, skip=1))


# ---------------------------------------------------------------------- main


def report_epoch(name: str):
    return next((v for prefix, v in REPORT_EPOCHS.items() if name.startswith(prefix)), None)


def print_t4_estimate(presets, info, pipeline, utilisation) -> None:
    """Expected T4 figures: compute-bound images/s = utilisation x peak /
    training FLOPs per image; the input pipeline runs on the host's CPU
    cores (2 on Colab, as here), so an epoch takes the longer of the two."""
    u32, u16 = utilisation
    print(f"\nexpected on a T4: compute-bound images/s = utilisation x peak / training FLOPs per image "
          f"(FP32 {u32:.0%} of {T4_PEAK['float32']} TFLOP/s, mixed_float16 {u16:.0%} of {T4_PEAK['mixed_float16']}); "
          "input-bound = the pipeline rates above (2 host cores, as on Colab); epoch = images / the lower rate")  # fmt: skip
    print(f"{'preset':18}{'GFLOP/img':>10}{'T4 fp32':>9}{'T4 fp16':>9}{'data set':>19}{'images':>9}"
          f"{'min/epoch fp32':>16}{'fp16+cache':>12}{'reported':>10}{'implied TFLOP/s':>17}")  # fmt: skip
    for name in presets:
        flops = info[name]["train"]
        fp32 = u32 * T4_PEAK["float32"] * 1e12 / flops
        fp16 = u16 * T4_PEAK["mixed_float16"] * 1e12 / flops
        decode, cached = pipeline[name]
        data = report_epoch(name)
        if data is None:
            print(f"{name:18}{flops / 1e9:10.2f}{fp32:9.0f}{fp16:9.0f}{'(no report data set)':>19}")
            continue
        label, images, reported = data
        slow = images / min(fp32, decode) / 60
        fast = images / min(fp16, cached) / 60
        implied = f"{images / (reported * 60) * flops / 1e12:17.2f}" if reported else f"{'':17}"
        print(f"{name:18}{flops / 1e9:10.2f}{fp32:9.0f}{fp16:9.0f}{label:>19}{images:9,}{slow:16.2f}{fast:12.2f}"
              f"{reported or '-':>10}{implied}")  # fmt: skip


def cpu_line() -> str:
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            model = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{model}, {os.cpu_count()} logical cores, load average {os.getloadavg()[0]:.1f}"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="+", help='preset names, or "reports" for every report preset '
                        f"(default: {', '.join(HEADLINE_PRESETS)} where registered)")  # fmt: skip
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--steps", type=int, default=10, help="training steps per timed epoch (default 10)")
    parser.add_argument("--repeats", type=int, default=3, help="timed epochs; the median counts (default 3)")
    parser.add_argument("--warmup", type=int, default=2, help="steps of the untimed first epoch (default 2)")
    parser.add_argument("--precisions", nargs="+", default=["float32", "mixed_bfloat16"],
                        choices=["float32", "mixed_bfloat16", "mixed_float16"])  # fmt: skip
    parser.add_argument("--xla", nargs="+", default=["off", "on"], choices=["off", "on"])
    parser.add_argument("--memory-batches", type=int, nargs="*", default=[32],
                        help="more batch sizes whose peak memory is measured (float32, XLA off; default 32)")
    parser.add_argument("--images", type=int, default=512, help="JPEG files for the pipeline measurement")
    parser.add_argument("--t4-utilisation", type=float, nargs=2, default=(0.35, 0.15), metavar=("FP32", "FP16"),
                        help="share of the T4's FP32 / FP16 tensor-core peak a training step reaches (default 0.35 0.15)")  # fmt: skip
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="intra- and inter-op threads")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.child:
        report_result(tf_child(json.loads(args.child)))
        return 0
    import tensorflow as tf

    from data_pipeline import write_photos  # benchmarks/data_pipeline.py

    set_tf_threads(args.threads)
    presets = resolve_presets(args.presets)
    print(f"{cpu_line()}; TensorFlow {tf.__version__}, {args.threads} threads; batch {args.batch}, "
          f"{args.repeats} x {args.steps} timed steps (median) after a {args.warmup}-step warm-up")  # fmt: skip
    info = {name: describe_preset(name) for name in presets}

    script = os.path.abspath(__file__)
    base = {"batch": args.batch, "steps": args.steps, "repeats": args.repeats, "warmup": args.warmup,
            "threads": args.threads}  # fmt: skip
    rows = []
    header = (f"{'preset':18}{'input':>10}{'precision':>16}{'XLA':>5}{'images/s':>10}{'ratio':>7}{'GFLOP/s':>9}"
              f"{'of matmul':>11}{'peak RSS MB':>13}{'warm-up s':>11}")  # fmt: skip
    print("\ntraining step (model.fit on in-memory batches); ratio = images/s / float32-XLA-off of the same preset")
    print(header)
    for name in presets:
        size = "x".join(str(d) for d in info[name]["input"][:2])
        reference = None
        for precision in args.precisions:
            for xla in args.xla:
                result = run_child(script, {**base, "preset": name, "precision": precision, "xla": xla == "on"})
                reference = reference or result["images_per_s"]
                gflops = info[name]["train"] * result["images_per_s"] / 1e9
                rows.append({"preset": name, "precision": precision, "xla": xla, **result})
                print(f"{name:18}{size:>10}{precision:>16}{xla:>5}{result['images_per_s']:10.1f}"
                      f"{result['images_per_s'] / reference:7.2f}{gflops:9.1f}"
                      f"{gflops / result['matmul_gflops']:10.1%}{result['peak_rss_mb']:13.0f}"
                      f"{result['warmup_s']:11.1f}", flush=True)  # fmt: skip
    matmuls = [row["matmul_gflops"] for row in rows]
    print(f"float32 matmul {MATMUL_N}^3 in the same processes: median {statistics.median(matmuls):.0f} GFLOP/s "
          f"(range {min(matmuls):.0f}-{max(matmuls):.0f}); bfloat16 matmul here: {matmul_gflops(dtype='bfloat16'):.0f} GFLOP/s")  # fmt: skip

    print("\nFLOPs per image (2 per multiply-add); training counted on the gradient graph, optimizer excluded")
    print(f"{'preset':18}{'params':>12}{'fwd analytic':>14}{'fwd profiler':>14}{'train':>12}{'train/fwd':>11}")
    for name in presets:
        d = info[name]
        print(f"{name:18}{d['params']:12,}{d['analytic_forward'] / 1e6:13.1f}M{d['forward'] / 1e6:13.1f}M"
              f"{d['train'] / 1e6:11.1f}M{d['train'] / d['forward']:11.2f}")  # fmt: skip

    folder, pipeline = tempfile.mkdtemp(prefix="tfface-bench-"), {}
    try:
        write_photos(folder, args.images)
        print(f"\ninput pipeline (make_dataset, {args.images} JPEGs 218x178, batch {args.batch}) vs training "
              "consumption (fastest configuration above); target ratio >= 3")  # fmt: skip
        print(f"{'preset':18}{'input':>10}{'decode img/s':>14}{'cached img/s':>14}{'train img/s':>13}"
              f"{'ratio decode':>14}{'ratio cached':>14}")  # fmt: skip
        for name in presets:
            d = info[name]
            first, cached = pipeline_rates(folder, args.images, d["input"][:2], args.batch, d["value_range"])
            pipeline[name] = (first, cached)
            fastest = max(row["images_per_s"] for row in rows if row["preset"] == name)
            size = "x".join(str(n) for n in d["input"][:2])
            print(f"{name:18}{size:>10}{first:14.0f}{cached:14.0f}{fastest:13.1f}"
                  f"{first / fastest:14.1f}{cached / fastest:14.1f}", flush=True)  # fmt: skip
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    print_t4_estimate(presets, info, pipeline, args.t4_utilisation)

    batches = [args.batch, *[b for b in args.memory_batches if b != args.batch]]
    print(f"\npeak resident memory (MB) per batch size, float32, XLA off, one process each"
          f" (TensorFlow alone holds ~{current_rss_mb():.0f} MB here)")  # fmt: skip
    print(f"{'preset':18}{'weights+Adam MB':>17}" + "".join(f"{f'batch {b}':>11}" for b in batches))
    for name in presets:
        cells = []
        for b in batches:
            row = next((r for r in rows if r["preset"] == name and r["precision"] == "float32"
                        and r["xla"] == "off" and b == args.batch), None)  # fmt: skip
            if row is None:
                row = run_child(script, {**base, "preset": name, "precision": "float32", "xla": False,
                                         "batch": b, "steps": 2, "repeats": 1, "warmup": 1, "matmul": False})  # fmt: skip
            cells.append(row["peak_rss_mb"])
        state = info[name]["params"] * 4 * 3 / 2**20
        print(f"{name:18}{state:17.0f}" + "".join(f"{mb:11.0f}" for mb in cells), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
