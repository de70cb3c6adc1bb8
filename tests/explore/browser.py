"""Headless Chromium driven by Selenium through the explorer's panels
(shared by tests/explore/test_browser.py and the screenshots of the
explorer's docs page):

    PYTHONPATH=. python -m tests.explore.browser runs/demo SHOTS_FOLDER
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1400,1800")  # fmt: skip


def missing_browser() -> str | None:
    """Why the browser cannot run here, or None."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.path.exists(path):
            return f"{path} is not installed (Debian: apt-get install chromium chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install 'tfface[test]')"
    return None


class Browser:
    """A headless Chromium with its own throw-away profile; `close()` ends it."""

    def __init__(self):
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        self.profile = tempfile.mkdtemp(prefix="tfface-chromium-")
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in (*FLAGS, f"--user-data-dir={self.profile}"):
            options.add_argument(flag)
        self.driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)

    def close(self):
        self.driver.quit()
        shutil.rmtree(self.profile, ignore_errors=True)

    # ------------------------------------------------------------ page

    def wait(self, condition, seconds: float = 60):
        from selenium.webdriver.support.ui import WebDriverWait

        return WebDriverWait(self.driver, seconds, poll_frequency=0.2).until(condition)

    def css(self, selector: str):
        from selenium.webdriver.common.by import By

        return self.driver.find_elements(By.CSS_SELECTOR, selector)

    def open(self, url: str):
        self.driver.get(url)
        self.wait(lambda d: self.css("#generate-button"))

    def tab(self, name: str):
        tab = next(b for b in self.css("button[role=tab]") if b.text.strip() == name)
        tab.click()
        self.wait(lambda d: tab.get_attribute("aria-selected") == "true")

    def choose(self, text: str):
        """Clicks the visible radio option labelled `text`."""
        label = next(label for label in self.css("label") if label.text.strip() == text and label.is_displayed())
        label.click()

    def upload(self, index: int, path: str):
        """Puts `path` in the index-th upload box of the current tab (clearing
        what it held) and waits until the upload is done."""
        from selenium.webdriver.common.by import By

        boxes = self.driver.execute_script(
            "return [...document.querySelectorAll('[role=tabpanel] input[type=file], [role=tabpanel] td.filename')]"
            ".map(e => e.closest('.block')).filter((b, i, all) => b.offsetParent !== null && all.indexOf(b) === i)"
        )
        box = boxes[index]
        for clear in box.find_elements(By.CSS_SELECTOR, "button[aria-label=Clear]"):
            clear.click()
        self.wait(lambda d: box.find_elements(By.CSS_SELECTOR, "input[type=file]"))
        box.find_element(By.CSS_SELECTOR, "input[type=file]").send_keys(os.path.abspath(path))
        name = os.path.basename(path)
        self.wait(lambda d: box.find_elements(By.CSS_SELECTOR, f'td.filename[aria-label="{name}"]'))

    def set_slider(self, label: str, value: float) -> bool:
        """Types `value` into the number box of the slider labelled `label`;
        False if there is no such slider."""
        from selenium.webdriver.common.keys import Keys

        box = self.driver.execute_script(
            "const l = [...document.querySelectorAll('[role=tabpanel] label, [role=tabpanel] span')]"
            ".find(e => e.textContent.trim() === arguments[0] && e.offsetParent !== null);"
            "return l ? l.closest('.block').querySelector('input[type=number]') : null", label)  # fmt: skip
        if box is None:
            return False
        box.clear()
        box.send_keys(str(value), Keys.TAB)
        return True

    def click_and_wait(self, button: str, status: str, expected: str, seconds: float = 60) -> str:
        """Clicks #button and waits until #status contains `expected`; returns its text."""
        self.css(f"#{button}")[0].click()
        self.wait(lambda d: expected in (self.css(f"#{status}")[0].text if self.css(f"#{status}") else ""), seconds)
        return self.css(f"#{status}")[0].text

    def loaded_images(self, selector: str) -> list[int]:
        """Natural widths of the loaded images under `selector`."""
        return self.driver.execute_script(
            "return [...document.querySelectorAll(arguments[0] + ' img')].filter(i => i.complete).map(i => i.naturalWidth)",
            selector,
        )

    def shoot(self, folder: str | None, name: str):
        if folder:
            os.makedirs(folder, exist_ok=True)
            self.driver.save_screenshot(os.path.join(folder, f"{name}.png"))


def tour(browser: Browser, url: str, photos: dict, shots: str | None = None, edits: dict | None = None) -> dict[str, str]:
    """Every panel in the browser; returns each panel's message. `edits`
    {attribute: strength} are set on the Attributes sliders. With `shots`,
    a screenshot per panel is saved there."""
    messages = {}
    browser.open(url)
    messages["generate"] = browser.click_and_wait("generate-button", "generate-status", "faces from")
    browser.wait(lambda d: len(browser.loaded_images("#generate-gallery")) >= 1)
    browser.shoot(shots, "1_generate")
    browser.tab("Interpolate")
    messages["interpolate"] = browser.click_and_wait("interpolate-button", "interpolate-status", "slerp in")
    browser.shoot(shots, "2_interpolate_seeds")
    browser.choose("two photos")
    browser.upload(0, photos["face"])
    browser.upload(1, photos["face_2"])
    messages["interpolate_photos"] = browser.click_and_wait("interpolate-button", "interpolate-status", "between their codes")
    browser.shoot(shots, "3_interpolate_photos")
    browser.tab("Attributes")
    if browser.css("#attributes-button"):
        moved = [name for name, value in (edits or {}).items() if browser.set_slider(name, value)]
        messages["attributes"] = browser.click_and_wait("attributes-button", "attributes-status", "Edited" if moved else "slider")
        browser.shoot(shots, "4_attributes")
    else:
        messages["attributes"] = browser.css("#attributes-missing")[0].text
        browser.shoot(shots, "4_attributes_missing")
    browser.tab("Your photo")
    browser.upload(0, photos["face"])
    messages["photo"] = browser.click_and_wait("reconstruct-button", "reconstruct-status", "PSNR")
    browser.shoot(shots, "5_your_photo_astronaut")
    browser.upload(0, photos["no_face"])
    messages["no_face"] = browser.click_and_wait("reconstruct-button", "reconstruct-status", "No face found")
    browser.shoot(shots, "6_your_photo_no_face")
    return messages


def _main(path: str, shots: str) -> int:
    """Serves `path`'s explorer, tours it and saves the screenshots in `shots`."""
    import numpy as np
    import skimage.data
    from PIL import Image

    from tfface.explore import ServedModel, ServeOptions, build_app, launch

    folder = tempfile.mkdtemp(prefix="tfface-photos-")
    photos = {}
    for name, image in (("face", skimage.data.astronaut()), ("face_2", np.ascontiguousarray(skimage.data.astronaut()[:, ::-1])),
                        ("no_face", skimage.data.coffee())):  # fmt: skip
        photos[name] = os.path.join(folder, f"{name}.png")
        Image.fromarray(image).save(photos[name])
    served = ServedModel.open(path)
    app = launch(build_app(served), ServeOptions(), block=False)
    browser = Browser()
    try:
        for panel, message in tour(browser, app.local_url, photos, shots, {"Smiling": 2.5, "Eyeglasses": 2.5}).items():
            print(f"{panel}: {message}")
    finally:
        browser.close()
        app.close()
    return 0


if __name__ == "__main__":
    sys.exit(_main(*sys.argv[1:3]))
