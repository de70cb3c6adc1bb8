"""What the explorer opens: a run folder (its newest export, the run's own
sampler and directions), a model base path, an export version folder, a
run without an export; and `tfface explore`'s answers before serving."""

import os
import shutil
import sys

import numpy as np
import pytest

from tfface.cli.main import main
from tfface.explore import ServedModel, resolve_export
from tfface.explore.panels import ExploreError, Limits, generate_faces, read_photo


def test_a_run_folder_a_model_base_and_a_version_folder_open_the_newest_export(explored_export):
    run = os.path.dirname(os.path.dirname(explored_export))
    export, run_dir = resolve_export(run)
    assert export == explored_export and run_dir.root == run
    assert resolve_export(os.path.join(run, "export")) == resolve_export(explored_export) == (explored_export, None)
    served = ServedModel.open(run)
    assert served.path == explored_export and list(served.samplers) == ["diagonal (served)", "prior"]
    assert served.image_shape == (32, 32, 3) and served.latent_dim == 8 and served.directions is not None


def test_the_export_carries_the_runs_attribute_directions(explored_export):
    from tfface.sampling import AttributeDirections

    run = os.path.dirname(os.path.dirname(explored_export))
    fitted = AttributeDirections.load(os.path.join(run, "attribute_directions.json"))
    carried = AttributeDirections.load(os.path.join(explored_export, "assets.extra", "attribute_directions.json"))
    assert carried.names == fitted.names and np.array_equal(carried.directions, fitted.directions, equal_nan=True)
    assert not os.path.exists(os.path.join(run, "export", "1", "assets.extra", "attribute_directions.json"))


def test_a_run_without_an_export_is_exported_to_a_temporary_folder(explored_export, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(os.path.dirname(os.path.dirname(explored_export)), run)
    shutil.rmtree(run / "export")
    served = ServedModel.open(run)
    assert not served.path.startswith(str(run)) and os.path.exists(os.path.join(served.path, "saved_model.pb"))
    assert served.directions is not None and served.attribute_names  # the run's own directions


def test_anything_else_is_refused_with_what_to_pass(tmp_path):
    with pytest.raises(FileNotFoundError, match="neither a run folder"):
        resolve_export(tmp_path)
    with pytest.raises(FileNotFoundError, match="no such run folder or SavedModel export"):
        resolve_export(tmp_path / "missing")


def test_the_command_says_how_to_install_gradio_when_it_is_missing(explored_export, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "gradio", None)  # find_spec("gradio") is None: not installed
    assert main(["explore", explored_export]) == 2
    assert "pip install 'tfface[explore]'" in capsys.readouterr().err


def test_the_command_names_a_wrong_path(tmp_path, capsys):
    pytest.importorskip("gradio")
    assert main(["explore", str(tmp_path)]) == 2
    assert "is neither a run folder" in capsys.readouterr().err


def test_panel_limits_are_checked_before_any_work(explored_export):
    served = ServedModel.open(explored_export)
    with pytest.raises(ExploreError, match="Faces: ask for 1 to 64"):
        generate_faces(served, "prior", 65, 0, 1.0)
    with pytest.raises(ExploreError, match="Temperature must be in"):
        generate_faces(served, "prior", 1, 0, 11.0)
    with pytest.raises(ExploreError, match="Unknown sampler 'gmm'"):
        generate_faces(served, "gmm", 1, 0, 1.0)
    with pytest.raises(ExploreError, match="The file is 2.0 MB; the explorer accepts photos up to 1 MB"):
        read_photo(np.zeros(2_000_000, np.uint8).tobytes(), Limits(max_upload_mb=1))
