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
- `directions`: fit the attribute directions on the labelled training data
  and save them as RUN/attribute_directions.json, where `tfface export`
  (and so `tfface explore`) finds them.
"""

from __future__ import annotations

import argparse
import os

from tfface.cli import command
from tfface.config import SampleOptions, add_arguments, from_args
from tfface.registry import Registry

ACTIONS: Registry = Registry("sample action")


#: Help of the flags; the flags themselves come from `SampleOptions`' fields.
HELP = {
    "sampler": "prior, diagonal, gaussian, gmm or two_stage (default: RUN/sampler.json, else the preset's "
    "(report 000: diagonal), prior for VAEs, gaussian for AEs)",
    "components": "gmm: number of components",
    "covariance": "gmm: covariance type",
    "refit": "fit the sampler again even if RUN/sampler.json exists",
    "fit_count": "training images encoded to fit the sampler or the attribute directions",
    "count": "grid: faces (25); interpolate: rows (4); edit: faces (8)",
    "temperature": "< 1 draws codes closer to the centre",
    "split": "split of the real faces used by interpolate/traverse/edit",
    "steps": "interpolate/traverse: columns",
    "method": "interpolate: linear or slerp",
    "from_samples": "interpolate between sampled codes instead of real faces",
    "dims": "traverse: latent dimensions (default first 8)",
    "span": "traverse: offsets in units of the codes' std",
    "attrs": 'attributes: one face per comma-separated list, "none" or "all"',
    "edits": "edit: attributes to add (default Smiling Eyeglasses)",
    "remove": "edit: attributes to remove",
    "strength": "edit: multiple of the direction added",
    "out": "PNG path (default RUN/samples/<action>_....png)",
}


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", help="run folder written by `tfface train`")
    parser.add_argument("action", nargs="?", default="grid", help="grid (default), fit, interpolate, traverse, attributes, edit, directions")
    add_arguments(parser, SampleOptions, HELP)


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
    from tfface.sampling import edit_images, fit_run_directions

    directions = fit_run_directions(run, limit=args.fit_count, save=False)
    directions.save(os.path.join(run.outputs.samples, "attribute_directions.json"))
    images = run.images(args.split, args.count or 8)
    edits = [*(args.edits or ([] if args.remove else ["Smiling", "Eyeglasses"])), *(f"-{name}" for name in args.remove)]
    path = _out(args, run, "edits_" + "_".join(e.replace("-", "minus_") for e in edits) + ".png")
    edit_images(run.model, images, directions, edits, strength=args.strength, path=path)
    return path


@ACTIONS.register("directions")
def directions_action(args, run) -> str:
    from tfface.sampling import fit_run_directions

    directions = fit_run_directions(run, limit=args.fit_count)
    fitted = [name for name, row in zip(directions.names, directions.directions) if not (row != row).any()]
    print(f"directions: {len(fitted)} of {len(directions.names)} attributes ({', '.join(fitted[:6])}"
          f"{', ...' if len(fitted) > 6 else ''}); `tfface export` carries them to the explorer")  # fmt: skip
    return run.outputs.attribute_directions


@command("sample", "Generate and explore with a trained run: sample grids, interpolations, traversals, attribute faces and edits.", _add_arguments)
def run(args: argparse.Namespace) -> int:
    from tfface.run import load_run

    action = ACTIONS.get(args.action)
    loaded = load_run(args.run)
    os.makedirs(loaded.outputs.samples, exist_ok=True)
    print(f"{args.action}: {action(from_args(SampleOptions, args), loaded)}")
    return 0
