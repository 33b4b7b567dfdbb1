"""Every lesson notebook runs top to bottom on a real Orthanc, twice in a row, configured through helpers only.

The kernels see DICOMWEB_URL (the peer's DICOMweb root), DICOMWEB_AUTH=none and
DICOMWEB_SERVER=orthanc, and no other DICOMWEB_* variable. Where a step is Azure-only, the
notebook must say so in its output and take the portable path: each run is checked for the
notebook's own explanation, so a notebook that skipped a step silently fails here. After the runs,
Orthanc must hold nothing of the sample study (clean-up there goes through Orthanc's REST API).
"""

from __future__ import annotations

import re

import nbformat
import pydicom
import pytest
import requests

from helpers.samples import STUDY_UID, ct_series
from tests.notebooks import lesson_files
from tests.support import kernels
from tests.support.lessons import lesson_paths

NOTEBOOKS = {path.stem: path for path in lesson_paths()}

# What each notebook prints on Orthanc where it leaves Azure's path: its own words, line for line.
PORTABLE_PATH: dict[str, list[str]] = {
    "01_authenticate": [
        "This orthanc server has no change feed (Azure-only): checking with a QIDO-RS search.",
    ],
    "02_upload": [
        "This orthanc server has no single-part upload (Azure-only); sending multipart/related.",
        "This orthanc server answers 200 to a duplicate, not Azure's 409.",
    ],
    "03_retrieve": [
        "This orthanc server answers 200 OK; Azure answers 406 (Azure-only behaviour, not checked here).",
        "This server refuses single-part (400); asking for multipart instead.",
        "7FE00010 PixelData in metadata: True",
    ],
    "04_query": [
        "This orthanc server has no fuzzy matching; using a wildcard instead.",
        "body: b'[]'",
        "This orthanc server answers 200 OK; Azure answers 204 (Azure-only behaviour, not checked here).",
    ],
    "07_real_world_images": [
        "This server refuses single-part (400); asking for multipart instead.",
        "This orthanc server answers 200 OK; Azure answers 406 (Azure-only behaviour, not checked here).",
    ],
    # Lessons 05 and 06 are Azure's own features: on Orthanc they say so and use a private emulator.
    "05_delete": [
        "This orthanc server has no DICOMweb DELETE (Azure-only): this lesson runs against a private "
        "local emulator of the Azure DICOM service instead.",
    ],
    "06_change_feed": [
        "This orthanc server has no change feed (Azure-only): this lesson runs against a private "
        "local emulator of the Azure DICOM service instead.",
    ],
}
# A lesson not listed above (a newer one) that asks client.supports(...) must still say, on Orthanc,
# what it does instead: the notebooks phrase that as f"This {client.flavor} server ...".
GENERIC_EXPLANATION = re.compile(r"^This orthanc server .+", re.MULTILINE)


def stdout_lines(nb: nbformat.NotebookNode) -> list[str]:
    return [line for cell in nb.cells if cell.cell_type == "code"
            for line in lesson_files.stream_text(cell).splitlines()]


def source(nb: nbformat.NotebookNode) -> str:
    return "\n".join(cell.source for cell in nb.cells if cell.cell_type == "code")


@pytest.fixture(scope="module")
def kernel_env(orthanc) -> dict[str, str]:
    """The kernels' environment: this Orthanc and nothing else of the DICOMWEB_* settings."""
    return kernels.kernel_env(orthanc.dicomweb_url, "none", "orthanc")


def assert_took_portable_path(name: str, nb: nbformat.NotebookNode) -> None:
    lines = stdout_lines(nb)
    if name in PORTABLE_PATH:
        missing = [line for line in PORTABLE_PATH[name] if line not in lines]
        assert not missing, f"{name} on Orthanc did not print: {missing}"
    elif "client.supports(" in source(nb):
        assert GENERIC_EXPLANATION.search("\n".join(lines)), (
            f"{name} has Azure-only steps but printed no 'This orthanc server ...' explanation on Orthanc")


def assert_study_gone(orthanc) -> None:
    # The sample study, and lesson 07's CT study (its UID is in the generated files).
    ct_study = pydicom.dcmread(ct_series()[0], stop_before_pixels=True).StudyInstanceUID
    for study_uid in (STUDY_UID, ct_study):
        lookup = requests.post(f"{orthanc.rest_url}/tools/lookup", data=study_uid, timeout=30)
        assert lookup.status_code == 200, lookup.text
        assert lookup.json() == [], f"study {study_uid} is still on Orthanc: {lookup.json()}"


@pytest.mark.parametrize("name", list(NOTEBOOKS))
def test_runs_twice_on_orthanc(name, kernel_env, orthanc):
    # The second run meets whatever the first left behind on Orthanc.
    for _ in range(2):
        nb = lesson_files.execute(NOTEBOOKS[name], kernel_env)
        assert_took_portable_path(name, nb)
        assert_study_gone(orthanc)


@pytest.mark.parametrize("name", sorted(PORTABLE_PATH))
def test_explanations_are_orthanc_only(name):
    # The committed outputs come from the emulator (Azure's behaviour): none of these lines may be
    # there, or finding them on Orthanc would prove nothing.
    path = NOTEBOOKS.get(name)
    assert path is not None, f"{name} is listed in PORTABLE_PATH but notebooks/{name}.ipynb is gone"
    committed = stdout_lines(lesson_files.read(path))
    assert not set(PORTABLE_PATH[name]) & set(committed)
