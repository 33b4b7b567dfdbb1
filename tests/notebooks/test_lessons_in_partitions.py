"""A room on one emulator: eight runs of one lesson at once, each learner in their own data partition.

Every learner stores, searches and deletes the same sample UIDs; the lesson's own checks (one study
found, its three instances, the cleanup) fail if anything crosses partitions. Lesson 04 is the
lightest that stores, searches and deletes (a few seconds per run).
"""

import os
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from tests.notebooks.lesson_files import execute
from tests.support.lessons import NOTEBOOK_DIR
from mock_server.launcher import start_emulator

pytestmark = pytest.mark.notebook_run  # eight lessons in kernels

LEARNERS = 8
LESSON = NOTEBOOK_DIR / "04_query.ipynb"


def test_eight_learners_at_once_each_in_a_partition(tmp_path: Path) -> None:
    with start_emulator(tmp_path / "room", extra_args=["--enable-data-partitions"]) as emulator:
        base = emulator.base_url()
        env = {k: v for k, v in os.environ.items() if not k.startswith("DICOMWEB_")}
        names = [f"learner-{n:02d}" for n in range(1, LEARNERS + 1)]

        def run(name: str) -> None:
            # The two lines a learner pastes: the partition's base URL and a token.
            execute(LESSON, {**env, "DICOMWEB_URL": f"{base}/partitions/{name}",
                             "DICOMWEB_TOKEN": emulator.token()})

        with ThreadPoolExecutor(max_workers=LEARNERS) as pool:
            list(pool.map(run, names))  # re-raises the first failed run

        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {emulator.token()}"
        listed = [e["partitionName"] for e in session.get(f"{base}/partitions").json()]
        assert listed[0] == "Microsoft.Default" and sorted(listed[1:]) == names
        feed = session.get(f"{base}/changefeed", params={"limit": 200}).json()
        assert len(feed) < 200  # the whole feed in one page
        per_partition = {name: Counter((e["action"], e["sopInstanceUid"]) for e in feed
                                       if e["partitionName"] == name) for name in names}
        first = per_partition[names[0]]
        assert first and all(changes == first for changes in per_partition.values())
        assert "Microsoft.Default" not in {e["partitionName"] for e in feed}
        for name in names:  # each lesson cleaned up its own partition, and only it
            r = session.get(f"{base}/partitions/{name}/studies")
            assert r.status_code == 204, (name, r.status_code, r.text[:200])
