"""Per-attribute accuracy of attribute predictions (report 000, §5.1)."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from tfface.data.celeba_attributes import CELEBA_ATTRIBUTES


def attribute_accuracy(probabilities, labels, names: Sequence[str], threshold: float = 0.5) -> dict:
    """Accuracy of thresholded probabilities against 0/1 labels, per attribute.

    Args:
        probabilities: array (n, k). Predicted probabilities (or scores).
        labels: array (n, k). 0/1 ground truth.
        names: k attribute names.
        threshold: float. A prediction is positive above it. Defaults to 0.5.

    Returns:
        {"mean": mean over attributes (= over all labels), "per_attribute":
        {name: accuracy}, "count": n}.

    Example:

    >>> result = attribute_accuracy([[0.9, 0.2], [0.4, 0.7]], [[1, 0], [1, 1]], ["Smiling", "Male"])
    >>> result["per_attribute"], result["mean"]
    ({'Smiling': 0.5, 'Male': 1.0}, 0.75)
    """
    probabilities = np.asarray(probabilities, np.float64)
    labels = np.asarray(labels, np.float64)
    if probabilities.shape != labels.shape or probabilities.ndim != 2 or probabilities.shape[1] != len(names):
        raise ValueError(
            f"predictions {probabilities.shape} and labels {labels.shape} must both be (n, {len(names)})"
        )
    correct = (probabilities > threshold) == (labels > 0.5)
    per = correct.mean(axis=0)
    return {
        "mean": float(correct.mean()),
        "per_attribute": {name: float(v) for name, v in zip(names, per)},
        "count": int(len(labels)),
    }


def attribute_predictor(model, num_attributes: int, names: Sequence[str] | None = None):
    """A function images → attribute probabilities for models that predict
    attributes, or None.

    - models with a `predict_attributes(images)` method (attribute
      classifiers);
    - classifier-encoder autoencoders of report 000: a sigmoid latent with one
      entry per attribute, so the posterior mean is the probabilities.

    With `names` (the data's attribute names), a model predicting a superset
    of them (CelebA's 40 on synthetic faces' 19) has its columns picked out.
    """
    encoder = getattr(model, "encoder", None)
    if callable(getattr(model, "predict_attributes", None)):
        predict, outputs = model.predict_attributes, tuple(getattr(model, "attribute_names", ()))
    elif encoder is not None and getattr(encoder, "latent_activation", None) == "sigmoid":
        predict = lambda images: model.encode(images, training=False)  # noqa: E731
        if getattr(model, "latent_dim", None) == num_attributes:
            return predict
        outputs = CELEBA_ATTRIBUTES if model.latent_dim == len(CELEBA_ATTRIBUTES) else ()
    else:
        return None
    if len(outputs) == num_attributes and (names is None or tuple(names) == outputs):
        return predict
    if names is None or not outputs or not set(names) <= set(outputs):
        return None
    columns = [outputs.index(n) for n in names]
    return lambda images: np.asarray(predict(images))[:, columns]
