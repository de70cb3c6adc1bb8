"""docs/reports.md: every registered preset has a row, every preset module
links to it, and the numbers it quotes are the ones the configs use."""

import inspect
import os
import re

import pytest

from tests.helpers import REPO
from tfface.config import load_config
from tfface.presets import load_all

DOC = os.path.join(REPO, "docs", "reports.md")


def _doc() -> str:
    with open(DOC, encoding="utf-8") as handle:
        return handle.read()


def _preset_rows() -> dict[str, str]:
    section = _doc().split("## Presets", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        match = re.match(r"^\| `([a-z0-9_]+)` \|(.*)$", line)
        if match:
            rows[match.group(1)] = match.group(2)
    return rows


def test_every_registered_preset_has_a_row():
    missing = sorted(set(load_all().names()) - set(_preset_rows()))
    assert not missing, f"docs/reports.md has no row for {missing}"


def test_rows_name_the_presets_report_and_existing_configs():
    registry = load_all()
    for name, row in _preset_rows().items():
        preset = registry.get(name)  # a row for an unregistered preset fails here
        if preset.report:
            assert preset.report.split()[0] in row, f"{name}: row does not name report {preset.report!r}"
        for config in re.findall(r"`(pipelines/[^`]+\.toml)`", row):
            assert os.path.exists(os.path.join(REPO, config)), f"{name}: {config} does not exist"


def test_every_report_has_a_section_with_its_choices():
    text = _doc()
    for report in ("000", "001", "002", "003", "004"):
        assert f"## Report {report}" in text
        assert f"Choices (report {report})" in text


def test_preset_docstrings_link_to_the_table():
    for name in load_all().names():
        module = inspect.getmodule(load_all().get(name).builder)
        assert "docs/reports.md" in (module.__doc__ or ""), f"{module.__name__} does not link docs/reports.md"


@pytest.mark.parametrize(
    "config, key, value, quoted",
    [
        ("r000_model3.toml", "train.learning_rate", 0.0005, "0.001 / 0.00065 / 0.0005 / 0.00045"),
        ("r000_model3_classifier.toml", "train.learning_rate", 0.0003, "0.0005 (Model 1), 0.0003 (Model 3)"),
        ("r000_model1.toml", "run.evaluate_split", "test", 'run.evaluate_split = "test"'),
        ("r001_vae.toml", "model.beta", 1e-5, "best 1e-5"),
        ("r002_anime_vae.toml", "model.beta", 1e-3, "**1e-3** · KL"),
        ("r002_iiitb_vae.toml", "data.face_margin", 0.0, "`face_margin = 0.0`"),
        ("r003_vae.toml", "train.learning_rate", 3e-3, "`RMSprop(learning_rate=3e-3)`"),
        ("r003_vae.toml", "train.optimizer", "rmsprop", "`rmsprop`, 3e-3"),
        ("r004_ae_baseline.toml", "train.beta_1", 0.5, "betas (0.5, 0.999)"),
    ],
)
def test_quoted_numbers_are_the_configs(config, key, value, quoted):
    assert quoted in _doc()
    section, field = key.split(".")
    actual = getattr(getattr(load_config(os.path.join(REPO, "pipelines", config)), section), field)
    assert actual == (pytest.approx(value) if isinstance(value, float) else value)
