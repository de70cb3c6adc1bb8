"""Every notebook in colab/ runs top to bottom on a tiny synthetic CPU
configuration (parameters injected after its `parameters` cell, as papermill
does), the quickstart also on a folder of face photos, and is stored clean:
no outputs, a Colab badge, the install cell, the GPU check and a `parameters`
cell."""

from __future__ import annotations

import glob
import os
import re
import resource
import time
from dataclasses import dataclass
from typing import Callable

import nbformat
import numpy as np
import pytest

from tests.data.image_files import write_face_photos
from tests.helpers import REPO, load_json

COLAB = os.path.join(REPO, "colab")
NOTEBOOKS = sorted(os.path.basename(p) for p in glob.glob(os.path.join(COLAB, "*.ipynb")))
REPOSITORY = 'REPOSITORY = "git+https://github.com/tfface/tfface.git"'


@dataclass
class TinyRun:
    """A notebook's tiny parameters and what its run must have produced."""

    parameters: dict
    check: Callable[[str, nbformat.NotebookNode], None]
    presets: tuple[str, ...] = ()
    configs: tuple[str, ...] = ()
    slow: bool = False
    prepare: Callable[[str], dict] | None = None  # writes the run's data under the work folder, returns parameters naming it
    cells: tuple[str, ...] = ()  # code run after the parameters (e.g. a fake accelerator report)


def read(name: str) -> nbformat.NotebookNode:
    return nbformat.read(os.path.join(COLAB, name), as_version=4)


