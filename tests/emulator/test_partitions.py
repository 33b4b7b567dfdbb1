"""Azure's data partitions over HTTP: routes, 400s, isolation, listing, RetrieveURLs and the change feed.

Texts and rules: Microsoft's PopulateDataPartitionFilterAttribute.cs, PartitionNameValidator.cs,
PartitionController.cs and DicomCoreResource.resx at eeefbe4d7; docs/concepts/data-partitions.md.
"""

import re
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import jwt
import pytest
import requests

from tests.emulator.emulator_testlib import PLAIN, session_for
from tests.support.part10 import build_instance
from tests.support.stow import DICOM_JSON, stow
from tests.support.sessions import EmulatorSession
from mock_server.launcher import Emulator, emulator_command, start_emulator
from mock_server.tokens import ALGORITHM, AUDIENCE, load_secret

DISABLED = "Data partitions feature is disabled."
MISSING = "PartitionName value is missing in the route segment."
NOT_FOUND = "Specified PartitionName does not exist."
INVALID = "The specified PartitionName is invalid. "
FLAG = "--enable-data-partitions"


@pytest.fixture(scope="module")
def partitioned(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """An emulator with data partitions on, shared by this module's tests."""
    with start_emulator(tmp_path_factory.mktemp("partitioned"), extra_args=[FLAG]) as emu:
        yield emu


@pytest.fixture(scope="module")
def client(partitioned: Emulator) -> EmulatorSession:
    """An owner session whose ``.base`` is the partitioned emulator's v2 base URL (no partition)."""
    return session_for(partitioned)


@pytest.fixture
def unique_name(request: pytest.FixtureRequest) -> Callable[[str], str]:
    """A partition name unique to this test (the module's emulator is shared)."""
    stem = re.sub(r"[^A-Za-z0-9]", "", request.node.name)[-40:]

    def name(suffix: str = "") -> str:
        return f"{stem}{suffix}"

    return name


def in_partition(client: EmulatorSession, name: str) -> EmulatorSession:
    """A session like ``client`` whose ``.base`` is that partition's base URL."""
    session = EmulatorSession(f"{client.base}/partitions/{name}", "")
    session.headers.update(client.headers)
    return session


def assert_400(response: requests.Response, text: str) -> None:
    assert response.status_code == 400, (response.status_code, response.text)
    assert response.headers["Content-Type"] == PLAIN
    assert response.text == text


# --- partitions off (the default) ------------------------------------------------------------

@pytest.mark.parametrize("method,path", [
    ("GET", "/partitions/p1/studies"), ("POST", "/partitions/p1/studies"),
    ("GET", "/partitions/p1/studies/1.2/metadata"), ("DELETE", "/partitions/p1/studies/1.2"),
    ("GET", "/partitions"),
])
def test_partition_routes_answer_feature_disabled_when_off(emulator_client: EmulatorSession, method: str,
                                                           path: str) -> None:
    headers = {"Accept": DICOM_JSON, "Content-Type": "application/dicom"} if method == "POST" else {}
    assert_400(emulator_client.request(method, emulator_client.base + path, headers=headers), DISABLED)


def test_partition_route_without_token_is_401_first(emulator_client: EmulatorSession) -> None:
    response = requests.get(emulator_client.base + "/partitions/p1/studies")
    assert response.status_code == 401


def test_listing_when_off_is_400_even_without_a_role(emulator: Emulator) -> None:
    # PartitionController throws before its handler's Read check.
    token = jwt.encode({"aud": AUDIENCE, "exp": int(time.time()) + 60, "roles": []},
                       load_secret(emulator.data_dir), algorithm=ALGORITHM)
    response = requests.get(emulator.base_url() + "/partitions", headers={"Authorization": f"Bearer {token}"})
    assert_400(response, DISABLED)


# --- partitions on: routes and 400s ----------------------------------------------------------

@pytest.mark.parametrize("method,path", [
    ("GET", "/studies"), ("GET", "/series"), ("GET", "/instances"), ("POST", "/studies"),
    ("GET", "/studies/1.2"), ("GET", "/studies/1.2/metadata"),
    ("GET", "/studies/1.2/series/3.4/instances/5.6/frames/1"),
    ("DELETE", "/studies/1.2"),
])
def test_transactions_without_partition_segment_are_400(client: EmulatorSession, method: str, path: str) -> None:
    headers = {"Accept": DICOM_JSON, "Content-Type": "application/dicom"} if method == "POST" else {}
    assert_400(client.request(method, client.base + path, headers=headers), MISSING)


@pytest.mark.parametrize("name", ["a" * 65, "has%20space", "semi;colon", "bang!", "%C3%A9t%C3%A9", "%20"])
def test_invalid_names_are_400(client: EmulatorSession, name: str) -> None:
    assert_400(client.get(f"{client.base}/partitions/{name}/studies"), INVALID)
    assert_400(stow(in_partition(client, name), [build_instance().data]), INVALID)


def test_reads_and_deletes_in_a_partition_never_stored_to_are_400(client: EmulatorSession,
                                                                   unique_name: Callable[[str], str]) -> None:
    p = in_partition(client, unique_name("never"))
    for method, path in [("GET", "/studies"), ("GET", "/studies/1.2/metadata"), ("GET", "/studies/1.2"),
                         ("DELETE", "/studies/1.2")]:
        assert_400(p.request(method, p.base + path), NOT_FOUND)
    assert unique_name("never") not in [e["partitionName"] for e in client.get(client.base + "/partitions").json()]


def test_change_feed_stays_at_the_base_url(client: EmulatorSession) -> None:
    assert client.get(client.base + "/changefeed").status_code == 200
    assert client.get(client.base + "/partitions/p1/changefeed").status_code == 404


# --- partitions on: storing, isolation, RetrieveURLs -----------------------------------------

def test_first_stow_creates_the_partition_with_partition_retrieve_urls(
        client: EmulatorSession, unique_name: Callable[[str], str]) -> None:
    name = unique_name("new")
    p = in_partition(client, name)
    instance = build_instance()
    response = stow(p, [instance.data], study=instance.study)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["00081190"]["Value"] == [f"{p.base}/studies/{instance.study}"]
    url = body["00081199"]["Value"][0]["00081190"]["Value"][0]
    assert url == f"{p.base}/{instance.path}"
    assert p.get(url + "/metadata").status_code == 200
    listed = {e["partitionName"]: e for e in client.get(client.base + "/partitions").json()}
    assert isinstance(listed[name]["partitionKey"], int) and listed[name]["partitionKey"] > 1
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}\+00:00", listed[name]["createdDate"])


