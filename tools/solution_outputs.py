"""Clear the committed outputs of exercise solutions, so a learner does not read the answer before trying.

Usage (from the repository root):  .venv/bin/python tools/solution_outputs.py [NOTEBOOK ...]

Run it after re-executing the notebooks (tests/notebooks/regenerate.py). For every code cell tagged
``solution`` it removes the outputs but keeps the execution count (so the notebook still reads as one
top-to-bottom run), and marks the cell collapsed with its outputs hidden in JupyterLab. nbval still
runs these cells and fails on an error: their tag ``nbval-ignore-output`` only skips the comparison.
"""

import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
HIDDEN = {"source_hidden": True, "outputs_hidden": True}


def clear_solution_outputs(notebook: nbformat.NotebookNode) -> int:
    """Clear and collapse the solution cells of ``notebook`` in place; return how many there are."""
    count = 0
    for cell in notebook.cells:
        if cell.cell_type == "code" and "solution" in cell.metadata.get("tags", []):
            cell.outputs = []
            cell.metadata["jupyter"] = dict(HIDDEN)
            count += 1
    return count


def main(argv: list[str]) -> int:
    paths = [Path(arg) for arg in argv] or sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    for path in paths:
        notebook = nbformat.read(path, as_version=4)
        count = clear_solution_outputs(notebook)
        nbformat.write(notebook, path)
        print(f"{path}: {count} solution cell(s) cleared")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
