"""Training output that is not a terminal (`make demo > log`) gets one line
per epoch, not a carriage-return progress update per batch."""

import io

from tests.helpers import tiny_config
from tfface.training import train_run
from tfface.training.runner import progress_verbosity


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_a_redirected_fit_writes_one_line_per_epoch_without_carriage_returns(tmp_path, capsys):
    config = tiny_config(tmp_path, "data.num_examples=96", "train.epochs=2", "train.batch_size=8", "run.verbose=1",
                         "run.tensorboard=false", "run.sample_grid=false", "run.reconstruction_grid=false")  # fmt: skip
    train_run(config)  # pytest's captured stdout is no terminal, as a file is not
    text = capsys.readouterr().out
    assert text.count("\r") == 0, text.count("\r")
    assert text.count("Epoch 1/2") == 1 and text.count("Epoch 2/2") == 1
    assert text.count("val_loss") == 2  # 9 batches an epoch, one summary line each


def test_a_terminal_keeps_the_progress_bar_and_verbose_settings_are_kept():
    assert progress_verbosity(1, Terminal()) == 1
    assert progress_verbosity(1, io.StringIO()) == 2
    assert progress_verbosity(0, io.StringIO()) == 0 and progress_verbosity(2, Terminal()) == 2
