"""Runtime set-up for a run: seeds, determinism, precision, XLA, distribution.

`train.distribution` names a `tf.distribute` strategy from `STRATEGIES`:

- "default": one device (the first GPU if there is one, else the CPU).
- "mirrored": `MirroredStrategy` over every GPU of this host (every logical
  CPU device when there is no GPU), one replica per device.
- "multi_worker": `MultiWorkerMirroredStrategy` over the hosts listed in the
  `TF_CONFIG` environment variable; every host runs the same command.
- "tpu": `TPUStrategy` on the TPU found by `TPUClusterResolver` (Colab, Cloud).

Strategies are created once per process and reused (a multi-worker or TPU
strategy cannot be created twice in one process).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass

import keras
import tensorflow as tf
from tensorflow.python.framework.config import disable_op_determinism, is_op_determinism_enabled  # public: enable only

from tfface.config import ConfigError, TrainConfig
from tfface.onednn import ONEDNN_ENV, variable_decides
from tfface.registry import STRATEGIES

try:  # TensorFlow's own answer to "oneDNN kernels on?" (not public API)
    from tensorflow.python.util import _pywrap_util_port
except ImportError:
    _pywrap_util_port = None

logger = logging.getLogger(__name__)

_CREATED: dict[str, tf.distribute.Strategy] = {}


@dataclass
class Runtime:
    """What the runner needs to know about the execution environment.

    Attributes:
        strategy: the `tf.distribute.Strategy` to build and train under.
        jit_compile: bool, passed to `compile` (XLA).
        is_chief: whether this process writes the run folder. Other workers
            of a multi-worker run write into a scratch folder, deleted at
            the end (as in Keras' multi-worker guide): every worker runs the
            same saving code, which may involve collective ops.
        num_workers: hosts taking part (input pipelines).
        worker_index: this host's index among them.
    """

    strategy: tf.distribute.Strategy
    jit_compile: bool = False
    is_chief: bool = True
    num_workers: int = 1
    worker_index: int = 0

    @property
    def replicas(self) -> int:
        """Replicas in sync across all workers (devices training together)."""
        return int(self.strategy.num_replicas_in_sync)

    @property
    def distributed(self) -> bool:
        return self.replicas > 1 or self.num_workers > 1

    def output_root(self, run_root: str) -> str:
        """Where this process writes: the run folder on the chief, a fresh
        scratch folder on other workers."""
        if self.is_chief:
            return run_root
        return tempfile.mkdtemp(prefix=f"tfface-worker{self.worker_index}-")

    def discard(self, root: str, run_root: str) -> None:
        """Deletes a non-chief worker's scratch folder."""
        if root != run_root:
            shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def run_switches(config: TrainConfig):
    """Sets the process-wide switches a run asks for, op determinism
    (`train.deterministic`, on or off) and the global dtype policy
    (`train.mixed_precision`, already resolved from "auto"), and puts back
    what was there before when the run ends, also on an exception: nothing
    a run switches on outlives it. (Keras turns XLA off under op
    determinism, so a leaked switch would also silently cost later runs
    their XLA.)

    Example:

    >>> with run_switches(TrainConfig(deterministic=True, mixed_precision="mixed_bfloat16")):
    ...     is_op_determinism_enabled(), keras.mixed_precision.global_policy().name
    (True, 'mixed_bfloat16')
    >>> is_op_determinism_enabled(), keras.mixed_precision.global_policy().name
    (False, 'float32')
    """
    if config.mixed_precision == "auto":
        raise ValueError("run_switches needs a resolved train.mixed_precision (see tfface.training.precision)")
    policy = keras.mixed_precision.global_policy()
    determinism = is_op_determinism_enabled()
    try:
        set_op_determinism(config.deterministic)
        keras.mixed_precision.set_global_policy(config.mixed_precision)
        yield
    finally:
        keras.mixed_precision.set_global_policy(policy)
        set_op_determinism(determinism)


def set_op_determinism(enabled: bool) -> None:
    """Switches TensorFlow's op determinism on or off."""
    if enabled:
        tf.config.experimental.enable_op_determinism()
    else:
        disable_op_determinism()


def configure_runtime(config: TrainConfig) -> Runtime:
    """The strategy (first: a multi-worker or TPU strategy must be set up
    before other TensorFlow work), then seeds and the XLA decision; checks
    that `train.batch_size` splits evenly over the replicas. Op determinism
    and the dtype policy are set by `run_switches` around the run."""
    strategy = make_strategy(config.distribution)
    keras.utils.set_random_seed(config.seed)
    check_cpu_kernels()
    task_type, task_id, workers = _cluster_position(strategy)
    runtime = Runtime(
        strategy=strategy,
        jit_compile=resolve_jit_compile(config, strategy),
        is_chief=_is_chief(strategy, task_type, task_id),
        num_workers=workers,
        worker_index=task_id if workers > 1 else 0,
    )
    if config.batch_size % runtime.replicas:
        raise ConfigError(
            f"train.batch_size: {config.batch_size} does not split evenly over {runtime.replicas} replicas "
            f"(train.distribution={config.distribution!r}); use a multiple of {runtime.replicas}"
        )
    return runtime


def onednn_enabled() -> bool | None:
    """Whether this process' TensorFlow runs its oneDNN CPU kernels; None
    where the build does not say (see `tfface.onednn`)."""
    if _pywrap_util_port is None:
        return None
    return bool(_pywrap_util_port.IsMklEnabled())


def check_cpu_kernels() -> bool:
    """Warns when a CPU-only x86-64 run trains on Eigen's kernels because
    TensorFlow was imported before tfface could ask for oneDNN's (1.5–1.9×
    slower on the CPUs where TensorFlow leaves oneDNN off). An explicit
    `TF_ENABLE_ONEDNN_OPTS` is the user's choice and is not questioned.
    Returns whether it warned."""
    if not variable_decides():
        return False
    if tf.config.list_physical_devices("GPU") or onednn_enabled() is not False:
        return False
    logger.warning(
        f"TensorFlow runs its Eigen CPU kernels: it was imported before tfface. Import tfface first, "
        f"or set {ONEDNN_ENV}=1 before TensorFlow is imported, for its oneDNN kernels "
        "(1.5-1.9x faster training on CPUs where TensorFlow leaves them off; see tfface.onednn)."
    )
    return True


def make_strategy(name: str) -> tf.distribute.Strategy:
    """The strategy registered under `name`, created once per process."""
    if name not in _CREATED:
        _CREATED[name] = STRATEGIES.get(name)()
    return _CREATED[name]


@STRATEGIES.register("default")
def _default_strategy() -> tf.distribute.Strategy:
    return tf.distribute.get_strategy()


@STRATEGIES.register("mirrored")
def _mirrored_strategy() -> tf.distribute.Strategy:
    devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
    return tf.distribute.MirroredStrategy([device.name for device in devices])


@STRATEGIES.register("multi_worker")
def _multi_worker_strategy() -> tf.distribute.Strategy:
    raw = os.environ.get("TF_CONFIG")
    if not raw:
        raise ConfigError(
            "train.distribution: 'multi_worker' needs the TF_CONFIG environment variable, e.g. "
            '{"cluster": {"worker": ["host1:12345", "host2:12345"]}, "task": {"type": "worker", "index": 0}} '
            "(see docs/guides/speed.md, Distribution); on one host use 'mirrored'"
        )
    try:
        cluster = json.loads(raw)["cluster"]
    except (ValueError, KeyError, TypeError) as error:
        raise ConfigError(f"train.distribution: TF_CONFIG is not JSON with a 'cluster' table ({error})") from None
    if not isinstance(cluster, dict) or not cluster:
        raise ConfigError("train.distribution: TF_CONFIG's 'cluster' lists no workers")
    return tf.distribute.MultiWorkerMirroredStrategy()


@STRATEGIES.register("tpu")
def _tpu_strategy() -> tf.distribute.Strategy:
    if os.environ.get("TPU_NAME") or os.environ.get("KUBE_GOOGLE_CLOUD_TPU_ENDPOINTS"):
        tpu = None  # a TPU named by the environment (Cloud TPU node, GKE)
    elif tf.config.list_physical_devices("TPU"):
        tpu = "local"  # a TPU VM (Colab's TPU runtime)
    else:
        raise RuntimeError(
            "train.distribution: 'tpu' found no TPU: this machine has no TPU devices and TPU_NAME is not set. "
            "On Colab choose Runtime > Change runtime type > TPU; elsewhere set TPU_NAME, "
            "or use 'default', 'mirrored' or 'multi_worker'"
        )
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu)
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
    except (ValueError, RuntimeError, tf.errors.OpError) as error:
        raise RuntimeError(f"train.distribution: 'tpu' could not connect to the TPU ({error})") from None
    return tf.distribute.TPUStrategy(resolver)


