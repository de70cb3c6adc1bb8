"""Name → object registries: presets, data sources, samplers, CLI commands.

A registry replaces `if name == ...` chains: each implementation registers
itself under a name where it is defined, and callers look it up by name.
Unknown names fail with the list of known ones and the closest match.
"""

from __future__ import annotations

import difflib
import importlib
from typing import Callable, Generic, Iterator, Sequence, TypeVar

T = TypeVar("T")


def did_you_mean(name: str, known: Sequence[str], sentence: bool = False) -> str:
    """tfface's one hint for an unknown name: the closest known name as
    ` (did you mean 'x'?)` (after a key), or ` Did you mean 'x'?` with
    `sentence=True` (after a sentence); "" when nothing is close.

    Example:

    >>> did_you_mean("epoch", ["epochs", "seed"])
    " (did you mean 'epochs'?)"
    >>> did_you_mean("gmn", ["gmm", "prior"], sentence=True)
    " Did you mean 'gmm'?"
    """
    close = difflib.get_close_matches(str(name), [str(k) for k in known], n=1)
    if not close:
        return ""
    return f" Did you mean {close[0]!r}?" if sentence else f" (did you mean {close[0]!r}?)"


class Registry(Generic[T]):
    """A named collection of objects with a decorator to add to it.

    Args:
        kind: str. What the registry holds, used in error messages
            ("preset", "data source", ...).
        provider: str or None. The module whose import registers the
            built-in entries; it is imported on the first lookup, so a
            registry declared in a low layer (the config validates names
            against it) is complete without importing upwards. Defaults
            to None.

    Example:

    >>> samplers = Registry("sampler")
    >>> @samplers.register("prior")
    ... def prior_sampler():
    ...     return "N(0, I)"
    >>> samplers.get("prior")()
    'N(0, I)'
    >>> "prior" in samplers
    True
    """

    def __init__(self, kind: str, provider: str | None = None):
        self.kind = kind
        self.provider = provider
        self._entries: dict[str, T] = {}

    def _load(self) -> None:
        if self.provider is not None:
            provider, self.provider = self.provider, None
            importlib.import_module(provider)

    def register(self, name: str, obj: T | None = None) -> Callable[[T], T] | T:
        """Registers `obj` under `name`; used bare as a decorator factory."""

        def add(item: T) -> T:
            if name in self._entries and self._entries[name] is not item:
                raise ValueError(f"{self.kind} {name!r} is already registered")
            self._entries[name] = item
            return item

        return add(obj) if obj is not None else add

    def get(self, name: str) -> T:
        """Returns the object registered under `name`, or raises KeyError
        naming the known entries and the closest match."""
        self._load()
        try:
            return self._entries[name]
        except KeyError:
            known = sorted(self._entries)
            raise KeyError(
                f"unknown {self.kind} {name!r}.{did_you_mean(name, known, sentence=True)} "
                f"Known: {', '.join(known) or '(none)'}"
            ) from None

    def names(self) -> list[str]:
        """The registered names, sorted."""
        self._load()
        return sorted(self._entries)

    def items(self) -> Iterator[tuple[str, T]]:
        """(name, object) pairs, sorted by name."""
        self._load()
        return iter(sorted(self._entries.items()))

    def __contains__(self, name: object) -> bool:
        self._load()
        return name in self._entries

    def __len__(self) -> int:
        self._load()
        return len(self._entries)


# Registries that a config key selects from: declared here, in the leaf, so
# `tfface.config` validates a name against the entries themselves (one source
# of truth); each provider module registers into its registry.

#: `train.optimizer` → `tfface.training.optimizers.OptimizerChoice`.
OPTIMIZERS: Registry = Registry("optimizer", provider="tfface.training.optimizers")
#: `train.distribution` → a function returning a `tf.distribute.Strategy`.
STRATEGIES: Registry = Registry("distribution", provider="tfface.training.runtime")
#: `model.reconstruction_loss` → per-pixel loss `(targets, outputs, value_range)`.
RECONSTRUCTION_LOSSES: Registry = Registry("reconstruction loss", provider="tfface.losses.reconstruction")
