"""Write the lessons without their exercise solutions, for a workshop to live-code from.

Usage (from the repository root):  .venv/bin/python tools/student_notebooks.py [--keep] [OUTPUT_DIR]

Each lesson notebook is copied to OUTPUT_DIR (default: build/student-notebooks) without the cells
tagged ``solution`` (each exercise's solution code and its explanation), and with all outputs cleared
so learners see only what they run themselves. Each exercise keeps its working cell (tag
``exercise``), with its hint and a placeholder. The committed notebooks keep their solutions (they are
tested).
Files the lessons show by relative path (pictures beside the notebooks) are copied along.
With ``--keep``, a copy that already exists is left as it is (a learner may have worked in it):
`make lab-student` writes the copies that way, then opens them in JupyterLab.
"""

import re
import shutil
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
DEFAULT_OUTPUT = ROOT / "build" / "student-notebooks"
SOLUTION_TAG = "solution"
# Relative targets of Markdown links and images, and of HTML src/href attributes.
_RELATIVE_TARGET = re.compile(r"""\]\(\s*<?([^)\s>:#]+)|(?:src|href)\s*=\s*["']([^"':#]+)["']""")


def student_version(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``notebook`` without its solution cells and with every output cleared."""
    student = nbformat.from_dict(notebook)
    student.cells = [cell for cell in student.cells if SOLUTION_TAG not in cell.metadata.get("tags", [])]
    for cell in student.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return student


def referenced_files(notebook: nbformat.NotebookNode, notebooks_dir: Path) -> list[Path]:
    """Files inside ``notebooks_dir`` that the notebook's Markdown cells show or link by relative path."""
    found = []
    for cell in notebook.cells:
        if cell.cell_type != "markdown":
            continue
        for groups in _RELATIVE_TARGET.findall(cell.source):
            target = (notebooks_dir / "".join(groups).split("?", 1)[0]).resolve()
            if target.is_file() and target.is_relative_to(notebooks_dir.resolve()) and target.suffix != ".ipynb":
                found.append(target)
    return found


def write_student_notebooks(output_dir: Path, notebooks_dir: Path = NOTEBOOKS, keep: bool = False) -> list[Path]:
    """Write the student version of every lesson notebook into ``output_dir``; return their paths.

    With ``keep``, copies that exist already are not rewritten (nor returned)."""
    output_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path in sorted(notebooks_dir.glob("[0-9][0-9]_*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        target = output_dir / path.name
        if keep and target.exists():
            continue
        nbformat.write(student_version(notebook), target)
        written.append(target)
        # JupyterLab serves only what is under its root, so pictures must sit beside the copies.
        for file in referenced_files(notebook, notebooks_dir):
            copy = output_dir / file.relative_to(notebooks_dir.resolve())
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(file, copy)
    return written


def main(argv: list[str]) -> int:
    keep = "--keep" in argv
    args = [arg for arg in argv if arg != "--keep"]
    if len(args) > 1 or any(arg.startswith("-") for arg in args):
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    output_dir = Path(args[0]) if args else DEFAULT_OUTPUT
    if output_dir.exists() and not output_dir.is_dir():
        print(f"{output_dir} exists and is not a folder", file=sys.stderr)
        return 2
    for path in write_student_notebooks(output_dir, keep=keep):
        print(path)
    if keep:
        print(f"student notebooks in {output_dir} (existing copies kept)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
