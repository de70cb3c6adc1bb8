"""Training throughput of the report presets on this CPU, and how far it is
from the machine's limit.

For each preset, at its native input size and `--batch`, every combination
of precision (float32, mixed_bfloat16) and XLA (off, on) runs in its own
process (so peak memory is per configuration and no thread pool outlives
its run):

  images/s      median over `--repeats` timed `model.fit` epochs of
                `--steps` in-memory batches, after a warm-up epoch
  img/CPU-s     the same per CPU-second of the process (all its threads):
                what a step costs, whatever else runs on the shared cores
  GFLOP/s       counted training FLOPs per image x images/s
  of mm         that as a fraction of a 2048^3 float32 matmul sampled in
                the same process between the timed epochs (the machine's
                practical peak), per wall second and per CPU second
  peak RSS      the process' peak resident memory (ru_maxrss) after the
                first timed epoch

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
        [--steps 5] [--repeats 3] [--precisions float32 mixed_bfloat16]
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

import tfface  # noqa: E402,F401  (before TensorFlow, in this process and its children: oneDNN's CPU kernels)
from tfface.onednn import ONEDNN_ENV  # noqa: E402

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
    "r000_model1_classifier": ("CelebA train", 162_770, 1.21),
    "r000_model3_classifier": ("CelebA train", 162_770, 1.35),
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


def run_child(script: str, spec: dict, timeout: float = 1800, env: dict | None = None) -> dict:
    """Runs `script --child SPEC` in a fresh Python (with `env` added to
    this process' environment) and returns its result dict."""
    env = {**os.environ, **(env or {}),
           "PYTHONPATH": os.pathsep.join([REPO, os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}  # fmt: skip
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


class Timer:
    """Wall and CPU seconds (all threads of this process) of a block."""

    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu


class MatmulProbe:
    """An n x n x n float32 matmul (2 n^3 FLOPs) in graph mode, sampled
    between the timed epochs so that it runs under the same load."""

    def __init__(self, n: int = MATMUL_N, dtype: str = "float32"):
        self.n, self.dtype, self.samples = n, dtype, []
        self.product = None

    def sample(self) -> None:
        import tensorflow as tf

        if self.product is None:  # allocated on first use, after the peak memory is read
            a = tf.random.uniform((self.n, self.n), dtype=tf.float32)
            self.a, self.b = tf.cast(a, self.dtype), tf.cast(tf.transpose(a), self.dtype)
            self.product = tf.function(lambda a, b: tf.reduce_sum(tf.cast(tf.linalg.matmul(a, b)[:1, :1], tf.float32)))
            self.product(self.a, self.b).numpy()
        with Timer() as t:
            self.product(self.a, self.b).numpy()
        self.samples.append(t)

    def gflops(self) -> tuple[float, float]:
        """Median GFLOP per wall second and per CPU second."""
        flops = 2 * self.n**3 / 1e9
        return flops / statistics.median(t.wall for t in self.samples), flops / statistics.median(t.cpu for t in self.samples)


def matmul_gflops(n: int = MATMUL_N, dtype: str = "float32", repeats: int = 5) -> float:
    """Median GFLOP/s of `repeats` matmuls."""
    probe = MatmulProbe(n, dtype)
    for _ in range(repeats):
        probe.sample()
    return probe.gflops()[0]


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
    outputs = (model.num_attributes,) if hasattr(model, "num_attributes") else tuple(model.output_shape[1:])
    targets = np.zeros((batch, *outputs), np.float32)
    return tf.data.Dataset.from_tensors((images, targets)).repeat()


def timed_fit(model, data, steps: int, repeats: int, warmup: int, between=None, callbacks=()) -> tuple[list[Timer], float]:
    """Wall and CPU time of each of `repeats` fit epochs of `steps` steps,
    after one warm-up epoch of `warmup` steps (tracing, XLA compilation),
    and the peak RSS (MB) at the end of the first timed epoch. `between()`
    runs after each timed epoch, outside its timing; `callbacks` join the
    timed fit only."""
    import keras

    class EpochTimes(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.epochs: list[Timer] = []
            self.peak_mb = 0.0

        def on_epoch_begin(self, epoch, logs=None):
            self.epochs.append(Timer().__enter__())

        def on_epoch_end(self, epoch, logs=None):
            self.epochs[-1].__exit__()
            if epoch == 0:
                self.peak_mb = peak_rss_mb()
            if between is not None:
                between()

    model.fit(data, steps_per_epoch=warmup, epochs=1, verbose=0)
    timer = EpochTimes()
    model.fit(data, steps_per_epoch=steps, epochs=repeats, verbose=0, callbacks=[timer, *callbacks])
    return timer.epochs, timer.peak_mb


def rates(images: int, epochs: list) -> dict:
    """Median images per wall second and per CPU second of timed epochs."""
    return {
        "images_per_s": images / statistics.median(t.wall for t in epochs),
        "images_per_cpu_s": images / statistics.median(t.cpu for t in epochs),
        "repeat_images_per_s": [images / t.wall for t in epochs],
    }


def recipe_adam(recipe: dict) -> tuple[float, tuple[float, float]]:
    """(learning rate, (beta_1, beta_2)) of a preset's recipe, Adam's defaults otherwise."""
    return float(recipe.get("learning_rate", 1e-3)), (float(recipe.get("beta_1", 0.9)), float(recipe.get("beta_2", 0.999)))


def compiled_preset(name: str, xla: bool = False, steps_per_execution: int = 1, preset_args: dict | None = None):
    """The preset built (with `preset_args`) and compiled as tfface's runner
    compiles it: the recipe's Adam (learning rate and betas) through
    `make_optimizer`."""
    from tfface.config import TrainConfig
    from tfface.presets import build_preset, get_preset
    from tfface.training.runner import make_optimizer

    lr, (beta_1, beta_2) = recipe_adam(get_preset(name).recipe)
    model = build_preset(name, **(preset_args or {}))
    model.compile(optimizer=make_optimizer(TrainConfig(learning_rate=lr, beta_1=beta_1, beta_2=beta_2)), jit_compile=xla,
                  steps_per_execution=steps_per_execution)  # fmt: skip
    return model


def tf_child(spec: dict) -> dict:
    """One configuration: build, compile with tfface's optimizer, time fit
    (with the runner's NaN guard when `spec["guard"]`)."""
    import keras

    from tfface.callbacks import NonFiniteGuard
    from tfface.training.runtime import onednn_enabled

    set_tf_threads(spec["threads"])
    keras.mixed_precision.set_global_policy(spec["precision"])
    keras.utils.set_random_seed(0)
    import tfface.training.runner  # noqa: F401  (imported before the baseline memory is read)

    rss_start = current_rss_mb()
    model = compiled_preset(spec["preset"], xla=spec["xla"], steps_per_execution=spec.get("steps_per_execution", 1),
                            preset_args=spec.get("preset_args"))  # fmt: skip
    probe = MatmulProbe() if spec.get("matmul", True) else None
    start = time.perf_counter()
    epochs, peak = timed_fit(model, training_data(model, spec["batch"]), spec["steps"], spec["repeats"],
                             spec["warmup"], between=probe.sample if probe else None,
                             callbacks=[NonFiniteGuard()] if spec.get("guard") else ())  # fmt: skip
    result = {
        "params": int(model.count_params()),
        **rates(spec["batch"] * spec["steps"], epochs),
        "warmup_s": time.perf_counter() - start - sum(t.wall for t in epochs) - sum(t.wall for t in getattr(probe, "samples", [])),
        "peak_rss_mb": peak,
        "rss_start_mb": rss_start,
        "onednn": onednn_enabled(),
    }
    if probe is not None:
        result["matmul_gflops"], result["matmul_gflops_cpu"] = probe.gflops()
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
    import keras
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
            else:  # an attribute classifier: BCE on its sigmoid outputs
                loss = tf.reduce_mean(keras.losses.binary_crossentropy(targets[0], model(x, training=True)))
        return tape.gradient(loss, model.trainable_weights)

    forward = count(lambda x: model(x, training=False), images)
    if isinstance(model, LatentAutoencoder):
        train = count(gradients, images)
    else:
        train = count(gradients, images, tf.TensorSpec((1, model.num_attributes), tf.float32))
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


def pipeline_rates(folder: str, count: int, size, batch: int, value_range: str, passes: int = 3) -> dict:
    """Images per wall second and per CPU second of tfface's training
    pipeline (shuffled, batched, prefetched) over a folder of JPEGs, each
    the median of `passes` passes: "decode" reads, decodes and resizes every
    file (`data.cache=false`, or the first epoch), "cached" reads the
    in-memory cache (later epochs)."""
    from tfface.config import DataConfig
    from tfface.data import load_split, make_dataset

    def measure(cache: bool, skip: int) -> list[Timer]:
        config = DataConfig(source="folder", path=folder, validation_fraction=0.0, cache=cache)
        split = load_split(config, "train", size)
        dataset = make_dataset(config, batch_size=batch, image_size=size, value_range=value_range, source=split)
        timers = []
        for _ in range(passes + skip):
            with Timer() as t:
                seen = sum(int(images.shape[0]) for images in dataset)
            timers.append(t)
            assert seen == count, (seen, count)
        return timers[skip:]

    decode, cached = rates(count, measure(cache=False, skip=0)), rates(count, measure(cache=True, skip=1))
    return {"decode": decode, "cached": cached}


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
          "input-bound = 2 cores x the pipeline's images per CPU-second above (Colab has 2); epoch = images / the lower rate")  # fmt: skip
    print(f"{'preset':18}{'GFLOP/img':>10}{'T4 fp32':>9}{'T4 fp16':>9}{'host decode':>13}{'cached':>8}{'data set':>19}{'images':>9}"
          f"{'min/epoch fp32':>16}{'fp16+cache':>12}{'reported':>10}{'implied TFLOP/s':>17}")  # fmt: skip
    for name in presets:
        flops = info[name]["train"]
        fp32 = u32 * T4_PEAK["float32"] * 1e12 / flops
        fp16 = u16 * T4_PEAK["mixed_float16"] * 1e12 / flops
        # The host's pipeline cost per image, on 2 cores (Colab's) busy with nothing else.
        decode, cached = (2 * pipeline[name][kind]["images_per_cpu_s"] for kind in ("decode", "cached"))
        data = report_epoch(name)
        head = f"{name:18}{flops / 1e9:10.2f}{fp32:9.0f}{fp16:9.0f}{decode:13.0f}{cached:8.0f}"
        if data is None:
            print(f"{head}{'  (no report data set)':>21}")
            continue
        label, images, reported = data
        slow = images / min(fp32, decode) / 60
        fast = images / min(fp16, cached) / 60
        implied = f"{images / (reported * 60) * flops / 1e12:17.2f}" if reported else f"{'':17}"
        print(f"{head}{label:>19}{images:9,}{slow:16.2f}{fast:12.2f}"
              f"{reported or '-':>10}{implied}")  # fmt: skip


def cpu_line() -> str:
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            model = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    kernels = "oneDNN" if os.environ.get(ONEDNN_ENV, "") == "1" else f"Eigen or TensorFlow's default ({ONEDNN_ENV} not 1)"
    return (f"{model}, {os.cpu_count()} logical cores, load average {os.getloadavg()[0]:.1f}; "
            f"TensorFlow CPU kernels: {kernels}")  # fmt: skip


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="+", help='preset names, or "reports" for every report preset '
                        f"(default: {', '.join(HEADLINE_PRESETS)} where registered)")  # fmt: skip
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--steps", type=int, default=5, help="training steps per timed epoch (default 5)")
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
    print("\ntraining step (model.fit on in-memory batches); ratio = images/s / the preset's first row; GFLOP/s = "
          "counted training FLOPs x images/s; 'of mm' = that / the float32 matmul sampled between the timed epochs, "
          "per wall second and per CPU second (the latter ignores other processes' load)")  # fmt: skip
    print(f"{'preset':18}{'input':>9}{'precision':>16}{'XLA':>5}{'images/s':>10}{'ratio':>7}{'img/CPU-s':>11}"
          f"{'GFLOP/s':>9}{'of mm':>7}{'of mm CPU':>11}{'peak RSS MB':>13}{'warm-up s':>11}")  # fmt: skip
    for name in presets:
        size = "x".join(str(d) for d in info[name]["input"][:2])
        reference = None
        for precision in args.precisions:
            for xla in args.xla:
                result = run_child(script, {**base, "preset": name, "precision": precision, "xla": xla == "on"})
                reference = reference or result["images_per_s"]
                gflops = info[name]["train"] * result["images_per_s"] / 1e9
                gflops_cpu = info[name]["train"] * result["images_per_cpu_s"] / 1e9
                rows.append({"preset": name, "precision": precision, "xla": xla, **result})
                print(f"{name:18}{size:>9}{precision:>16}{xla:>5}{result['images_per_s']:10.1f}"
                      f"{result['images_per_s'] / reference:7.2f}{result['images_per_cpu_s']:11.1f}{gflops:9.1f}"
                      f"{gflops / result['matmul_gflops']:7.0%}{gflops_cpu / result['matmul_gflops_cpu']:11.0%}"
                      f"{result['peak_rss_mb']:13.0f}{result['warmup_s']:11.1f}", flush=True)  # fmt: skip
    matmuls = [row["matmul_gflops"] for row in rows]
    per_cpu = [row["matmul_gflops_cpu"] for row in rows]
    print(f"float32 matmul {MATMUL_N}^3 in those processes: median {statistics.median(matmuls):.0f} GFLOP/s "
          f"(range {min(matmuls):.0f}-{max(matmuls):.0f}), {statistics.median(per_cpu):.0f} GFLOP per CPU-second; "
          f"bfloat16 matmul here: {matmul_gflops(dtype='bfloat16'):.0f} GFLOP/s")  # fmt: skip

    print("\nFLOPs per image (2 per multiply-add); training counted on the gradient graph, optimizer excluded")
    print(f"{'preset':18}{'params':>12}{'fwd analytic':>14}{'fwd profiler':>14}{'train':>12}{'train/fwd':>11}")
    for name in presets:
        d = info[name]
        print(f"{name:18}{d['params']:12,}{d['analytic_forward'] / 1e6:13.1f}M{d['forward'] / 1e6:13.1f}M"
              f"{d['train'] / 1e6:11.1f}M{d['train'] / d['forward']:11.2f}")  # fmt: skip

    folder, pipeline = tempfile.mkdtemp(prefix="tfface-bench-"), {}
    try:
        write_photos(folder, args.images)
        print(f"\ninput pipeline (make_dataset, {args.images} JPEGs 218x178, batch {args.batch}) vs the training "
              "step's consumption (the preset's fastest configuration above), per wall second and per CPU-second; "
              "ratio = pipeline / training, target >= 3")  # fmt: skip
        print(f"{'preset':18}{'input':>9}{'decode img/s':>14}{'/CPU-s':>8}{'cached img/s':>14}{'/CPU-s':>8}"
              f"{'train img/s':>13}{'/CPU-s':>8}{'ratio decode':>14}{'CPU':>6}{'ratio cached':>14}{'CPU':>6}")  # fmt: skip
        for name in presets:
            d = info[name]
            pipeline[name] = measured = pipeline_rates(folder, args.images, d["input"][:2], args.batch, d["value_range"])
            fastest = max((row for row in rows if row["preset"] == name), key=lambda row: row["images_per_s"])
            train, train_cpu = fastest["images_per_s"], fastest["images_per_cpu_s"]
            dec, cac = measured["decode"], measured["cached"]
            size = "x".join(str(n) for n in d["input"][:2])
            print(f"{name:18}{size:>9}{dec['images_per_s']:14.0f}{dec['images_per_cpu_s']:8.0f}"
                  f"{cac['images_per_s']:14.0f}{cac['images_per_cpu_s']:8.0f}{train:13.1f}{train_cpu:8.1f}"
                  f"{dec['images_per_s'] / train:14.1f}{dec['images_per_cpu_s'] / train_cpu:6.1f}"
                  f"{cac['images_per_s'] / train:14.1f}{cac['images_per_cpu_s'] / train_cpu:6.1f}", flush=True)  # fmt: skip
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    print_t4_estimate(presets, info, pipeline, args.t4_utilisation)

    batches = [args.batch, *[b for b in args.memory_batches if b != args.batch]]
    baseline = statistics.median(row["rss_start_mb"] for row in rows)
    print(f"\npeak resident memory (MB) per batch size, float32, XLA off, one process each; a process holds "
          f"~{baseline:.0f} MB once TensorFlow and tfface are imported")  # fmt: skip
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
