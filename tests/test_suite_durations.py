"""tests/durations.json (the slow set and the start order, see
tests/conftest.py) names tests that exist: a renamed or deleted long test
would silently fall back into `make test`'s fast set."""

import json
import os
import re

from tests.conftest import DURATIONS
from tests.helpers import REPO


def test_every_test_in_durations_json_is_still_defined():
    with open(DURATIONS, encoding="utf-8") as handle:
        known = json.load(handle)
    stale = []
    for nodeid in known:
        path, name = nodeid.split("::")[0], nodeid.split("::")[-1].split("[")[0]
        full = os.path.join(REPO, path)
        if not os.path.exists(full) or not re.search(rf"^\s*def {re.escape(name)}\(", open(full, encoding="utf-8").read(), re.M):
            stale.append(nodeid)
    assert not stale, f"refresh tests/durations.json (see tests/conftest.py): no such test {stale[:5]}"
