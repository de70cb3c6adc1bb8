import os
import re

from tests.helpers import REPO


def readme_snippet(name: str) -> str:
    text = open(os.path.join(REPO, "README.md"), encoding="utf-8").read()
    match = re.search(rf"<!-- readme-snippet: {name} -->\s*```python\n(.*?)```", text, re.S)
    assert match, f"README has no snippet {name!r}"
    return match.group(1)


def test_readme_api_snippet_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(readme_snippet("api"), "README.md", "exec"), namespace)
    assert namespace["faces"].shape == (4, 32, 32, 3)
    assert os.path.exists(tmp_path / "runs/api/grids/samples_e002_end.png")
    assert os.path.exists(tmp_path / "runs/api/export/1/saved_model.pb")


def test_readme_leads_with_the_two_setup_commands():
    text = open(os.path.join(REPO, "README.md"), encoding="utf-8").read()
    first_block = text.split("```bash", 1)[1].split("```", 1)[0]
    assert "make demo" in first_block and "make test" in first_block
    ci = open(os.path.join(REPO, ".ci", "run"), encoding="utf-8").read()
    assert "make test" in ci
