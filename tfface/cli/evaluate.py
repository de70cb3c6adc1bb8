"""`tfface evaluate RUN`: reconstruction metrics, attribute accuracy,
(with --fid) FID/KID and (with --swd) the sliced Wasserstein distance;
writes RUN/metrics.json and RUN/metrics.md."""

from __future__ import annotations

import argparse

from tfface.cli import command
from tfface.config import EvaluationOptions, add_arguments, from_args


#: Help of the flags; the flags themselves come from `EvaluationOptions`' fields.
HELP = {
    "split": "data split (default: the run's run.evaluate_split, 'validation' unless its config says otherwise)",
    "count": "images of the split evaluated (default: all)",
    "fid": "also compute FID and KID on Inception features",
    "swd": "also compute ProGAN's sliced Wasserstein distance (x1e3 per pyramid level; no downloads)",
    "generated": "generated (and real) images for FID/KID and SWD",
    "fid_network": "tfgan-inception: TF-GAN's 2015 Inception graph, FIDs comparable with papers; "
    "keras-inception-v3: Keras' ImageNet InceptionV3, comparable between runs only; "
    "auto (default): the first, else the second with a warning",
    "inception_module": "tfgan-inception: local directory of the TF-Hub module or a handle "
    "(default: $TFFACE_INCEPTION_MODULE, else tfhub.dev/tensorflow/tfgan/eval/inception/1)",
    "inception_weights": "keras-inception-v3: 'imagenet' (downloads), a local no-top weights .h5 file, "
    "or 'none' (random; smoke tests)",
    "inception_size": "keras-inception-v3 input size (299 standard, >= 75)",
    "sampler": "sampler of the generated images (default: RUN/sampler.json or the model's default)",
}


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", help="run folder written by `tfface train`")
    add_arguments(parser, EvaluationOptions, HELP)


def options_from_args(args: argparse.Namespace) -> EvaluationOptions:
    return from_args(EvaluationOptions, args)


@command("evaluate", "Evaluate a run: MSE/PSNR/SSIM, attribute accuracy, FID/KID, SWD; writes RUN/metrics.json and metrics.md.", _add_arguments)
def run(args: argparse.Namespace) -> int:
    from tfface.metrics import evaluate_run
    from tfface.metrics.report import markdown_table
    from tfface.run import load_run

    loaded = load_run(args.run)
    results = evaluate_run(loaded, options_from_args(args))
    print(markdown_table([{"metric": k, "value": v} for k, v in results["metrics"].items()], ["metric", "value"]))
    print(f"\nwritten: {loaded.outputs.metrics_json}\n         {loaded.outputs.metrics_md}")
    return 0
