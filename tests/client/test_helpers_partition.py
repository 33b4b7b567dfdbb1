"""The helpers in an Azure data partition: DICOMWEB_PARTITION or a /partitions/<name> URL, against an
emulator with partitions on."""

from collections.abc import Iterator

import pytest

import helpers
from helpers import changefeed
from helpers.cleanup import delete_study
from helpers.client import DicomWeb
from helpers.config import ConfigError, load_config
from helpers.multipart import encode_multipart_related
from helpers.samples import ALL, STUDY_UID
from mock_server.launcher import Emulator, start_emulator

AZURE = "https://ws-dicom.dicom.azurehealthcareapis.com/v2"


@pytest.fixture(scope="module")
def partitioned(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with start_emulator(tmp_path_factory.mktemp("partitioned"), extra_args=["--enable-data-partitions"]) as emu:
        yield emu


@pytest.fixture(autouse=True)
def _reset_partition() -> Iterator[None]:
    yield
    changefeed.set_partition(None)  # connect() sets it for the whole process


def learner(emu: Emulator, name: str) -> DicomWeb:
    """What a learner's two pasted lines give: the partition's URL and a token."""
    return helpers.connect({"DICOMWEB_URL": f"{emu.base_url()}/partitions/{name}", "DICOMWEB_TOKEN": emu.token()})


def store_samples(client: DicomWeb) -> None:
    body, content_type = encode_multipart_related([sample.data() for sample in ALL])
    r = client.session.post(client.url(f"studies/{STUDY_UID}"), data=body,
                            headers={"Content-Type": content_type, "Accept": "application/dicom+json"})
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("env, partition", [
    ({"DICOMWEB_PARTITION": "alice"}, "alice"),
    ({"DICOMWEB_URL": AZURE + "/partitions/bob"}, "bob"),
    ({"DICOMWEB_URL": AZURE + "/Partitions/bob/", "DICOMWEB_PARTITION": "BOB"}, "bob"),
    ({"DICOMWEB_URL": AZURE}, None),
])
def test_partition_from_the_variable_or_the_url(env: dict, partition: str | None) -> None:
    config = load_config(env)
    assert config.partition == partition
    base = config.url
    assert base.endswith("/v2")
    assert config.partition_url == (f"{base}/partitions/{partition}" if partition else base)


def test_a_partition_url_names_azures_api_and_a_token_authenticates() -> None:
    config = load_config({"DICOMWEB_URL": "http://192.0.2.10:8765/v2/partitions/p07", "DICOMWEB_TOKEN": "t"})
    assert (config.url, config.partition, config.auth, config.server) == (
        "http://192.0.2.10:8765/v2", "p07", "token", "azure")
    assert not config.starts_emulator


@pytest.mark.parametrize("env, message", [
    ({"DICOMWEB_PARTITION": "a b"}, "not a partition name"),
    ({"DICOMWEB_PARTITION": "x" * 65}, "not a partition name"),
    ({"DICOMWEB_URL": AZURE + "/partitions/a", "DICOMWEB_PARTITION": "b"}, "disagree"),
    ({"DICOMWEB_URL": "http://127.0.0.1:8042/dicom-web", "DICOMWEB_PARTITION": "a"}, "needs Azure"),
])
def test_bad_partition_settings_are_reported(env: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(env)


def test_dicomweb_routes_go_to_the_partition_and_the_change_feed_stays(partitioned: Emulator) -> None:
    client = learner(partitioned, "routes")
    assert client.url("studies?limit=1") == f"{partitioned.base_url()}/partitions/routes/studies?limit=1"
    assert client.url("/series") == f"{partitioned.base_url()}/partitions/routes/series"
    assert client.url("changefeed") == f"{partitioned.base_url()}/changefeed"
    assert client.session.get(client.url("changefeed")).status_code == 200


def test_cleanup_in_a_partition_not_created_yet_is_quiet(partitioned: Emulator) -> None:
    client = learner(partitioned, "fresh")
    delete_study(client, STUDY_UID)  # Azure's 400 "Specified PartitionName does not exist."
    store_samples(client)
    delete_study(client, STUDY_UID)
    r = client.session.get(client.url(f"studies/{STUDY_UID}/metadata"))
    assert r.status_code == 404


def test_change_feed_helpers_keep_the_clients_partition(partitioned: Emulator) -> None:
    store_samples(learner(partitioned, "neighbour"))
    client = learner(partitioned, "me")
    store_samples(client)
    entries = client.session.get(client.url("changefeed"), params={"limit": 100}).json()
    assert {e["partitionName"] for e in entries} >= {"neighbour", "me"}
    names = {sample.sop_uid: sample.name for sample in ALL}
    mine = changefeed.of_study(entries, STUDY_UID)
    assert {e["partitionName"] for e in mine} == {"me"}
    assert len(changefeed.summary(entries, names)) == len(ALL)


def test_without_a_partition_every_entry_counts() -> None:
    changefeed.set_partition(None)
    entries = [{"studyInstanceUid": STUDY_UID, "partitionName": p} for p in ("a", "b")]
    assert len(changefeed.of_study(entries, STUDY_UID)) == 2
