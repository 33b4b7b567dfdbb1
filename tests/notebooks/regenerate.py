"""Re-execute every notebook in place against a fresh emulator, to refresh the committed outputs.

Usage (from the repository root):  .venv/bin/python tests/notebooks/regenerate.py [NOTEBOOK ...]

It starts the emulator on a free port with a temporary data directory, points the kernels at it
through the environment, runs ``jupyter nbconvert --to notebook --execute --inplace`` on each
notebook in order (all of notebooks/NN_*.ipynb by default), and stops the emulator. The
nbconvert options keep the files stable: no per-cell timing, and all metadata cleared except the
kernelspec, the language name, cell tags and the collapsed state of solution cells.
"""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"

NBCONVERT_OPTIONS = ["--to", "notebook", "--execute", "--inplace"]
# As a config file: the metadata masks hold tuples, which the command line cannot express.
NBCONVERT_CONFIG = """\
c.ExecutePreprocessor.kernel_name = "python3"
c.ExecutePreprocessor.timeout = 600
c.ExecutePreprocessor.record_timing = False
c.ClearMetadataPreprocessor.enabled = True
c.ClearMetadataPreprocessor.preserve_nb_metadata_mask = {"kernelspec", ("language_info", "name")}
c.ClearMetadataPreprocessor.preserve_cell_metadata_mask = {"tags", ("jupyter", "source_hidden")}
"""


def lesson_notebooks() -> list[Path]:
    """The tutorial's notebooks, in lesson order (notebooks/NN_name.ipynb)."""
    return sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def regenerate(notebooks: list[Path]) -> None:
    """Execute ``notebooks`` in place, in order, against one fresh emulator."""
    from mock_server.launcher import start_emulator

    import matplotlib.font_manager  # noqa: F401 - build the font cache here, not on a kernel's stderr

    work_dir = Path(tempfile.mkdtemp(prefix="regenerate-notebooks-"))
    data_dir = work_dir / "emulator-data"
    config = work_dir / "nbconvert_config.py"
    config.write_text(NBCONVERT_CONFIG)
    try:
        with start_emulator(data_dir=data_dir, port=0) as emulator:
            env = {key: value for key, value in os.environ.items()
                   if key not in ("DICOMWEB_TOKEN", "DICOMWEB_EMULATOR_PORT")}
            env.update(DICOMWEB_URL=emulator.base_url("v2"), DICOMWEB_AUTH="emulator",
                       DICOMWEB_SERVER="azure", DICOMWEB_EMULATOR_DATA_DIR=str(data_dir))
            jupyter = Path(sys.executable).with_name("jupyter")
            for notebook in notebooks:
                print(f"executing {notebook.relative_to(REPO)}", flush=True)
                subprocess.run([str(jupyter), "nbconvert", f"--config={config}", *NBCONVERT_OPTIONS,
                                str(notebook)], env=env, check=True)
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)


def main(argv: list[str]) -> int:
    notebooks = [Path(arg).resolve() for arg in argv] or lesson_notebooks()
    missing = [str(path) for path in notebooks if not path.is_file()]
    if missing:
        print("no such notebook: " + ", ".join(missing), file=sys.stderr)
        return 2
    regenerate(notebooks)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
