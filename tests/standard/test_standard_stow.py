"""STOW-RS as PS3.18 defines it: multipart/related; type="application/dicom", DICOM JSON response."""

from __future__ import annotations

from pydicom.uid import generate_uid

from tests.standard.dicomweb_parts import media_type, value, values
from tests.standard.synthetic_study import UID_PREFIX

REFERENCED_SOP_SEQUENCE = "00081199"
FAILED_SOP_SEQUENCE = "00081198"
RETRIEVE_URL = "00081190"
SOP_CLASS = "00081150"
SOP_INSTANCE = "00081155"
FAILURE_REASON = "00081197"


def test_stow_multipart_stores_every_instance(dicomweb_server, new_study):
    response = dicomweb_server.store(list(new_study.instances))

    assert response.status_code == 200, response.text
    assert media_type(response) == "application/dicom+json"
    body = response.json()
    referenced = body[REFERENCED_SOP_SEQUENCE]["Value"]
    assert sorted(zip(values(referenced, SOP_CLASS), values(referenced, SOP_INSTANCE), strict=True)) == sorted(
        (i.sop_class_uid, i.sop_uid) for i in new_study.instances)
    for item in referenced:
        instance = next(i for i in new_study.instances if i.sop_uid == value(item, SOP_INSTANCE))
        assert value(item, RETRIEVE_URL).endswith(
            f"/studies/{instance.study_uid}/series/{instance.series_uid}/instances/{instance.sop_uid}")
    # A failure-free store has no FailedSOPSequence items (the sequence may be present but empty).
    assert not body.get(FAILED_SOP_SEQUENCE, {}).get("Value")


def test_stow_to_a_study_resource_returns_its_url(dicomweb_server, new_study):
    response = dicomweb_server.store(list(new_study.instances), study_uid=new_study.uid)

    assert response.status_code == 200, response.text
    body = response.json()
    assert value(body, RETRIEVE_URL).endswith(f"/studies/{new_study.uid}")
    assert len(body[REFERENCED_SOP_SEQUENCE]["Value"]) == 3


def test_stow_of_another_studys_instance_to_a_study_resource_is_a_conflict(dicomweb_server, new_study):
    """PS3.18: an instance whose StudyInstanceUID differs from the target study fails; none stored: 409."""
    instance = new_study.instances[0]
    other_study = generate_uid(UID_PREFIX)

    response = dicomweb_server.store([instance], study_uid=other_study)

    assert response.status_code == 409, response.text
    if dicomweb_server.departs("stow-failure-content-type"):
        assert "Content-Type" not in response.headers
    else:
        assert media_type(response) == "application/dicom+json"
    failed = response.json()[FAILED_SOP_SEQUENCE]["Value"]
    assert len(failed) == 1
    assert value(failed[0], SOP_INSTANCE) == instance.sop_uid
    assert value(failed[0], FAILURE_REASON) is not None
    assert not response.json().get(REFERENCED_SOP_SEQUENCE, {}).get("Value")
    # Nothing was stored under either study.
    for study_uid in (new_study.uid, other_study):
        retrieve = dicomweb_server.get(f"studies/{study_uid}/metadata", "application/dicom+json")
        assert retrieve.status_code == 404
