"""`evaluate_run`: every metric of a run folder, written to RUN/metrics.json
and RUN/metrics.md with the protocol that produced them."""

from __future__ import annotations

import dataclasses
import difflib
import json
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from tfface.metrics.attributes import attribute_accuracy, attribute_predictor
from tfface.metrics.fid import fid_network, generation_scores
from tfface.metrics.image import mse, psnr, psnr_from_mse, ssim
from tfface.metrics.report import write_metrics
from tfface.run import LoadedRun, load_run
from tfface.sampling.latents import generate
from tfface.sampling.run import sampler_for_run
from tfface.version import __version__

PSNR_NOTE = (
    "psnr/mse/ssim are measured on [0, 1]; psnr is the mean of per-image PSNRs (tf.image.psnr). "
    "mse_data_range/psnr_data_range follow report 004: MSE on the data's own value range and "
    "psnr_data_range = 10*log10(1/mean MSE). For [-1, 1] data that is 6.02 dB below the same formula on [0, 1]; "
    "the mean of per-image PSNRs is higher still than the PSNR of the mean MSE (Jensen)."
)


@dataclass(frozen=True)
class EvaluationOptions:
    """What `evaluate_run` measures and how.

    Args:
        split: str or None. Data split of the reconstruction metrics and
            the real images of FID/KID; None takes the run's
            `run.evaluate_split` (report 000's classifiers: "test").
            Defaults to None.
        count: int or None. Images of the split evaluated (None: all).
        batch_size: int. Defaults to 64.
        fid: bool. Compute FID and KID. Defaults to False.
        generated: int. Generated images for FID/KID; real images are
            min(generated, split size). Defaults to 1000.
        fid_network: str. "tfgan-inception" (TF-GAN's 2015 Inception graph:
            FIDs comparable with papers), "keras-inception-v3" (Keras'
            ImageNet InceptionV3: comparable between runs only) or "auto"
            (the first where it can be had, with a warning on falling back).
            Defaults to "auto".
        inception_module: str or None. tfgan-inception: a local directory of
            the module or a TF-Hub handle; None reads
            $TFFACE_INCEPTION_MODULE, else downloads the handle. Defaults to None.
        inception_weights: str or None. keras-inception-v3: "imagenet", a
            local weights file, or "none" (random; smoke tests only).
            Defaults to "imagenet".
        inception_size: int. keras-inception-v3 input size (299 standard,
            >= 75); tfgan-inception always uses 299. Defaults to 299.
        kid_subsets: int. Defaults to 100.
        kid_subset_size: int. Defaults to 1000.
        sampler: str or None. Sampler of the generated images: None uses
            RUN/sampler.json or fits the model's default (`prior` for VAEs,
            `gaussian` for autoencoders). Defaults to None.
        temperature: float. Sampling temperature. Defaults to 1.0.
        seed: int. Seed of generation and KID subsets. Defaults to 0.
    """

    split: str | None = None
    count: int | None = None
    batch_size: int = 64
    fid: bool = False
    generated: int = 1000
    fid_network: str = "auto"
    inception_module: str | None = None
    inception_weights: str | None = "imagenet"
    inception_size: int = 299
    kid_subsets: int = 100
    kid_subset_size: int = 1000
    sampler: str | None = None
    temperature: float = 1.0
    seed: int = 0

    @classmethod
    def from_dict(cls, values: dict[str, Any], where: str = "evaluate") -> "EvaluationOptions":
        names = [f.name for f in dataclasses.fields(cls)]
        for key in values:
            if key not in names:
                close = difflib.get_close_matches(key, names, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise ValueError(f"unknown {where} option {key!r}{hint}; known: {', '.join(names)}")
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def reconstruction_metrics(model, dataset, names=(), count: int | None = None) -> tuple[dict, dict | None, int]:
    """Mean MSE/PSNR/SSIM over a dataset of images or (images, attributes),
    plus attribute accuracy for models that predict attributes (attribute
    classifiers, which do not reconstruct, get the accuracy only)."""
    totals = {"mse": [], "psnr": [], "ssim": [], "mse_data_range": []}
    predictor = attribute_predictor(model, len(names), names) if names else None
    reconstructs = callable(getattr(model, "decode", None))
    if not reconstructs and predictor is None:
        raise ValueError(
            f"{type(model).__name__} does not reconstruct images and predicts none of the data's attributes "
            f"({', '.join(names) or 'the data has none'}): nothing to evaluate"
        )
    predictions, labels, seen = [], [], 0
    value_range = model.value_range
    for batch in dataset.as_numpy_iterator():
        images, attrs = (batch if isinstance(batch, tuple) else (batch, None))
        if count is not None:
            images = images[: count - seen]
            attrs = None if attrs is None else attrs[: count - seen]
        if len(images) == 0:
            break
        if reconstructs:
            recon = np.asarray(model(images, training=False), np.float32)
            totals["mse"].append(np.asarray(mse(images, recon, value_range)))
            totals["psnr"].append(np.asarray(psnr(images, recon, value_range)))
            totals["ssim"].append(np.asarray(ssim(images, recon, value_range)))
            totals["mse_data_range"].append(np.asarray(mse(images, recon, value_range, scale="data")))
        if predictor is not None and attrs is not None:
            predictions.append(np.asarray(predictor(images), np.float32))
            labels.append(attrs)
        seen += len(images)
        if count is not None and seen >= count:
            break
    if not seen:
        raise ValueError("no images to evaluate: the split is empty")
    metrics = {k: float(np.mean(np.concatenate(v))) for k, v in totals.items() if v}
    if reconstructs:
        metrics["psnr_data_range"] = float(psnr_from_mse(metrics["mse_data_range"]))
    accuracy = attribute_accuracy(np.concatenate(predictions), np.concatenate(labels), names) if predictions else None
    return metrics, accuracy, seen


def evaluate_run(run, options: EvaluationOptions | None = None, *, write: bool = True, **kwargs: Any) -> dict[str, Any]:
    """Evaluates a trained run folder and writes RUN/metrics.json and RUN/metrics.md
    (for a published export, into `OUT/<version>-outputs/`, see `LoadedRun.outputs`).

    Reconstruction metrics (MSE, PSNR, SSIM on [0, 1], report 004's
    data-range MSE/PSNR) on `options.split`; per-attribute accuracy for
    attribute-classifier encoders; FID and KID of `options.generated` samples
    against the split's images when `options.fid`.

    Args:
        run: str or `LoadedRun`. The run folder.
        options: `EvaluationOptions` or None; `**kwargs` set its fields.
        write: bool. Write the files. Defaults to True.

    Returns:
        {"run", "metrics", "attribute_accuracy"?, "protocol", "options", "history", "notes"}.
    """
    options = dataclasses.replace(options or EvaluationOptions(), **kwargs)
    loaded = run if isinstance(run, LoadedRun) else load_run(run)
    given = options.to_dict()  # as asked (a sweep compares these on its next pass)
    if options.split is None:
        options = dataclasses.replace(options, split=loaded.config.run.evaluate_split)
    model = loaded.model
    source = loaded.source(options.split)
    names = tuple(source.attribute_names)
    dataset = loaded.dataset(options.split, options.batch_size, with_attributes=bool(names), source=source)
    metrics, accuracy, seen = reconstruction_metrics(model, dataset, names, options.count)
    if accuracy is not None:
        metrics["attribute_accuracy"] = accuracy["mean"]
    protocol = {
        "split": options.split,
        "images": seen,
        "image_size": "x".join(map(str, loaded.image_size)),
        "value_range": loaded.value_range,
        "data_source": loaded.config.data.source,
    }
    if options.fid and not callable(getattr(model, "decode", None)):
        raise ValueError(f"evaluate.fid: {loaded.name} is a {type(model).__name__}, which generates no images")
    notes = [PSNR_NOTE]
    if options.fid:
        metrics.update(_generation_metrics(loaded, options, protocol))
        notes.append(f"FID/KID network: {protocol['fid_network']}; comparable with {protocol['fid_comparable_with']}.")
    results: dict[str, Any] = {
        "run": loaded.name,
        "run_dir": loaded.run_dir.root,
        "metrics": metrics,
        "protocol": protocol,
        "options": given,
        "history": _final_history(loaded.run_dir.history_json),
        "notes": notes,
        "tfface_version": __version__,
    }
    if accuracy is not None:
        results["attribute_accuracy"] = accuracy["per_attribute"]
    if loaded.config.data.source == "synthetic":
        results["notes"].append("Synthetic faces: these numbers say nothing about CelebA or other real faces.")
    if write:
        write_metrics(loaded.outputs, results)
    return results


def _generation_metrics(loaded, options: EvaluationOptions, protocol: dict) -> dict:
    sampler = sampler_for_run(loaded, options.sampler)
    generated = generate(loaded.model, sampler, options.generated, seed=options.seed, temperature=options.temperature)
    real = loaded.images(options.split, options.generated)
    extractor = fid_network(options.fid_network, module=options.inception_module, weights=options.inception_weights,
                            input_size=options.inception_size, batch_size=options.batch_size, seed=options.seed)  # fmt: skip
    scores = generation_scores(
        real, generated, loaded.value_range, extractor, options.kid_subsets, options.kid_subset_size, options.seed
    )
    protocol.update({f"fid_{k}": v for k, v in scores.protocol.items()})
    protocol["sampler"] = sampler.kind
    protocol["temperature"] = options.temperature
    return {"fid": scores.fid, "kid": scores.kid, "kid_std": scores.kid_std}


def _final_history(path: str) -> dict[str, float]:
    if not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8") as handle:
        history = json.load(handle)
    return {k: float(v[-1]) for k, v in history.items() if isinstance(v, list) and v}
