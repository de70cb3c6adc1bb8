"""Published exports are never written into, and never lost: sample and
evaluate on `OUT/<version>` write beside it, and a version folder moved
aside by a killed `--force` swap is put back, not reused, by the next export."""

import hashlib
import os
import shutil

import pytest

from tfface.cli.main import main
from tfface.export import export_run


@pytest.fixture(scope="module")
def published(trained_exported_run, tmp_path_factory):
    """A tiny run and a copy of its export published as OUT/1."""
    root = tmp_path_factory.mktemp("published")
    shutil.copytree(trained_exported_run, root / "run")
    shutil.copytree(root / "run" / "export" / "1", root / "out" / "1")
    return root


def _tree(folder) -> dict[str, str]:
    """Every file under `folder` with a hash of its bytes."""
    found = {}
    for base, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(base, name)
            found[os.path.relpath(path, folder)] = hashlib.sha256(open(path, "rb").read()).hexdigest()
    return found


def test_sample_and_evaluate_on_a_published_version_write_beside_it(published, capsys):
    version = published / "out" / "1"
    before = _tree(version)
    assert main(["sample", str(version), "grid", "--count", "4", "--sampler", "gaussian", "--fit-count", "24"]) == 0
    assert main(["evaluate", str(version), "--count", "8"]) == 0
    printed = capsys.readouterr().out
    assert _tree(version) == before  # nothing written into the published folder
    outputs = published / "out" / "1-outputs"
    assert (outputs / "sampler.json").exists() and (outputs / "metrics.json").exists()
    assert [name for name in os.listdir(outputs / "samples") if name.endswith(".png")]
    assert f"written: {outputs / 'metrics.json'}" in printed
    assert sorted(os.listdir(published / "out")) == ["1", "1-outputs"]


def test_an_interrupted_swap_is_put_back_and_the_next_export_takes_a_new_version(published):
    out = published / "swap"
    shutil.copytree(published / "run" / "export" / "1", out / "1")
    (out / "1" / "assets.extra" / "marker.txt").write_text("the published version 1")
    before = _tree(out / "1")
    # `export --version 1 --force` killed between its two renames: the old
    # version moved aside, the new one not yet in place.
    os.replace(out / "1", out / ".1.tmp-4242-abcd1234.old")
    shutil.copytree(published / "run" / "export" / "1", out / ".1.tmp-4242-abcd1234")
    result = export_run(published / "run", out, sampler=None, verify=False)
    assert result.version == 2
    assert _tree(out / "1") == before  # the interrupted swap's previous copy is back, untouched
    assert os.path.exists(out / "2" / "saved_model.pb")
    assert not os.path.exists(out / ".1.tmp-4242-abcd1234.old")
