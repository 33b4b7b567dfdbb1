"""Re-execute every notebook in place against a fresh emulator, to refresh the committed outputs.

Usage (from the repository root):  .venv/bin/python -m tests.notebooks.regenerate [NOTEBOOK ...]

It starts the emulator on a free port with a temporary data directory, points the kernels at it
through the environment, runs ``jupyter nbconvert --to notebook --execute --inplace`` on each
notebook in order (all of notebooks/NN_*.ipynb by default), and stops the emulator. The
nbconvert options keep the files stable: no per-cell timing, and all metadata cleared except the
kernelspec, the language information the kernel reports (JupyterLab writes it into a notebook it
opens, and would mark a notebook without it as modified) and cell tags.

Then each notebook is put in its committed form (``committed_form``):

- the outputs show the URL a learner's own run shows, ``http://127.0.0.1:8765/v2``, not the free
  port this run used (nbval_sanitize.cfg masks the port of the emulator's base URL on both sides);
- an exercise's solution cell (tagged ``solution``) holds only a commented ``%load`` line
  (tools/solutions.py), so it has no output and its only metadata is its tag; the solution files
  themselves run wherever tools/check_server.py runs a lesson (tests/notebooks/test_rerun.py,
  the Orthanc and Azure-path runs).
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat

from tests.support.kernels import emulator_kernel_env
from tests.support.lessons import NOTEBOOK_DIR as NOTEBOOKS
from tests.support.lessons import REPO, lesson_paths

SOLUTION_TAG = "solution"

NBCONVERT_OPTIONS = ["--to", "notebook", "--execute", "--inplace"]
# As a config file: the metadata masks hold tuples, which the command line cannot express.
NBCONVERT_CONFIG = """\
c.ExecutePreprocessor.kernel_name = "python3"
c.ExecutePreprocessor.timeout = 600
c.ExecutePreprocessor.record_timing = False
c.ClearMetadataPreprocessor.enabled = True
c.ClearMetadataPreprocessor.preserve_nb_metadata_mask = {"kernelspec", "language_info"}
c.ClearMetadataPreprocessor.preserve_cell_metadata_mask = {"tags"}
"""


def _replace_in_strings(value: object, old: str, new: str) -> object:
    """``value`` with the URL ``old`` replaced by ``new`` in every string it holds (dicts and lists
    walked); ``old`` followed by another digit is a different port and stays."""
    if isinstance(value, str):
        return re.sub(re.escape(old) + r"(?!\d)", new, value)
    if isinstance(value, list):
        return [_replace_in_strings(item, old, new) for item in value]
    if isinstance(value, dict):
        return type(value)((key, _replace_in_strings(item, old, new)) for key, item in value.items())
    return value


def committed_form(notebook: nbformat.NotebookNode, run_root_url: str, default_root_url: str
                   ) -> nbformat.NotebookNode:
    """``notebook`` as committed: outputs name ``default_root_url`` instead of the run's emulator
    (``run_root_url``, e.g. ``http://127.0.0.1:37573``), and solution cells have no outputs and no
    metadata but their tag."""
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        if SOLUTION_TAG in cell.metadata.get("tags", []):
            # Only the load line, visible: JupyterLab adds "collapsed" to a cell whose outputs are
            # hidden, which would mark the notebook modified as soon as it opens.
            cell.outputs = []
            cell.metadata = nbformat.from_dict({"tags": [SOLUTION_TAG]})
            continue
        # Only the exact URL of this run's emulator: nothing else that looks like a port changes.
        outputs = [nbformat.from_dict(_replace_in_strings(output, run_root_url, default_root_url))
                   for output in cell.outputs]
        cell.outputs = _coalesce_streams(outputs)
    return notebook


def _coalesce_streams(outputs: list[nbformat.NotebookNode]) -> list[nbformat.NotebookNode]:
    """Consecutive outputs of one stream as one, as JupyterLab shows and saves them: how a print
    is split into messages depends on the kernel's flush timing, and must not change the file."""
    merged: list[nbformat.NotebookNode] = []
    for output in outputs:
        previous = merged[-1] if merged else None
        if (output.output_type == "stream" and previous is not None and previous.output_type == "stream"
                and previous.name == output.name):
            previous.text += output.text
        else:
            merged.append(output)
    return merged


def regenerate(notebooks: list[Path]) -> None:
    """Execute ``notebooks`` in place, in order, against one fresh emulator."""
    import mock_server
    from mock_server.launcher import start_emulator

    import matplotlib.font_manager  # noqa: F401 - build the font cache here, not on a kernel's stderr

    work_dir = Path(tempfile.mkdtemp(prefix="regenerate-notebooks-"))
    data_dir = work_dir / "emulator-data"
    config = work_dir / "nbconvert_config.py"
    config.write_text(NBCONVERT_CONFIG)
    try:
        with start_emulator(data_dir=data_dir, port=0) as emulator:
            env = emulator_kernel_env(emulator)
            jupyter = Path(sys.executable).with_name("jupyter")
            for notebook in notebooks:
                print(f"executing {notebook.relative_to(REPO)}", flush=True)
                subprocess.run([str(jupyter), "nbconvert", f"--config={config}", *NBCONVERT_OPTIONS,
                                str(notebook)], env=env, check=True)
                executed = nbformat.read(notebook, as_version=4)
                nbformat.write(committed_form(executed, emulator.root_url,
                                              f"http://127.0.0.1:{mock_server.DEFAULT_PORT}"), notebook)
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)


def main(argv: list[str]) -> int:
    notebooks = [Path(arg).resolve() for arg in argv] or lesson_paths()
    missing = [str(path) for path in notebooks if not path.is_file()]
    if missing:
        print("no such notebook: " + ", ".join(missing), file=sys.stderr)
        return 2
    regenerate(notebooks)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
