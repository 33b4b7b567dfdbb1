"""WADO-RS as PS3.18 defines it: instances, metadata, frames and rendered images."""

from __future__ import annotations

import pytest
from pydicom.uid import generate_uid

from tests.standard.dicomweb_parts import (DICOM_MULTIPART, FRAMES_MULTIPART, JPEG_MAGIC, PNG_MAGIC, media_type, parts,
                                           values)
from tests.standard.synthetic_study import UID_PREFIX

PREAMBLE = 128  # servers may rewrite the Part 10 preamble; everything after it is the stored file


def _assert_instances(response, expected) -> None:
    assert response.status_code == 200, response.text
    received = parts(response)
    assert len(received) == len(expected)
    for part in received:
        assert part.media_type == "application/dicom"
        assert part.content[PREAMBLE:PREAMBLE + 4] == b"DICM"
    assert sorted(p.content[PREAMBLE:] for p in received) == sorted(i.data[PREAMBLE:] for i in expected)


def test_retrieve_study_returns_every_instance(dicomweb_server, stored_study):
    response = dicomweb_server.get(f"studies/{stored_study.uid}", DICOM_MULTIPART)
    _assert_instances(response, stored_study.instances)


@pytest.mark.parametrize("series", ["series_a", "series_b"])
def test_retrieve_series_returns_its_instances(dicomweb_server, stored_study, series):
    series_uid = getattr(stored_study, series)
    response = dicomweb_server.get(f"studies/{stored_study.uid}/series/{series_uid}", DICOM_MULTIPART)
    _assert_instances(response, stored_study.in_series(series_uid))


def test_retrieve_instance_returns_one_part(dicomweb_server, stored_study):
    instance = stored_study.instances[1]
    response = dicomweb_server.get(
        f"studies/{instance.study_uid}/series/{instance.series_uid}/instances/{instance.sop_uid}", DICOM_MULTIPART)
    _assert_instances(response, [instance])


@pytest.mark.parametrize("level", ["study", "series", "instance"])
def test_metadata_is_an_array_with_one_object_per_instance(dicomweb_server, stored_study, level):
    first = stored_study.instances[0]
    path, expected = {
        "study": (f"studies/{stored_study.uid}", stored_study.instances),
        "series": (f"studies/{stored_study.uid}/series/{stored_study.series_a}",
                   stored_study.in_series(stored_study.series_a)),
        "instance": (f"studies/{stored_study.uid}/series/{first.series_uid}/instances/{first.sop_uid}", [first]),
    }[level]

    response = dicomweb_server.get(f"{path}/metadata", "application/dicom+json")

    assert response.status_code == 200, response.text
    assert media_type(response) == "application/dicom+json"
    body = response.json()
    assert isinstance(body, list) and len(body) == len(expected)
    assert sorted(values(body, "00080018")) == sorted(i.sop_uid for i in expected)
    assert set(values(body, "0020000D")) == {stored_study.uid}
    assert sorted(values(body, "0020000E")) == sorted(i.series_uid for i in expected)
    assert sorted(values(body, "00280010")) == sorted(i.rows for i in expected)


def test_frame_of_a_single_frame_instance(dicomweb_server, stored_study):
    instance = stored_study.instances[0]
    response = dicomweb_server.get(
        f"studies/{instance.study_uid}/series/{instance.series_uid}/instances/{instance.sop_uid}/frames/1",
        FRAMES_MULTIPART)

    assert response.status_code == 200, response.text
    [frame] = parts(response)
    assert frame.media_type == "application/octet-stream"
    assert len(frame.content) == instance.rows * instance.columns * instance.samples_per_pixel == 192
    assert frame.content == instance.frame(1)


def test_frames_of_a_multiframe_instance_in_request_order(dicomweb_server, stored_study):
    instance = stored_study.multiframe
    response = dicomweb_server.get(
        f"studies/{instance.study_uid}/series/{instance.series_uid}/instances/{instance.sop_uid}/frames/1,3",
        FRAMES_MULTIPART)

    assert response.status_code == 200, response.text
    frames = parts(response)
    assert [f.media_type for f in frames] == ["application/octet-stream"] * 2
    assert [len(f.content) for f in frames] == [instance.rows * instance.columns * instance.samples_per_pixel] * 2
    assert [f.content for f in frames] == [instance.frame(1), instance.frame(3)]


def test_frame_beyond_the_last_is_not_found(dicomweb_server, stored_study):
    instance = stored_study.multiframe
    response = dicomweb_server.get(
        f"studies/{instance.study_uid}/series/{instance.series_uid}/instances/{instance.sop_uid}/frames/4",
        FRAMES_MULTIPART)

    if dicomweb_server.departs("missing-frame-404"):
        assert response.status_code == 400
    else:
        assert response.status_code == 404


@pytest.mark.parametrize(("accept", "magic"), [("image/png", PNG_MAGIC), ("image/jpeg", JPEG_MAGIC)])
@pytest.mark.parametrize("target", ["instance", "frame"])
def test_rendered_image(dicomweb_server, stored_study, accept, magic, target):
    instance = stored_study.multiframe if target == "frame" else stored_study.instances[0]
    path = f"studies/{instance.study_uid}/series/{instance.series_uid}/instances/{instance.sop_uid}"
    path += "/frames/2/rendered" if target == "frame" else "/rendered"

    response = dicomweb_server.get(path, accept)

    assert response.status_code == 200, response.text
    assert media_type(response) == accept
    assert response.content.startswith(magic)


@pytest.mark.parametrize("resource", ["study", "series", "instance", "study metadata"])
def test_unknown_resource_is_not_found(dicomweb_server, stored_study, resource):
    unknown = generate_uid(UID_PREFIX)
    first = stored_study.instances[0]
    path, accept = {
        "study": (f"studies/{unknown}", DICOM_MULTIPART),
        "series": (f"studies/{stored_study.uid}/series/{unknown}", DICOM_MULTIPART),
        "instance": (f"studies/{stored_study.uid}/series/{first.series_uid}/instances/{unknown}", DICOM_MULTIPART),
        "study metadata": (f"studies/{unknown}/metadata", "application/dicom+json"),
    }[resource]

    response = dicomweb_server.get(path, accept)

    assert response.status_code == 404


def test_single_part_dicom_for_a_whole_study_is_not_acceptable(dicomweb_server, stored_study):
    """A study has many instances: single-part ``application/dicom`` cannot carry them."""
    response = dicomweb_server.get(f"studies/{stored_study.uid}", "application/dicom; transfer-syntax=*")

    if dicomweb_server.departs("unsupported-accept-406"):
        assert response.status_code == 400
    else:
        assert response.status_code == 406
