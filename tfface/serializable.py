"""`import tfface` is enough for `keras.saving.load_model`: every class
tfface registers with `keras.saving.register_keras_serializable` (layers,
losses, models, optimizers) is registered as soon as Keras is imported,
without `import tfface` importing TensorFlow itself (the CLI's `--help`
stays TensorFlow-free).

How: `import tfface` calls `install()`, which puts one small finder at the
front of `sys.meta_path`. For the modules that complete Keras (`keras`,
`tensorflow`, `tensorflow_datasets`, which import Keras) and for tfface's
own modules, the finder hands out the normal spec with its loader wrapped,
and the wrapper counts how deeply such imports are nested. When the
outermost one has finished executing and Keras is in `sys.modules`,
`register_keras_classes()` imports the registering modules. If Keras is
already imported when tfface is, `install()` registers at once.

Why not a plain post-import hook on `keras` (e.g. `wrapt`'s): it fires when
the `keras` module finishes, which is often in the middle of another import
whose modules tfface needs: `import tensorflow` imports Keras before
TensorFlow itself is complete, and `from tfface.models import VAE` imports
Keras while `tfface.layers` is half-built. Importing tfface's models at that
moment fails on the partial module. Waiting for the outermost of these
imports avoids both; imports of other libraries are left untouched (the
finder returns None for them), and after executing a module its original
loader is put back on its `__spec__` and `__loader__`.

If registering fails (a broken optional dependency), the failure is
reported as a warning rather than breaking the user's `import keras`;
`keras.saving.load_model` then names the class it cannot find.

Example:

>>> import keras, tfface
>>> keras.saving.get_registered_object("tfface>VAE").__name__
'VAE'
>>> keras.saving.get_registered_object("tfface>FusedAdam").__name__
'FusedAdam'
"""

from __future__ import annotations

import importlib.abc
import sys
import threading
import warnings

#: Imports after whose (outermost) completion Keras is complete and usable.
COMPLETING = ("keras", "tensorflow", "tensorflow_datasets", "tfface")

_nesting = threading.local()
_lock = threading.RLock()
_registered = False


def register_keras_classes() -> None:
    """Imports every tfface module holding a `register_keras_serializable`
    class (once per process; later calls return at once)."""
    global _registered
    with _lock:
        if _registered:
            return
        _registered = True
        try:
            import tfface.layers  # noqa: F401  (trunks, residual blocks, norms, PatchGAN, likelihood)
            import tfface.losses  # noqa: F401  (AttributeAccuracy)
            import tfface.models  # noqa: F401  (VAE, Autoencoder, ..., AttributeClassifier)
            import tfface.training.optimizers  # noqa: F401  (FusedAdam)

            sys.meta_path[:] = [finder for finder in sys.meta_path if not isinstance(finder, KerasRegistrationFinder)]
        except Exception as error:  # noqa: BLE001  (a broken optional dependency must not break `import keras`)
            _registered = False
            warnings.warn(f"tfface could not register its Keras classes ({type(error).__name__}: {error}); "
                          "keras.saving.load_model will not find them", RuntimeWarning, stacklevel=2)  # fmt: skip


def _completing(name: str) -> bool:
    return any(name == top or name.startswith(top + ".") for top in COMPLETING)


def _keras_ready(finished: str = "") -> bool:
    """Keras and TensorFlow (when present) are imported and not half-built
    (`finished`: a module whose execution just ended, still marked as
    initialising until its import returns)."""
    for name in ("keras", "tensorflow"):
        module = sys.modules.get(name)
        if module is None and name == "keras":
            return False
        if name != finished and module is not None and getattr(getattr(module, "__spec__", None), "_initializing", False):
            return False
    return True


class _CountingLoader(importlib.abc.Loader):
    """The module's own loader; registers after the outermost counted import."""

    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        spec = getattr(module, "__spec__", None)
        if spec is not None and spec.loader is self:
            spec.loader = self.loader
        if getattr(module, "__loader__", None) is self:
            module.__loader__ = self.loader
        depth = getattr(_nesting, "depth", 0)
        _nesting.depth = depth + 1
        try:
            self.loader.exec_module(module)
        finally:
            _nesting.depth = depth
        if depth == 0 and not _registered and _keras_ready(finished=module.__name__):
            register_keras_classes()

    def __getattr__(self, name):
        return getattr(self.loader, name)


class KerasRegistrationFinder(importlib.abc.MetaPathFinder):
    """Finds nothing itself: wraps the loader of the spec the other finders
    give for `COMPLETING` modules in `_CountingLoader`."""

    def find_spec(self, fullname, path, target=None):
        """The other finders' spec for a module whose import completion triggers registration, its loader wrapped; None otherwise."""
        if _registered or not _completing(fullname):
            return None
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None)
            if finder is self or find is None:
                continue
            spec = find(fullname, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _CountingLoader(spec.loader)
                return spec
        return None


def install() -> None:
    """Registers now if Keras is imported, else when it is (see the module
    docstring). Idempotent."""
    if _keras_ready():
        register_keras_classes()
        return
    if not any(isinstance(finder, KerasRegistrationFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, KerasRegistrationFinder())
