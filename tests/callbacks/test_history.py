"""history.csv is rewritten atomically each epoch: a failed or interrupted
write keeps the previous complete file, and the CLI names the file."""

import builtins
import errno
import os
import re

import pytest

from tests.helpers import REPO
from tfface.callbacks import HistoryCSV
from tfface.io import WriteError


def _fail_history_writes(monkeypatch, code: int, epoch: int):
    """Any write to history.csv (or its temporary) holding the row of
    `epoch` (0-based) writes half of its text, then raises OSError(code) as
    a full disk or a failing device would."""
    real_open, failed = builtins.open, []
    row = re.compile(rf"(^|\n){epoch},")

    class HalfWriter:
        def __init__(self, handle, name):
            self.handle, self.name = handle, name

        def __getattr__(self, attribute):
            return getattr(self.handle, attribute)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.handle.close()

        def write(self, text):
            if not row.search(text):
                return self.handle.write(text)
            self.handle.write(text[: len(text) // 2])
            self.handle.flush()
            failed.append(self.name)
            raise OSError(code, os.strerror(code), self.name)

    def faulty_open(file, mode="r", *args, **kwargs):
        handle = real_open(file, mode, *args, **kwargs)
        name = os.path.basename(str(file))
        if ("w" in mode or "a" in mode) and name.endswith(".csv") and "history" in name:
            return HalfWriter(handle, str(file))
        return handle

    monkeypatch.setattr(builtins, "open", faulty_open)
    return failed


def test_a_write_that_fails_midway_keeps_the_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "history.csv"
    logger = HistoryCSV(str(path))
    logger.on_train_begin()
    logger.on_epoch_end(0, {"loss": 2.0, "val_loss": 3.0})
    before = path.read_bytes()
    _fail_history_writes(monkeypatch, errno.ENOSPC, epoch=1)
    with pytest.raises(WriteError, match=r"could not write .*history\.csv: disk full"):
        logger.on_epoch_end(1, {"loss": 1.0, "val_loss": 2.5})
    monkeypatch.undo()
    assert path.read_bytes() == before == b"epoch,loss,val_loss\r\n0,2.0,3.0\r\n"
    assert sorted(os.listdir(tmp_path)) == ["history.csv"]  # no temporary left behind


def test_resume_appends_to_the_rows_already_written(tmp_path):
    path = tmp_path / "history.csv"
    path.write_bytes(b"epoch,kl_loss,loss,val_kl_loss,val_loss\r\n0,1.5,2.0,NA,NA\r\n")
    logger = HistoryCSV(str(path), append=True)
    logger.on_train_begin()
    logger.on_epoch_end(1, {"loss": 1.0, "kl_loss": 0.5, "val_loss": 1.25})
    assert path.read_text().splitlines() == [
        "epoch,kl_loss,loss,val_kl_loss,val_loss", "0,1.5,2.0,NA,NA", "1,0.5,1.0,NA,1.25"]


def test_the_cli_names_the_file_of_a_failed_write_and_history_keeps_epoch_1(tmp_path, monkeypatch, capsys):
    from tfface.cli.main import main

    run_dir = tmp_path / "run"
    failed = _fail_history_writes(monkeypatch, errno.EIO, epoch=1)  # the write of epoch 2 fails
    code = main([
        "train", "--config", os.path.join(REPO, "pipelines", "demo.toml"),
        "--set", "model.preset=vae_tiny", "data.image_size=32", "data.num_examples=24", "model.latent_dim=4",
        "train.epochs=3", "train.batch_size=12", "run.verbose=0", "run.export=false", "run.sample_grid=false",
        "run.reconstruction_grid=false", f"run.dir={run_dir}",
    ])
    monkeypatch.undo()
    err = capsys.readouterr().err.strip()
    assert code == 1 and len(failed) == 1
    assert err.startswith("tfface train: error: ") and len(err.splitlines()) == 1, err
    assert f"could not write {run_dir / 'history.csv'}: Input/output error" in err
    rows = (run_dir / "history.csv").read_text().splitlines()
    assert len(rows) == 2 and rows[1].startswith("0,"), rows  # header + epoch 1, complete


def test_loss_curves_show_the_training_not_just_the_first_epoch(tmp_path):
    import matplotlib.pyplot as plt

    from tfface.callbacks import LossCurves

    history = {
        "kl_loss": [2.1e5, 310.0, 260.0, 240.0], "val_kl_loss": [900.0, 300.0, 255.0, 238.0],
        "loss": [-5000.0, 1.2, 1.0, 0.9],  # a term that can go negative keeps a linear axis
    }
    curves = LossCurves(str(tmp_path / "loss_curves.png"), history=history)
    fig = curves.figure()
    panels = {ax.get_title(): ax for ax in fig.axes}
    assert panels["kl_loss"].get_yscale() == "log"
    assert panels["loss"].get_yscale() == "linear"
    low, high = panels["loss"].get_ylim()
    assert -1 < low < 0.9 and 1.2 < high < 2, (low, high)  # epochs 2-4 fill the panel
    plt.close(fig)
    curves.on_epoch_end(4, {"loss": 0.85, "kl_loss": 235.0, "val_kl_loss": 236.0})
    assert (tmp_path / "loss_curves.png").stat().st_size > 0
