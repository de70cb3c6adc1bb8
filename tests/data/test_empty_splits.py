"""Small or partial datasets: `tfface data inspect` reports every split (0
included) with a warning, and training goes on without validation, with a
warning naming the setting: (a) a CelebA layout whose partition file lists
only training images, (b) 4 photos with the default validation fraction,
(c) `data.validation_fraction=0`."""

import json

import pytest

from tests.data.image_files import pattern, write, write_jpeg
from tests.data.test_synthetic import CELEBA_ORDER
from tests.helpers import tiny_config
from tfface.cli.main import main
from tfface.config import DataConfig
from tfface.experiments import train
from tfface.training.runner import EmptyValidationWarning


def celeba_training_only(root):
    names = [f"00000{i}.jpg" for i in range(1, 5)]
    for index, name in enumerate(names, start=1):
        write_jpeg(root / "img_align_celeba" / name, pattern(index, (72, 60, 3)))
    rows = [name + "".join(" -1" if (i + j) % 2 else "  1" for j in range(40)) for i, name in enumerate(names)]
    write(root / "list_attr_celeba.txt", "\n".join([str(len(names)), " ".join(CELEBA_ORDER), *rows, ""]).encode())
    write(root / "list_eval_partition.txt", "".join(f"{name} 0\n" for name in names).encode())
    return ["--source", "celeba-local", "--path", str(root)]


def four_photos(root):
    for index in range(4):
        write_jpeg(root / f"photo_{index}.jpg", pattern(index, (48, 40, 3)))
    return ["--source", "folder", "--path", str(root)]


CASES = {
    "celeba_training_only": (celeba_training_only, [], {"train": 4, "validation": 0, "test": 0},
                             "list_eval_partition.txt (data.path)"),
    "four_photos": (four_photos, [], {"train": 4, "validation": 0}, "data.validation_fraction"),
    "validation_fraction_0": (four_photos, ["data.validation_fraction=0"], {"train": 4, "validation": 0},
                              "data.validation_fraction"),
}  # fmt: skip


@pytest.mark.parametrize("case", CASES)
def test_inspect_reports_empty_splits_as_zero_with_a_warning(case, tmp_path, capsys):
    make, settings, counts, key = CASES[case]
    args = make(tmp_path / "data")
    assert main(["data", "inspect", *args, "--json", *(["--set", *settings] if settings else [])]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["splits"] == counts
    empty = [name for name, count in counts.items() if count == 0]
    assert len(summary["warnings"]) == len(empty)
    for name, warning in zip(empty, summary["warnings"]):
        assert warning.startswith(f"{name} split is empty (") and key in warning
    assert "trains without validation" in summary["warnings"][0]
    assert main(["data", "inspect", *args, *(["--set", *settings] if settings else [])]) == 0  # text form too
    assert "warning: validation split is empty" in capsys.readouterr().out


@pytest.mark.parametrize("case", CASES)
def test_training_on_an_empty_validation_split_warns_and_trains_without_it(case, tmp_path):
    make, settings, _, key = CASES[case]
    args = make(tmp_path / "data")
    source, path = args[1], args[3]
    default_fraction = f"data.validation_fraction={DataConfig().validation_fraction}"  # tiny_config holds out 25%
    config = tiny_config(tmp_path / "run", f"data.source='{source}'", f"data.path='{path}'", default_fraction, *settings,
                         "train.epochs=4", "train.batch_size=4", "train.learning_rate=0.003",
                         "run.export=false", "run.sample_grid=false")  # fmt: skip
    with pytest.warns(EmptyValidationWarning, match=r"the validation split is empty .*training without validation") as caught:
        result = train(config)
    assert any(str(w.message).startswith(key.split(" ")[0]) or key in str(w.message) for w in caught)
    assert not any(k.startswith("val_") for k in result.history)
    assert result.history["loss"][-1] < result.history["loss"][0]  # it trained
    assert (tmp_path / "run" / "grids" / "reconstructions_e004.png").exists()  # grid from the training split
