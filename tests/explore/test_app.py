"""Every explorer panel through Gradio's own client against a running app
(the tiny run's export alone): the faces it returns are the export's, bad
inputs get a message and the app keeps serving."""

import dataclasses
import json
import urllib.request

import numpy as np
import pytest
from PIL import Image

from tests.explore.conftest import read_png

SERVED = "diagonal (served)"


def upload(path):
    from gradio_client import handle_file

    return handle_file(path)


def test_the_app_serves_this_machine_only_by_default_and_lists_its_panels(explorer, client):
    url, app, served = explorer
    assert url.startswith("http://127.0.0.1:") and app.share_url is None
    assert set(client.view_api(print_info=False, return_format="dict")["named_endpoints"]) == {
        "/generate", "/interpolate", "/attributes", "/reconstruct"}  # fmt: skip
    # the export alone carries what the app needs: the served sampler, the prior beside it, the directions
    assert list(served.samplers) == [SERVED, "prior"]
    assert served.attribute_names and served.directions is not None


def test_generate_returns_the_exports_faces_at_full_size(explorer, client):
    _, _, served = explorer
    gallery, grid, message = client.predict(SERVED, 6, 7, 1.0, api_name="/generate")
    faces = np.stack([read_png(item["image"]) for item in gallery])
    _, expected = served.sample(SERVED, 6, 7, 1.0)
    np.testing.assert_array_equal(faces, expected)  # lossless PNGs of the `sample` signature's faces
    assert read_png(grid).shape == (2 * 32 + 3 * 2, 3 * 32 + 4 * 2, 3) and "6 faces" in message
    again, _, _ = client.predict(SERVED, 6, 7, 1.0, api_name="/generate")
    np.testing.assert_array_equal(np.stack([read_png(item["image"]) for item in again]), faces)
    prior, _, _ = client.predict("prior", 6, 7, 1.0, api_name="/generate")
    assert not np.array_equal(np.stack([read_png(item["image"]) for item in prior]), faces)


@pytest.mark.parametrize("count, temperature, expected", [
    (0, 1.0, "Value 0 is less than minimum value 1"),
    (6, 20.0, "Value 20.0 is greater than maximum value 3.0"),
])  # fmt: skip
def test_generate_refuses_out_of_range_requests_and_keeps_serving(client, count, temperature, expected):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match=expected):  # the sliders' bounds, checked by Gradio before the panel runs
        client.predict(SERVED, count, 0, temperature, api_name="/generate")
    gallery, _, _ = client.predict(SERVED, 1, 0, 1.0, api_name="/generate")
    assert len(gallery) == 1


def test_interpolate_between_two_seeds_gives_a_strip_and_an_animated_gif(explorer, client):
    _, _, served = explorer
    strip, gif, message = client.predict("two seeds", SERVED, 1.0, 3, 4, None, None, 5, api_name="/interpolate")
    cells = read_png(strip)
    assert cells.shape == (32 + 4, 5 * 32 + 6 * 2, 3) and "slerp in 5 steps" in message
    _, first = served.sample(SERVED, 1, 3, 1.0)
    _, last = served.sample(SERVED, 1, 4, 1.0)
    np.testing.assert_array_equal(cells[2:34, 2:34], first[0])  # the ends are the two seeds' faces
    np.testing.assert_array_equal(cells[2:34, -34:-2], last[0])
    from tfface.sampling import interpolate

    middle = served.generate(interpolate(served.sample(SERVED, 1, 3, 1.0)[0][0], served.sample(SERVED, 1, 4, 1.0)[0][0], 5))
    np.testing.assert_array_equal(cells[2:34, 2 + 2 * 34 : 2 * 34 + 34], middle[2])  # a point of the slerp, not the line
    with Image.open(gif) as animated:
        assert animated.format == "GIF" and animated.n_frames == 2 * 5 - 2 and animated.size[0] >= 192


def test_interpolate_between_two_photos_shows_their_crops_at_the_ends(client, photos):
    strip, gif, message = client.predict("two photos", SERVED, 1.0, 0, 1, upload(photos["face"]), upload(photos["face"]), 4,
                                            api_name="/interpolate")  # fmt: skip
    assert read_png(strip).shape == (32 + 4, 6 * 32 + 7 * 2, 3) and "first photo: 1 face found" in message
    strip, gif, message = client.predict("two photos", SERVED, 1.0, 0, 1, upload(photos["face"]), upload(photos["no_face"]), 4,
                                            api_name="/interpolate")  # fmt: skip
    assert strip is None and gif is None and "The second photo: No face found" in message