def test_same_uids_in_two_partitions_never_cross(client: EmulatorSession,
                                                 unique_name: Callable[[str], str]) -> None:
    a, b = in_partition(client, unique_name("a")), in_partition(client, unique_name("b"))
    instance = build_instance()
    assert stow(a, [instance.data]).status_code == 200
    assert stow(b, [instance.data]).status_code == 200  # no 409: another partition
    assert stow(a, [instance.data]).status_code == 409
    assert a.delete(f"{a.base}/studies/{instance.study}").status_code == 204
    assert a.get(f"{a.base}/studies/{instance.study}/metadata").status_code == 404
    assert b.get(f"{b.base}/studies/{instance.study}/metadata").status_code == 200
    assert a.get(f"{a.base}/studies", params={"StudyInstanceUID": instance.study}).status_code == 204
    found = b.get(f"{b.base}/studies", params={"StudyInstanceUID": instance.study})
    assert [s["0020000D"]["Value"][0] for s in found.json()] == [instance.study]
    # Nothing of either partition in Microsoft.Default.
    default = in_partition(client, "Microsoft.Default")
    assert default.get(f"{default.base}/studies/{instance.study}/metadata").status_code == 404


def test_search_sees_only_its_partition(client: EmulatorSession, unique_name: Callable[[str], str]) -> None:
    a, b = in_partition(client, unique_name("a")), in_partition(client, unique_name("b"))
    mine, theirs = build_instance(PatientID="ISO-A"), build_instance(PatientID="ISO-B")
    assert stow(a, [mine.data]).status_code == 200
    assert stow(b, [theirs.data]).status_code == 200
    for session, expected in ((a, mine.study), (b, theirs.study)):
        for level in ("studies", "series", "instances"):
            hits = session.get(f"{session.base}/{level}").json()
            assert [h["0020000D"]["Value"][0] for h in hits] == [expected], level


def test_partition_names_ignore_case(client: EmulatorSession, unique_name: Callable[[str], str]) -> None:
    # Assumed from Azure's SQL Server lookup (default collation ignores case): one partition.
    name = unique_name("Case")
    instance = build_instance()
    assert stow(in_partition(client, name), [instance.data]).status_code == 200
    other = in_partition(client, name.upper())
    response = other.get(f"{other.base}/studies/{instance.study}/metadata")
    assert response.status_code == 200
    assert [e["partitionName"] for e in client.get(client.base + "/partitions").json()].count(name) == 1


def test_a_64_character_name_is_accepted(client: EmulatorSession) -> None:
    p = in_partition(client, "x." * 31 + "_-")
    assert stow(p, [build_instance().data]).status_code == 200


def test_literals_ignore_case_and_the_name_keeps_its_spelling(client: EmulatorSession) -> None:
    instance = build_instance()
    root = client.base.rsplit("/", 1)[0]
    response = client.post(f"{root}/V2/Partitions/Studies/STUDIES", data=instance.data, headers={
        "Content-Type": "application/dicom", "Accept": DICOM_JSON})
    assert response.status_code == 200, response.text
    url = response.json()["00081199"]["Value"][0]["00081190"]["Value"][0]
    assert url == f"{root}/v2/partitions/Studies/{instance.path}"
    assert "Studies" in [e["partitionName"] for e in client.get(client.base + "/partitions").json()]


