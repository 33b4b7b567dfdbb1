"""Every sample file stores, retrieves byte for byte (preamble aside) and deletes."""

import io
from pathlib import Path

import numpy as np
import pydicom
import pytest
from PIL import Image

from tests.emulator.emulator_testlib import session_for
from tests.support.stow import DICOM_JSON, stow

REPO = Path(__file__).resolve().parents[2]
DATA_FILES = sorted((REPO / "data").glob("*.dcm"))
# Microsoft's original sample files, vendored with their licence (tests/data/microsoft-dcms/README.md).
REFERENCE_FILES = sorted((REPO / "tests" / "data" / "microsoft-dcms").glob("*.dcm"))
NAMES = ["blue-circle.dcm", "green-square.dcm", "red-triangle.dcm"]


def test_the_data_samples_exist():
    assert [p.name for p in DATA_FILES] == NAMES


def test_the_reference_samples_exist():
    assert [p.name for p in REFERENCE_FILES] == NAMES


@pytest.mark.parametrize("path", DATA_FILES + REFERENCE_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_store_retrieve_delete(own_emulator, path):
    # A private emulator: the samples share UIDs, so each file needs an empty store.
    client = session_for(own_emulator())
    data = path.read_bytes()
    ds = pydicom.dcmread(path, stop_before_pixels=True)
    instance = f"studies/{ds.StudyInstanceUID}/series/{ds.SeriesInstanceUID}/instances/{ds.SOPInstanceUID}"

    assert stow(client, [data], study=ds.StudyInstanceUID).status_code == 200
    response = client.get(f"{client.base}/{instance}", headers={"Accept": "application/dicom; transfer-syntax=*"})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == (
        f"application/dicom; transfer-syntax={ds.file_meta.TransferSyntaxUID}")
    assert response.content == b"\0" * 128 + data[128:]

    meta = client.get(f"{client.base}/{instance}/metadata", headers={"Accept": DICOM_JSON}).json()[0]
    assert meta["00080018"]["Value"] == [ds.SOPInstanceUID]
    assert meta["00100010"]["Value"] == [{"Alphabetic": str(ds.PatientName)}]

    rendered = client.get(f"{client.base}/{instance}/rendered", headers={"Accept": "image/png"})
    assert rendered.status_code == 200
    assert rendered.headers["Content-Type"] == "image/png"
    # 8-bit RGB renders unchanged.
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(rendered.content))), pydicom.dcmread(path).pixel_array)

    assert client.delete(f"{client.base}/{instance}").status_code == 204
    assert client.get(f"{client.base}/{instance}", headers={"Accept": "application/dicom; transfer-syntax=*"}
                      ).status_code == 404