def test_attribute_sliders_move_a_generated_face_and_a_photo(explorer, client, photos):
    _, _, served = explorer
    names = served.attribute_names
    still = [0.0] * len(names)
    before, after, message = client.predict("generated face", SERVED, 1.0, 5, None, *still, api_name="/attributes")
    np.testing.assert_array_equal(read_png(before), read_png(after))
    assert "Move a slider" in message
    moved = [2.0] + still[1:]
    before_2, after_2, message = client.predict("generated face", SERVED, 1.0, 5, None, *moved, api_name="/attributes")
    np.testing.assert_array_equal(read_png(before_2), read_png(before))
    code, _ = served.sample(SERVED, 1, 5, 1.0)
    np.testing.assert_array_equal(read_png(after_2), served.generate(code + 2.0 * served.directions.direction(names[0]))[0])
    assert f"{names[0]} +2" in message
    before, after, message = client.predict("uploaded photo", SERVED, 1.0, 0, upload(photos["face"]), *moved, api_name="/attributes")
    assert read_png(before).shape == (32, 32, 3) and "1 face found" in message
    before, after, message = client.predict("uploaded photo", SERVED, 1.0, 0, None, *moved, api_name="/attributes")
    assert before is None and "Upload a photo first" in message


def test_attributes_panel_says_how_to_fit_directions_when_the_model_has_none(explorer):
    from tfface.explore import build_app

    app = build_app(dataclasses.replace(explorer[2], directions=None))
    texts = [c.get("props", {}).get("value") or "" for c in app.config["components"]]
    assert any("tfface sample RUN directions" in str(text) for text in texts)
    assert "attributes" not in {d.get("api_name") for d in app.config["dependencies"]}


def test_your_photo_reconstructs_the_astronauts_face_crop_with_its_psnr(explorer, client, photos):
    _, _, served = explorer
    crop, reconstruction, pair, message = client.predict(upload(photos["face"]), api_name="/reconstruct")
    crop, reconstruction = read_png(crop), read_png(reconstruction)
    assert crop.shape == (32, 32, 3) and read_png(pair).shape == (32 + 4, 2 * 32 + 3 * 2, 3)
    np.testing.assert_array_equal(reconstruction, served.reconstruct(crop[None])[0])
    error = np.mean((crop / 255.0 - reconstruction / 255.0) ** 2)
    assert message.startswith("1 face found.") and f"PSNR {10 * np.log10(1 / error):.2f} dB" in message


@pytest.mark.parametrize("photo, expected", [
    ("no_face", "No face found in this 600x400 photo"),
    ("text", "This file is not an image"),
    ("big_file", "The file is 1.5 MB; the explorer accepts photos up to 1 MB"),
    ("huge_pixels", "The image is 3000x3000 pixels (9 megapixels); the explorer accepts up to 4 megapixels"),
])  # fmt: skip
def test_your_photo_explains_what_it_cannot_use(client, photos, photo, expected):
    crop, reconstruction, pair, message = client.predict(upload(photos[photo]), api_name="/reconstruct")
    assert (crop, reconstruction, pair) == (None, None, None) and expected in message, message


def test_your_photo_with_two_faces_uses_the_largest_and_says_so(client, photos):
    crop, _, _, message = client.predict(upload(photos["two_faces"]), api_name="/reconstruct")
    assert read_png(crop).shape == (32, 32, 3) and message.startswith("2 faces found: the largest is used")


def test_an_upload_over_twice_the_limit_is_refused_and_the_app_keeps_serving(client, photos):
    with pytest.raises(Exception, match="(?i)size|large|413"):
        client.predict(upload(photos["too_big_file"]), api_name="/reconstruct")
    gallery, _, message = client.predict(SERVED, 2, 0, 1.0, api_name="/generate")
    assert len(gallery) == 2 and "2 faces" in message


def test_a_file_path_in_a_request_is_never_opened(explorer):
    url = explorer[0]
    secret = "/etc/passwd"
    body = json.dumps({"data": [{"path": secret, "meta": {"_type": "gradio.FileData"}}]}).encode()
    request = urllib.request.Request(f"{url}gradio_api/call/reconstruct", body, {"Content-Type": "application/json"})
    event = json.loads(urllib.request.urlopen(request, timeout=30).read())["event_id"]
    stream = urllib.request.urlopen(f"{url}gradio_api/call/reconstruct/{event}", timeout=60).read().decode()
    assert "root:" not in stream and "face found" not in stream and "PSNR" not in stream
    assert "event: error" in stream, stream