def test_reader_cannot_create_a_partition(partitioned: Emulator, client: EmulatorSession,
                                          unique_name: Callable[[str], str]) -> None:
    reader = EmulatorSession(f"{client.base}/partitions/{unique_name('r')}", partitioned.token("reader"))
    response = stow(reader, [build_instance().data])
    assert response.status_code == 403
    assert unique_name("r") not in [e["partitionName"] for e in client.get(client.base + "/partitions").json()]


# --- listing and the change feed -------------------------------------------------------------

def test_listing_starts_with_microsoft_default(client: EmulatorSession) -> None:
    response = client.get(client.base + "/partitions")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    entries = response.json()
    assert entries[0]["partitionKey"] == 1 and entries[0]["partitionName"] == "Microsoft.Default"
    assert [e["partitionKey"] for e in entries] == sorted(e["partitionKey"] for e in entries)
    assert set(entries[0]) == {"partitionKey", "partitionName", "createdDate"}


def test_change_feed_names_each_entrys_partition(client: EmulatorSession,
                                                 unique_name: Callable[[str], str]) -> None:
    names = unique_name("feed1"), unique_name("feed2")
    instances = {}
    for name in names:
        instances[name] = build_instance()
        assert stow(in_partition(client, name), [instances[name].data]).status_code == 200
    latest = client.get(client.base + "/changefeed/latest").json()
    assert latest["partitionName"] == names[1]
    assert latest["sopInstanceUid"] == instances[names[1]].sop
    for version_base in (client.base, client.base.replace("/v2", "/v1")):
        feed = client.get(version_base + "/changefeed", params={"limit": 100, "offset": max(0, latest["sequence"] - 90)}
                          if version_base.endswith("v1") else {"limit": 200, "offset": 0}).json()
        by_sop = {e["sopInstanceUid"]: e["partitionName"] for e in feed}
        for name, instance in instances.items():
            assert by_sop.get(instance.sop) == name, version_base


# --- switching the feature ----------------------------------------------------------------------

def test_existing_data_is_in_microsoft_default(own_emulator: Callable[..., Emulator], tmp_path: Path) -> None:
    data = tmp_path / "data"
    before = own_emulator(data)
    instance = build_instance()
    assert stow(session_for(before), [instance.data]).status_code == 200
    before.stop()
    after = own_emulator(data, extra_args=[FLAG])
    default = in_partition(session_for(after), "Microsoft.Default")
    assert default.get(f"{default.base}/{instance.path}/metadata").status_code == 200
    assert session_for(after).get(f"{after.base_url()}/{instance.path}/metadata").status_code == 400


def test_environment_variable_switches_partitions_on(own_emulator: Callable[..., Emulator],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DicomServer__Features__EnableDataPartitions", "True")
    emu = own_emulator()
    assert_400(session_for(emu).get(emu.base_url() + "/studies"), MISSING)


def test_feature_cannot_be_switched_off_once_partitioned(own_emulator: Callable[..., Emulator],
                                                         tmp_path: Path) -> None:
    data = tmp_path / "data"
    emu = own_emulator(data, extra_args=[FLAG])
    assert stow(in_partition(session_for(emu), "p1"), [build_instance().data]).status_code == 200
    emu.stop()
    result = subprocess.run(emulator_command(data), capture_output=True, text=True, timeout=60,
                            stdin=subprocess.DEVNULL, cwd=Path(__file__).resolve().parents[2])
    assert result.returncode == 1
    assert "Data partitions feature cannot be disabled while existing data has already been partitioned." \
        in result.stderr


# --- where the partition filter runs among STOW's filters -------------------------------------

def test_stow_content_type_415_comes_before_the_partition_400(emulator_client: EmulatorSession,
                                                             client: EmulatorSession) -> None:
    # [Consumes] is a resource filter: it runs before the controller's data-partition action filter.
    for session, path in ((emulator_client, "/partitions/p1/studies"), (client, "/studies")):
        response = session.post(session.base + path, data=b"x",
                                headers={"Content-Type": "text/plain", "Accept": DICOM_JSON})
        assert response.status_code == 415, response.text


def test_stow_partition_400_comes_before_the_accept_406(client: EmulatorSession) -> None:
    # The data-partition filter (controller) runs before the AcceptContentFilter (action).
    response = client.post(client.base + "/studies", data=b"x",
                           headers={"Content-Type": "application/dicom", "Accept": "text/html"})
    assert_400(response, MISSING)
    response = client.post(client.base + "/partitions/acceptfirst/studies", data=b"x",
                           headers={"Content-Type": "application/dicom", "Accept": "text/html"})
    assert response.status_code == 406
    # So the filter has created the partition by then, as Azure's GetOrAddPartition does.
    assert "acceptfirst" in [e["partitionName"] for e in client.get(client.base + "/partitions").json()]
