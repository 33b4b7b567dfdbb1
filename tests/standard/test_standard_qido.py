"""QIDO-RS as PS3.18 defines it: the six search resources, paging, empty results, URI decoding."""

from __future__ import annotations

import uuid

import pytest
import requests

from tests.standard.dicomweb_parts import media_type, values

DICOM_JSON = "application/dicom+json"
STUDY, SERIES, SOP = "0020000D", "0020000E", "00080018"


def _search(server, path: str, **params) -> requests.Response:
    return server.get(path, DICOM_JSON, params=params)


def _matches(response: requests.Response) -> list[dict]:
    assert response.status_code == 200, response.text
    assert media_type(response) == DICOM_JSON
    body = response.json()
    assert isinstance(body, list)
    return body


def _assert_empty_result(server, response: requests.Response, departure: str) -> None:
    if server.departs(departure):
        assert response.status_code == 200 and response.json() == []
    else:
        assert response.status_code == 204
        assert response.content == b""


# (resource path template, query key, which UID is searched for, tag holding it)
SIX_RESOURCES = {
    "studies": ("studies", "StudyInstanceUID", "study", STUDY),
    "series": ("series", "SeriesInstanceUID", "series", SERIES),
    "instances": ("instances", "SOPInstanceUID", "sop", SOP),
    "study's series": ("studies/{study}/series", "SeriesInstanceUID", "series", SERIES),
    "study's instances": ("studies/{study}/instances", "SOPInstanceUID", "sop", SOP),
    "series' instances": ("studies/{study}/series/{series}/instances", "SOPInstanceUID", "sop", SOP),
}


@pytest.mark.parametrize("resource", list(SIX_RESOURCES))
def test_search_by_uid_at_each_resource(dicomweb_server, stored_study, resource):
    template, key, which, tag = SIX_RESOURCES[resource]
    instance = stored_study.instances[1]
    uids = {"study": stored_study.uid, "series": instance.series_uid, "sop": instance.sop_uid}
    path = template.format(study=stored_study.uid, series=instance.series_uid)

    found = _matches(_search(dicomweb_server, path, **{key: uids[which]}))

    assert len(found) == 1
    assert values(found, tag) == [uids[which]]


@pytest.mark.parametrize(("path", "tag", "expected"), [
    ("studies/{study}/series", SERIES, "all series"),
    ("studies/{study}/instances", SOP, "all instances"),
    ("studies/{study}/series/{series_a}/instances", SOP, "series A instances"),
])
def test_search_within_a_study_lists_its_children(dicomweb_server, stored_study, path, tag, expected):
    uids = {
        "all series": [stored_study.series_a, stored_study.series_b],
        "all instances": [i.sop_uid for i in stored_study.instances],
        "series A instances": [i.sop_uid for i in stored_study.in_series(stored_study.series_a)],
    }[expected]

    found = _matches(_search(dicomweb_server, path.format(study=stored_study.uid, series_a=stored_study.series_a)))

    assert sorted(values(found, tag)) == sorted(uids)


def test_limit_and_offset_page_through_every_match_once(dicomweb_server, stored_study):
    path = f"studies/{stored_study.uid}/instances"
    pages = [_matches(_search(dicomweb_server, path, limit=1, offset=offset)) for offset in range(3)]

    assert [len(page) for page in pages] == [1, 1, 1]
    assert sorted(values(sum(pages, []), SOP)) == sorted(i.sop_uid for i in stored_study.instances)

    first_two = _matches(_search(dicomweb_server, path, limit=2, offset=0))
    rest = _matches(_search(dicomweb_server, path, limit=2, offset=2))
    assert len(first_two) == 2 and len(rest) == 1
    assert sorted(values(first_two + rest, SOP)) == sorted(i.sop_uid for i in stored_study.instances)


def test_offset_past_the_last_match_is_an_empty_result(dicomweb_server, stored_study):
    response = _search(dicomweb_server, f"studies/{stored_study.uid}/instances", limit=2, offset=3)
    _assert_empty_result(dicomweb_server, response, "qido-offset-past-end-204")


def test_search_with_no_match_is_an_empty_result(dicomweb_server, stored_study):
    response = _search(dicomweb_server, "studies", PatientID=f"NOBODY-{uuid.uuid4().hex[:8]}")
    _assert_empty_result(dicomweb_server, response, "qido-no-match-204")


def test_search_by_attribute_finds_the_study(dicomweb_server, stored_study):
    found = _matches(_search(dicomweb_server, "studies", PatientID=stored_study.patient_id))
    assert values(found, STUDY) == [stored_study.uid]


def test_percent_encoded_query_values_are_decoded(dicomweb_server, stored_study):
    """``PatientID=STD%2D…`` is the same query as ``PatientID=STD-…`` (RFC 3986 percent-encoding)."""
    encoded = stored_study.patient_id.replace("-", "%2D")
    prepared = dicomweb_server.session.prepare_request(
        requests.Request("GET", dicomweb_server.url("studies"), headers={"Accept": DICOM_JSON}))
    # requests would normalise %2D back to "-" (an unreserved character): set the URL after preparing.
    prepared.url = f"{dicomweb_server.url('studies')}?PatientID={encoded}"
    response = dicomweb_server.session.send(prepared, timeout=30)

    assert "%2D" in response.request.url
    if dicomweb_server.departs("qido-percent-decoding"):
        assert response.status_code == 200 and response.json() == []
    else:
        assert values(_matches(response), STUDY) == [stored_study.uid]


@pytest.mark.parametrize(("study_date", "found"), [("20240101-20240131", True), ("20240116-20241231", False)])
def test_date_range_matching(dicomweb_server, stored_study, study_date, found):
    """StudyDate ranges (PS3.18 §8.3.4.1 range matching); the synthetic studies are dated 20240115."""
    response = _search(dicomweb_server, "studies", PatientID=stored_study.patient_id, StudyDate=study_date)
    if found:
        assert values(_matches(response), STUDY) == [stored_study.uid]
    else:
        _assert_empty_result(dicomweb_server, response, "qido-no-match-204")


def test_includefield_adds_the_requested_attribute(dicomweb_server, stored_study):
    found = _matches(_search(dicomweb_server, "studies", StudyInstanceUID=stored_study.uid,
                             includefield="StudyDescription"))
    assert values(found, "00081030") == ["Synthetic standard-test study"]
