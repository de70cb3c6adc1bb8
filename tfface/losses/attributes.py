"""Binary cross-entropy and accuracy of attribute probabilities with unknown
labels left out."""

import keras
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


@keras.saving.register_keras_serializable(package="tfface")
class AttributeAccuracy(keras.metrics.Metric):
    """Per-label accuracy of attribute probabilities, a streaming Keras metric:
    the share of known labels (NaN = unknown, left out) whose thresholded
    probability is right — the mean of the per-attribute accuracies
    weighted by how many labels each has (report 000's "accuracy per label").

    Args:
        threshold: float. A probability above it predicts the attribute.
            Defaults to 0.5.
        name: str. Defaults to "attribute_accuracy".

    Example:

    >>> metric = AttributeAccuracy()
    >>> metric.update_state([[1.0, 0.0, np.nan]], [[0.9, 0.8, 0.1]])
    >>> float(metric.result())
    0.5
    """

    def __init__(self, threshold: float = 0.5, name: str = "attribute_accuracy", **kwargs):
        super().__init__(name=name, **kwargs)
        self.threshold = float(threshold)
        self.correct = self.add_variable(shape=(), initializer="zeros", name="correct")
        self.known = self.add_variable(shape=(), initializer="zeros", name="known")

    def update_state(self, labels, probabilities, sample_weight=None):
        mask, labels = known_labels(labels)
        predicted = ops.cast(ops.cast(probabilities, "float32") > self.threshold, "float32")
        hits = ops.cast(ops.equal(predicted, ops.cast(labels > 0.5, "float32")), "float32") * mask
        self.correct.assign_add(ops.sum(hits))
        self.known.assign_add(ops.sum(mask))

    def result(self):
        return self.correct / ops.maximum(self.known, 1.0)

    def get_config(self):
        return {"name": self.name, "threshold": self.threshold}
