"""Face quality at a fixed CPU-time budget: which model makes the best faces
from a folder of real photos, measured against `vae_demo` in the same run.

Every candidate (a preset name or a `pipelines/*.toml` config, each with
optional `key=value` overrides; `--ablation` adds the face recipe's
ablation list, `ABLATION`) is trained by tfface's own runner
(`tfface.training.train`) on the same data until it has used `--budget`
CPU-minutes of the process (`time.process_time`, all threads; checked after
every training step by a Keras callback, which then stops `fit`). The data
is the folder's images through tfface's pipeline with the Haar face crop
(boxes cached once), split by file with a seeded held-out fraction
(`data.split_seed`, `data.validation_fraction`); the held-out faces are
never trained on. `vae_demo` is always measured first as the baseline.

Then, per candidate (all on the held-out faces, at the same image size):

  steps, images   training steps and images seen within the budget
  img/CPU-s       images trained per CPU-second (the budget's throughput)
  PSNR, SSIM      of reconstructions (model(x), the posterior mean), on [0, 1]
  SWD x1e3        ProGAN's sliced Wasserstein distance (`tfface.metrics.swd`)
                  of `--generated` samples against the held-out faces, per
                  pyramid level and averaged; the run's sampler draws them:
                  RUN/sampler.json when the recipe saved one, else the prior
                  for VAEs and a GMM on the training codes for autoencoders
  FID, KID        on InceptionV3 pool features of the same samples, when
                  ImageNet Inception weights are available (`--inception-
                  weights FILE`, or Keras' cache); otherwise skipped, noted

and the ratios to `vae_demo` (PSNR and SSIM as differences). Grids per
candidate: `samples.png` (64 generated faces) and `reconstructions.png`
(held-out faces above their reconstructions: dataset images, so never
commit that file). Results: `table.md` and `results.json` in the output
folder, whose path is printed (`rows.partial.json` holds each row as soon as
it is measured).

Several budgets (`--budget 25 50 100`, or `--minutes`) give the budget
curve: each candidate trains one run (`OUT/runs/<candidate>`), measured at
each budget and resumed from its checkpoint (tfface's exact resume) up to
the next, each stop at the end of the epoch in which the budget runs out
(so the first budget's run is the start of the longest one: the recipes'
learning rates do not depend on the budget); one table per budget and
`budget_curve.png` (held-out PSNR, SSIM and SWD against CPU-minutes, one
line per candidate; `--plot PATH` to put it elsewhere, e.g. `docs/images/`).
Grids then sit in `OUT/<budget>min/<candidate>/`.

    python benchmarks/quality.py FOLDER [--candidate face_64] [--candidate
        pipelines/x.toml train.learning_rate=5e-4] [--ablation] [--budget 25 [50 100]]
        [--image-size 64] [--generated 2000] [--crop-cache DIR] [--out DIR]
        [--plot PNG] [--set key=value ...]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass, field

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, REPO)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import tfface  # noqa: E402,F401  (before TensorFlow: oneDNN's CPU kernels, see tfface.onednn)
import keras  # noqa: E402
import numpy as np  # noqa: E402

BASELINE = "vae_demo"
GRID_SAMPLES = 64
GRID_PAIRS = 16
INCEPTION_FILE = "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"
RECIPE = os.path.join(REPO, "pipelines", "face_64.toml")

#: The face recipe's ablation (issue: a discriminator that does not over-fit
#: small face sets, the weight average, bfloat16, a cheaper discriminator
#: step): name → overrides of `pipelines/face_64.toml`. The option values
#: are the papers' usual ones, untuned here.
ABLATION: dict[str, list[str]] = {
    "recipe": [],
    "recipe float32": ['train.mixed_precision="float32"'],
    "recipe bfloat16": ['train.mixed_precision="mixed_bfloat16"'],
    "+DiffAugment": ['model.discriminator_augment="color,translation,cutout"'],
    "+LeCam": ["model.lecam_weight=0.1"],
    "+R1": ["model.r1_weight=0.1", "model.r1_every=16"],
    "+SN": ["model.discriminator_spectral_norm=true", 'model.args.discriminator_norm="none"'],
    "+feature matching": ["model.feature_matching_weight=1000.0"],
    "without EMA": ["train.ema=false"],  # the recipe keeps the weight average
    "D every 2nd step": ["model.discriminator_every=2"],
    "narrow D (16)": ["model.args.discriminator_width=16"],
    "+DiffAugment+LeCam": ['model.discriminator_augment="color,translation,cutout"', "model.lecam_weight=0.1"],
}


class CPUBudget(keras.callbacks.Callback):
    """Stops `fit` after the training step (with `whole_epochs`: at the end
    of the epoch) at which the process has used `seconds` of CPU time
    (`time.process_time`, every thread) since training began; counts the
    steps it let run.

    Args:
        seconds: float. The budget in CPU-seconds.
        whole_epochs: bool. Let the epoch in which the budget runs out
            finish, so that a resumed run continues exactly where a longer
            one would be (the budget curve's runs). Defaults to False.

    Example:

    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> model.compile("sgd", "mse")
    >>> budget = CPUBudget(0.0)
    >>> _ = model.fit(np.zeros((64, 2)), np.zeros((64, 1)), batch_size=8, epochs=3, callbacks=[budget], verbose=0)
    >>> budget.steps, budget.exhausted
    (1, True)
    >>> budget = CPUBudget(0.0, whole_epochs=True)
    >>> _ = model.fit(np.zeros((64, 2)), np.zeros((64, 1)), batch_size=8, epochs=3, callbacks=[budget], verbose=0)
    >>> budget.steps, budget.exhausted
    (8, True)
    """

    def __init__(self, seconds: float, whole_epochs: bool = False):
        super().__init__()
        self.seconds = float(seconds)
        self.whole_epochs = whole_epochs
        self.steps = 0
        self.exhausted = False
        self.start = None
        self.used = 0.0

    def on_train_begin(self, logs=None):
        self.start = time.process_time()

    def on_train_batch_end(self, batch, logs=None):
        self.steps += 1
        self.used = time.process_time() - self.start
        if self.used >= self.seconds:
            self.exhausted = True
            if not self.whole_epochs:
                self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        if self.exhausted:
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        self.used = time.process_time() - self.start


@dataclass
class Candidate:
    """A model to train: a preset name or a config file, overrides, and
    optionally a name (its label; default: the spec and overrides)."""

    spec: str
    overrides: list[str] = field(default_factory=list)
    name: str | None = None

    @property
    def label(self) -> str:
        if self.name:
            return self.name
        base = os.path.splitext(os.path.basename(self.spec))[0] if self.is_config else self.spec
        return " ".join([base, *self.overrides])

    @property
    def is_config(self) -> bool:
        return self.spec.endswith((".toml", ".json"))

    @property
    def folder(self) -> str:
        return "".join(c if c.isalnum() or c in "-_." else "_" for c in self.label)[:80]

    def config(self, shared: list[str]):
        """The candidate's experiment config with the benchmark's shared
        settings applied over it, then its own overrides."""
        from tfface.config import ExperimentConfig, apply_overrides, load_config
        from tfface.presets import get_preset

        if self.is_config:
            base = load_config(self.spec)
        else:
            get_preset(self.spec)  # an unknown name fails here, listing the known ones
            base = apply_overrides(ExperimentConfig(), [f'model.preset="{self.spec}"'])
        return apply_overrides(base, [*shared, *self.overrides])


def ablation_candidates(recipe: str = RECIPE, common: list[str] | None = None) -> list[Candidate]:
    """`ABLATION` as candidates over the recipe's config file; `common`
    overrides come before each row's own (e.g. an earlier
    `model.adversarial_start` for a shorter budget)."""
    from tfface.config import load_config
    from tfface.training.precision import resolve_precision

    base = os.path.splitext(os.path.basename(recipe))[0]
    configured = load_config(recipe).train.mixed_precision
    recipe_policy = resolve_precision(configured)
    rows = []
    for name, overrides in ABLATION.items():
        label = name.replace("recipe", base, 1) if name.startswith("recipe") else f"{base} {name}"
        candidate = Candidate(recipe, [*(common or []), *overrides], name=label)
        if configured != candidate.config([]).train.mixed_precision == recipe_policy:  # pinned to what the recipe runs
            print(f"ablation: '{name}' left out: the recipe's precision already resolves to {recipe_policy} here")
            continue
        rows.append(candidate)
    return rows


def parse_candidates(specs: list[list[str]], ablation: bool = False, ablation_set: list[str] | None = None) -> list[Candidate]:
    """`--candidate SPEC [KEY=VALUE ...]` groups (and with `ablation` the
    `ABLATION` list, with `ablation_set` applied to each of its rows) →
    candidates, the baseline first."""
    if ablation_set and not ablation:
        raise ValueError("--ablation-set applies to the --ablation rows: pass --ablation too")
    candidates = [Candidate(group[0], list(group[1:])) for group in specs]
    candidates += ablation_candidates(common=ablation_set) if ablation else []
    for candidate in candidates:
        if candidate.is_config and not os.path.exists(candidate.spec):
            raise FileNotFoundError(f"--candidate {candidate.spec}: config file not found")
        bad = [item for item in candidate.overrides if "=" not in item]
        if bad:
            raise ValueError(f"--candidate {candidate.spec}: overrides must be key=value, got {bad}")
    if not any(c.spec == BASELINE and not c.overrides for c in candidates):
        candidates.insert(0, Candidate(BASELINE))
    labels = [c.label for c in candidates]
    if len(set(labels)) != len(labels):
        raise ValueError(f"--candidate: the same candidate is listed twice ({labels})")
    return sorted(candidates, key=lambda c: not (c.spec == BASELINE and not c.overrides))


def shared_settings(args: argparse.Namespace, run_dir: str, resume: bool = False) -> list[str]:
    """The data, budget and output settings every candidate shares."""
    from tfface.config import overrides_from

    return overrides_from({
        "data.source": "folder",
        "data.path": os.path.abspath(args.folder),
        "data.face_crop": True,
        "data.image_size": [args.image_size, args.image_size],
        "data.validation_fraction": args.held_out,
        "data.validation_count": None,
        "data.split_seed": args.split_seed,
        "data.crop_cache_dir": args.crop_cache,
        "train.epochs": 100_000,  # the CPU budget stops training
        "train.seed": args.seed,
        "run.dir": run_dir,
        "run.resume": resume,
        "run.export": False,
        "run.verbose": 2,
    }) + list(args.set)  # fmt: skip


def inception_weights(requested: str | None) -> str | None:
    """A local InceptionV3 no-top weights file, "none" (random weights: smoke
    tests only), or None (FID/KID skipped)."""
    if requested and requested.lower() == "none":
        return "none"
    if requested:
        if not os.path.exists(requested):
            raise FileNotFoundError(f"--inception-weights: no such file: {requested}")
        return requested
    cached = os.path.join(os.path.expanduser("~"), ".keras", "models", INCEPTION_FILE)
    return cached if os.path.exists(cached) else None


def held_out_images(loaded) -> np.ndarray:
    source = loaded.source("validation")
    return loaded.images("validation", source.num_examples)


def reconstruction_grid(model, images: np.ndarray, path: str, value_range: str, per_row: int = 8) -> str:
    """Held-out faces (odd rows) above their reconstructions (even rows)."""
    from tfface.imaging import save_grid
    from tfface.sampling.latents import to_numpy

    recon = to_numpy(model(images, training=False))
    rows = []
    for start in range(0, len(images), per_row):
        rows += [images[start : start + per_row], recon[start : start + per_row]]
    return save_grid(path, np.concatenate(rows), value_range, cols=per_row)


def measure_curve(candidate: Candidate, args: argparse.Namespace, out: str, reference: dict,
                  budgets: list[float], on_row=None) -> list[dict]:
    """Trains one candidate up to each of `budgets` (CPU-minutes, rising) and
    measures it at each: one budget trains in `OUT/<candidate>/run`; several
    train one run in `OUT/runs/<candidate>`, resumed from its checkpoint for
    each next budget and stopped at the end of the epoch in which a budget
    runs out, so the run at 25 minutes is the first quarter of the run at
    100 (the recipes' learning rates do not depend on the budget). Rows get
    the grids in `OUT/<budget>min/<candidate>/` (`OUT/<candidate>/` for one);
    `on_row(row)` is called as each is measured (a long run stopped early
    keeps the budgets it reached)."""
    from tfface.experiments import train

    several = len(budgets) > 1
    run_dir = os.path.join(out, "runs", candidate.folder) if several else os.path.join(out, candidate.folder, "run")
    rows, steps, used, wall = [], 0, 0.0, 0.0
    for index, minutes in enumerate(budgets):
        config = candidate.config(shared_settings(args, run_dir, resume=index > 0))
        budget = CPUBudget(minutes * 60.0 - used, whole_epochs=several)
        print(f"\n== {candidate.label}: training up to {minutes:g} CPU-minutes", flush=True)
        started = time.time()
        train(config, extra_callbacks=[budget])
        wall += time.time() - started
        steps, used = steps + budget.steps, used + budget.used
        keras.backend.clear_session()
        folder = os.path.join(out, f"{minutes:g}min", candidate.folder) if several else os.path.join(out, candidate.folder)
        row = measure_run(candidate, args, run_dir, folder, reference)
        batch = row["batch"]
        row.update({"budget_min": minutes, "steps": steps, "images": steps * batch, "cpu_min": used / 60.0,
                    "wall_min": wall / 60.0, "img_per_cpu_s": steps * batch / max(used, 1e-9),
                    "stopped_by_budget": budget.exhausted})  # fmt: skip
        rows.append(row)
        if on_row is not None:
            on_row(row)
    return rows


def measure_run(candidate: Candidate, args: argparse.Namespace, run_dir: str, folder: str, reference: dict) -> dict:
    """Held-out PSNR/SSIM, SWD (and FID/KID) of the trained run in `run_dir`;
    its sample and reconstruction grids go to `folder`."""
    from tfface.imaging import save_grid
    from tfface.metrics import reconstruction_metrics, to_unit
    from tfface.metrics.swd import SWDOptions, pyramid_resolutions, swd_descriptors, swd_from_descriptors
    from tfface.sampling.latents import generate
    from tfface.sampling.run import default_sampler_kind, sampler_for_run
    from tfface.run import load_run

    loaded = load_run(run_dir)
    model = loaded.model
    options = SWDOptions(seed=args.seed)
    if "held_out" not in reference:  # in [0, 1], whatever the models' ranges
        reference["held_out"] = np.asarray(to_unit(held_out_images(loaded), loaded.value_range))
        reference["descriptors"] = swd_descriptors(reference["held_out"], "0_1", options)
        reference["resolutions"] = pyramid_resolutions(args.image_size, options.min_resolution)
    if reference["held_out"].shape[1:] != tuple(model.image_shape):
        raise ValueError(f"{candidate.label}: images are {model.image_shape}, the baseline's {reference['held_out'].shape[1:]}")
    metrics, _, seen = reconstruction_metrics(model, loaded.dataset("validation", 64))
    saved = os.path.exists(loaded.run_dir.sampler)
    kind = None if saved else ("prior" if default_sampler_kind(model) == "prior" else "gmm")
    sampler = sampler_for_run(loaded, kind, save=False)  # a later budget fits its own
    generated = generate(model, sampler, args.generated, seed=args.seed)
    fake_descriptors = swd_descriptors(generated, loaded.value_range, options, stream=1)
    swd = swd_from_descriptors(reference["descriptors"], fake_descriptors, reference["resolutions"], options)
    row = {
        "candidate": candidate.label,
        "preset": loaded.config.model.preset,
        "params": int(model.count_params()),
        "batch": loaded.config.train.batch_size,
        "held_out": seen,
        "psnr": metrics["psnr"],
        "ssim": metrics["ssim"],
        **{f"swd_{res}": value for res, value in swd.items()},
        "swd_avg": float(np.mean(list(swd.values()))),
        "sampler": sampler.kind + (" (saved)" if saved else ""),
    }
    if reference.get("inception"):
        row.update(_fid_kid(reference, generated, loaded.value_range, args.seed))
    row["samples_grid"] = save_grid(os.path.join(folder, "samples.png"), generated[:GRID_SAMPLES], loaded.value_range)
    row["reconstruction_grid"] = reconstruction_grid(model, loaded.images("validation", GRID_PAIRS),
                                                     os.path.join(folder, "reconstructions.png"), loaded.value_range)  # fmt: skip
    keras.backend.clear_session()
    return row


def _fid_kid(reference: dict, generated: np.ndarray, value_range: str, seed: int) -> dict:
    from tfface.metrics.fid import InceptionFeatures, fid_from_features, kid_from_features

    if "extractor" not in reference:
        reference["extractor"] = InceptionFeatures(reference["inception"], reference["inception_size"], seed=seed)
    extractor = reference["extractor"]
    if "real_features" not in reference:
        reference["real_features"] = extractor(reference["held_out"], "0_1")
    real = reference["real_features"]
    fake = extractor(generated, value_range)
    subset = min(1000, len(real), len(fake))
    kid, _ = kid_from_features(real, fake, subsets=100, subset_size=subset, seed=seed)
    return {"fid": fid_from_features(real, fake), "kid": kid}


def with_ratios(rows: list[dict]) -> list[dict]:
    """Adds the ratios (PSNR, SSIM: differences) to the baseline, the first row."""
    base = rows[0]
    for row in rows:
        row["psnr_vs_base_db"] = row["psnr"] - base["psnr"]
        row["ssim_vs_base"] = row["ssim"] - base["ssim"]
        row["swd_vs_base"] = row["swd_avg"] / base["swd_avg"]
        row["speed_vs_base"] = row["img_per_cpu_s"] / base["img_per_cpu_s"]
        if "fid" in row and "fid" in base:
            row["fid_vs_base"] = row["fid"] / base["fid"]
    return rows


def budget_curve(rows: list[dict], path: str) -> str:
    """Held-out PSNR, SSIM and SWD (average) against CPU-minutes of
    training, one line per candidate, as a PNG; returns its path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from tfface.io import atomic_path

    labels = list(dict.fromkeys(row["candidate"] for row in rows))
    metrics = [("psnr", "held-out PSNR (dB)"), ("ssim", "held-out SSIM"), ("swd_avg", "SWD ×1e3 (lower is better)")]
    figure, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    for axis, (key, title) in zip(axes, metrics):
        for label in labels:
            points = sorted((row["budget_min"], row[key]) for row in rows if row["candidate"] == label)
            axis.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=label)
        axis.set_xlabel("training budget (CPU-minutes)")
        axis.set_title(title)
        axis.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    figure.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with atomic_path(path) as tmp:
        figure.savefig(tmp, dpi=110, format="png")
    plt.close(figure)
    return path


