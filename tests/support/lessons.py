"""Where the lesson notebooks are: notebooks/NN_name.ipynb, in lesson order (the one glob the tests use)."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
NOTEBOOK_DIR = REPO / "notebooks"
LESSON_GLOB = "[0-9][0-9]_*.ipynb"


def lesson_paths(notebook_dir: Path = NOTEBOOK_DIR) -> list[Path]:
    """The lesson notebooks of ``notebook_dir``, in lesson order."""
    return sorted(notebook_dir.glob(LESSON_GLOB))
