"""Every docstring example in `tfface/` runs: the modules are discovered,
not listed by hand, and none is skipped (an example that needs an optional
dependency is written so that it runs without it)."""

from __future__ import annotations

import doctest
import importlib
import os
import pkgutil

import numpy as np
import pytest

import tfface

def _modules() -> list[str]:
    names = [tfface.__name__]
    for info in pkgutil.walk_packages(tfface.__path__, prefix="tfface."):
        names.append(info.name)
    return sorted(n for n in names if not n.endswith("__main__"))


def _examples(name: str) -> list[doctest.DocTest]:
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    return [t for t in finder.find(module, extraglobs={"np": np, "os": os}) if t.examples]


MODULES = _modules()
WITH_EXAMPLES = [name for name in MODULES if _examples(name)]


def test_discovery_finds_the_examples_of_every_layer():
    packages = {n.split(".")[1] for n in WITH_EXAMPLES if n.count(".") >= 1}
    assert {"models", "layers", "sampling", "metrics", "export", "training", "data", "callbacks"} <= packages
    assert len(WITH_EXAMPLES) >= 31, WITH_EXAMPLES


@pytest.mark.parametrize("name", WITH_EXAMPLES)
def test_examples_run(name):
    tests = _examples(name)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in tests:
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples in {name} failed (see output above)"