def table(rows: list[dict]) -> str:
    from tfface.metrics.report import markdown_table

    levels = [key for key in rows[0] if key.startswith("swd_") and key[4:].isdigit()]
    columns = ["candidate", "steps", "images", "img_per_cpu_s", "psnr", "ssim", *levels, "swd_avg"]
    if any("fid" in row for row in rows):
        columns += ["fid", "kid"]
    columns += ["psnr_vs_base_db", "ssim_vs_base", "swd_vs_base", "speed_vs_base"]
    labels = {"img_per_cpu_s": "img/CPU-s", "psnr": "PSNR dB", "ssim": "SSIM", "swd_avg": "SWD avg",
              "psnr_vs_base_db": "ΔPSNR dB", "ssim_vs_base": "ΔSSIM", "swd_vs_base": "SWD ×base",
              "speed_vs_base": "speed ×base", "fid": "FID", "kid": "KID",
              **{key: f"SWD {key[4:]}²" for key in levels}}  # fmt: skip
    return markdown_table(rows, columns, labels)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", help="folder of face photos (searched recursively)")
    parser.add_argument("--candidate", nargs="+", action="append", default=[], metavar="SPEC",
                        help="a preset name or a .toml/.json config, then optional key=value overrides; repeatable. "
                             f"{BASELINE} is always measured first")  # fmt: skip
    parser.add_argument("--budget", "--minutes", type=float, nargs="+", default=[25.0], dest="budget",
                        help="CPU-minutes of training per candidate (default 25); several give the budget curve")
    parser.add_argument("--ablation", action="store_true",
                        help="add the face recipe's ablation list (recipe, precision, DiffAugment, LeCam, R1, SN, "
                             "feature matching, EMA, cheaper discriminator steps) as candidates")
    parser.add_argument("--ablation-set", nargs="+", default=[], metavar="KEY=VALUE",
                        help="overrides for every --ablation row (not the baseline), e.g. model.adversarial_start=300 "
                             "so that the discriminator starts within a shorter budget")
    parser.add_argument("--plot", default=None, help="PNG of the budget curve (default OUT/budget_curve.png)")
    parser.add_argument("--image-size", type=int, default=64, help="square image side (default 64)")
    parser.add_argument("--held-out", type=float, default=0.1, help="share of the files held out (default 0.1)")
    parser.add_argument("--split-seed", type=int, default=0, help="seed of the held-out split by file")
    parser.add_argument("--generated", type=int, default=2000, help="generated faces for SWD and FID/KID")
    parser.add_argument("--seed", type=int, default=0, help="seed of training, sampling and SWD")
    parser.add_argument("--crop-cache", default=None, help="folder of the face-crop cache (default FOLDER/.tfface_cache)")
    parser.add_argument("--inception-weights", default=None,
                        help=f"local {INCEPTION_FILE} for FID/KID (default: Keras' cache if present, else skipped); "
                             "'none': random weights, smoke tests only")
    parser.add_argument("--inception-size", type=int, default=299, help="InceptionV3 input size (299 standard)")
    parser.add_argument("--out", default=None, help="output folder (default runs/quality-<UTC time>)")
    parser.add_argument("--set", nargs="+", default=[], metavar="KEY=VALUE", help="overrides for every candidate")
    parser.add_argument("--part", default=None, metavar="K/N",
                        help="measure only the candidates K, K+N, K+2N, ... (0-based, the baseline is 0): N processes, "
                             "e.g. one per core, then --merge their output folders")
    parser.add_argument("--merge", nargs="+", default=None, metavar="DIR",
                        help="no training: the tables and curve of the rows in these output folders' rows.partial.json "
                             "(the --part runs of one benchmark), written to --out")
    return parser


