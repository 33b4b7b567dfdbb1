"""dicomweb-client, a field client, run with its defaults against the emulator (library and CLI).

Where its defaults fail on Azure, they fail here the same way: ``retrieve_study`` asks for
``multipart/related; type="application/dicom"`` (Explicit VR LE), which is 406 for a study of several
instances (dicomweb-client issues #46 and #82). On a compressed instance its defaults
(``transfer-syntax=*`` for an instance, ``type="*/*"`` for frames) get it as stored, as on Azure; asking
for ``application/dicom`` or ``application/octet-stream`` gets it transcoded, as Azure does.
"""

import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import requests
import pydicom
from dicomweb_client.api import DICOMwebClient
from pydicom.encaps import generate_frames
from pydicom.uid import JPEG2000Lossless, RLELossless

from tests.emulator.compressed_testlib import build_compressed
from tests.support.part10 import build_instance
from tests.support.stow import stow


@pytest.fixture
def client(emulator) -> DICOMwebClient:
    return DICOMwebClient(url=emulator.base_url("v2"), headers={"Authorization": f"Bearer {emulator.token()}"})


@pytest.fixture
def multiframe(stored):
    return stored(frames=3, rows=4, columns=5)


def test_library_frames_with_defaults(client, multiframe):
    frames = client.retrieve_instance_frames(multiframe.study, multiframe.series, multiframe.sop,
                                             frame_numbers=[3, 1])
    assert frames == [multiframe.frames[2], multiframe.frames[0]]
    assert list(client.iter_instance_frames(multiframe.study, multiframe.series, multiframe.sop,
                                            frame_numbers=[2])) == [multiframe.frames[1]]


def test_library_retrieve_instance_and_metadata_with_defaults(client, multiframe):
    ds = client.retrieve_instance(multiframe.study, multiframe.series, multiframe.sop)
    assert ds.SOPInstanceUID == multiframe.sop
    assert ds.PixelData == b"".join(multiframe.frames)
    metadata = client.retrieve_instance_metadata(multiframe.study, multiframe.series, multiframe.sop)
    assert metadata["00080018"]["Value"] == [multiframe.sop]


@pytest.mark.parametrize("syntax", [RLELossless, JPEG2000Lossless])
def test_library_defaults_on_a_compressed_instance_get_azures_answers(client, emulator_client, syntax):
    c = build_compressed(syntax, frames=2)
    assert stow(emulator_client, [c.instance.data]).status_code == 200
    uids = c.instance.study, c.instance.series, c.instance.sop
    ds = client.retrieve_instance(*uids)  # transfer-syntax=*: as stored
    assert ds.file_meta.TransferSyntaxUID == syntax
    assert np.array_equal(ds.pixel_array, c.pixels)
    stored = list(generate_frames(c.dataset.PixelData, number_of_frames=2))
    assert client.retrieve_instance_frames(*uids, frame_numbers=[2]) == [stored[1]]  # */*: as stored
    ds = client.retrieve_instance(*uids, media_types=("application/dicom",))  # Explicit VR LE: transcoded
    assert ds.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.1"
    assert np.array_equal(ds.pixel_array, c.pixels)
    frames = client.retrieve_instance_frames(*uids, frame_numbers=[1, 2], media_types=("application/octet-stream",))
    assert frames == [c.frame(1).astype("<u2").tobytes(), c.frame(2).astype("<u2").tobytes()]


def test_library_search_and_store_with_defaults(client, emulator_client):
    inst = build_instance()
    client.store_instances([pydicom.dcmread(io.BytesIO(inst.data))])
    found = client.search_for_instances(study_instance_uid=inst.study)
    assert [item["00080018"]["Value"] for item in found] == [[inst.sop]]


def test_library_retrieve_study_needs_any_transfer_syntax_as_on_azure(client, emulator_client):
    a = build_instance()
    b = build_instance(study=a.study)
    assert stow(emulator_client, [a.data, b.data]).status_code == 200
    with pytest.raises(requests.HTTPError) as failure:
        client.retrieve_study(a.study)
    assert failure.value.response.status_code == 406
    study = client.retrieve_study(a.study, media_types=(("application/dicom", "*"),))
    assert sorted(ds.SOPInstanceUID for ds in study) == sorted([a.sop, b.sop])


def test_cli_frames_and_instance_with_defaults(emulator, multiframe, tmp_path: Path):
    # The package's console script (dicomweb_client.cli has no __main__ guard).
    cli = [str(Path(sys.executable).with_name("dicomweb_client")), "--url", emulator.base_url("v2"),
           "--bearer-token", emulator.token(), "retrieve", "instances", "--study", multiframe.study,
           "--series", multiframe.series, "--instance", multiframe.sop]
    run = subprocess.run(cli + ["frames", "--numbers", "1", "2", "--save", "--output-dir", str(tmp_path)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert (tmp_path / f"{multiframe.sop}_1.dat").read_bytes() == multiframe.frames[0]
    assert (tmp_path / f"{multiframe.sop}_2.dat").read_bytes() == multiframe.frames[1]
    run = subprocess.run(cli + ["full", "--save", "--output-dir", str(tmp_path)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    saved = list(tmp_path.glob("*.dcm"))
    assert len(saved) == 1
    assert pydicom.dcmread(saved[0]).SOPInstanceUID == multiframe.sop
