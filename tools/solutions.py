"""Exercise solutions: each one a file in notebooks/solutions/, loaded into its cell on demand.

A lesson's solution cell (tagged ``solution``) holds only a commented IPython ``%load`` line, so
"Run All" never runs a solution and never shows its output: the learner tries first, then deletes
the ``# `` before ``%load`` and runs the cell, which fills it with the solution's code. This module
finds those files, and puts each solution's code into its cell for the runs that must execute the
solutions (``tools/check_server.py``, the tests) and for the docs site, which shows them collapsed.

The explanation after a solution (a Markdown cell with the same tag) sits in a closed HTML
``<details>`` block: JupyterLab shows the input of every Markdown cell that Run All renders, so a
hidden input would open, while a ``<details>`` stays closed until clicked. The site has its own
collapsible box and shows the text without the wrapper (``explanation_text``).
Only nbformat and the standard library: the docs build imports it too.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

SOLUTION_TAG = "solution"
SOLUTIONS_DIR = "solutions"
# The line a solution cell loads its file with, commented out until the learner wants it.
LOAD_LINE = re.compile(r"^# %load (solutions/[\w.-]+\.py)\s*$", re.MULTILINE)
EXPLANATION_OPEN = "<details>\n<summary><b>Solution explained</b> (click to read)</summary>\n\n"
EXPLANATION_CLOSE = "\n\n</details>"


def is_solution_code(cell: nbformat.NotebookNode) -> bool:
    """True for a code cell tagged ``solution`` (an explanation is a Markdown cell with the same tag)."""
    return cell.cell_type == "code" and SOLUTION_TAG in cell.metadata.get("tags", [])


def is_explanation(cell: nbformat.NotebookNode) -> bool:
    """True for the Markdown cell tagged ``solution`` that explains a solution."""
    return cell.cell_type == "markdown" and SOLUTION_TAG in cell.metadata.get("tags", [])


def explanation_text(cell: nbformat.NotebookNode) -> str:
    """An explanation's Markdown without its closed ``<details>`` wrapper; ``ValueError`` when the
    cell is not wrapped (JupyterLab would show it open after Run All)."""
    source = cell.source.strip("\n")
    if not (source.startswith(EXPLANATION_OPEN) and source.endswith(EXPLANATION_CLOSE)):
        raise ValueError(f"an explanation must sit in {EXPLANATION_OPEN!r} … {EXPLANATION_CLOSE!r}:\n{cell.source}")
    return source[len(EXPLANATION_OPEN):-len(EXPLANATION_CLOSE)]


def solution_path(cell: nbformat.NotebookNode, notebooks_dir: Path) -> Path:
    """The file a solution cell loads, relative to the notebooks' folder (where the kernel runs).

    Raises ``ValueError`` when the cell has no ``# %load solutions/<name>.py`` line or the file is
    missing: a lesson must never point at a solution that is not there."""
    found = LOAD_LINE.findall(cell.source)
    if len(found) != 1:
        raise ValueError(f"a solution cell needs exactly one '# %load solutions/<name>.py' line:\n{cell.source}")
    path = notebooks_dir / found[0]
    if not path.is_file():
        raise ValueError(f"the solution file {found[0]} is missing (looked in {notebooks_dir})")
    return path


def with_solutions(notebook: nbformat.NotebookNode, notebooks_dir: Path) -> nbformat.NotebookNode:
    """A copy of ``notebook`` whose solution cells hold their solution's code, as ``%load`` leaves them
    (the load line commented at the top, then the file)."""
    loaded = nbformat.from_dict(notebook)
    for cell in loaded.cells:
        if is_solution_code(cell):
            path = solution_path(cell, notebooks_dir)
            cell.source = f"# %load {path.relative_to(notebooks_dir).as_posix()}\n" + path.read_text(encoding="utf-8")
    return loaded
