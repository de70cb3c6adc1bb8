"""The README and the documentation pages keep their promises: their Python
examples run, the README leads with the set-up commands CI runs, and what
the pages show as configs and commands exists."""

import glob
import os
import re
import tomllib

import pytest

from tests.helpers import REPO
from tfface.config import config_from_dict

DOCS = os.path.join(REPO, "docs")
PAGES = sorted(glob.glob(os.path.join(DOCS, "**", "*.md"), recursive=True))


def _read(path: str) -> str:
    with open(os.path.join(REPO, path), encoding="utf-8") as handle:
        return handle.read()


def doc_snippet(path: str, name: str, marker: str = "doc-snippet") -> str:
    """The ```python block after `<!-- {marker}: {name} -->` in the page at `path`."""
    match = re.search(rf"<!-- {marker}: {name} -->\s*```python\n(.*?)```", _read(path), re.S)
    assert match, f"{path} has no snippet {name!r}"
    return match.group(1)


def readme_snippet(name: str) -> str:
    return doc_snippet("README.md", name, marker="readme-snippet")


def test_readme_api_snippet_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(readme_snippet("api"), "README.md", "exec"), namespace)
    assert namespace["faces"].shape == (4, 32, 32, 3)
    assert os.path.exists(tmp_path / "runs/api/grids/samples_e002_end.png")
    assert os.path.exists(tmp_path / "runs/api/export/1/saved_model.pb")


def test_readme_leads_with_the_two_setup_commands():
    text = _read("README.md")
    first_block = text.split("```bash", 1)[1].split("```", 1)[0]
    assert "make demo" in first_block and "make test" in first_block
    assert "make test" in _read(".ci/run")


def test_readme_is_read_in_two_minutes():
    assert len(_read("README.md").splitlines()) <= 160


def _sections(text: str) -> set[str]:
    return set(re.findall(r"<!-- --8<-- \[start:(\w+)\] -->", text))


def test_every_readme_part_the_site_includes_exists():
    """`--8<-- "README.md:NAME"` on a page shows the README's NAME section:
    each must be delimited in the README (pymdownx would include nothing)."""
    wanted = {name for page in PAGES for name in re.findall(r'--8<-- "README\.md:(\w+)"', _read(page))}
    readme = _read("README.md")
    assert wanted and wanted <= _sections(readme)
    for name in wanted:
        assert f"<!-- --8<-- [end:{name}] -->" in readme


def _blocks(language: str):
    for page in [os.path.join(REPO, "README.md"), *PAGES]:
        for block in re.findall(rf"```{language}\n(.*?)```", _read(page), re.S):
            yield os.path.relpath(page, REPO), block


def test_every_toml_block_is_a_valid_config():
    checked = 0
    for page, block in _blocks("toml"):
        config_from_dict(tomllib.loads(block), source=page)  # an unknown key or a wrong type raises
        checked += 1
    assert checked >= 3


def test_every_config_the_pages_name_exists():
    named = set()
    for page in [os.path.join(REPO, "README.md"), *PAGES]:
        named.update(re.findall(r"\bpipelines/[\w/]+\.toml\b", _read(page)))
    assert len(named) >= 10
    assert sorted(p for p in named if not os.path.exists(os.path.join(REPO, p))) == []


@pytest.mark.parametrize("page", [os.path.relpath(p, REPO) for p in PAGES if "/api/" not in p])
def test_every_page_is_in_the_site_navigation(page):
    nav = _read("mkdocs.yml").split("\nnav:", 1)[1]
    assert os.path.relpath(os.path.join(REPO, page), DOCS) in nav


def test_every_python_block_compiles_and_imports_what_exists():
    """Blocks the suite does not run (e.g. reopening an export) still parse,
    and every `from tfface... import name` they make resolves."""
    import ast
    import importlib

    checked = 0
    for page, block in _blocks("python"):
        tree = ast.parse(block, page)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tfface"):
                module = importlib.import_module(node.module)
                missing = [alias.name for alias in node.names if not hasattr(module, alias.name)]
                assert not missing, f"{page}: {node.module} has no {missing}"
                checked += 1
    assert checked >= 4


def test_readme_links_into_the_site_name_existing_pages():
    """The README links to the published site; each link's page is a file
    under docs/ (`SITE/guides/data/` is docs/guides/data.md)."""
    site = re.search(r"^site_url: (\S+)$", _read("mkdocs.yml"), re.M).group(1)
    links = re.findall(rf"\]\({re.escape(site)}([^)#]*)\)", _read("README.md"))
    assert len(links) >= 12
    for link in links:
        stem = link.strip("/")
        candidates = [os.path.join(DOCS, f"{stem}.md"), os.path.join(DOCS, stem, "index.md")] if stem else [os.path.join(DOCS, "index.md")]
        assert any(os.path.exists(c) for c in candidates), f"README links to {site}{link}, which no docs/ page builds"
