"""`Configurable`: the `get_config`/`from_config` every tfface trunk and
model shares, written once in keras-hub's style.

A class's constructor arguments are its config: each is stored under the
attribute of the same name, and a subclass's `get_config()` starts from
`super().get_config()` (name, trainable, and the nested Keras objects named
in `nested`) and `update`s it with its own arguments. `from_config`
deserialises the nested objects and renames keys written by older versions
(`renamed`), so old `.keras` files still load.
"""

from __future__ import annotations

from typing import Any, ClassVar

import keras


class Configurable:
    """Mixin for `keras.Model` subclasses (put it first among the bases).

    It is a plain class, not a `keras.Model`, because Keras rewrites the
    bases of a class built as a functional model (the trunks) and the same
    base must also serve subclassed models. It takes no arguments of its
    own: the subclass's constructor arguments form the config.

    Example:

    >>> class Scale(Configurable, keras.Model):
    ...     renamed = {"factor": "scale"}
    ...     def __init__(self, scale=2.0, **kwargs):
    ...         super().__init__(**kwargs)
    ...         self.scale = scale
    ...     def get_config(self):
    ...         config = super().get_config()
    ...         config.update({"scale": self.scale})
    ...         return config
    >>> Scale(3.0, name="s").get_config()
    {'name': 's', 'trainable': True, 'scale': 3.0}
    >>> Scale.from_config({"name": "old", "factor": 5.0}).scale
    5.0
    """

    nested: ClassVar[tuple[str, ...]] = ()
    renamed: ClassVar[dict[str, str]] = {}

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {"name": self.name, "trainable": self.trainable}
        config.update({key: keras.saving.serialize_keras_object(getattr(self, key)) for key in self.nested})
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]):
        config = dict(config)
        for old, new in cls.renamed.items():
            if old in config:
                config.setdefault(new, config.pop(old))
        for key in cls.nested:
            if isinstance(config.get(key), dict):
                config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)
