"""00_dicom_in_brief runs with no server: nothing listens at the DICOMweb URL its kernel is given."""

import os
import socket

import pytest

from tests.notebooks.lesson_files import execute, stream_text
from tests.support import kernels
from tests.support.lessons import NOTEBOOK_DIR

# Runs lessons in a kernel: left out by `make test-fast`.
pytestmark = pytest.mark.notebook_run


def test_runs_with_nothing_listening(free_port) -> None:
    port = free_port()
    # A URL that refuses every connection, and no emulator to start: any request would fail the run.
    env = kernels.kernel_env(f"http://127.0.0.1:{port}/v2", "none", "generic")
    nb = execute(NOTEBOOK_DIR / "00_dicom_in_brief.ipynb", env)
    text = "".join(stream_text(cell) for cell in nb.cells if cell.cell_type == "code")
    assert "TransferSyntaxUID: 1.2.840.10008.1.2.1 = Explicit VR Little Endian" in text
    images = [out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs
              if "image/png" in out.get("data", {})]
    assert len(images) == 2, "the hierarchy picture and the three images"
    with socket.socket() as probe:  # still nothing there: the notebook started no server on it
        assert probe.connect_ex(("127.0.0.1", port)) != 0
