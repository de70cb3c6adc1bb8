"""The Gradio app over `tfface.explore.panels`: Generate, Interpolate,
Attributes and Your photo, each a tab whose button calls one panel
function (also reachable by API name: /generate, /interpolate,
/attributes, /reconstruct, e.g. with `gradio_client`).

Safe by default: bound to 127.0.0.1, no public link unless asked, uploads
capped (Gradio refuses files over twice the panel limit; the panels
explain anything over it), uploads reach the panels as bytes (no path from a
request is ever opened by tfface; Gradio serves only files it wrote),
requests queued with a concurrency limit, every panel error shown as a
message while the app keeps serving."""

from __future__ import annotations

import importlib.util
import logging
import os
import tempfile
import time
import uuid
from dataclasses import dataclass
from typing import Callable

import numpy as np

from tfface.explore.panels import (
    NO_DIRECTIONS,
    ExploreError,
    Limits,
    edit_attributes,
    face_of,
    generate_faces,
    gif_bytes,
    interpolate_photos,
    interpolate_seeds,
    reconstruct_photo,
)
from tfface.explore.served import ServedModel
from tfface.imaging import save_png

logger = logging.getLogger(__name__)

INSTALL_HINT = "the explorer needs Gradio, an optional extra: pip install 'tfface[explore]'"
# Faces are small (64-128 px): show their pixels, not a blur.
FACE_HEIGHT = 256
CSS = (".tfface-face img, .tfface-gallery img { image-rendering: pixelated; }"
       " .tfface-face img { width: 100% !important; height: 100% !important; object-fit: contain; }")
SEED_MODE, PHOTO_MODE = "two seeds", "two photos"
GENERATED, PHOTO = "generated face", "uploaded photo"


class GradioMissing(ImportError):
    """Gradio (the `explore` extra) is not installed."""


def require_gradio():
    """The `gradio` module, or `GradioMissing` saying how to install it."""
    if importlib.util.find_spec("gradio") is None:
        raise GradioMissing(INSTALL_HINT)
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # nothing leaves the machine unasked
    import gradio

    return gradio


@dataclass(frozen=True)
class ServeOptions:
    """How the app is served.

    Args:
        host: str. Address to bind. Defaults to "127.0.0.1" (this machine
            only); "0.0.0.0" serves the network.
        port: int or None. Port; None takes the first free from 7860.
        share: bool. Ask Gradio for a temporary public link. Defaults to False.
        concurrency: int. Requests computed at once; the others wait in
            the queue. Defaults to 2.
        queue_size: int. Requests waiting at most; more are refused with a
            "queue full" message. Defaults to 64.
        limits: `Limits`. Upload and request sizes.

    Example:

    >>> ServeOptions().host
    '127.0.0.1'
    """

    host: str = "127.0.0.1"
    port: int | None = None
    share: bool = False
    concurrency: int = 2
    queue_size: int = 64
    limits: Limits = Limits()


class _Outputs:
    """Writes what the app returns (PNGs, GIFs) as files of its own temporary
    folder, each under a new name, dropping those older than `keep` seconds
    (Gradio has copied them into its cache by then).

    Gradio caches a returned array by writing its PNG in place under a name
    derived from its content, so two requests returning the same face at
    once (two users asking for seed 0) could serve a half-written file to
    one of them; a returned file is copied under a temporary name and
    renamed, so images are handed over as files."""

    def __init__(self, keep: float = 600.0):
        self.folder = tempfile.mkdtemp(prefix="tfface-explore-")
        self.keep = keep

    def _path(self, suffix: str) -> str:
        now = time.time()
        for name in os.listdir(self.folder):
            path = os.path.join(self.folder, name)
            try:
                if now - os.path.getmtime(path) > self.keep:
                    os.remove(path)
            except FileNotFoundError:  # another request removed it
                pass
        return os.path.join(self.folder, f"{uuid.uuid4().hex}{suffix}")

    def write(self, data: bytes, suffix: str) -> str:
        path = self._path(suffix)
        with open(path, "wb") as handle:
            handle.write(data)
        return path

    def files(self, value):
        """`value` with every uint8 image (H, W, 3) replaced by a PNG file."""
        if isinstance(value, np.ndarray) and value.ndim == 3:
            return save_png(self._path(".png"), value)
        if isinstance(value, (list, tuple)):
            return type(value)(self.files(item) for item in value)
        return value


