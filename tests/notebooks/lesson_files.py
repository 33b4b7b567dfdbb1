"""How to read the lesson notebooks' cells and how to run them (shared by the notebook tests and
tests/orthanc/test_notebooks_on_orthanc.py); where they are: tests/support/lessons.py."""

import re
from pathlib import Path

import nbformat

# The same runner learners use to check a server.
from tools import check_server
from tools.check_server import solutions  # tools/solutions.py, as the runner uses it

EXPECTED = ["00_dicom_in_brief", "01_authenticate", "02_upload", "03_retrieve", "04_query", "05_delete",
            "06_change_feed", "07_real_world_images"]

_FENCE = re.compile(r"^```.*?^```", re.DOTALL | re.MULTILINE)


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def execute(path: Path, env: dict[str, str]) -> nbformat.NotebookNode:
    """Run a notebook top to bottom in a fresh kernel, as "Restart & Run All" does.

    ``env`` is the kernel's whole environment (it selects the server through the DICOMWEB_*
    variables); a cell that raises, a failed assert included, fails the caller.
    """
    nb = check_server.run_lesson(path, env)
    errors = [out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs
              if out.output_type == "error"]
    assert not errors, f"{path.stem}: {errors}"
    return nb


def headings(cell) -> list[tuple[int, str]]:
    """(level, text) of the Markdown headings in a cell, ignoring fenced code blocks."""
    if cell.cell_type != "markdown":
        return []
    text = _FENCE.sub("", cell.source)
    return [(len(m[1]), m[2].strip()) for m in re.finditer(r"^(#{1,6}) +(.+)$", text, re.MULTILINE)]


def stream_text(cell) -> str:
    """All stdout text a code cell printed."""
    return "".join(out.get("text", "") for out in cell.get("outputs", [])
                   if out.output_type == "stream" and out.name == "stdout")
