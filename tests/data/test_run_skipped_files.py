"""A training run on a folder with bad files lists them in RUN/skipped_files.txt."""

import logging

import skimage.data

from tests.data.image_files import pattern, write_bad_files, write_jpeg
from tests.helpers import tiny_config
from tfface.experiments import train


def test_run_writes_skipped_files_and_reports_face_counts(tmp_path, caplog):
    data = tmp_path / "photos"
    for i in range(10):
        write_jpeg(data / f"img_{i:02d}.jpg", pattern(i, (40, 40, 3)))
    write_jpeg(data / "z_astronaut.jpg", skimage.data.astronaut())
    bad = write_bad_files(data / "zz_bad")  # sorted after the images
    config = tiny_config(
        tmp_path / "run", "data.source='folder'", f"data.path='{data}'", "data.validation_count=2",
        "data.face_crop=true", "data.no_face='center'", "run.verbose=2",
        "run.sample_grid=false", "run.reconstruction_grid=false", "run.export=false", "run.save_model=false",
    )  # fmt: skip
    caplog.set_level(logging.INFO, logger="tfface")  # the library logs; the CLI shows it
    result = train(config)
    lines = (tmp_path / "run" / "skipped_files.txt").read_text().splitlines()
    assert lines[0].startswith(f"# {len(bad)} unusable")
    listed = dict(line.split("\t") for line in lines[1:])
    assert {name.rsplit("/", 1)[-1] for name in listed} == set(bad)
    out = caplog.text
    assert f"skipped {len(bad)} unusable file(s)" in out
    assert "faces per image: 0: 10  1: 1  2+: 0" in out
    assert result.history["loss"] and result.history["val_loss"]
