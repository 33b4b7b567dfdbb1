"""Paths and methods are matched as ASP.NET Core matches them on Azure: no redirects, case-insensitive
literal segments, ``%2F`` never a separator, dot segments resolved, 405 listing every allowed method."""

import json
from urllib.parse import urlsplit

import pytest

from tests.emulator.emulator_testlib import DICOM_JSON_UTF8, PLAIN, invalid_uid_text, raw_request
from tests.support.part10 import build_instance
from tests.support.data_dir import index_count
from tests.support.stow import DICOM_JSON, multipart


def base_path(emulator, version: str = "v2") -> str:
    return urlsplit(emulator.base_url(version)).path


@pytest.mark.parametrize("suffix", ["studies/", "changefeed/", "changefeed/latest/"])
def test_a_trailing_slash_is_served_without_a_redirect(emulator, stored, suffix):
    stored()
    status, headers, body = raw_request(emulator, "GET", f"{base_path(emulator)}/{suffix}", {"Accept": DICOM_JSON})
    assert status == 200
    assert "location" not in headers
    assert json.loads(body)


def test_two_trailing_slashes_are_404(emulator):
    status, _, body = raw_request(emulator, "GET", f"{base_path(emulator)}/changefeed//")
    assert (status, body) == (404, b"")


def test_literal_segments_match_whatever_their_case(emulator, stored):
    inst = stored()
    path = f"/V2/Studies/{inst.study}/SERIES/{inst.series}/Instances/{inst.sop}/MetaData"
    status, headers, body = raw_request(emulator, "GET", path, {"Accept": DICOM_JSON})
    assert status == 200
    assert headers["content-type"] == DICOM_JSON_UTF8
    assert json.loads(body)[0]["00080018"]["Value"] == [inst.sop]


def test_an_encoded_slash_stays_inside_the_uid_segment(emulator, stored):
    inst = stored()
    # Decoded as a separator, this would name the series and delete it.
    path = f"{base_path(emulator)}/studies/{inst.study}%2Fseries%2F{inst.series}"
    before = index_count(emulator.data_dir)
    status, headers, body = raw_request(emulator, "DELETE", path)
    assert status == 400
    assert headers["content-type"] == PLAIN
    assert body == invalid_uid_text("StudyInstanceUid").encode()
    assert index_count(emulator.data_dir) == before
    status, _, _ = raw_request(emulator, "GET", f"{base_path(emulator)}/{inst.path}/metadata", {"Accept": DICOM_JSON})
    assert status == 200


def test_encoded_dots_in_a_uid_are_plain_dots(emulator, stored):
    inst = stored()
    path = f"{base_path(emulator)}/studies/{inst.study.replace('.', '%2E')}/metadata"
    status, _, body = raw_request(emulator, "GET", path, {"Accept": DICOM_JSON})
    assert status == 200
    assert json.loads(body)[0]["0020000D"]["Value"] == [inst.study]


def test_a_stow_to_an_encoded_dot_dot_study_reaches_no_route(emulator):
    # "/v2/studies/%2e%2e" is "/v2/studies/.." is "/v2": not a STOW.
    inst = build_instance()
    body, content_type = multipart([inst.data])
    before = index_count(emulator.data_dir)
    status, _, response_body = raw_request(emulator, "POST", f"{base_path(emulator)}/studies/%2e%2e",
                                           {"Accept": DICOM_JSON, "Content-Type": content_type}, body)
    assert (status, response_body) == (404, b"")
    assert index_count(emulator.data_dir) == before


def test_dot_segments_are_resolved_before_routing(emulator, stored):
    inst = stored()
    path = f"{base_path(emulator)}/{inst.path}/frames/../metadata"
    status, _, body = raw_request(emulator, "GET", path, {"Accept": DICOM_JSON})
    assert status == 200
    assert json.loads(body)[0]["00080018"]["Value"] == [inst.sop]
    status, headers, _ = raw_request(emulator, "GET", f"{base_path(emulator)}/studies/1.2.3/../../changefeed")
    assert status == 200
    assert headers["content-type"] == "application/json; charset=utf-8"


@pytest.mark.parametrize("method,suffix,allowed", [
    ("PUT", "studies", {"GET", "POST"}),
    ("PATCH", "{study}", {"GET", "POST", "DELETE"}),
    ("PUT", "{study}/series/{series}", {"GET", "DELETE"}),
    ("POST", "{instance}", {"GET", "DELETE"}),
    ("HEAD", "{instance}", {"GET", "DELETE"}),
    ("HEAD", "changefeed", {"GET"}),
    ("OPTIONS", "{instance}/metadata", {"GET"}),
    ("DELETE", "{instance}/frames/1", {"GET"}),
])
def test_other_methods_are_405_listing_every_allowed_method(emulator, stored, method, suffix, allowed):
    inst = stored()
    suffix = suffix.format(study=f"studies/{inst.study}", series=inst.series, instance=inst.path)
    before = index_count(emulator.data_dir)
    status, headers, body = raw_request(emulator, method, f"{base_path(emulator)}/{suffix}")
    assert status == 405
    assert body == b""
    assert set(headers["allow"].split(", ")) == allowed
    assert index_count(emulator.data_dir) == before


def test_a_uid_may_end_in_spaces_beyond_64_characters(emulator, stored):
    study = "1." + "2" * 62  # exactly 64 characters
    inst = stored(study=study)
    for padding in ("%20", "%20%20%20"):
        status, _, body = raw_request(emulator, "GET", f"{base_path(emulator)}/studies/{study}{padding}/metadata",
                                      {"Accept": DICOM_JSON})
        assert status == 200
        assert json.loads(body)[0]["00080018"]["Value"] == [inst.sop]
    status, headers, body = raw_request(emulator, "GET", f"{base_path(emulator)}/studies/{study}5/metadata",
                                        {"Accept": DICOM_JSON})
    assert status == 400
    assert headers["content-type"] == PLAIN
    assert body == invalid_uid_text("StudyInstanceUid").encode()
