"""`tfface export RUN OUT`: a verified SavedModel for TF Serving in
`OUT/<version>/` (model base path OUT)."""

from __future__ import annotations

import argparse

from tfface.cli import command
from tfface.config import SAMPLER_FIT_COUNT


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", help="run folder written by `tfface train` (or an earlier export's version folder)")
    parser.add_argument("out", help="model base path: the export goes to OUT/<version>/")
    parser.add_argument("--version", type=int, default=None, help="version folder (default: the next free one)")
    parser.add_argument("--force", action="store_true", help="replace an existing version folder")
    parser.add_argument("--uint8", action="store_true",
                        help="image inputs and outputs as uint8 pixels in [0, 255] (decode stays float32 in [0, 1])")  # fmt: skip
    parser.add_argument("--sampler", default="auto",
                        help="sampler behind `sample`: auto (RUN/sampler.json, else prior for VAEs, gaussian for AEs), "
                             "a kind (prior, diagonal, gaussian, gmm, two_stage) or none")  # fmt: skip
    parser.add_argument("--fit-count", type=int, default=SAMPLER_FIT_COUNT, help="training images encoded to fit a sampler")
    parser.add_argument("--max-count", type=int, default=256, help="largest `count` a sample request may ask for")
    parser.add_argument("--max-temperature", type=float, default=10.0, help="largest `sample` temperature")
    parser.add_argument("--precision", choices=("float32", "training"), default="float32",
                        help="what the signatures compute in: float32 (default, whatever precision trained the run; "
                             "for CPU servers) or training (the run's mixed policy, for GPU serving)")  # fmt: skip
    parser.add_argument("--no-verify", action="store_true",
                        help="skip the fresh-process check against the Keras model and saved_model_cli")  # fmt: skip


def signature_table(signatures) -> str:
    """One line per signature input and output: name, dtype, shape, values."""
    rows = []
    for name, doc in signatures.items():
        for role, tensors in (("in", doc.inputs), ("out", doc.outputs)):
            for arg, tensor in tensors.items():
                shape = "[" + ", ".join("N" if d is None else str(d) for d in tensor.shape) + "]"
                rows.append(f"  {name:<12} {role:<4} {arg:<13} {tensor.dtype:<8} {shape:<17} {tensor.values}")
    return "\n".join(rows)


@command("export", "Export a run as a verified SavedModel for TF Serving: OUT/<version>/ with generate, decode, sample, encode and reconstruct signatures.", _add_arguments)  # fmt: skip
def run(args: argparse.Namespace) -> int:
    import os

    from tfface.export import ServingOptions, export_run
    from tfface.sampling import DIRECTIONS_FILE

    options = ServingOptions(
        image_dtype="uint8" if args.uint8 else "float32", max_count=args.max_count, max_temperature=args.max_temperature,
        precision=args.precision,
    )
    sampler = None if args.sampler == "none" else args.sampler
    result = export_run(args.run, args.out, version=args.version, options=options, sampler=sampler,
                        verify=not args.no_verify, force=args.force, fit_limit=args.fit_count)  # fmt: skip
    base = os.path.abspath(args.out)
    print(f"exported:     {result.path}   (TF Serving model base path: {base}, version {result.version})")
    print(f"for training: {result.assets_extra}   model.keras, config.json"
          + (", sampler.json" if result.sampler is not None else "") + " (tfface.run.load_run)")  # fmt: skip
    if result.sampler is not None:
        print(f"sample uses:  {result.sampler!r}")
    if os.path.exists(os.path.join(result.assets_extra, DIRECTIONS_FILE)):
        print(f"explore:      tfface explore {result.path}   (carries the run's attribute directions)")
    print("signatures (serving_default = generate):")
    print(signature_table(result.signatures))
    if result.verification is not None:
        print(result.verification.summary())
        print("\nsaved_model_cli show --all:")
        print(result.verification.show.rstrip())
    name = os.path.basename(base.rstrip(os.sep)) or "model"
    print(f"\nserve:  docker run -p 8501:8501 -v {base}:/models/{name} -e MODEL_NAME={name} tensorflow/serving")
    return 0
