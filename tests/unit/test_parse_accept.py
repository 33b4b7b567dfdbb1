"""mock_server.accept, in process: Accept headers parsed as ASP.NET Core's MediaTypeHeaderValue does."""

import pytest

from mock_server.accept import MediaRange, accepts_dicom_json, parse_accept, split_outside_quotes


@pytest.mark.parametrize(("text", "sep", "parts"), [
    ("a,b", ",", ["a", "b"]),
    ('a;type="x,y",b', ",", ['a;type="x,y"', "b"]),
    ("", ",", [""]),
    ("a;;b", ";", ["a", "", "b"]),
])
def test_split_outside_quotes(text: str, sep: str, parts: list[str]) -> None:
    assert split_outside_quotes(text, sep) == parts


@pytest.mark.parametrize(("header", "ranges"), [
    ("application/dicom", [MediaRange("application/dicom")]),
    ("Application/DICOM+JSON", [MediaRange("application/dicom+json")]),
    ("*/*;q=0.5", [MediaRange("*/*", {"q": "0.5"})]),
    ('multipart/related; type="application/dicom"; transfer-syntax=*',
     [MediaRange("multipart/related", {"type": "application/dicom", "transfer-syntax": "*"})]),
    ('multipart/related; Type="image/jp2", application/octet-stream',
     [MediaRange("multipart/related", {"type": "image/jp2"}), MediaRange("application/octet-stream")]),
    ("image/png;", [MediaRange("image/png")]),  # an empty parameter is skipped
])
def test_parse_accept(header: str, ranges: list[MediaRange]) -> None:
    assert parse_accept(header) == ranges


@pytest.mark.parametrize("header", [
    None, "", "   ",
    "application", "application/", "/json", "a/b/c",  # not type/subtype
    "application/dicom; q",  # a parameter without "="
    "application/dicom; q=a b",  # an unquoted value with a space
    "application/dicom, text",  # one invalid range spoils the whole header
])
def test_unparseable_or_missing_header_is_none(header: str | None) -> None:
    assert parse_accept(header) is None


@pytest.mark.parametrize(("header", "accepted"), [
    ("application/dicom+json", True),
    ("application/json", True),
    ("application/*", True),
    ("*/*", True),
    ("text/html, application/dicom+json;q=0.1", True),
    ("application/dicom", False),
    ("text/*", False),
    (None, False),
    ("", False),
    ("application/dicom+json, nonsense", False),
])
def test_accepts_dicom_json(header: str | None, accepted: bool) -> None:
    assert accepts_dicom_json(header) is accepted
