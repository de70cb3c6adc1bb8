"""Binary cross-entropy of attribute probabilities with unknown labels left out."""

from keras import ops

_EPSILON = 1e-7


def known_labels(labels):
    """(mask, labels with unknowns zeroed): NaN marks a label the data lacks."""
    labels = ops.cast(labels, "float32")
    mask = ops.logical_not(ops.isnan(labels))
    return ops.cast(mask, "float32"), ops.where(mask, labels, 0.0)


def attribute_bce(labels, probabilities):
    """Mean BCE over the known labels of a batch (PyTorch's `BCELoss()` on
    the labelled entries); 0 when no label is known.

    Args:
        labels: (batch, k) 0/1 labels; NaN = unknown (not in this data).
        probabilities: (batch, k) predicted probabilities.

    Example:

    >>> labels = np.array([[1.0, np.nan]]); p = np.array([[0.5, 0.9]])
    >>> round(float(attribute_bce(labels, p)), 4)  # only the first label counts
    0.6931
    """
    mask, labels = known_labels(labels)
    p = ops.clip(ops.cast(probabilities, "float32"), _EPSILON, 1.0 - _EPSILON)
    per_label = -(labels * ops.log(p) + (1.0 - labels) * ops.log(1.0 - p))
    return ops.sum(per_label * mask) / ops.maximum(ops.sum(mask), 1.0)
