"""The attribute classifier: report 000's encoder pre-training (§3.3, §4, §5.1)."""

from __future__ import annotations

import os
from typing import Any, Sequence

import keras
import tensorflow as tf

import tfface.layers  # noqa: F401  (registers the serializable trunks)
import tfface.models.autoencoder  # noqa: F401  (registers the models an encoder may come from)
import tfface.models.vae  # noqa: F401
from tfface.layers.trunks import Encoder
from tfface.losses.attributes import AttributeAccuracy, attribute_bce
from tfface.models.base import FaceModel
from tfface.models.steps import apply_gradients, scaled_loss, step_results
from tfface.value_range import ValueRange


@keras.saving.register_keras_serializable(package="tfface")
class AttributeClassifier(FaceModel):
    """An encoder trunk whose sigmoid latent predicts binary attributes.

    Report 000 pre-trains the encoders of its Models 1 and 3 to classify the
    40 CelebA attributes with binary cross-entropy, then reuses them as
    autoencoder encoders (the latent *is* the attribute probabilities; see
    `load_encoder_weights`). Trained by `fit` on `(images, attributes)`
    batches; labels that are NaN (attributes a data source does not label,
    e.g. the 21 CelebA attributes synthetic faces lack) count in neither the
    loss nor the accuracy. Reports `loss` (mean BCE over known labels) and
    `attribute_accuracy` (per-label accuracy over known labels).

    Args:
        encoder: `tfface.layers.Encoder` with `head="deterministic"`,
            `latent_activation="sigmoid"` and one latent entry per attribute.
        attribute_names: list of str. Names of the outputs, in order, e.g.
            CelebA's 40 (`tfface.data.CELEBA_ATTRIBUTES`). Required (None
            raises ValueError): models do not import the data layer.
        threshold: float. Probability above which an attribute is predicted
            (accuracy). Defaults to 0.5.

    Example:

    >>> enc = Encoder(image_shape=(16, 16, 3), blocks=[4], strides=2, latent_dim=3,
    ...               head="deterministic", latent_activation="sigmoid")
    >>> model = AttributeClassifier(enc, attribute_names=["Male", "Smiling", "Young"])
    >>> model.compile(optimizer="adam")
    >>> x = np.random.rand(8, 16, 16, 3).astype("float32")
    >>> y = np.tile([[1.0, 0.0, np.nan]], (8, 1)).astype("float32")
    >>> sorted(model.fit(x, y, epochs=1, verbose=0).history)
    ['attribute_accuracy', 'loss']
    >>> tuple(model.predict_attributes(x).shape)
    (8, 3)

    Reference:
        Report 000, "Creating Autoencoders for Face Generation", §5.1.
    """

    def __init__(
        self,
        encoder: Encoder,
        attribute_names: Sequence[str] | None = None,
        threshold: float = 0.5,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        if encoder.head != "deterministic" or encoder.latent_activation != "sigmoid":
            raise ValueError(
                "AttributeClassifier needs an encoder with head='deterministic' and latent_activation='sigmoid'"
            )
        if attribute_names is None:
            raise ValueError("AttributeClassifier: attribute_names is required (CelebA's 40: tfface.data.CELEBA_ATTRIBUTES)")
        names = tuple(attribute_names)
        if encoder.latent_dim != len(names):
            raise ValueError(f"encoder latent_dim {encoder.latent_dim} != {len(names)} attribute names")
        self.encoder = encoder
        self.attribute_names = names
        self.threshold = float(threshold)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.accuracy = AttributeAccuracy(threshold=self.threshold)
        self.build(encoder.input_shape)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.encoder.image_shape)

    @property
    def value_range(self) -> ValueRange:
        return ValueRange.ZERO_ONE

    @property
    def num_attributes(self) -> int:
        return len(self.attribute_names)

    @property
    def latent_dim(self) -> int:
        """The encoder's latent size: one probability per attribute."""
        return self.encoder.latent_dim

    @property
    def metrics(self):
        return [self.loss_tracker, self.accuracy]

    def call(self, images, training: bool = False):
        return self.encoder(images, training=training)

    def predict_attributes(self, images):
        """Attribute probabilities, (batch, num_attributes)."""
        return self(images, training=False)

    def _step(self, data, training: bool):
        images, labels, _ = keras.utils.unpack_x_y_sample_weight(data)
        if labels is None:
            raise ValueError(
                "AttributeClassifier trains on (images, attributes) batches; "
                "make the dataset with with_attributes=True"
            )
        probabilities = self(images, training=training)
        return labels, probabilities, attribute_bce(labels, probabilities)

    def _record(self, labels, probabilities, loss) -> dict[str, Any]:
        self.loss_tracker.update_state(loss)
        self.accuracy.update_state(labels, probabilities)
        return step_results({m.name: m.result() for m in self.metrics})

    def train_step(self, data):
        with tf.GradientTape() as tape:
            labels, probabilities, loss = self._step(data, training=True)
            scaled = scaled_loss(self, loss)
        apply_gradients(self, tape, scaled)
        return self._record(labels, probabilities, loss)

    def test_step(self, data):
        return self._record(*self._step(data, training=False))

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"attribute_names": list(self.attribute_names), "threshold": self.threshold})
        return config


def _model_file(path: str) -> str:
    path = os.fspath(path)
    return os.path.join(path, "model.keras") if os.path.isdir(path) else path


def load_encoder_weights(encoder: Encoder, path: str | os.PathLike, hint: str = "") -> Encoder:
    """Copies the encoder weights of a trained model into `encoder`.

    Args:
        encoder: the `Encoder` to fill (built by a preset).
        path: a run folder (its `model.keras` is read) or a `.keras` file of
            any model with an `.encoder` (an `AttributeClassifier`, an
            autoencoder).
        hint: str. Appended to the missing-file error, e.g. the command
            that trains the classifier.

    Raises:
        FileNotFoundError: naming the missing file.
        ValueError: when the saved encoder's architecture differs.
    """
    file = _model_file(path)
    if not os.path.exists(file):
        where = f"{path!s} has no model.keras" if os.path.isdir(os.fspath(path)) else f"{file} not found"
        raise FileNotFoundError(f"pretrained encoder: {where}{'; ' + hint if hint else ''}")
    source = keras.saving.load_model(file, compile=False)
    trained = getattr(source, "encoder", source)
    if not isinstance(trained, Encoder):
        raise ValueError(f"pretrained encoder: {file} holds a {type(source).__name__} without an encoder")
    ours, theirs = _architecture(encoder), _architecture(trained)
    if ours != theirs:
        diff = {k: (theirs.get(k), ours.get(k)) for k in ours.keys() | theirs.keys() if ours.get(k) != theirs.get(k)}
        raise ValueError(f"pretrained encoder in {file} does not match this preset's encoder (saved, expected): {diff}")
    encoder.set_weights(trained.get_weights())
    return encoder


def _architecture(encoder: Encoder) -> dict[str, Any]:
    config = encoder.get_config()
    return {k: v for k, v in config.items() if k not in ("name", "trainable")}
