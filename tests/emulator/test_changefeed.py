"""The change feed of the emulator, over HTTP: Azure's entry shape, states and v1/v2 paging.

The feed is shared by every test of the session, so each test first reads the latest sequence
number and only looks at the entries that come after it (or at its own instances' UIDs).
"""

import re
from datetime import datetime, timedelta

import pytest
import requests
from pydicom.uid import generate_uid

from helpers.multipart import encode_multipart_related
from mock_server.launcher import start_emulator
from tests.support.part10 import bare_instance
from tests.support.stow import stow as store_files

JSON_UTF8 = "application/json; charset=utf-8"
ENTRY_KEYS = ["sequence", "partitionName", "studyInstanceUid", "seriesInstanceUid", "sopInstanceUid",
              "action", "timestamp", "state", "metadata"]
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}\+00:00$")


def make_instance(study: str, series: str, sop: str) -> bytes:
    return bare_instance(study, series, sop, PatientID="FEED-1", PatientName="Feed^Test")


def stow(client, count: int = 1) -> list[tuple[str, str, str]]:
    """Store ``count`` new instances in one request; return their (study, series, sop) UIDs."""
    study, series = generate_uid(), generate_uid()
    keys: list[tuple[str, str, str]] = [(study, series, generate_uid()) for _ in range(count)]
    response = store_files(client, [make_instance(*k) for k in keys])
    assert response.status_code == 200, response.text
    return keys


def url(client, version: str, path: str = "changefeed") -> str:
    return f"{client.base.rsplit('/', 1)[0]}/{version}/{path}"


def entries(response) -> list[dict]:
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == JSON_UTF8
    body = response.json()
    assert isinstance(body, list)
    return body


def entry(response) -> dict:
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == JSON_UTF8
    body = response.json()
    assert isinstance(body, dict)
    return body


def bad(response, message: str) -> None:
    assert response.status_code == 400, response.text
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.text == message


def invalid(key: str, detail: str) -> str:
    """Azure's QueryModelStateValidator text (InvalidQueryStringValue) around a model-state error."""
    return f"The query parameter '{key}' is invalid. {detail}"


def not_valid(key: str, raw: str) -> str:
    detail = f"The value '{raw}' is not valid for {key}." if raw.strip() else f"The value '{raw}' is invalid."
    return invalid(key, detail)


LONG_MAX_TEXT = "9.223372036854776E+18"  # RangeAttribute(0, long.MaxValue) prints its double bound
NO_ZONE = "Date and time value must specify a time zone."


def latest_sequence(client) -> int:
    response = client.get(url(client, "v1", "changefeed/latest"), params={"includeMetadata": "false"})
    return 0 if response.status_code == 204 else entry(response)["sequence"]


def after(client, sequence: int, **params) -> list[dict]:
    """v1 entries with a sequence number above ``sequence``."""
    return entries(client.get(url(client, "v1"), params={"offset": sequence, "limit": 100, **params}))


# --- entry shape -----------------------------------------------------------------------------------

def test_entry_has_azure_keys_in_order(emulator_client):
    (study, series, sop), = stow(emulator_client)
    latest = entry(emulator_client.get(url(emulator_client, "v2", "changefeed/latest")))
    assert list(latest) == ENTRY_KEYS
    assert latest["partitionName"] == "Microsoft.Default"
    assert (latest["studyInstanceUid"], latest["seriesInstanceUid"], latest["sopInstanceUid"]) == (study, series, sop)
    assert (latest["action"], latest["state"]) == ("Create", "Current")
    assert TIMESTAMP.match(latest["timestamp"])
    assert latest["metadata"]["00080018"] == {"vr": "UI", "Value": [sop]}
    assert latest["metadata"]["00100010"] == {"vr": "PN", "Value": [{"Alphabetic": "Feed^Test"}]}
    # The list holds the same entry.
    assert after(emulator_client, latest["sequence"] - 1) == [latest]


