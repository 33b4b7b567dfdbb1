"""Write the lessons without their exercise solutions, for a workshop to live-code from.

Usage (from the repository root):  .venv/bin/python tools/student_notebooks.py [OUTPUT_DIR]

Each lesson notebook is copied to OUTPUT_DIR (default: build/student-notebooks) without the cells
tagged ``solution`` (each exercise's solution code and its explanation), and with all outputs cleared
so learners see only what they run themselves. Each exercise keeps its working cell (tag
``exercise``), with its hint and a placeholder. The committed notebooks keep their solutions (they are
tested).
"""

import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
DEFAULT_OUTPUT = ROOT / "build" / "student-notebooks"
SOLUTION_TAG = "solution"


def student_version(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``notebook`` without its solution cells and with every output cleared."""
    student = nbformat.from_dict(notebook)
    student.cells = [cell for cell in student.cells if SOLUTION_TAG not in cell.metadata.get("tags", [])]
    for cell in student.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return student


def write_student_notebooks(output_dir: Path, notebooks_dir: Path = NOTEBOOKS) -> list[Path]:
    """Write the student version of every lesson notebook into ``output_dir``; return their paths."""
    output_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path in sorted(notebooks_dir.glob("[0-9][0-9]_*.ipynb")):
        target = output_dir / path.name
        nbformat.write(student_version(nbformat.read(path, as_version=4)), target)
        written.append(target)
    return written


def main(argv: list[str]) -> int:
    if len(argv) > 1:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    output_dir = Path(argv[0]) if argv else DEFAULT_OUTPUT
    if output_dir.exists() and not output_dir.is_dir():
        print(f"{output_dir} exists and is not a folder", file=sys.stderr)
        return 2
    for path in write_student_notebooks(output_dir):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