def resolve_jit_compile(config: TrainConfig, strategy: tf.distribute.Strategy) -> bool:
    """Whether the train step is compiled with XLA.

    "auto" turns XLA on for a single GPU, and off on CPUs (where it is
    slower), with op determinism (not every XLA op is deterministic) and
    under a distribution strategy: Keras compiles the whole replicated step,
    which fails with several devices per host (the compiled step cannot
    reach the other devices' variables) and is untested across hosts.
    `TPUStrategy` compiles every step with XLA whatever this says. "on" with
    several devices per host is refused; with one device per worker
    ("multi_worker") it is the user's choice.
    """
    if isinstance(strategy, tf.distribute.TPUStrategy):
        return False
    local_devices = _local_replicas(strategy)
    if config.jit_compile == "on" and local_devices > 1:
        raise ConfigError(
            f"train.jit_compile: 'on' fails with {config.distribution!r} over {local_devices} devices of one host "
            "(the XLA-compiled step cannot use variables on other devices); use 'auto' or 'off'"
        )
    if config.jit_compile != "auto":
        return config.jit_compile == "on"
    if config.deterministic or config.distribution != "default":
        return False
    return bool(tf.config.list_logical_devices("GPU"))


def _local_replicas(strategy: tf.distribute.Strategy) -> int:
    try:
        return len(strategy.extended.worker_devices)
    except RuntimeError:  # the default strategy: one device
        return 1


def _cluster_position(strategy: tf.distribute.Strategy) -> tuple[str | None, int, int]:
    """(task type, task id, number of workers) of this process."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) or resolver is None:
        return None, 0, 1
    jobs = resolver.cluster_spec().as_dict()
    workers = sum(len(jobs.get(job, [])) for job in ("chief", "worker"))
    return resolver.task_type, int(resolver.task_id or 0), max(workers, 1)


def _is_chief(strategy: tf.distribute.Strategy, task_type: str | None, task_id: int) -> bool:
    """The chief: the "chief" task if the cluster has one, else worker 0."""
    if task_type is None:
        return True
    jobs = strategy.cluster_resolver.cluster_spec().as_dict()
    if task_type == "chief":
        return True
    return task_type == "worker" and task_id == 0 and "chief" not in jobs


def synchronize_batch_norm(model) -> int:
    """Makes every BatchNormalization layer of `model` compute its batch
    statistics over the global batch (all replicas) instead of each
    replica's share; returns how many layers were switched."""
    layers = [layer for layer in model._flatten_layers(include_self=False)
              if isinstance(layer, keras.layers.BatchNormalization)]
    for layer in layers:
        layer.synchronized = True
    return len(layers)