def candidate_part(candidates: list, part: str | None) -> list:
    """The candidates `--part K/N` measures (all without it)."""
    if part is None:
        return candidates
    try:
        index, count = (int(x) for x in part.split("/"))
    except ValueError:
        raise ValueError(f"--part must be K/N with integers, got {part!r}") from None
    if not 0 <= index < count:
        raise ValueError(f"--part {part}: K must be in [0, N)")
    return candidates[index::count]


def merged_rows(folders: list[str]) -> list[dict]:
    """The rows of several `--part` output folders, the baseline's first."""
    rows = []
    for folder in folders:
        path = os.path.join(folder, "rows.partial.json")
        if not os.path.exists(path):
            raise FileNotFoundError(f"--merge: no rows.partial.json in {folder}")
        rows += json.loads(open(path).read())
    if not rows:
        raise ValueError(f"--merge: no rows in {folders}")
    return sorted(rows, key=lambda row: row["candidate"] != BASELINE)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not os.path.isdir(args.folder) and not args.merge:
        raise FileNotFoundError(f"FOLDER: no such folder: {args.folder}")
    if min(args.budget) <= 0:
        raise ValueError(f"--budget must be > 0 CPU-minutes, got {args.budget}")
    finished: list[dict] = []  # rows as they finish: a long run stopped early keeps what it measured
    if args.merge:
        finished = merged_rows(args.merge)
        args.budget = [row["budget_min"] for row in finished]
    budgets = sorted(set(args.budget))
    candidates = [] if args.merge else candidate_part(
        parse_candidates(args.candidate, ablation=args.ablation, ablation_set=args.ablation_set), args.part)
    out = args.out or os.path.join("runs", time.strftime("quality-%Y%m%d-%H%M%S", time.gmtime()))
    os.makedirs(out, exist_ok=True)
    print(f"output folder: {out}")
    reference: dict = {"inception": inception_weights(args.inception_weights), "inception_size": args.inception_size}
    rows, text = [], ""
    from tfface.io import atomic_write_text

    def keep(row: dict) -> None:
        finished.append(row)
        atomic_write_text(os.path.join(out, "rows.partial.json"), json.dumps(finished, indent=2, default=str) + "\n")
        print(f"-- {row['candidate']} ({row['budget_min']:g} min): PSNR {row['psnr']:.2f} dB, "
              f"SWD avg {row['swd_avg']:.1f}, {row['img_per_cpu_s']:.1f} img/CPU-s", flush=True)

    for candidate in candidates:
        measure_curve(candidate, args, out, reference, budgets, on_row=keep)
    for minutes in budgets:
        level = with_ratios([row for row in finished if row["budget_min"] == minutes])
        rows += level
        heading = f"### {minutes:g} CPU-minutes per candidate\n\n" if len(budgets) > 1 else ""
        text += heading + table(level) + "\n\n"
    notes = [
        f"budget {', '.join(f'{b:g}' for b in budgets)} CPU-minutes of training per candidate (time.process_time of the "
        f"process); {args.image_size}x{args.image_size} Haar face crops of {args.folder}, {args.held_out:g} of the files "
        f"held out (split seed {args.split_seed}), {rows[0]['held_out']} held-out faces",
        f"SWD x1e3 (Karras et al. 2018): {args.generated} generated faces against the held-out faces, seed {args.seed}",
        "img/CPU-s: images trained per CPU-second within the budget (the row's throughput)",
        "ΔPSNR/ΔSSIM: differences to the first row of the same budget; ×base: ratios to it",
    ]
    if reference["inception"] == "none":
        notes.append("FID/KID on a randomly initialised InceptionV3 (--inception-weights none): smoke test only")
    elif reference["inception"]:
        notes.append(f"FID/KID: InceptionV3 pool features at {args.inception_size}², {reference['inception']}, "
                     "real images = the held-out faces")
    else:
        notes.append(f"FID/KID skipped: no InceptionV3 ImageNet weights ({INCEPTION_FILE}); pass --inception-weights FILE")
    text += "\n".join(f"- {note}" for note in notes) + "\n"
    if len(budgets) > 1:
        curve = budget_curve(rows, args.plot or os.path.join(out, "budget_curve.png"))
        text += f"\nbudget curve: {curve}\n"
    grids = "\n".join(f"- {row['candidate']} ({row['budget_min']:g} min): {row['samples_grid']}, {row['reconstruction_grid']}"
                      for row in rows)  # fmt: skip
    text += "\ngrids (reconstructions show held-out dataset images: do not commit them):\n" + grids + "\n"
    atomic_write_text(os.path.join(out, "table.md"), text)
    atomic_write_text(os.path.join(out, "results.json"), json.dumps({"args": vars(args), "rows": rows, "notes": notes},
                                                                     indent=2, default=str) + "\n")  # fmt: skip
    print("\n" + text)
    print(f"written: {os.path.join(out, 'table.md')}, {os.path.join(out, 'results.json')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
