"""``python -m mock_server classroom``: one emulator, a partition and a token per learner, over HTTP."""

import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import jwt
import pytest
import requests

from tests.support.sessions import EmulatorSession

from tests.support.part10 import build_instance
from tests.support.stow import stow
from mock_server.tokens import ALGORITHM, AUDIENCE, PARTITION_CLAIM, load_secret

REPO = Path(__file__).resolve().parents[2]
_LINE = re.compile(r"^  export (DICOMWEB_URL|DICOMWEB_TOKEN)=(\S+)$")


class Room:
    """The classroom's output: each learner's two lines, the teacher's listing token, the process."""

    def __init__(self, process: subprocess.Popen, text: str, data_dir: Path) -> None:
        self.process, self.text, self.data_dir = process, text, data_dir
        self.learners: dict[str, dict[str, str]] = {}
        name = None
        for line in text.splitlines():
            if re.fullmatch(r"[A-Za-z0-9_.-]+", line):
                name = line
            elif (match := _LINE.match(line)) and name:
                self.learners.setdefault(name, {})[match[1]] = match[2]
        token = re.search(r'Bearer (\S+)"', text)
        base = re.search(r"(http://\S+/v2)/partitions\s*$", text, re.MULTILINE)
        assert token and base, f"the classroom sheet lacks the teacher's curl line:\n{text}"
        self.teacher_token, self.base = token[1], base[1]

    def session(self, name: str) -> EmulatorSession:
        """A learner's session: their token, ``.base`` their partition's URL."""
        return EmulatorSession(self.learners[name]["DICOMWEB_URL"], self.learners[name]["DICOMWEB_TOKEN"])

    def partitions(self) -> list[str]:
        r = requests.get(f"{self.base}/partitions", headers={"Authorization": f"Bearer {self.teacher_token}"})
        assert r.status_code == 200, r.text
        return [e["partitionName"] for e in r.json()]


@pytest.fixture
def classroom(tmp_path: Path) -> Iterator[Callable[..., Room]]:
    """Start ``python -m mock_server classroom`` with the given options on a free port; stopped after."""
    started: list[subprocess.Popen] = []

    def start(*options: str) -> Room:
        data_dir = tmp_path / f"room{len(started)}"
        process = subprocess.Popen(
            [sys.executable, "-m", "mock_server", "classroom", "--port", "0", "--data-dir", str(data_dir),
             *options], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            text=True, cwd=REPO)
        started.append(process)
        lines: list[str] = []
        deadline = time.monotonic() + 60
        assert process.stdout is not None
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "/v2/partitions" in line and "curl" in line:
                return Room(process, "".join(lines), data_dir)
        raise AssertionError("the classroom did not start:\n" + "".join(lines))

    yield start
    for process in started:
        process.terminate()
        process.wait(10)
        if process.stdout is not None:
            process.stdout.close()


def test_prints_a_partition_and_two_lines_per_learner(classroom: Callable[..., Room]) -> None:
    room = classroom("--learners", "3", "--expires-in", "2h")
    assert list(room.learners) == ["learner-01", "learner-02", "learner-03"]
    for name, lines in room.learners.items():
        assert lines["DICOMWEB_URL"] == f"{room.base}/partitions/{name}"
        claims = jwt.decode(lines["DICOMWEB_TOKEN"], load_secret(room.data_dir), algorithms=[ALGORITHM],
                            audience=AUDIENCE)
        assert abs(claims["exp"] - (time.time() + 7200)) < 120  # the end of the workshop
        assert claims[PARTITION_CLAIM] == name
    assert "emulator's restriction" in room.text and "Azure's roles do not restrict" in room.text


def test_listing_shows_who_has_started(classroom: Callable[..., Room]) -> None:
    room = classroom("--names", "ada,grace")
    assert room.partitions() == ["Microsoft.Default"]
    ada = room.session("ada")
    assert stow(ada, [build_instance().data]).status_code == 200
    assert room.partitions() == ["Microsoft.Default", "ada"]


def test_a_learners_token_is_refused_in_another_partition(classroom: Callable[..., Room]) -> None:
    room = classroom("--names", "ada,grace")
    ada, grace = room.session("ada"), room.session("grace")
    instance = build_instance()
    assert stow(grace, [instance.data]).status_code == 200
    ada.base = grace.base  # ada's token, grace's partition
    for response in (stow(ada, [build_instance().data]),
                     ada.get(f"{ada.base}/{instance.path}/metadata"),
                     ada.delete(f"{ada.base}/studies/{instance.study}")):
        assert response.status_code == 403, response.text
        assert "emulator-only restriction" in response.text
    assert grace.get(f"{grace.base}/{instance.path}/metadata").status_code == 200
    # At the base URL, as on Azure: the change feed lists every partition.
    feed = ada.get(room.base + "/changefeed").json()
    assert [e["partitionName"] for e in feed] == ["grace"]


def test_unrestricted_tokens_reach_every_partition_as_on_azure(classroom: Callable[..., Room]) -> None:
    room = classroom("--names", "ada,grace", "--unrestricted")
    ada, grace = room.session("ada"), room.session("grace")
    assert stow(grace, [build_instance().data]).status_code == 200
    ada.base = grace.base
    assert ada.get(f"{ada.base}/studies").status_code == 200


@pytest.mark.parametrize("options, message", [
    (["--names", "ok,not ok"], "is not a partition name"),
    (["--names", "Ada,ada"], "same name"),
    (["--host", "0.0.0.0"], "--advertise"),
    (["--expires-in", "soon"], "not a duration"),
])
def test_bad_options_are_refused(options: list[str], message: str, tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "mock_server", "classroom", "--port", "0",
                             "--data-dir", str(tmp_path / "d"), *options],
                            capture_output=True, text=True, timeout=60, cwd=REPO, stdin=subprocess.DEVNULL)
    assert result.returncode != 0
    assert message in result.stderr
