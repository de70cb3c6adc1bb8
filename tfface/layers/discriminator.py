"""The PatchGAN discriminator of the adversarial term, built from `conv_block`."""

from __future__ import annotations

from typing import Any, Sequence

import keras

from tfface.layers.blocks import conv_block, resolve_block
from tfface.layers.serialization import Configurable


@keras.saving.register_keras_serializable(package="tfface")
class PatchDiscriminator(Configurable, keras.Model):
    """PatchGAN: a fully convolutional critic that scores overlapping image
    patches, so its output is a map of logits, one per receptive field.

    The layout of pix2pix's and taming-transformers' `NLayerDiscriminator`:
    4×4 convs with padding 1 and LeakyReLU 0.2; a first stride-2 conv of
    `width` channels without norm, `num_layers - 1` further stride-2 convs
    doubling the width (capped at 8×) with `norm`, one stride-1 conv with
    `norm`, and a stride-1 conv to one channel (float32 logits, no
    activation). A 64×64 input with 3 layers gives a 6×6 logit map.

    With `spectral_norm` every conv is wrapped in
    `keras.layers.SpectralNormalization` (SNGAN's Lipschitz constraint;
    usually with `norm=None`). `features` is the same network with the
    activation of every hidden block as extra outputs (the feature-matching
    term of `tfface.models.critic`).

    Args:
        image_shape: (int, int, int). Image (height, width, channels).
        num_layers: int. Stride-2 convs (each halves the resolution).
            Defaults to 3.
        width: int. Channels of the first conv. Defaults to 64.
        norm: str or None. Norm after every conv but the first and last
            (see `tfface.layers.blocks`: "batch", "instance", "group:N",
            "layer" or None). Defaults to "batch", as pix2pix and VQGAN.
        spectral_norm: bool. Spectral normalisation of every conv.
            Defaults to False.

    Example:

    >>> critic = PatchDiscriminator(image_shape=(32, 32, 3), num_layers=2, width=8)
    >>> tuple(critic(np.zeros((2, 32, 32, 3))).shape)
    (2, 6, 6, 1)

    Reference:
        Isola et al., "Image-to-Image Translation with Conditional
        Adversarial Networks" (pix2pix), CVPR 2017; Esser et al., "Taming
        Transformers for High-Resolution Image Synthesis", CVPR 2021;
        Miyato et al., "Spectral Normalization for Generative Adversarial
        Networks", ICLR 2018.
    """

    renamed = {"input_shape": "image_shape"}

    def __init__(
        self,
        image_shape: Sequence[int] = (64, 64, 3),
        num_layers: int = 3,
        width: int = 64,
        norm: str | None = "batch",
        spectral_norm: bool = False,
        **kwargs: Any,
    ):
        if int(num_layers) < 1:
            raise ValueError(f"num_layers must be >= 1, got {num_layers}")
        if int(width) < 1:
            raise ValueError(f"width must be >= 1, got {width}")
        defaults = {"kernel_size": 4, "padding": 1, "activation": "leaky_relu", "norm": norm,
                    "spectral_norm": bool(spectral_norm)}  # fmt: skip
        specs: list[dict[str, Any]] = [{"filters": width, "strides": 2, "norm": None}]
        specs += [{"filters": width * min(2**n, 8), "strides": 2} for n in range(1, num_layers)]
        specs += [{"filters": width * min(2**num_layers, 8), "strides": 1}]
        images = keras.Input(shape=tuple(image_shape), name="images")
        x = images
        hidden = []
        for i, spec in enumerate(specs):
            x = conv_block(x, resolve_block(spec, defaults), name=f"disc{i + 1}")
            hidden.append(x)
        head = resolve_block({"filters": 1, "strides": 1, "norm": None, "activation": None}, defaults)
        logits = keras.layers.Activation("linear", dtype="float32", name="logits")(conv_block(x, head, name="disc_out"))
        super().__init__(inputs=images, outputs=logits, **kwargs)
        # Untracked (not part of the saved weights' layout): the hidden activations.
        object.__setattr__(self, "_hidden", hidden)
        object.__setattr__(self, "_features", None)
        self.image_shape = tuple(int(d) for d in image_shape)
        self.num_layers = int(num_layers)
        self.width = int(width)
        self.norm = norm
        self.spectral_norm = bool(spectral_norm)

    @property
    def features(self) -> keras.Model:
        """The same layers (shared weights) returning [logits, every hidden
        block's activation]."""
        if self._features is None:
            object.__setattr__(self, "_features", keras.Model(self.inputs, [self.outputs[0], *self._hidden]))
        return self._features

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"image_shape": list(self.image_shape), "num_layers": self.num_layers, "width": self.width,
                       "norm": self.norm, "spectral_norm": self.spectral_norm})  # fmt: skip
        return config