@pytest.mark.parametrize("name, value", [("includeMetadata", "false"), ("includemetadata", "FALSE"),
                                         ("IncludeMetadata", "False")])
def test_include_metadata_false_leaves_metadata_out(emulator_client, name, value):
    base = latest_sequence(emulator_client)
    stow(emulator_client)
    listed = after(emulator_client, base, **{name: value})
    assert [list(e) for e in listed] == [ENTRY_KEYS[:-1]]
    latest = entry(emulator_client.get(url(emulator_client, "v1", "changefeed/latest"), params={name: value}))
    assert list(latest) == ENTRY_KEYS[:-1]
    assert "metadata" in after(emulator_client, base, includeMetadata="true")[0]


@pytest.mark.parametrize("value", ["yes", "1", ""])
@pytest.mark.parametrize("path", ["changefeed", "changefeed/latest"])
def test_include_metadata_must_be_true_or_false(emulator_client, path, value):
    for version in ("v1", "v2"):
        bad(emulator_client.get(url(emulator_client, version, path), params={"includeMetadata": value}),
            not_valid("includeMetadata", value))


# --- states ----------------------------------------------------------------------------------------

def test_states_after_create_delete_create(emulator_client):
    base = latest_sequence(emulator_client)
    (study, series, sop), = stow(emulator_client)
    response = emulator_client.delete(f"{emulator_client.base}/studies/{study}/series/{series}/instances/{sop}")
    assert response.status_code == 204, response.text
    deleted = after(emulator_client, base)
    assert [(e["action"], e["state"]) for e in deleted] == [("Create", "Deleted"), ("Delete", "Deleted")]
    assert all("metadata" not in e and e["sopInstanceUid"] == sop for e in deleted)

    body, content_type = encode_multipart_related([make_instance(study, series, sop)])
    response = emulator_client.post(f"{emulator_client.base}/studies", data=body,
                                    headers={"Content-Type": content_type, "Accept": "application/dicom+json"})
    assert response.status_code == 200, response.text
    final = after(emulator_client, base)
    assert [(e["action"], e["state"]) for e in final] == [
        ("Create", "Replaced"), ("Delete", "Replaced"), ("Create", "Current")]
    # Replaced entries carry the current version's metadata too (ChangeFeedService).
    assert ["metadata" in e for e in final] == [True, True, True]
    assert final[0]["metadata"] == final[1]["metadata"] == final[2]["metadata"]
    assert final[2]["metadata"]["00080018"]["Value"] == [sop]


# --- v1 paging by sequence ------------------------------------------------------------------------

def test_v1_offset_is_an_exclusive_sequence_and_limit_bounds_the_range(emulator_client):
    base = latest_sequence(emulator_client)
    keys = stow(emulator_client, 3)
    feed = url(emulator_client, "v1")
    first = entries(emulator_client.get(feed, params={"offset": base}))
    assert [e["sequence"] for e in first] == [base + 1, base + 2, base + 3]
    assert [e["sopInstanceUid"] for e in first] == [k[2] for k in keys]
    page = entries(emulator_client.get(feed, params={"offset": base, "limit": 2}))
    assert [e["sequence"] for e in page] == [base + 1, base + 2]
    page = entries(emulator_client.get(feed, params={"offset": base + 2, "limit": 2}))
    assert [e["sequence"] for e in page] == [base + 3]
    assert entries(emulator_client.get(feed, params={"offset": base + 3})) == []
    # v1 has no time window: a startTime is not even read.
    assert len(entries(emulator_client.get(feed, params={"offset": base, "startTime": "soon"}))) == 3