def _guarded(function: Callable, outputs: int, files: _Outputs) -> Callable:
    """`function` returning its outputs (images as files), or Nones and the
    message of any error (the last output is the message), so a request
    never breaks the app."""

    def run(*args):
        try:
            return files.files(tuple(function(*args)))
        except ExploreError as error:
            return (*([None] * (outputs - 1)), f"**{error}**")
        except Exception as error:  # a bug must not stop the app serving others
            logger.exception("explorer request failed")
            return (*([None] * (outputs - 1)), f"**Something went wrong: {type(error).__name__}: {error}**")

    run.__name__ = function.__name__
    return run


def _seed(value) -> int:
    return int(value) if value is not None else 0


def build_app(served, limits: Limits = Limits()):
    """The `gradio.Blocks` app of a `ServedModel` (not launched)."""
    gr = require_gradio()
    outputs = _Outputs()
    samplers = list(served.samplers)
    max_faces = min(limits.max_faces, served.max_count)
    max_temperature = min(3.0, served.max_temperature)
    upload = f"JPEG, PNG, BMP, GIF or WebP, up to {limits.max_upload_mb:g} MB"

    def sampler_controls():
        with gr.Row():
            sampler = gr.Dropdown(samplers, value=samplers[0], label="Sampler")
            temperature = gr.Slider(0.0, max_temperature, value=1.0, step=0.05, label="Temperature")
        return sampler, temperature

    def photo_input(label):
        return gr.File(label=f"{label} ({upload})", type="binary", file_types=["image"])

    def face_image(label, height=None):
        return gr.Image(label=label, type="numpy", format="png", interactive=False, height=height,
                        buttons=["download", "fullscreen"], elem_classes="tfface-face")  # fmt: skip

    with gr.Blocks(title=f"tfface explorer: {served.name}", analytics_enabled=False) as app:
        gr.Markdown(f"## tfface explorer\n{served.describe()}")
        with gr.Tab("Generate", id="generate"):
            sampler, temperature = sampler_controls()
            with gr.Row():
                count = gr.Slider(1, max_faces, value=min(16, max_faces), step=1, label="Faces")
                seed = gr.Number(0, precision=0, label="Seed")
            go = gr.Button("Generate", variant="primary", elem_id="generate-button")
            status = gr.Markdown(elem_id="generate-status")
            gallery = gr.Gallery(label="Faces (open one to download it at full size)", format="png", columns=8,
                                 buttons=["download", "fullscreen"], elem_id="generate-gallery", elem_classes="tfface-gallery")  # fmt: skip
            sheet = face_image("Grid (download: the grid at full size)", height=FACE_HEIGHT * 2)

            def generate(sampler, count, seed, temperature):
                faces, grid, message = generate_faces(served, sampler, count, _seed(seed), temperature, limits)
                return list(faces), grid, message

            go.click(_guarded(generate, 3, outputs), [sampler, count, seed, temperature], [gallery, sheet, status], api_name="generate")

        with gr.Tab("Interpolate", id="interpolate"):
            mode = gr.Radio([SEED_MODE, PHOTO_MODE], value=SEED_MODE, label="Between")
            sampler_i, temperature_i = sampler_controls()
            with gr.Row():
                seed_a = gr.Number(0, precision=0, label="Seed A")
                seed_b = gr.Number(1, precision=0, label="Seed B")
            with gr.Row():
                photo_a, photo_b = photo_input("Photo A"), photo_input("Photo B")
            steps = gr.Slider(2, limits.max_steps, value=8, step=1, label="Steps (slerp)")
            go_i = gr.Button("Interpolate", variant="primary", elem_id="interpolate-button")
            status_i = gr.Markdown(elem_id="interpolate-status")
            strip = face_image("Strip (download: full size)", FACE_HEIGHT // 2)
            animation = gr.Image(label="Animated GIF (download: the GIF)", type="filepath", interactive=False,
                                 height=FACE_HEIGHT, buttons=["download", "fullscreen"], elem_classes="tfface-face")  # fmt: skip

            def interpolate(mode, sampler, temperature, seed_a, seed_b, photo_a, photo_b, steps):
                if mode == PHOTO_MODE:
                    frames, strip, message = interpolate_photos(served, photo_a, photo_b, steps, limits)
                else:
                    frames, strip, message = interpolate_seeds(served, sampler, _seed(seed_a), _seed(seed_b), temperature, steps, limits)
                return strip, outputs.write(gif_bytes(frames), ".gif"), message

            go_i.click(_guarded(interpolate, 3, outputs), [mode, sampler_i, temperature_i, seed_a, seed_b, photo_a, photo_b, steps],
                       [strip, animation, status_i], api_name="interpolate")  # fmt: skip

        with gr.Tab("Attributes", id="attributes"):
            names = served.attribute_names
            if not names:
                gr.Markdown(NO_DIRECTIONS, elem_id="attributes-missing")
            else:
                source = gr.Radio([GENERATED, PHOTO], value=GENERATED, label="Edit")
                sampler_a, temperature_a = sampler_controls()
                with gr.Row():
                    seed_e = gr.Number(0, precision=0, label="Seed")
                    photo_e = photo_input("Photo")
                sliders = []
                with gr.Accordion(f"{len(names)} attribute directions", open=True):
                    for start in range(0, len(names), 4):
                        with gr.Row():
                            sliders += [gr.Slider(-3.0, 3.0, value=0.0, step=0.25, label=name) for name in names[start : start + 4]]
                go_a = gr.Button("Apply", variant="primary", elem_id="attributes-button")
                status_a = gr.Markdown(elem_id="attributes-status")
                with gr.Row():
                    before, after = face_image("Before", FACE_HEIGHT), face_image("After", FACE_HEIGHT)

                def attributes(source, sampler, temperature, seed, photo, *strengths):
                    note = ""
                    if source == PHOTO:
                        crop, note = face_of(served, photo, limits)
                        code = served.encode(crop[None])[0]
                    else:
                        (code,), _ = served.sample(sampler, 1, _seed(seed), float(temperature))
                    face, edited, message = edit_attributes(served, code, strengths)
                    return face, edited, f"{note} {message}".strip()

                go_a.click(_guarded(attributes, 3, outputs), [source, sampler_a, temperature_a, seed_e, photo_e, *sliders],
                           [before, after, status_a], api_name="attributes")  # fmt: skip

        with gr.Tab("Your photo", id="photo"):
            photo = photo_input("Photo")
            go_p = gr.Button("Reconstruct", variant="primary", elem_id="reconstruct-button")
            status_p = gr.Markdown(elem_id="reconstruct-status")
            with gr.Row():
                crop = face_image("Face crop (as the data pipeline crops)", FACE_HEIGHT)
                reconstruction = face_image("Reconstruction", FACE_HEIGHT)
            pair = face_image("Side by side (download: full size)", FACE_HEIGHT)

            def reconstruct(photo):
                crop, reconstruction, pair, message = reconstruct_photo(served, photo, limits)
                return crop, reconstruction, pair, message

            go_p.click(_guarded(reconstruct, 4, outputs), [photo], [crop, reconstruction, pair, status_p], api_name="reconstruct")
    return app


def launch(app, options: ServeOptions = ServeOptions(), *, inline: bool | None = None, block: bool = True, quiet: bool = False):
    """Queues and launches a `build_app` app; returns it. With `block` it
    serves until Ctrl+C; otherwise the server runs in a thread
    (`app.local_url`; `app.close()` stops it)."""
    app.queue(default_concurrency_limit=options.concurrency, max_size=options.queue_size)
    app.launch(
        server_name=options.host,
        server_port=options.port,
        share=options.share,
        # Gradio refuses bigger uploads outright; between the limit and this, the panel explains.
        max_file_size=2 * options.limits.max_upload_bytes,
        allowed_paths=[],
        inline=inline,
        prevent_thread_lock=True,
        quiet=True,
        ssr_mode=False,
        css=CSS,
    )
    if not quiet:
        public = f", public link {app.share_url}" if getattr(app, "share_url", None) else ""
        print(f"explorer: {app.local_url}{public} (Ctrl+C stops it)")
    if block:
        try:
            app.block_thread()
        except KeyboardInterrupt:
            pass
        finally:
            app.close()
    return app


def explore(path, options: ServeOptions = ServeOptions(), *, inline: bool | None = None, block: bool = True, quiet: bool = False):
    """Opens a run folder or an export (`ServedModel.open`) and serves its
    explorer; returns the launched app."""
    require_gradio()
    served = ServedModel.open(path)
    return launch(build_app(served, options.limits), options, inline=inline, block=block, quiet=quiet)


