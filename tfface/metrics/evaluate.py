"""`evaluate_run`: every metric of a run folder, written to RUN/metrics.json
and RUN/metrics.md with the protocol that produced them."""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any

import numpy as np

from tfface.config import EvaluationOptions
from tfface.metrics.attributes import attribute_accuracy, attribute_predictor
from tfface.metrics.fid import fid_network, generation_scores
from tfface.metrics.image import mse, psnr, psnr_from_mse, ssim
from tfface.metrics.report import write_metrics
from tfface.metrics.swd import SWDOptions, sliced_wasserstein_distance
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
SWD_NOTE = (
    "swd_<res> is ProGAN's sliced Wasserstein distance x 1e3 (Karras et al. 2018) at each Laplacian pyramid "
    "level down to 16x16, swd_avg their mean; lower is better. Comparable only at the same image size, the same "
    "numbers of real and generated images and the same swd_* protocol entries."
)


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
    attribute-classifier encoders; FID and KID (`options.fid`) and the
    sliced Wasserstein distance (`options.swd`) of `options.generated`
    samples against the split's images.

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
    for name in ("fid", "swd"):
        if getattr(options, name) and not callable(getattr(model, "decode", None)):
            raise ValueError(f"evaluate.{name}: {loaded.name} is a {type(model).__name__}, which generates no images")
    notes = [PSNR_NOTE]
    if options.fid or options.swd:
        metrics.update(_generation_metrics(loaded, options, protocol))
    if options.fid:
        notes.append(f"FID/KID network: {protocol['fid_network']}; comparable with {protocol['fid_comparable_with']}.")
    if options.swd:
        notes.append(SWD_NOTE)
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
    protocol["sampler"] = sampler.kind
    protocol["temperature"] = options.temperature
    metrics: dict[str, float] = {}
    if options.fid:
        extractor = fid_network(options.fid_network, module=options.inception_module, weights=options.inception_weights,
                                input_size=options.inception_size, batch_size=options.batch_size, seed=options.seed)  # fmt: skip
        scores = generation_scores(
            real, generated, loaded.value_range, extractor, options.kid_subsets, options.kid_subset_size, options.seed
        )
        protocol.update({f"fid_{k}": v for k, v in scores.protocol.items()})
        metrics.update({"fid": scores.fid, "kid": scores.kid, "kid_std": scores.kid_std})
    if options.swd:
        result = sliced_wasserstein_distance(real, generated, loaded.value_range, SWDOptions(seed=options.seed))
        protocol.update(result.protocol)
        metrics.update(result.metrics())
    return metrics


def _final_history(path: str) -> dict[str, float]:
    if not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8") as handle:
        history = json.load(handle)
    return {k: float(v[-1]) for k, v in history.items() if isinstance(v, list) and v}
