"""Crash-safe writes: an interrupted or failed save keeps the last good copy."""

import errno
import os

import numpy as np
import pytest

from tfface import io
from tfface.io import WriteError, atomic_path, atomic_write_text, recover_directory
from tfface.presets import build_preset
from tfface.training.checkpointing import ResumeCheckpoint


def _entries(folder):
    return sorted(os.listdir(folder))


def test_error_inside_block_keeps_previous_copy_and_no_temporary(tmp_path):
    target = tmp_path / "history.json"
    atomic_write_text(target, "good")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            open(tmp, "w").write("half")
            raise RuntimeError("killed")
    assert target.read_text() == "good"
    assert _entries(tmp_path) == ["history.json"]


def test_temporary_keeps_compound_suffix(tmp_path):
    with atomic_path(tmp_path / "epoch-00001.weights.h5") as tmp:
        assert tmp.endswith(".weights.h5") and os.path.dirname(tmp) == str(tmp_path)
        open(tmp, "wb").close()


def _tiny_model():
    model = build_preset("vae_tiny", image_size=(32, 32))
    model.compile(optimizer="adam")
    return model


def test_save_interrupted_between_write_and_rename_leaves_previous_checkpoint_loadable(tmp_path, monkeypatch):
    x = np.random.default_rng(0).random((8, 32, 32, 3), dtype=np.float32)
    model = _tiny_model()
    checkpoint = ResumeCheckpoint(str(tmp_path))
    model.fit(x, epochs=1, batch_size=4, callbacks=[checkpoint], verbose=0)
    good = [np.array(w) for w in model.get_weights()]
    model.fit(x, epochs=1, batch_size=4, verbose=0)  # the state a killed save was writing

    def killed(src, dst):
        raise KeyboardInterrupt("killed between write and rename")

    monkeypatch.setattr(io.os, "replace", killed)
    checkpoint.epoch = 2
    with pytest.raises(KeyboardInterrupt):
        checkpoint.save()
    monkeypatch.undo()

    assert _entries(tmp_path) == ["checkpoint.json", "epoch-00001.weights.h5"]
    fresh = _tiny_model()
    assert ResumeCheckpoint(str(tmp_path)).restore(fresh) == 1
    for a, b in zip(good, fresh.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "error, words",
    [
        (OSError(errno.ENOSPC, "No space left on device"), "disk full"),
        (PermissionError(errno.EACCES, "Permission denied"), "permission denied"),
        (OSError("Unable to synchronously create file (file write failed: errno = 28, No space left on device)"),
         "disk full"),
    ],
)
def test_disk_full_and_permission_errors_name_the_path_and_keep_the_old_copy(tmp_path, monkeypatch, error, words):
    target = tmp_path / "model.keras"
    target.write_text("last good")

    def failing_write(path, *args, **kwargs):
        raise error

    with pytest.raises(WriteError) as caught:
        with atomic_path(target) as tmp:
            monkeypatch.setattr("builtins.open", failing_write)
            open(tmp, "wb")
    monkeypatch.undo()
    message = str(caught.value)
    assert str(target) in message and words in message and "previous copy is kept" in message
    assert isinstance(caught.value, OSError) and caught.value.errno in (errno.ENOSPC, errno.EACCES)
    assert target.read_text() == "last good"
    assert _entries(tmp_path) == ["model.keras"]


def test_unwritable_folder_is_a_clear_error(tmp_path, monkeypatch):
    def denied(path, *args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", path)

    monkeypatch.setattr(io.os, "makedirs", denied)
    with pytest.raises(WriteError, match=r"could not write .*new/run/config\.json: permission denied"):
        atomic_write_text(tmp_path / "new" / "run" / "config.json", "{}")


def test_directory_swap_failing_midway_puts_the_old_copy_back(tmp_path, monkeypatch):
    export = tmp_path / "export" / "1"
    with atomic_path(export, is_dir=True) as tmp:
        os.makedirs(tmp)
        open(os.path.join(tmp, "saved_model.pb"), "w").write("v1")
    real_replace = os.replace
    calls = []

    def fail_second_rename(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise OSError(errno.EIO, "I/O error")
        real_replace(src, dst)

    monkeypatch.setattr(io.os, "replace", fail_second_rename)
    with pytest.raises(OSError):
        with atomic_path(export, is_dir=True) as tmp:
            os.makedirs(tmp)
            open(os.path.join(tmp, "saved_model.pb"), "w").write("v2")
    monkeypatch.undo()
    assert (export / "saved_model.pb").read_text() == "v1"
    assert _entries(export.parent) == ["1"]


def test_directory_moved_aside_by_a_killed_swap_is_recovered(tmp_path):
    # The state a SIGKILL between the two renames leaves: only the old copy, aside.
    aside = tmp_path / ".1.tmp-4242-abcd.old"
    aside.mkdir()
    (aside / "saved_model.pb").write_text("v1")
    (tmp_path / ".1.tmp-4242-abcd").mkdir()  # the unfinished new copy
    target = tmp_path / "1"
    assert recover_directory(target) is True
    assert (target / "saved_model.pb").read_text() == "v1"
    assert recover_directory(target) is False
    with atomic_path(target, is_dir=True) as tmp:
        os.makedirs(tmp)
    assert not (target / "saved_model.pb").exists()