def parameters_index(nb) -> int:
    tagged = [i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, f"expected one cell tagged 'parameters', found {len(tagged)}"
    return tagged[0]


def inject(nb, parameters: dict, cells: tuple[str, ...] = ()):
    """Papermill's convention: a cell after the `parameters` cell overrides its values; `cells` follow it."""
    source = "# Parameters injected by the tests\n" + "\n".join(f"{k} = {v!r}" for k, v in parameters.items())
    injected = [nbformat.v4.new_code_cell(code) for code in (source, *cells)]
    for cell in injected:
        cell.metadata["tags"] = ["injected-parameters"]
    index = parameters_index(nb) + 1
    nb.cells[index:index] = injected
    return nb


def execute(name: str, parameters: dict, workdir: str, monkeypatch, cells: tuple[str, ...] = ()) -> nbformat.NotebookNode:
    from nbclient import NotebookClient

    nb = read(name)
    defaults = {}
    exec(nb.cells[parameters_index(nb)].source, {}, defaults)
    unknown = set(parameters) - set(defaults)
    assert not unknown, f"{name}: its parameters cell has no {sorted(unknown)}"
    inject(nb, parameters, cells)
    nb.cells.append(nbformat.v4.new_code_cell("import tfface\nprint('tfface from', tfface.__file__)"))
    monkeypatch.setenv("PYTHONPATH", REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "3")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    client = NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": workdir}})
    start, children = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
    client.execute()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime
    print(f"{name}: executed in {time.perf_counter() - start:.1f} s wall, kernel CPU {cpu:.1f} s")
    (where,) = [o.text for o in nb.cells[-1].outputs if o.output_type == "stream"]
    assert where.strip() == f"tfface from {os.path.join(REPO, 'tfface', '__init__.py')}", "the kernel imported another tfface"
    return nb


def outputs(nb, mime: str) -> list[str]:
    return [o.get("data", {}).get(mime, "") for c in nb.cells if c.cell_type == "code" for o in c.outputs]


def assert_files(root: str, *names: str) -> None:
    """Each file exists; a PNG must decode to a picture (not one flat colour),
    a JSON file must parse."""
    missing = [n for n in names if not os.path.exists(os.path.join(root, n))]
    assert not missing, f"not written under {root}: {missing}"
    for name in names:
        if name.endswith(".png"):
            picture = read_png(os.path.join(root, name))
            assert picture.ndim == 3 and picture.shape[-1] in (3, 4) and picture.std() > 1, f"{name}: blank or not an image"
        elif name.endswith(".json"):
            load_json(os.path.join(root, name))


def read_png(path: str) -> np.ndarray:
    import tensorflow as tf

    return tf.io.decode_png(tf.io.read_file(path)).numpy()


def assert_temperatures_differ(folder: str, cooler: str, kind: str) -> None:
    """The grid drawn at a lower temperature is another grid (same seed, codes scaled)."""
    hot, cold = (read_png(os.path.join(folder, f"samples/samples_{kind}_t{t}_s0.png")) for t in ("1", cooler))
    assert hot.shape == cold.shape and not np.array_equal(hot, cold), f"{folder}: temperature {cooler} changed nothing"


def recomputed_accuracy(run_folder: str) -> tuple[float, int]:
    """The attribute accuracy of a run's model on its test split, computed
    here from the model's probabilities and the split's labels (columns
    matched by attribute name), and the number of images."""
    from tfface.data.celeba_attributes import CELEBA_ATTRIBUTES
    from tfface.run import load_run

    loaded = load_run(run_folder)
    model, source = loaded.model, loaded.source("test")
    outputs = list(getattr(model, "attribute_names", None) or CELEBA_ATTRIBUTES)
    columns = [outputs.index(name) for name in source.attribute_names]
    correct, seen = [], 0
    for images, labels in loaded.dataset("test", 16, with_attributes=True, source=source).as_numpy_iterator():
        scores = model.predict_attributes(images) if hasattr(model, "predict_attributes") else model.encode(images)
        probabilities = np.asarray(scores)[:, columns]
        known = ~np.isnan(labels)
        correct.append(((probabilities > 0.5) == (labels > 0.5))[known])
        seen += len(images)
    return float(np.mean(np.concatenate(correct))), seen


def assert_reported_accuracy(run_folder: str) -> None:
    """metrics.json's attribute_accuracy is the model's accuracy on the test split."""
    reported = load_json(os.path.join(run_folder, "metrics.json"))
    accuracy, seen = recomputed_accuracy(run_folder)
    assert reported["protocol"]["split"] == "test" and reported["protocol"]["images"] == seen > 0
    assert reported["metrics"]["attribute_accuracy"] == pytest.approx(accuracy, abs=1e-6), run_folder


def assert_export_loads(path: str, latent_dim: int, image_shape) -> None:
    import tensorflow as tf

    served = tf.saved_model.load(path)
    images = served.generate(tf.zeros((2, latent_dim), tf.float32))["images"].numpy()
    assert images.shape == (2, *image_shape) and np.all((images >= 0) & (images <= 1))


# ---------------------------------------------------------------- per notebook


def assert_quickstart_run(workdir: str, nb, sampler: str, latent_dim: int) -> dict:
    """The quickstart's run folder, grids, samples of `sampler`, export; returns its config."""
    run = os.path.join(workdir, "runs", "quickstart")
    assert_files(run, "grids/samples_e001_begin.png", "grids/samples_e001_end.png", "grids/reconstructions_e001.png",
                 "checkpoints", "model.keras", "sampler.json", f"samples/samples_{sampler}_t1_s0.png",
                 f"samples/samples_{sampler}_t0.7_s0.png", "samples/interpolation_slerp.png",
                 "samples/interpolation_slerp_samples.png")  # fmt: skip
    assert_temperatures_differ(run, "0.7", sampler)
    config = load_json(os.path.join(run, "config.json"))
    assert config["train"]["mixed_precision"] == "auto"  # resolved where the step runs: RUN/precision.json
    assert load_json(os.path.join(run, "sampler.json"))["kind"] == sampler
    assert load_json(os.path.join(run, "export", "1", "assets.extra", "sampler.json"))["kind"] == sampler  # served by `sample`
    for logs in ("train", "validation", "grids"):  # what the %tensorboard cell shows
        assert glob.glob(os.path.join(run, "tensorboard", logs, "*tfevents*")), f"no TensorBoard {logs} logs"
    assert_export_loads(os.path.join(run, "export", "1"), latent_dim, (32, 32, 3))
    shown = [html for html in outputs(nb, "text/html") if "data:image/png;base64," in html]
    assert any("samples_e001_begin.png" in h and "samples_e001_end.png" in h for h in shown), "grids not displayed"
    frames = [html for html in outputs(nb, "text/html") if "<iframe" in html]  # the last cell's explorer, inline
    assert frames and "127.0.0.1" in frames[-1], "the explorer is not shown inline"
    return config


def check_quickstart(workdir: str, nb) -> None:
    config = assert_quickstart_run(workdir, nb, "prior", 8)
    assert (config["model"]["preset"], config["data"]["source"]) == ("vae_demo", "synthetic")


# The accelerator check reports a T4, so the notebook takes its GPU path on this CPU: "auto" resolves to float16,
# trained through the loss-scale optimizer.
FAKE_T4 = """# Injected by the tests: the accelerator detection reports a T4
import tfface.training.precision as _precision
_precision.detect_device = lambda *args, **kwargs: _precision.Device("gpu", "Tesla T4", (7, 5), 1)"""


def check_quickstart_t4(workdir: str, nb) -> None:
    check_quickstart(workdir, nb)
    printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert '1 GPU(s): Tesla T4 (compute capability 7.5) -> "auto" precision: mixed_float16' in printed
    (segment,) = load_json(os.path.join(workdir, "runs", "quickstart", "precision.json"))["segments"]
    assert (segment["policy"], segment["requested"], segment["device"]) == ("mixed_float16", "auto", "Tesla T4 (compute capability 7.5)")
    checkpoint = load_json(os.path.join(workdir, "runs", "quickstart", "checkpoints", "checkpoint.json"))
    assert checkpoint["loss_scaled"] == {"optimizer": True}


def face_photo_folder(workdir: str) -> dict:
    """20 photos: 8 held out (the interpolation cell's 4 pairs), 12 to fit face_64.toml's 10-component GMM."""
    folder = os.path.join(workdir, "photos")
    write_face_photos(folder, 20)
    return {"DATA_PATH": folder}


def check_quickstart_photos(workdir: str, nb) -> None:
    config = assert_quickstart_run(workdir, nb, "gmm", 128)  # face_64's latent size: LATENT_DIM = None
    assert config["name"] == "face_64" and config["model"]["preset"] == "face_64"
    assert (config["data"]["source"], config["data"]["face_crop"], config["run"]["fit_sampler"]) == ("folder", True, "gmm")
    crops = glob.glob(os.path.join(workdir, "photos", ".tfface_cache", "faces-*"))
    assert crops, "no face boxes cached: the Haar crop did not run"


GRIDS = ("grids/samples_e001_begin.png", "grids/samples_e001_end.png")


def assert_sweep(output: str, runs: list[str]) -> None:
    assert_files(output, "table.md", "table.csv", "interpolation.png", "loss_curves.png", "sweep.json")
    table = open(os.path.join(output, "table.md"), encoding="utf-8").read()
    for name in runs:
        assert f"| {name} |" in table, f"{name} not in {output}/table.md"
    for name in runs:
        assert_files(os.path.join(output, name), "grids/reconstructions_e001.png", "metrics.json")


def check_r001(workdir: str, nb) -> None:
    root = os.path.join(workdir, "runs", "r001")
    assert_files(os.path.join(root, "r001_vae"), *GRIDS, "samples/samples_prior_t1_s0.png", "samples/samples_prior_t0.5_s0.png",
                 "samples/interpolation_linear.png", "samples/interpolation_slerp.png", "samples/interpolation_slerp_samples.png")
    assert_temperatures_differ(os.path.join(root, "r001_vae"), "0.5", "prior")
    config = load_json(os.path.join(root, "r001_vae", "config.json"))
    assert (config["model"]["preset"], config["model"]["beta"], config["data"]["value_range"]) == ("r001_vae", 1e-5, "-1_1")
    sweep = os.path.join(root, "sweep")
    assert_sweep(sweep, ["lambda=1e-03", "closer_to_centre"])
    assert_files(sweep, "samples.png")
    assert load_json(os.path.join(sweep, "lambda=1e-03", "config.json"))["model"]["beta"] == 1e-3
    centred = load_json(os.path.join(sweep, "closer_to_centre", "config.json"))["model"]
    assert (centred["beta"], centred["latent_dim"], centred["args"]["kl_boost"]) == (1e-5, 64, 1.0)


R000 = ["r000_model1_classifier", "r000_model1", "r000_model2", "r000_model3_classifier", "r000_model3", "r000_model4"]


def check_r000(workdir: str, nb) -> None:
    root = os.path.join(workdir, "runs", "r000")
    for name in ("r000_model1_classifier", "r000_model3_classifier"):
        assert_files(os.path.join(root, name), "model.keras", "history.json", "metrics.md")
        assert "attribute_accuracy" in load_json(os.path.join(root, name, "history.json"))
        assert_reported_accuracy(os.path.join(root, name))
    for name in ("r000_model1_classifier", "r000_model3_classifier", "r000_model1", "r000_model2", "r000_model3", "r000_model4"):
        assert load_json(os.path.join(root, name, "metrics.json"))["protocol"]["split"] == "test"
    for name in ("r000_model1", "r000_model2", "r000_model3", "r000_model4"):
        assert_files(os.path.join(root, name), *GRIDS, "grids/reconstructions_e001.png", "metrics.json", "metrics.md",
                     "samples/samples_diagonal_t1_s0.png")  # Figure 6: the codes' mean and standard deviation
        assert load_json(os.path.join(root, name, "sampler.json"))["kind"] == "diagonal"
    for model, classifier in (("r000_model1", "r000_model1_classifier"), ("r000_model3", "r000_model3_classifier")):
        config = load_json(os.path.join(root, model, "config.json"))
        assert config["model"]["args"]["encoder_from"] == os.path.join(root, classifier)
        assert_reported_accuracy(os.path.join(root, model))
        assert_files(os.path.join(root, model), "samples/attribute_faces.png")
    assert load_json(os.path.join(root, "r000_model3", "config.json"))["model"]["args"]["freeze_encoder"] is True


R002 = ["r002_dense_ae", "r002_conv_ae", "r002_denoising_ae", "r002_anime_vae", "r002_iiitb_vae"]


def check_r002(workdir: str, nb) -> None:
    root = os.path.join(workdir, "runs", "r002")
    for name in R002:
        grids = GRIDS if name.endswith("_vae") else ()  # the autoencoders' configs write no sample grids
        assert_files(os.path.join(root, name), *grids, "grids/reconstructions_e001.png", "model.keras")
        assert load_json(os.path.join(root, name, "config.json"))["model"]["preset"] == name
        assert glob.glob(os.path.join(root, name, "samples", "samples_*_t1_s0.png")), f"{name}: no samples"


def check_r003(workdir: str, nb) -> None:
    run = os.path.join(workdir, "runs", "r003", "r003_vae")
    assert_files(run, *GRIDS, "samples/samples_prior_t1_s0.png", "samples/samples_prior_t0.7_s0.png", "samples/interpolation_slerp.png")
    assert_temperatures_differ(run, "0.7", "prior")
    assert load_json(os.path.join(run, "config.json"))["model"]["preset"] == "r003_vae"


R004_TINY = ["r004_ae_baseline", "r004_ae_latent_4"]


def check_r004(workdir: str, nb) -> None:
    output = os.path.join(workdir, "runs", "r004", "table2")
    assert_sweep(output, R004_TINY)
    header = open(os.path.join(output, "table.md"), encoding="utf-8").read()
    assert "PSNR dB (report: 10log10(1/MSE))" in header
    shown = "".join(outputs(nb, "text/html"))
    assert all(f"<figcaption>{name}</figcaption>" in shown for name in R004_TINY), "reconstructions not displayed"


TINY_SYNTHETIC = {"TENSORBOARD": False, "IMAGE_COUNT": 64, "EPOCHS": 1, "STEPS_PER_EPOCH": 2, "BATCH_SIZE": 16}
# Report notebooks: 80 synthetic faces (8 for validation: 4 interpolation pairs), one step per run.
TINY_REPORT = {"TENSORBOARD": False, "DATA_SOURCE": "synthetic", "IMAGE_COUNT": 80, "EPOCHS": 1, "STEPS_PER_EPOCH": 1, "BATCH_SIZE": 8,
               "OVERRIDES": ["run.export=false", "run.checkpoint_every=0"]}

TINY: dict[str, TinyRun] = {
    "quickstart.ipynb": TinyRun({**TINY_SYNTHETIC, "IMAGE_SIZE": 32, "LATENT_DIM": 8}, check_quickstart),
    "r000_celeba_autoencoders.ipynb": TinyRun(
        TINY_REPORT, check_r000, presets=tuple(R000), configs=tuple(f"{name}.toml" for name in R000), slow=True),
    "r001_instancenorm_vae.ipynb": TinyRun(
        {**TINY_REPORT, "RUNS": ["lambda=1e-03", "closer_to_centre"]}, check_r001,
        presets=("r001_vae",), configs=("r001_vae.toml",), slow=True),
    "r002_vae_family.ipynb": TinyRun(
        # The two VAEs (150 M parameters at 256x256, 27 M at 64x64) shrink to 64x64 and 32x32 (their presets
        # take any multiple of 32 and 16); the autoencoders keep their native 64x64. Synthetic faces need no
        # Haar crop.
        {**TINY_REPORT, "BATCH_SIZE": 2,
         "MODEL_OVERRIDES": {"r002_iiitb_vae": ["data.face_crop=false", "data.image_size=64"],
                             "r002_anime_vae": ["data.image_size=32"]}}, check_r002,
        presets=tuple(R002), configs=tuple(f"{name}.toml" for name in R002), slow=True),
    "r003_vae_112.ipynb": TinyRun(TINY_REPORT, check_r003, presets=("r003_vae",), configs=("r003_vae.toml",)),
    "r004_ffhq_autoencoders.ipynb": TinyRun(
        {**TINY_REPORT, "IMAGE_SIZE": 64, "RUNS": R004_TINY,
         "OVERRIDES": [*TINY_REPORT["OVERRIDES"], "data.validation_count=8"]}, check_r004,
        presets=tuple(R004_TINY), slow=True),
}


# More runs of a notebook, by test id: the real-photo path of the quickstart (RECIPE "auto" picks
# face_64.toml for a folder source; its Haar face crop stays on).
MORE_TINY: dict[str, tuple[str, TinyRun]] = {
    "quickstart_photos": ("quickstart.ipynb", TinyRun(
        {"TENSORBOARD": False, "DATA_SOURCE": "folder", "IMAGE_SIZE": 32, "EPOCHS": 1, "STEPS_PER_EPOCH": 2, "BATCH_SIZE": 4,
         "OVERRIDES": ["data.validation_count=8"]}, check_quickstart_photos,
        presets=("face_64",), configs=("face_64.toml",), prepare=face_photo_folder)),
    "quickstart_t4": ("quickstart.ipynb", TinyRun(
        {**TINY_SYNTHETIC, "IMAGE_SIZE": 32, "LATENT_DIM": 8}, check_quickstart_t4, cells=(FAKE_T4,), slow=True)),
}  # fmt: skip


def _cases():
    runs = [(name.removesuffix(".ipynb"), name, TINY.get(name)) for name in NOTEBOOKS]
    for case, (name, tiny) in MORE_TINY.items():
        runs.append((case, name, tiny))
    for case, name, tiny in runs:
        marks = [pytest.mark.slow] if tiny is not None and tiny.slow else []
        yield pytest.param(name, tiny, marks=marks, id=case)


def test_every_notebook_has_a_tiny_configuration_whose_presets_and_configs_exist():
    from tfface.presets import load_all

    assert NOTEBOOKS, "no notebooks in colab/"
    assert sorted(TINY) == NOTEBOOKS
    registered = set(load_all().names())
    for tiny in [*TINY.values(), *(run for _, run in MORE_TINY.values())]:
        assert set(tiny.presets) <= registered, sorted(set(tiny.presets) - registered)
        for config in tiny.configs:
            assert os.path.exists(os.path.join(REPO, "pipelines", config)), config


@pytest.mark.parametrize("name, tiny", list(_cases()))
def test_notebook_runs_top_to_bottom(name, tiny, tmp_path, monkeypatch):
    assert tiny is not None, f"{name}: no tiny configuration"
    parameters = {**tiny.parameters, **(tiny.prepare(str(tmp_path)) if tiny.prepare else {})}
    nb = execute(name, parameters, str(tmp_path), monkeypatch, tiny.cells)
    tiny.check(str(tmp_path), nb)


# ---------------------------------------------------------------- stored form


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_is_stored_clean_with_badge_install_gpu_check_and_parameters(name):
    nb = read(name)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    for cell in code:
        assert cell.outputs == [] and cell.execution_count is None, f"{name}: stored with outputs"
    first = nb.cells[0]
    badge = f"(https://colab.research.google.com/github/tfface/tfface/blob/main/colab/{name})"
    assert first.cell_type == "markdown" and "colab-badge.svg" in first.source and badge in first.source
    install = code[0].source
    assert REPOSITORY in install and 'find_spec("tfface") is None' in install and '"pip", "install"' in install
    assert sum(c.source.count("github.com/tfface/tfface.git") for c in code) == 1, "the repository URL is in one variable"
    sources = "\n".join(c.source for c in code)
    assert "detect_accelerator()" in sources and '"train.mixed_precision": PRECISION' in sources
    assert "run_root(" in sources and "use_drive=USE_DRIVE" in sources
    assert "%load_ext tensorboard\n    %tensorboard --logdir {ROOT}" in sources, f"{name}: no TensorBoard cell"
    parameters = nb.cells[parameters_index(nb)]
    gpu_check = next(i for i, c in enumerate(nb.cells) if "detect_accelerator()" in c.source)
    assert parameters.cell_type == "code" and nb.cells.index(code[0]) < parameters_index(nb) < gpu_check
    values: dict = {}
    exec(parameters.source, {}, values)
    assert {"USE_DRIVE", "OVERRIDES", "EPOCHS", "BATCH_SIZE"} <= set(values)
    rest = "\n".join(c.source for c in code if c is not parameters)
    unused = [key for key in values if not re.search(rf"\b{key}\b", rest)]
    assert not unused, f"{name}: parameters never used: {unused}"
    assert any(c.cell_type == "markdown" and "run.resume" in c.source for c in nb.cells), f"{name}: resume not explained"


def test_readme_colab_section_follows_setup_and_lists_every_notebook_with_its_badge():
    text = open(os.path.join(REPO, "README.md"), encoding="utf-8").read()
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    assert headings[headings.index("## Set-up: two commands") + 1] == "## Colab"
    section = text.split("## Colab\n", 1)[1].split("\n## ", 1)[0]
    for name in NOTEBOOKS:
        assert f"`colab/{name}`" in section and f"blob/main/colab/{name})" in section, f"README lacks {name}"
