"""A bounded load on loopback (`benchmarks/explore_load.py`): 8 concurrent
clients cycle through every panel for 10 s against one app whose queue
computes 2 requests at once; every request is answered, none fails."""

import os
import sys

import pytest

from tests.helpers import REPO

sys.path.insert(0, os.path.join(REPO, "benchmarks"))

import explore_load  # noqa: E402


@pytest.mark.slow
def test_eight_concurrent_clients_are_queued_and_all_served(explorer, photos, capsys):
    url, _, served = explorer
    result = explore_load.run_load(url, "diagonal (served)", clients=8, seconds=10, photo=photos["face"],
                                   attributes=len(served.attribute_names))  # fmt: skip
    print(result.report())
    assert not result.errors, result.report()
    assert result.served >= 8 and set(result.latencies) == {"generate", "interpolate", "reconstruct", "attributes"}
    p50, p99 = result.percentiles()
    assert 0 < p50 <= p99


def test_the_report_names_requests_latencies_and_errors():
    result = explore_load.LoadResult(seconds=10, clients=2)
    result.latencies["generate"] += [0.1, 0.3]
    result.errors.append("generate: AppError: queue full")
    report = result.report()
    assert report.startswith("2 clients for 10 s: 2 requests served (0.20/s), 1 errors")
    assert "generate           2      200      298" in report and "error: generate: AppError: queue full" in report
