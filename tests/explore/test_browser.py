"""The explorer in a real browser: headless Chromium (Debian's `chromium`
and `chromium-driver`, installed by .ci/run) opens the page, clicks
Generate and finds the faces, then walks through every panel. Skipped
with the reason when the browser is missing, except in CI (CI=true), where
that fails."""

import os

import pytest

from tests.explore.browser import Browser, missing_browser, tour


@pytest.fixture(scope="module")
def browser():
    reason = missing_browser()
    if reason:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI must run the browser test: {reason}")
        pytest.skip(reason)
    browser = Browser()
    yield browser
    browser.close()


def test_clicking_generate_shows_the_faces(browser, explorer):
    url, _, _ = explorer
    browser.open(url)
    assert not browser.loaded_images("#generate-gallery")
    message = browser.click_and_wait("generate-button", "generate-status", "faces from")
    assert "16 faces from the diagonal (served) sampler" in message
    browser.wait(lambda d: len(browser.loaded_images("#generate-gallery")) == 16)
    assert set(browser.loaded_images("#generate-gallery")) == {32}  # each face at the model's full size


def test_every_panel_answers_in_the_browser(browser, explorer, photos):
    edit = explorer[2].attribute_names[0]
    messages = tour(browser, explorer[0], {**photos, "face_2": photos["two_faces"]}, os.environ.get("TFFACE_EXPLORE_SHOTS"), {edit: 2})
    assert "slerp in 8 steps" in messages["interpolate"]
    assert "Slerp in 8 steps between their codes" in messages["interpolate_photos"]
    assert f"Edited: {edit} +2." in messages["attributes"]
    assert messages["photo"].startswith("1 face found.") and "PSNR" in messages["photo"]
    assert "No face found" in messages["no_face"]
