"""End to end in JupyterLab: open lessons in Chromium, Run All Cells through the menu, no errors, no
solution run, and the notebook as JupyterLab saved it still passes strict nbval; a lesson as committed
opens unmodified, its solutions' explanations stay closed through Run All, and a solution loads
into its cell with %load and runs.

The notebooks are copied (outputs cleared) into a temporary folder, so the run never
touches the committed ones; kernels reach the test emulator through the environment
variables that ``helpers.connect()`` reads.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
import requests
from playwright.sync_api import Browser, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.support.kernels import emulator_kernel_env

from .conftest import REPO
from .jupyterlab import JupyterLab, start_jupyterlab

# 02 prints a multipart body: the one whose line endings a save used to change.
LESSONS = ["01_authenticate", "02_upload", "03_retrieve"]
# Opened as committed, for what a learner sees first; its first exercise's solution is loaded.
COMMITTED_LESSON = "02_upload"
FIRST_SOLUTION = "solutions/02_instance_of_another_study.py"
SANITIZE_FILE = REPO / "tests" / "notebooks" / "nbval_sanitize.cfg"
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
def kernel_env(emulator) -> dict[str, str]:
    """The environment of every kernel here (JupyterLab's and nbval's): the test emulator."""
    return emulator_kernel_env(emulator)


@pytest.fixture(scope="module")
def lab(kernel_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterLab]:
    base = tmp_path_factory.mktemp("jupyterlab")
    root = base / "notebooks"
    root.mkdir()
    for name in LESSONS:
        _copy_without_outputs(REPO / "notebooks" / f"{name}.ipynb", root / f"{name}.ipynb")
    shutil.copytree(REPO / "notebooks" / "solutions", root / "solutions")
    # One lesson exactly as committed, outputs and all, with the solutions beside it.
    committed = root / "committed"
    committed.mkdir()
    shutil.copy2(REPO / "notebooks" / f"{COMMITTED_LESSON}.ipynb", committed)
    shutil.copytree(REPO / "notebooks" / "solutions", committed / "solutions")
    server = start_jupyterlab(root, base / "state", kernel_env)
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


def _run_all_cells(page: Page, attempts: int = 3) -> None:
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


def _wait_for_saved_run(page: Page, path: Path, code_cells: int, timeout: float = 60) -> nbformat.NotebookNode:
    """The notebook as the UI saved it after the run, read once the save is complete.

    JupyterLab writes the file in place, so a read during the save sees it empty or cut short
    (``NotJSONError: ''``); and an autosave during the run leaves an earlier, partial run. So: wait
    until the tab shows no unsaved changes, then until the file parses with every code cell run.
    """
    # The document's tab carries jp-mod-dirty until the server has written the file.
    page.wait_for_function("() => !document.querySelector('.lm-TabBar-tab.jp-mod-dirty')",
                           timeout=timeout * 1000, polling=250)
    deadline = time.monotonic() + timeout
    while True:
        try:
            nb = nbformat.read(path, as_version=4)
        except (nbformat.reader.NotJSONError, json.JSONDecodeError, UnicodeDecodeError):
            nb = None  # still being written
        code = [cell for cell in nb.cells if cell.cell_type == "code"] if nb else []
        if len(code) == code_cells and all(cell.execution_count is not None for cell in code):
            return nb
        if time.monotonic() > deadline:
            run = 0 if nb is None else sum(c.execution_count is not None for c in code)
            state = "unreadable" if nb is None else f"{run} of {code_cells} code cells run"
            raise AssertionError(f"{path.name} was not saved with its outputs ({state})")
        time.sleep(0.25)


def _run_nbval(notebook: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    """Strict nbval on ``notebook``, as `make test` runs it on the committed lessons."""
    ini = notebook.parent / "pytest.ini"
    ini.write_text("[pytest]\n", encoding="utf-8")  # not the repository's options or test paths
    command = [sys.executable, "-m", "pytest", "-q", "-c", str(ini), "-p", "no:cacheprovider",
               "--nbval", "--nbval-current-env", f"--nbval-sanitize-with={SANITIZE_FILE}", str(notebook)]
    return subprocess.run(command, cwd=notebook.parent, env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("lesson", LESSONS)
def test_run_all_cells_in_jupyterlab(lab: JupyterLab, kernel_env: dict[str, str], chromium: Browser,
                                    artifacts_dir: Path, tmp_path: Path, lesson: str) -> None:
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

        code_cell_count = page.locator(".jp-Notebook .jp-CodeCell").count()
        page.get_by_role("menuitem", name="File", exact=True).click()
        page.locator('.lm-Menu [data-command="docmanager:save"]').click()
        saved = _wait_for_saved_run(page, lab.root_dir / f"{lesson}.ipynb", code_cell_count)
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
    # Run All leaves the solutions unrun: each cell only comments its %load line.
    shown = [cell.source for cell in code_cells if "solution" in cell.metadata.get("tags", []) and cell.outputs]
    assert shown == [], f"Run All showed a solution's output: {shown}"
    assert [cell.execution_count for cell in code_cells] == list(range(1, len(code_cells) + 1))
    assert (REPO / "notebooks" / f"{lesson}.ipynb").read_bytes() == committed

    # A run saved from JupyterLab, committed, must pass the same strict nbval as a regenerated one.
    saved_copy = tmp_path / f"{lesson}.ipynb"
    nbformat.write(saved, saved_copy)
    result = _run_nbval(saved_copy, kernel_env)
    assert result.returncode == 0, f"strict nbval fails on the notebook JupyterLab saved:\n{result.stdout[-6000:]}"


def test_a_lesson_opens_unmodified_and_a_solution_loads_on_demand(lab: JupyterLab, chromium: Browser,
                                                                 artifacts_dir: Path) -> None:
    path = f"committed/{COMMITTED_LESSON}.ipynb"
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    try:
        page.goto(lab.lab_url(path, workspace="committed"), wait_until="domcontentloaded")
        page.wait_for_selector(".jp-Notebook .jp-CodeCell", timeout=120_000)
        page.wait_for_selector('.jp-Notebook-ExecutionIndicator[data-status="idle"]', timeout=120_000)
        _wait_for_kernel(lab, path)
        # JupyterLab writes the kernel's language_info into the notebook and "collapsed" into a cell
        # with hidden outputs: either one would mark the lesson modified before the learner did anything.
        dirty = page.evaluate("() => [...document.querySelectorAll('.lm-TabBar-tab.jp-mod-dirty')]"
                              ".map(tab => tab.textContent)")
        assert dirty == [], f"the lesson opened marked modified (run make regenerate): {dirty}"

        _run_all_cells(page)
        page.wait_for_function(_RUN_FINISHED, timeout=RUN_TIMEOUT_MS, polling=500)
        # Run All renders every Markdown cell, and opens any hidden input: the explanations stay shut.
        explanations = page.evaluate("() => [...document.querySelectorAll('.jp-MarkdownCell details')]"
                                     ".map(details => details.open)")
        assert explanations and not any(explanations), f"explanations open after Run All: {explanations}"
        # The learner's way to a solution: delete "# " before %load and run the cell, then run it again.
        cell = page.locator(".jp-Notebook .jp-CodeCell").filter(has_text=f"# %load {FIRST_SOLUTION}")
        assert cell.count() == 1, f"no solution cell loads {FIRST_SOLUTION}"
        editor = cell.locator(".cm-content")
        editor.click()
        page.keyboard.press("Control+a")
        page.keyboard.type(f"%load {FIRST_SOLUTION}")
        page.keyboard.press("Control+Enter")
        code = (REPO / "notebooks" / FIRST_SOLUTION).read_text(encoding="utf-8")
        first_line = code.splitlines()[0]
        loaded = page.locator(".jp-Notebook .jp-CodeCell").filter(has_text=first_line)
        loaded.locator(".cm-content").wait_for(timeout=30_000)
        assert loaded.count() == 1
        assert loaded.locator(".cm-content").inner_text().startswith(f"# %load {FIRST_SOLUTION}")
        loaded.locator(".cm-content").click()
        page.keyboard.press("Control+Enter")
        output = loaded.locator(".jp-OutputArea-output")
        output.first.wait_for(timeout=60_000)
        page.wait_for_function(_RUN_FINISHED, timeout=60_000, polling=250)
        text = "\n".join(output.all_inner_texts())
        page.screenshot(path=str(artifacts_dir / "jupyterlab__solution_loaded.png"))
    finally:
        context.close()
    # The solution's own check printed its confirmation (helpers.checks.expect).
    assert "409" in text and "Traceback" not in text, text
