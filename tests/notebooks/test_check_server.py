"""tools/check_server.py: runs the lessons against the configured server and says which failed."""

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from tools import check_server
from tests.support.lessons import REPO

# Runs lessons in a kernel: left out by `make test-fast`.
pytestmark = pytest.mark.notebook_run

SCRIPT = REPO / "tools" / "check_server.py"


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True,
                          env=env, cwd=REPO, timeout=900)


def test_a_lesson_that_passes_is_reported_ok(kernel_env: dict[str, str]) -> None:
    result = _run(["01_authenticate"], kernel_env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[1:] == ["ok    01_authenticate", "1 passed, 0 failed"]


def test_a_failing_lesson_is_reported_with_its_cell(tmp_path: Path, kernel_env: dict[str, str],
                                                     monkeypatch, capsys) -> None:
    # A lesson whose check fails: the runner must name it and exit 1.
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("assert 1 + 1 == 3, 'wrong sum'")])
    nbformat.write(notebook, tmp_path / "99_broken.ipynb")
    monkeypatch.setattr(check_server, "NOTEBOOKS", tmp_path)
    monkeypatch.setattr(os, "environ", kernel_env)
    assert check_server.main([]) == 1
    out = capsys.readouterr().out
    assert "FAIL  99_broken" in out and "wrong sum" in out
    assert out.rstrip().endswith("0 passed, 1 failed")


def test_an_unknown_lesson_is_refused(kernel_env: dict[str, str]) -> None:
    result = _run(["07_nonexistent"], kernel_env)
    assert result.returncode == 2
    assert "unknown lesson(s): 07_nonexistent" in result.stderr
