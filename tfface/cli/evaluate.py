"""`tfface evaluate RUN`: reconstruction metrics, attribute accuracy and
(with --fid) FID/KID; writes RUN/metrics.json and RUN/metrics.md."""

from __future__ import annotations

import argparse

from tfface.cli import command


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", help="run folder written by `tfface train`")
    parser.add_argument("--split", default=None, help="data split (default: the run's run.evaluate_split, 'validation' unless its config says otherwise)")
    parser.add_argument("--count", type=int, default=None, help="images of the split evaluated (default: all)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--fid", action="store_true", help="also compute FID and KID on Inception features")
    parser.add_argument("--generated", type=int, default=1000, help="generated (and real) images for FID/KID")
    parser.add_argument("--fid-network", default="auto", choices=("auto", "tfgan-inception", "keras-inception-v3"),
                        help="tfgan-inception: TF-GAN's 2015 Inception graph, FIDs comparable with papers; "
                             "keras-inception-v3: Keras' ImageNet InceptionV3, comparable between runs only; "
                             "auto (default): the first, else the second with a warning")  # fmt: skip
    parser.add_argument("--inception-module", default=None,
                        help="tfgan-inception: local directory of the TF-Hub module or a handle "
                             "(default: $TFFACE_INCEPTION_MODULE, else tfhub.dev/tensorflow/tfgan/eval/inception/1)")  # fmt: skip
    parser.add_argument("--inception-weights", default="imagenet",
                        help="keras-inception-v3: 'imagenet' (downloads), a local no-top weights .h5 file, "
                             "or 'none' (random; smoke tests)")  # fmt: skip
    parser.add_argument("--inception-size", type=int, default=299,
                        help="keras-inception-v3 input size (299 standard, >= 75)")  # fmt: skip
    parser.add_argument("--kid-subsets", type=int, default=100)
    parser.add_argument("--kid-subset-size", type=int, default=1000)
    parser.add_argument("--sampler", default=None, help="sampler of the generated images (default: RUN/sampler.json or the model's default)")
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=0)


def options_from_args(args: argparse.Namespace):
    from tfface.metrics import EvaluationOptions

    return EvaluationOptions(
        split=args.split,
        count=args.count,
        batch_size=args.batch_size,
        fid=args.fid,
        generated=args.generated,
        fid_network=args.fid_network,
        inception_module=args.inception_module,
        inception_weights=args.inception_weights,
        inception_size=args.inception_size,
        kid_subsets=args.kid_subsets,
        kid_subset_size=args.kid_subset_size,
        sampler=args.sampler,
        temperature=args.temperature,
        seed=args.seed,
    )


@command("evaluate", "Evaluate a run: MSE/PSNR/SSIM, attribute accuracy, FID/KID; writes RUN/metrics.json and metrics.md.", _add_arguments)
def run(args: argparse.Namespace) -> int:
    from tfface.metrics import evaluate_run
    from tfface.metrics.report import markdown_table
    from tfface.run import load_run

    loaded = load_run(args.run)
    results = evaluate_run(loaded, options_from_args(args))
    print(markdown_table([{"metric": k, "value": v} for k, v in results["metrics"].items()], ["metric", "value"]))
    print(f"\nwritten: {loaded.outputs.metrics_json}\n         {loaded.outputs.metrics_md}")
    return 0
