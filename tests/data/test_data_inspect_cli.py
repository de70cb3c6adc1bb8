"""`tfface data inspect`: counts per split, skipped files, face histogram, preview grid."""

import json

import skimage.data

from tests.data.image_files import pattern, write_bad_files, write_jpeg
from tests.helpers import run_cli
from tfface.cli.main import main


def test_inspect_json_summary_with_face_crop_and_preview(tmp_path):
    data = tmp_path / "photos"
    for i in range(3):
        write_jpeg(data / f"a_{i}.jpg", skimage.data.astronaut())
    write_jpeg(data / "b_plain.jpg", pattern(1, (60, 60, 3)))
    bad = write_bad_files(data / "zz")
    out = tmp_path / "preview"
    result = run_cli("data", "inspect", "--source", "folder", "--path", str(data), "--face-crop",
                     "--image-size", "48", "40", "--out", str(out), "--json",
                     "--set", "data.validation_count=1", "data.no_face='center'")  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(result.stdout)
    assert summary["splits"] == {"train": 3, "validation": 1}
    assert summary["skipped"] == len(bad) == len(summary["skipped_files"])
    reasons = {item["path"].rsplit("/", 1)[-1]: item["reason"] for item in summary["skipped_files"]}
    assert set(reasons) == set(bad) and all(bad[name] in reasons[name] for name in bad)
    assert summary["faces"] == {"0": 1, "1": 3, "2+": 0}
    assert (out / "preview.png").exists() and summary["preview"] == str(out / "preview.png")


def test_inspect_text_and_errors(tmp_path, capsys):
    assert main(["data", "inspect", "--source", "synthetic", "--set", "data.num_examples=40"]) == 0
    text = capsys.readouterr().out
    assert "train" in text and "36" in text and "skipped: 0 file(s)" in text and "faces" not in text
    (tmp_path / "empty").mkdir()
    assert main(["data", "inspect", "--source", "folder", "--path", str(tmp_path / "empty")]) == 2
    assert f"no usable image in {tmp_path / 'empty'}" in capsys.readouterr().err
    assert main(["data", "inspect", "--source", "celeba-local", "--path", str(tmp_path)]) == 2
    assert "img_align_celeba" in capsys.readouterr().err
