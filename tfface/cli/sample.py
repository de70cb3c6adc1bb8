"""`tfface sample RUN [ACTION]`: generate and explore with a trained run.

Actions (default `grid`), each writing a PNG under RUN/samples/ (or --out;
for a published export `OUT/<version>`, under `OUT/<version>-outputs/`):

- `grid`: `--count` faces from the run's sampler (`--sampler`, fitted on the
  training codes and saved to RUN/sampler.json), `--temperature`, `--seed`.
- `fit`: only fit and save the sampler.
- `interpolate`: `--count` rows between pairs of split images (`--method`
  linear|slerp, `--steps`), or between two sampled codes with `--from-samples`.
- `traverse`: sweep `--dims` of a face's code over ±`--span`.
- `attributes`: faces from attribute lists (`--attrs "Male,Black_Hair" none all`)
  for classifier-encoder models (report 000, Figure 7).
- `edit`: add/remove attribute directions to split images
  (`--edits Smiling Eyeglasses --remove Male`, `--strength`).
"""

from __future__ import annotations

import argparse
import os

from tfface.cli import command
from tfface.registry import Registry

ACTIONS: Registry = Registry("sample action")


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", help="run folder written by `tfface train`")
    parser.add_argument("action", nargs="?", default="grid", help="grid (default), fit, interpolate, traverse, attributes, edit")
    parser.add_argument("--sampler", default=None, help="prior, diagonal, gaussian or gmm (default: RUN/sampler.json, else the preset's (report 000: diagonal), prior for VAEs, gaussian for AEs)")
    parser.add_argument("--components", type=int, default=None, help="gmm: number of components")
    parser.add_argument("--covariance", default=None, choices=("full", "diag"), help="gmm: covariance type")
    parser.add_argument("--refit", action="store_true", help="fit the sampler again even if RUN/sampler.json exists")
    parser.add_argument("--fit-count", type=int, default=10000, help="training images encoded to fit the sampler")
    parser.add_argument("--count", type=int, default=None, help="grid: faces (25); interpolate: rows (4); edit: faces (8)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--temperature", type=float, default=1.0, help="< 1 draws codes closer to the centre")
    parser.add_argument("--split", default="validation", help="split of the real faces used by interpolate/traverse/edit")
    parser.add_argument("--steps", type=int, default=8, help="interpolate/traverse: columns")
    parser.add_argument("--method", default="slerp", help="interpolate: linear or slerp")
    parser.add_argument("--from-samples", action="store_true", help="interpolate between sampled codes instead of real faces")
    parser.add_argument("--dims", type=int, nargs="+", default=None, help="traverse: latent dimensions (default first 8)")
    parser.add_argument("--span", type=float, default=3.0, help="traverse: offsets in units of the codes' std")
    parser.add_argument("--attrs", nargs="+", default=None, metavar="LIST",
                        help='attributes: one face per comma-separated list, "none" or "all"')
    parser.add_argument("--edits", nargs="+", default=None, help="edit: attributes to add (default Smiling Eyeglasses)")
    parser.add_argument("--remove", nargs="+", default=[], help="edit: attributes to remove")
    parser.add_argument("--strength", type=float, default=1.0, help="edit: multiple of the direction added")
    parser.add_argument("--out", default=None, help="PNG path (default RUN/samples/<action>_....png)")


def _out(args, run, default: str) -> str:
    return args.out or os.path.join(run.outputs.samples, default)


def _sampler(args, run):
    from tfface.sampling import sampler_for_run

    kwargs = {k: v for k, v in (("components", args.components), ("covariance", args.covariance)) if v is not None}
    return sampler_for_run(run, args.sampler, refit=args.refit, limit=args.fit_count, **kwargs)


@ACTIONS.register("fit")
def fit_action(args, run) -> str:
    sampler = _sampler(args, run)
    print(f"sampler: {sampler!r}")
    return run.outputs.sampler


@ACTIONS.register("grid")
def grid_action(args, run) -> str:
    from tfface.sampling import sample_grid

    return sample_grid(run, args.count or 25, seed=args.seed, temperature=args.temperature,
                       sampler=_sampler(args, run), path=args.out)


@ACTIONS.register("interpolate")
def interpolate_action(args, run) -> str:
    from tfface.sampling import interpolation_grid

    sampler = _sampler(args, run) if args.from_samples else None
    return interpolation_grid(run, args.count or 4, steps=args.steps, method=args.method, split=args.split,
                              from_samples=args.from_samples, seed=args.seed, temperature=args.temperature,
                              sampler=sampler, path=args.out)


@ACTIONS.register("traverse")
def traverse_action(args, run) -> str:
    import numpy as np

    from tfface.sampling import encode_dataset, run_sampler_kind, traversal_grid

    codes, _ = encode_dataset(run.model, run.dataset(args.split, batch_size=256), limit=1000)
    scale = 1.0 if run_sampler_kind(run) == "prior" else codes.std(axis=0)
    path = _out(args, run, "traversal.png")
    traversal_grid(run.model, codes[0], args.dims, span=args.span, steps=args.steps, scale=np.asarray(scale), path=path)
    return path


@ACTIONS.register("attributes")
def attributes_action(args, run) -> str:
    from tfface.sampling import attribute_faces

    if not args.attrs:
        raise ValueError('attributes: pass --attrs with one comma-separated list per face, e.g. --attrs "Male,Black_Hair" none all')
    return attribute_faces(run, args.attrs, path=args.out)


@ACTIONS.register("edit")
def edit_action(args, run) -> str:
    from tfface.sampling import attribute_directions, edit_images

    source = run.source("train")
    if not source.attribute_names:
        raise ValueError(f"edit: the {run.config.data.source!r} data has no attributes")
    directions = attribute_directions(
        run.model, run.dataset("train", batch_size=256, with_attributes=True, source=source), source.attribute_names, limit=args.fit_count
    )
    directions.save(os.path.join(run.outputs.samples, "attribute_directions.json"))
    images = run.images(args.split, args.count or 8)
    edits = [*(args.edits or ([] if args.remove else ["Smiling", "Eyeglasses"])), *(f"-{name}" for name in args.remove)]
    path = _out(args, run, "edits_" + "_".join(e.replace("-", "minus_") for e in edits) + ".png")
    edit_images(run.model, images, directions, edits, strength=args.strength, path=path)
    return path


@command("sample", "Generate and explore with a trained run: sample grids, interpolations, traversals, attribute faces and edits.", _add_arguments)
def run(args: argparse.Namespace) -> int:
    from tfface.run import load_run

    action = ACTIONS.get(args.action)
    loaded = load_run(args.run)
    os.makedirs(loaded.outputs.samples, exist_ok=True)
    print(f"{args.action}: {action(args, loaded)}")
    return 0
