"""Run every lesson against the DICOMweb server your environment points at, before a workshop.

Usage (from the repository root, with DICOMWEB_URL etc. set as for JupyterLab):
    .venv/bin/python tools/check_server.py [LESSON ...]      e.g. 01_authenticate 03_retrieve

Each lesson runs top to bottom in a fresh kernel, as "Restart & Run All" does, with its exercises'
solutions loaded into their cells (notebooks/solutions/); its own checks test every answer. Exit
status 0 when all lessons ran, 1 when one failed (the failing cell is printed).
The committed notebooks are not modified.
"""

import os
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make the repository's packages importable
    sys.path.insert(0, str(ROOT))
from tools import solutions  # noqa: E402
NOTEBOOKS = ROOT / "notebooks"


def run_lesson(path: Path, env: dict[str, str] | None = None) -> nbformat.NotebookNode:
    """Execute the notebook at ``path`` in a fresh kernel whose environment is ``env``.

    The kernel works in notebooks/, as in JupyterLab. Each solution cell runs its solution (what a
    learner gets by loading it), so a broken solution fails too. A cell that raises (a failed check
    included) raises nbclient's CellExecutionError, naming the cell and the error.
    """
    notebook = solutions.with_solutions(nbformat.read(path, as_version=4), path.parent)
    client = NotebookClient(notebook, kernel_name="python3", timeout=600, allow_errors=False,
                            resources={"metadata": {"path": str(NOTEBOOKS)}})
    client.execute(env=dict(os.environ) if env is None else env)
    return notebook


def main(argv: list[str]) -> int:
    lessons = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    if argv:
        by_name = {path.stem: path for path in lessons}
        unknown = [name for name in argv if name not in by_name]
        if unknown:
            print(f"unknown lesson(s): {', '.join(unknown)}; lessons: {', '.join(by_name)}", file=sys.stderr)
            return 2
        lessons = [by_name[name] for name in argv]
    print(f"server: {os.environ.get('DICOMWEB_URL', 'the local emulator (DICOMWEB_URL not set)')}")
    failed = 0
    for path in lessons:
        try:
            run_lesson(path)
        except CellExecutionError as error:
            failed += 1
            print(f"FAIL  {path.stem}\n{error}\n")
        else:
            print(f"ok    {path.stem}")
    print(f"{len(lessons) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