def test_default_limits_are_10_in_v1_and_100_in_v2(emulator_client):
    base = latest_sequence(emulator_client)
    stow(emulator_client, 101)
    v1 = entries(emulator_client.get(url(emulator_client, "v1"), params={"offset": base}))
    assert [e["sequence"] for e in v1] == list(range(base + 1, base + 11))
    start = v1[0]["timestamp"]
    v2 = entries(emulator_client.get(url(emulator_client, "v2"), params={"startTime": start}))
    assert [e["sequence"] for e in v2] == list(range(base + 1, base + 101))
    rest = entries(emulator_client.get(url(emulator_client, "v2"), params={"startTime": start, "offset": 100}))
    assert [e["sequence"] for e in rest] == [base + 101]


@pytest.mark.parametrize("params, message", [
    # v1 binds action parameters: the model-state key and the [Range] display name are "offset", "limit".
    ({"limit": 0}, invalid("limit", "The field limit must be between 1 and 100.")),
    ({"limit": 101}, invalid("limit", "The field limit must be between 1 and 100.")),
    ({"limit": "ten"}, not_valid("limit", "ten")),
    ({"offset": -1}, invalid("offset", f"The field offset must be between 0 and {LONG_MAX_TEXT}.")),
    ({"offset": "first"}, not_valid("offset", "first")),
    # .NET parses ASCII digits only: a fullwidth or Arabic-Indic one is not a number.
    ({"limit": "\uff11"}, not_valid("limit", "\uff11")), ({"offset": "\u0661"}, not_valid("offset", "\u0661")),
    ({"offset": str(2**63)}, not_valid("offset", str(2**63))),
    ({"offset": "x", "limit": "y"}, not_valid("offset", "x")),  # the first parameter in declaration order
])
def test_v1_bad_paging_is_400(emulator_client, params, message):
    bad(emulator_client.get(url(emulator_client, "v1"), params=params), message)


def test_v1_limit_100_is_allowed(emulator_client):
    assert len(entries(emulator_client.get(url(emulator_client, "v1"), params={"limit": 100}))) <= 100


# --- v2 paging by time window --------------------------------------------------------------------

def _in_plus_two(timestamp: str) -> str:
    """The same instant written with a +02:00 offset."""
    whole, fraction = timestamp[:19], timestamp[20:27]
    moved = datetime.strptime(whole, "%Y-%m-%dT%H:%M:%S") + timedelta(hours=2)
    return f"{moved:%Y-%m-%dT%H:%M:%S}.{fraction}+02:00"


def test_v2_time_window_start_inclusive_end_exclusive(emulator_client):
    base = latest_sequence(emulator_client)
    for _ in range(3):
        stow(emulator_client)  # one request each: three distinct timestamps
    mine = after(emulator_client, base)
    (s1, t1), (s2, t2), (s3, t3) = [(e["sequence"], e["timestamp"]) for e in mine]
    feed = url(emulator_client, "v2")

    def sequences(**params) -> list[int]:
        return [e["sequence"] for e in entries(emulator_client.get(feed, params=params))]

    assert sequences(startTime=t2) == [s2, s3]
    assert sequences(startTime=t1, endTime=t3) == [s1, s2]
    assert sequences(startTime=t1, endTime=t2) == [s1]
    assert sequences(startTime=_in_plus_two(t2)) == [s2, s3]
    assert sequences(startTime=t1, offset=1, limit=1) == [s2]
    assert sequences(startTime=t1, offset=3) == []
    assert sequences(startTime=t1, limit=200) == [s1, s2, s3]
    assert sequences(startTime=t1, endTime="9999-12-31T23:59:59Z") == [s1, s2, s3]


