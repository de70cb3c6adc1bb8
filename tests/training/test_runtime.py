"""Nothing a run switches on outlives it: op determinism and the global dtype
policy are what each run asked for while it trains (XLA too, which Keras
turns off under op determinism), and what was there before once it ends,
also when it fails."""

import keras
import pytest
from tensorflow.python.framework.config import is_op_determinism_enabled

from tests.helpers import tiny_config
from tfface.experiments import train
from tfface.training.runtime import set_op_determinism

QUIET = ("run.export=false", "run.sample_grid=false", "run.reconstruction_grid=false", "run.save_model=false",
         "model.preset='ae_demo'", "model.args={widths=[8, 16]}", "train.steps_per_epoch=1")  # fmt: skip


class Switches(keras.callbacks.Callback):
    """Records the process-wide switches while the run trains; optionally fails."""

    def __init__(self, fail: bool = False):
        super().__init__()
        self.fail = fail

    def on_train_begin(self, logs=None):
        self.seen = (is_op_determinism_enabled(), keras.mixed_precision.global_policy().name, self.model.jit_compile)
        if self.fail:
            raise RuntimeError("failed mid-run")


def state():
    return is_op_determinism_enabled(), keras.mixed_precision.global_policy().name


@pytest.fixture(autouse=True)
def _restore():
    yield
    set_op_determinism(False)
    keras.mixed_precision.set_global_policy("float32")


def test_two_runs_in_one_process_each_get_their_switches_and_leave_none_behind(tmp_path):
    assert state() == (False, "float32")
    first = Switches()
    train(tiny_config(tmp_path / "a", "train.deterministic=true", "train.mixed_precision='mixed_bfloat16'", *QUIET),
          extra_callbacks=[first])  # fmt: skip
    assert first.seen == (True, "mixed_bfloat16", False)  # XLA "auto": off with determinism (and on a CPU)
    assert state() == (False, "float32")

    second = Switches()
    train(tiny_config(tmp_path / "b", "train.jit_compile='on'", *QUIET), extra_callbacks=[second])
    assert second.seen == (False, "float32", True)  # XLA on: no determinism left over from the first run

    # What the caller had set comes back, also after a run that fails.
    set_op_determinism(True)
    keras.mixed_precision.set_global_policy("mixed_float16")
    failing = Switches(fail=True)
    with pytest.raises(RuntimeError, match="failed mid-run"):
        train(tiny_config(tmp_path / "c", "train.jit_compile='on'", *QUIET), extra_callbacks=[failing])
    assert failing.seen == (False, "float32", True)
    assert state() == (True, "mixed_float16")
