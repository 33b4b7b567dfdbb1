"""`make lab`, the README's first command: JupyterLab on notebooks/ with the emulator running.

`make lab-student` serves the student copies (`make student-notebooks`) the same way.
"""

import os
import re
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from tests.support.lessons import lesson_paths
from tests.support.processes import stop_make

ROOT = Path(__file__).resolve().parents[1]
LESSONS = [path.name for path in lesson_paths()]
# The lesson JupyterLab opens on: the lowest-numbered notebook, whichever that is.
FIRST_LESSON = LESSONS[0]
TOKEN = "make-lab-test"


@contextmanager
def _make_lab(tmp_path: Path, emulator_port: int, *make_args: str) -> Iterator[tuple[str, str]]:
    """Run ``make <make_args>`` with a private emulator and JupyterLab state; yield (server URL, log)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("DICOMWEB_")}
    env.update(DICOMWEB_EMULATOR_DATA_DIR=str(tmp_path / "emulator"),
               DICOMWEB_EMULATOR_PORT=str(emulator_port),
               JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
               # A user's own settings would win over the project's: start from none.
               JUPYTERLAB_SETTINGS_DIR=str(tmp_path / "user-settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "workspaces"))
    lab_args = f"--no-browser --ServerApp.port=0 --IdentityProvider.token={TOKEN}"
    log = tmp_path / "lab.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(["make", "--no-print-directory", *make_args, f"LAB_ARGS={lab_args}"],
                                   cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        url = None
        deadline = time.monotonic() + 120
        while url is None and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.5)
            match = re.search(r"(http://127\.0\.0\.1:\d+)/lab\S*\?token=", log.read_text(errors="replace"))
            url = match and match[1]
        # The URL is printed just before the server binds its port (on its event loop): wait for it.
        while url and time.monotonic() < deadline and process.poll() is None and not _answers(url):
            time.sleep(0.25)
        assert url and _answers(url), f"JupyterLab did not come up:\n{log.read_text(errors='replace')}"
        yield url, log.read_text(errors="replace")
    finally:
        stop_make(process, tmp_path / "emulator")


def _answers(url: str) -> bool:
    try:
        return _get(url, "/api/status").status_code == 200
    except requests.ConnectionError:
        return False


def _get(url: str, path: str, **kwargs) -> requests.Response:
    return requests.get(f"{url}{path}", params={"token": TOKEN}, timeout=10, **kwargs)


@pytest.mark.jupyterlab
def test_make_lab_serves_the_notebooks_with_the_emulator_running(tmp_path: Path, free_port) -> None:
    emulator_port = free_port()
    with _make_lab(tmp_path, emulator_port, "lab") as (url, log):
        names = {item["name"] for item in _get(url, "/api/contents").json()["content"]}
        assert set(LESSONS) <= names, names  # the root is notebooks/

        # The URL to open, as the README describes it, is the first lesson's; so is the home page.
        assert f"{url}/lab/tree/{FIRST_LESSON}?token=" in log
        home = _get(url, "/", allow_redirects=False)
        assert home.status_code == 302 and home.headers["Location"].split("?")[0].endswith(f"/lab/tree/{FIRST_LESSON}")

        # No "Would you like to get notified about official Jupyter news?" toast: JupyterLab asks
        # exactly when fetchNews is "none", its default. The project's value is a default override
        # (in .venv, so the user's own ~/.jupyter is untouched and a user setting still wins).
        notification = _get(url, "/lab/api/settings/@jupyterlab/apputils-extension:notification").json()
        defaults = {name: value.get("default") for name, value in notification["schema"]["properties"].items()}
        assert defaults["fetchNews"] == "false" and defaults["checkForUpdates"] is False
        assert notification["settings"] == {}
        assert not list((tmp_path / "user-settings").rglob("*.json*"))

        # The emulator answers on its configured port (401: it wants a token, as Azure does).
        emulator = requests.get(f"http://127.0.0.1:{emulator_port}/v2/changefeed", timeout=10)
        assert emulator.status_code == 401


@pytest.mark.jupyterlab
def test_make_lab_student_serves_the_student_copies(tmp_path: Path, free_port) -> None:
    student_dir = tmp_path / "student-notebooks"
    emulator_port = free_port()
    with _make_lab(tmp_path, emulator_port, "lab-student", f"STUDENT_NOTEBOOKS={student_dir}") as (url, log):
        names = sorted(item["name"] for item in _get(url, "/api/contents").json()["content"])
        # The root is the student copies' folder: the lessons, and the pictures they show beside them.
        assert [name for name in names if name.endswith(".ipynb")] == LESSONS
        assert _get(url, "/api/contents/images/viewer-sample-study.png").status_code == 200
        assert f"{url}/lab/tree/{FIRST_LESSON}?token=" in log
        for name in LESSONS:
            # What JupyterLab gets is the student copy: each solution is a working cell, no outputs.
            cells = _get(url, f"/api/contents/{name}").json()["content"]["cells"]
            tags = [cell["metadata"].get("tags", []) for cell in cells]
            assert not [cell_tags for cell_tags in tags if "solution" in cell_tags], name
            assert [cell_tags for cell_tags in tags if "exercise" in cell_tags], name
            assert all(cell.get("outputs", []) == [] for cell in cells), name
        emulator = requests.get(f"http://127.0.0.1:{emulator_port}/v2/changefeed", timeout=10)
        assert emulator.status_code == 401


def test_readme_shows_the_url_make_lab_prints() -> None:
    # The README tells a newcomer which URL to open: the first lesson's, with a token.
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"http://127.0.0.1:8888/lab/tree/{FIRST_LESSON}?token=" in readme
    assert "DICOMWEB_EMULATOR_PORT=8766 make lab" in readme