@pytest.mark.parametrize("params, message", [
    # v2 binds WindowedPaginationOptions: keys and display names are its property names.
    ({"limit": 0}, invalid("Limit", "The field Limit must be between 1 and 200.")),
    ({"limit": 201}, invalid("Limit", "The field Limit must be between 1 and 200.")),
    ({"limit": "many"}, not_valid("Limit", "many")),
    ({"offset": -1}, invalid("Offset", f"The field Offset must be between 0 and {LONG_MAX_TEXT}.")),
    ({"offset": "1.5"}, not_valid("Offset", "1.5")),
    ({"startTime": "2024-01-01T10:00:00"}, invalid("StartTime", NO_ZONE)),
    ({"endTime": "2024-01-01T10:00:00"}, invalid("EndTime", NO_ZONE)),
    # MandatoryTimeZoneBinder adds the FormatException itself, whose model-state message is empty.
    ({"startTime": "yesterday"}, invalid("StartTime", "")),
    ({"startTime": "2024-13-01T10:00:00Z"}, invalid("StartTime", "")),
    ({"limit": "\uff15"}, not_valid("Limit", "\uff15")),
    ({"startTime": "\u0662\u0660\u0662\u0664-01-01T10:00:00Z"}, invalid("StartTime", "")),
    # DateTimeOffset allows offsets up to 14 hours, with minutes below 60.
    ({"startTime": "2024-01-01T10:00:00+14:01"}, invalid("StartTime", "")),
    ({"endTime": "2024-01-01T10:00:00-15:00"}, invalid("EndTime", "")),
    ({"startTime": "2024-01-01T10:00:00+01:60"}, invalid("StartTime", "")),
    # The window check (IValidatableObject, no member name, options bound without a prefix: key '').
    ({"startTime": "2024-01-01T10:00:00Z", "endTime": "2024-01-01T10:00:00Z"},
     invalid("", "The start time '2024-01-01T10:00:00.0000000+00:00' must occur strictly before the end time "
                 "'2024-01-01T10:00:00.0000000+00:00'.")),
    ({"startTime": "2024-01-02T00:00:00+02:00", "endTime": "2024-01-01T00:00:00Z"},
     invalid("", "The start time '2024-01-01T22:00:00.0000000+00:00' must occur strictly before the end time "
                 "'2024-01-01T00:00:00.0000000+00:00'.")),
])
def test_v2_bad_paging_is_400(emulator_client, params, message):
    bad(emulator_client.get(url(emulator_client, "v2"), params=params), message)


def test_v2_offset_is_64_bit(emulator_client):
    # PaginationOptions.Offset is a long: beyond int.MaxValue it is simply past the end of the feed.
    response = emulator_client.get(url(emulator_client, "v2"), params={"offset": 2**31})
    assert response.status_code == 200
    assert response.json() == []


# --- latest ----------------------------------------------------------------------------------------

def test_latest_is_the_newest_entry_in_both_versions(emulator_client):
    (study, series, sop), = stow(emulator_client)
    v1 = entry(emulator_client.get(url(emulator_client, "v1", "changefeed/latest")))
    v2 = entry(emulator_client.get(url(emulator_client, "v2", "changefeed/latest")))
    assert v1 == v2
    assert v1["sopInstanceUid"] == sop
    assert after(emulator_client, v1["sequence"]) == []


def test_latest_reads_no_paging_parameters(emulator_client):
    stow(emulator_client)
    response = emulator_client.get(url(emulator_client, "v2", "changefeed/latest"),
                                   params={"limit": 0, "offset": -1, "startTime": "never"})
    assert entry(response)["action"] == "Create"


def test_empty_feed(tmp_path):
    with start_emulator(tmp_path / "data", in_memory=True) as emu, requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {emu.token()}"
        for version in ("v1", "v2"):
            response = session.get(f"{emu.base_url(version)}/changefeed")
            assert response.status_code == 200
            assert response.headers["Content-Type"] == JSON_UTF8
            assert response.json() == []
            response = session.get(f"{emu.base_url(version)}/changefeed/latest")
            assert response.status_code == 204
            assert response.content == b""


def test_reader_token_may_read_the_feed(emulator, emulator_client):
    (study, series, sop), = stow(emulator_client)
    with requests.Session() as reader:
        reader.headers["Authorization"] = f"Bearer {emulator.token(role='reader')}"
        latest = entry(reader.get(f"{emulator.base_url('v2')}/changefeed/latest"))
        assert latest["sopInstanceUid"] == sop
