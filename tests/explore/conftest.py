"""One running explorer per test module: the session's tiny exported run,
with a fitted "diagonal" sampler and attribute directions, exported again
(version 2) so the export alone carries both, served on a free loopback port."""

import os
import socket
import time
import urllib.request

import pytest

pytest.importorskip("gradio", reason="the explorer needs the explore extra: pip install 'tfface[explore]'")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def explored_export(trained_exported_run, tmp_path_factory):
    """`RUN/export/2`: the tiny run's export with a diagonal sampler behind
    `sample` and the run's attribute directions in `assets.extra/`, made
    once per session. Read-only: copy it to change it."""
    import shutil

    from tfface.export import export_run
    from tfface.run import load_run
    from tfface.sampling import fit_run_directions, sampler_for_run

    run = tmp_path_factory.mktemp("explored") / "run"
    shutil.copytree(trained_exported_run, run)
    loaded = load_run(run)
    sampler_for_run(loaded, "diagonal", refit=True, limit=64)  # saved as RUN/sampler.json
    fit_run_directions(loaded, limit=64)
    return export_run(loaded, run / "export", version=2, verify=False).path


@pytest.fixture(scope="module")
def explorer(explored_export):
    """(url, app, served model) of the explorer of `explored_export`, with a
    1 MB upload limit; closed after the module."""
    from tfface.explore import Limits, ServedModel, ServeOptions, build_app, launch

    served = ServedModel.open(explored_export)
    options = ServeOptions(port=free_port(), concurrency=2, limits=Limits(max_upload_mb=1.0, max_megapixels=4.0))
    app = launch(build_app(served, options.limits), options, block=False, quiet=True)
    url = app.local_url
    for _ in range(100):
        try:
            urllib.request.urlopen(url, timeout=2).read(1)
            break
        except OSError:
            time.sleep(0.1)
    yield url, app, served
    app.close()


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """Files to upload: a real face photo (skimage's astronaut: one face), a
    photo without a face (skimage's coffee), two faces side by side, a text
    file, a 1.5 MB file (over the 1 MB limit: the panel explains), a 3 MB
    file (over twice the limit: Gradio refuses the upload), a small PNG of
    3000x3000 pixels (over 4 megapixels)."""
    import numpy as np
    import skimage.data
    from PIL import Image

    folder = tmp_path_factory.mktemp("photos")
    astronaut = skimage.data.astronaut()
    files = {
        "face": astronaut,
        "no_face": skimage.data.coffee(),
        "two_faces": np.concatenate([astronaut, astronaut], axis=1),
        "huge_pixels": np.zeros((3000, 3000, 3), np.uint8),
    }
    paths = {}
    for name, image in files.items():
        paths[name] = str(folder / f"{name}.png")
        Image.fromarray(image).save(paths[name])
    paths["text"] = str(folder / "notes.png")
    with open(paths["text"], "w") as handle:
        handle.write("not an image, whatever its name says\n")
    for name, size in (("big_file", 1_500_000), ("too_big_file", 3_000_000)):
        paths[name] = str(folder / f"{name}.jpg")
        with open(paths[name], "wb") as handle:
            handle.write(os.urandom(size))
    return paths


@pytest.fixture(scope="module")
def client(explorer):
    from gradio_client import Client

    return Client(explorer[0], verbose=False)


def read_png(path):
    import numpy as np
    from PIL import Image

    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))
