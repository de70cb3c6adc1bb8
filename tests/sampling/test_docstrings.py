"""The `Example:` blocks of the sampling and metrics modules run as tests."""

import doctest
import importlib

import numpy as np
import pytest

MODULES = [
    "tfface.sampling.gmm",
    "tfface.sampling.samplers",
    "tfface.sampling.latents",
    "tfface.sampling.interpolation",
    "tfface.sampling.attributes",
    "tfface.metrics.image",
    "tfface.metrics.fid",
    "tfface.metrics.attributes",
    "tfface.metrics.report",
]


@pytest.mark.parametrize("name", MODULES)
def test_examples_run(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, extraglobs={"np": np}, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
