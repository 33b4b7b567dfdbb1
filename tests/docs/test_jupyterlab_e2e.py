"""End to end in JupyterLab: open lessons in Chromium, Run All Cells through the menu, no errors.

The notebooks are copied (outputs cleared) into a temporary folder, so the run never
touches the committed ones; kernels reach the test emulator through the environment
variables that ``helpers.connect()`` reads.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
import requests
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from .conftest import REPO
from .jupyterlab import JupyterLab, start_jupyterlab

LESSONS = ["01_authenticate", "03_retrieve"]
RUN_TIMEOUT_MS = 300_000

_PROMPTS = """() => [...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputArea-prompt')]
  .map(p => p.textContent.trim())"""
# True once the run is over: something ran, nothing is queued or running, the kernel is idle.
_RUN_FINISHED = """() => {
  const prompts = [...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputArea-prompt')]
    .map(p => p.textContent.trim());
  const status = document.querySelector('.jp-Notebook-ExecutionIndicator');
  return prompts.length > 0
    && prompts.some(p => /\\[\\d+\\]/.test(p))
    && !prompts.some(p => p.includes('*'))
    && (!status || status.getAttribute('data-status') === 'idle');
}"""


def _copy_without_outputs(source: Path, target: Path) -> None:
    nb = nbformat.read(source, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    nbformat.write(nb, target)


@pytest.fixture(scope="module")
def lab(emulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterLab]:
    base = tmp_path_factory.mktemp("jupyterlab")
    root = base / "notebooks"
    root.mkdir()
    for name in LESSONS:
        _copy_without_outputs(REPO / "notebooks" / f"{name}.ipynb", root / f"{name}.ipynb")
    env = {key: value for key, value in os.environ.items() if not key.startswith("DICOMWEB_")}
    env.update(
        DICOMWEB_URL=emulator.base_url("v2"),
        DICOMWEB_AUTH="emulator",
        DICOMWEB_EMULATOR_DATA_DIR=str(emulator.data_dir),
    )
    server = start_jupyterlab(root, base / "state", env)
    try:
        yield server
    finally:
        server.stop()


def _wait_for_kernel(lab: JupyterLab, path: str, timeout: float = 120) -> None:
    """Wait until the server reports the notebook's kernel session as started and idle."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sessions = requests.get(f"{lab.url}api/sessions", headers={"Authorization": f"token {lab.token}"}, timeout=10)
        states = [s["kernel"]["execution_state"] for s in sessions.json() if s["path"].endswith(path)]
        if states == ["idle"]:
            return
        time.sleep(0.5)
    raise AssertionError(f"no idle kernel for {path} after {timeout} s")


def _run_all_cells(page, attempts: int = 3) -> None:
    """Run → Run All Cells through the menu bar, until the cells are seen to start.

    Right after the kernel turns idle the notebook panel can still be finishing its
    set-up, and a command issued then is dropped; a click that started nothing (every
    prompt still blank) is safe to repeat.
    """
    for _ in range(attempts):
        page.locator(".jp-Notebook .jp-Cell").first.click()
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.locator('.lm-Menu [data-command="runmenu:run-all"]').click()
        try:
            page.wait_for_function(
                "() => [...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputArea-prompt')]"
                ".some(p => /\\[(\\*|\\d+)\\]/.test(p.textContent))",
                timeout=20_000,
                polling=250,
            )
            return
        except PlaywrightTimeoutError:
            page.keyboard.press("Escape")
    raise AssertionError(f"Run All Cells started no cell: prompts {page.evaluate(_PROMPTS)}")


def _wait_for_saved_run(path: Path, timeout: float = 60) -> nbformat.NotebookNode:
    """The notebook as saved by the UI, once its first code cell carries an execution count."""
    deadline = time.monotonic() + timeout
    while True:
        nb = nbformat.read(path, as_version=4)
        code = [cell for cell in nb.cells if cell.cell_type == "code"]
        if code and code[0].execution_count is not None:
            return nb
        if time.monotonic() > deadline:
            raise AssertionError(f"{path.name} was not saved with its outputs")
        time.sleep(0.5)


@pytest.mark.parametrize("lesson", LESSONS)
def test_run_all_cells_in_jupyterlab(lab: JupyterLab, chromium, artifacts_dir: Path, lesson: str) -> None:
    committed = (REPO / "notebooks" / f"{lesson}.ipynb").read_bytes()
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    try:
        page.goto(lab.lab_url(f"{lesson}.ipynb", workspace=lesson), wait_until="domcontentloaded")
        page.wait_for_selector(".jp-Notebook .jp-CodeCell", timeout=120_000)
        page.wait_for_selector('.jp-Notebook-ExecutionIndicator[data-status="idle"]', timeout=120_000)

        _wait_for_kernel(lab, f"{lesson}.ipynb")
        _run_all_cells(page)
        try:
            page.wait_for_function(_RUN_FINISHED, timeout=RUN_TIMEOUT_MS, polling=500)
        finally:
            page.screenshot(path=str(artifacts_dir / f"jupyterlab__{lesson}.png"))

        page.get_by_role("menuitem", name="File", exact=True).click()
        page.locator('.lm-Menu [data-command="docmanager:save"]').click()
        saved = _wait_for_saved_run(lab.root_dir / f"{lesson}.ipynb")
    finally:
        context.close()

    code_cells = [cell for cell in saved.cells if cell.cell_type == "code"]
    not_run = [i for i, cell in enumerate(code_cells) if cell.execution_count is None]
    errors = [
        f"code cell {i}: {output.ename}: {output.evalue}"
        for i, cell in enumerate(code_cells)
        for output in cell.outputs
        if output.output_type == "error"
    ]
    assert errors == [], "\n".join(errors)
    assert not_run == [], f"code cells that did not run: {not_run}"
    assert [cell.execution_count for cell in code_cells] == list(range(1, len(code_cells) + 1))
    assert (REPO / "notebooks" / f"{lesson}.ipynb").read_bytes() == committed
