"""`ValueRange`: the pixel range of a model's inputs and outputs.

Configs, `get_config()` and run files spell a range as "0_1" or "-1_1";
`ValueRange` is a `str` enum, so a member equals (and serialises to) that
string while carrying the conversions every layer needs.
"""

from __future__ import annotations

import enum

import numpy as np


class ValueRange(str, enum.Enum):
    """The range of float images: [0, 1] ("0_1") or [-1, 1] ("-1_1").

    Conversions work on NumPy arrays and TensorFlow/Keras tensors alike
    (`to_uint8` returns a NumPy array).

    Args:
        value: str. "0_1" or "-1_1" (`ValueRange.parse` names the argument
            in its error).

    Example:

    >>> r = ValueRange.parse("-1_1")
    >>> r == "-1_1", r.bounds
    (True, (-1.0, 1.0))
    >>> r.to_unit(np.array([-1.0, 0.0, 1.0])).tolist()
    [0.0, 0.5, 1.0]
    >>> r.from_unit(np.array([0.0, 1.0])).tolist()
    [-1.0, 1.0]
    >>> r.to_uint8(np.array([-1.0, 1.0, 3.0, np.nan])).tolist()
    [0, 255, 255, 0]
    """

    ZERO_ONE = "0_1"
    MINUS_ONE_ONE = "-1_1"

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)

    def __repr__(self) -> str:
        # the spelling of configs, so messages read as before: '0_1'
        return repr(self.value)

    @classmethod
    def parse(cls, value, name: str = "value_range") -> "ValueRange":
        """`value` as a `ValueRange`; a clear error naming `name` otherwise."""
        try:
            return cls(value)
        except ValueError:
            choices = " or ".join(repr(m.value) for m in cls)
            raise ValueError(f"{name} must be {choices}, got {value!r}") from None

    @property
    def bounds(self) -> tuple[float, float]:
        """(low, high) of the range."""
        return (-1.0, 1.0) if self is ValueRange.MINUS_ONE_ONE else (0.0, 1.0)

    def to_unit(self, images):
        """Images in this range mapped to [0, 1] (not clipped)."""
        return (images + 1.0) / 2.0 if self is ValueRange.MINUS_ONE_ONE else images

    def from_unit(self, images):
        """Images in [0, 1] mapped to this range."""
        return images * 2.0 - 1.0 if self is ValueRange.MINUS_ONE_ONE else images

    def to_uint8(self, images) -> np.ndarray:
        """Float images in this range → uint8 pixels (NaN → 0, clipped,
        rounded): the one float-to-pixels contract of tfface."""
        unit = np.nan_to_num(self.to_unit(np.asarray(images, dtype=np.float32)), nan=0.0)
        return np.round(np.clip(unit, 0.0, 1.0) * 255.0).astype(np.uint8)
