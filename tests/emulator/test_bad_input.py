"""Bad input of every kind gets Azure's 4xx with a clear message, never a 500, and leaves the store unchanged."""

import contextlib
import http.client
import io
import threading
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pydicom
import pytest
import requests
import uvicorn
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.tag import Tag
from pydicom.uid import DeflatedExplicitVRLittleEndian
from starlette.responses import StreamingResponse
from starlette.routing import Route

from tests.emulator.emulator_testlib import PLAIN, invalid_uid_text, raw_request, read_multipart
from tests.support.part10 import build_instance
from tests.support.data_dir import index_count, unindexed_files
from tests.support.stow import DICOM_JSON, multipart, stow
from mock_server.app import create_app, endpoint
from mock_server.tokens import make_token
from mock_server.storage import Store


@pytest.mark.parametrize("path", [
    "/v2/studies/../../etc/passwd",
    "/v2/studies/..%2F..%2Fetc%2Fpasswd/metadata",
    "/v2/studies/%2e%2e/series/%2e%2e/instances/%2e%2e",
    "/v2/studies/1.2.3/series/..%5c..%5cwindows/metadata",
    "/v2/studies/1.2.3%00/metadata",
    "/v2/studies/1.2.3/series/1.2.3/instances/1.2.3/frames/..%2f1",
    "/v2/../../../etc/passwd",
])
def test_path_traversal_is_rejected(emulator, path):
    status, headers, body = raw_request(emulator, "GET", path, {"Accept": DICOM_JSON})
    assert status in (400, 404)
    assert b"root:" not in body
    if status == 400:
        assert headers["content-type"] == PLAIN
        assert b"failed validation" in body or b"frames" in body


@pytest.mark.parametrize("path,name", [
    ("studies/" + "1" * 65 + "/metadata", "StudyInstanceUid"),
    ("studies/1.2/series/" + "2." * 40 + "1/metadata", "SeriesInstanceUid"),
    ("studies/1.2/series/3.4/instances/" + "5" * 7000 + "/metadata", "SopInstanceUid"),  # under 8 KiB
    ("studies/1.2.%C3%A9/metadata", "StudyInstanceUid"),
    ("studies/%20/metadata", "StudyInstanceUid"),
])
def test_oversized_or_invalid_uids_are_400(emulator_client, path, name):
    response = emulator_client.get(f"{emulator_client.base}/{path}", headers={"Accept": DICOM_JSON})
    assert response.status_code == 400
    assert response.headers["Content-Type"] == PLAIN
    assert response.text == invalid_uid_text(name)  # the bad value is not echoed


BAD_ACCEPTS = [";;;", "a/b; q=abc", "text", "/", "a/b; =c", 'multipart/related; type="application/dicom',
               "x" * 20000, "application/dicom; transfer-syntax=", "\u00e9/\u00e9".encode().decode("latin-1"),
               "*/*; q=NaN, image/png; q=-1"]


@pytest.mark.parametrize("accept", BAD_ACCEPTS)
def test_bad_accept_headers_never_fail_the_server(emulator_client, stored, accept):
    inst = stored(frames=2)
    base = f"{emulator_client.base}/{inst.path}"
    for url in (f"{emulator_client.base}/studies/{inst.study}", base, f"{base}/metadata", f"{base}/frames/1",
                f"{base}/rendered"):
        response = emulator_client.get(url, headers={"Accept": accept})
        # "*/*" inside an otherwise odd header can still be satisfiable.
        assert response.status_code in (200, 406), (url, response.status_code, response.text)
        if response.status_code == 406:
            assert response.headers.get("Content-Type") in (None, PLAIN)


@pytest.mark.parametrize("content_type,status", [
    ('multipart/related; boundary=""', 415),
    ("multipart/related; boundary=" + "b" * 300, 400),
    ("multipart/related; boundary", 415),
    ("multipart/related; boundary=abc; start", 415),
    ("MULTIPART/RELATED; BOUNDARY=abc", 204),
    ("application/dicom; charset", 415),
    ("image/png", 415),
])
def test_bad_content_type_headers(emulator_client, emulator, content_type, status):
    before = index_count(emulator.data_dir)
    response = emulator_client.post(f"{emulator_client.base}/studies", data=b"--abc--\r\n",
                                    headers={"Content-Type": content_type, "Accept": DICOM_JSON})
    assert response.status_code == status
    if status != 204 and content_type != "image/png":  # [Consumes] answers image/png without a body
        assert response.headers["Content-Type"] == PLAIN
    assert index_count(emulator.data_dir) == before


@pytest.mark.parametrize("name,part", [
    ("random bytes", bytes(range(256)) * 40),
    ("DICM prefix only", b"\0" * 128 + b"DICM"),
    ("huge declared length", b"\0" * 128 + b"DICM" + b"\x02\x00\x10\x00UI\xff\xff" + b"1" * 100),
    ("text", "not dicom at all, \u00e9\u00e8".encode()),
])
def test_non_dicom_parts_are_409_43264(emulator_client, emulator, name, part):
    before = index_count(emulator.data_dir)
    response = stow(emulator_client, [part])
    assert response.status_code == 409, name
    assert response.json() == {"00081198": {"vr": "SQ", "Value": [{"00081197": {"vr": "US", "Value": [43264]}}]}}
    assert index_count(emulator.data_dir) == before


def test_file_without_a_data_set_is_409_43264(emulator_client):
    meta_only = b"\0" * 128 + b"DICM" + b"\x02\x00\x10\x00UI\x04\x001.2\0"
    response = stow(emulator_client, [meta_only])
    assert response.status_code == 409
    item = response.json()["00081198"]["Value"][0]
    assert item["00081197"] == {"vr": "US", "Value": [43264]}
    assert "00081155" not in item
    assert "is missing" in item["00741048"]["Value"][0]["00000902"]["Value"][0]


def test_oversized_part_header_is_400(emulator_client, emulator):
    before = index_count(emulator.data_dir)
    body = b"--h\r\nContent-Type: application/dicom\r\nX-Big: " + b"a" * 100_000 + b"\r\n\r\nxx\r\n--h--\r\n"
    response = emulator_client.post(f"{emulator_client.base}/studies", data=body, headers={
        "Content-Type": "multipart/related; boundary=h", "Accept": DICOM_JSON})
    assert response.status_code == 400
    assert response.headers["Content-Type"] == PLAIN
    assert index_count(emulator.data_dir) == before


def test_undecodable_values_are_dropped_with_a_warning(emulator_client):
    inst = build_instance(ImageComments="ok")
    ds = pydicom.dcmread(io.BytesIO(inst.data))
    # SpatialResolution (not indexed), written raw because pydicom refuses to build such a value.
    ds[0x00181050] = RawDataElement(Tag(0x00181050), "DS", 12, b"not-a-number", 0, False, True)
    buffer = io.BytesIO()
    ds.save_as(buffer)
    response = stow(emulator_client, [buffer.getvalue()])
    assert response.status_code == 202
    comment = response.json()["00081199"]["Value"][0]["00741048"]["Value"][0]["00000902"]["Value"][0]
    assert comment.startswith("DICOM100: (0018,1050)")
    meta = emulator_client.get(f"{emulator_client.base}/{inst.path}/metadata", headers={"Accept": DICOM_JSON}).json()
    assert "00181050" not in meta[0]
    assert meta[0]["00204000"] == {"vr": "LT", "Value": ["ok"]}


def test_sequences_private_and_binary_elements_in_metadata(emulator_client):
    inst = build_instance()
    ds = pydicom.dcmread(io.BytesIO(inst.data))
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = "T-1", "SRT", "Synthetic"
    item.add_new(0x00091010, "OB", b"\x01\x02")  # bulk data inside an item is left out too
    ds.AnatomicRegionSequence = [item]
    ds.ReferencedImageSequence = []
    block = ds.private_block(0x0011, "SYNTHETIC", create=True)
    block.add_new(0x01, "LO", "private value")
    block.add_new(0x02, "OB", b"\x00" * 10)
    buffer = io.BytesIO()
    ds.save_as(buffer)
    assert stow(emulator_client, [buffer.getvalue()]).status_code == 200
    meta = emulator_client.get(f"{emulator_client.base}/{inst.path}/metadata", headers={"Accept": DICOM_JSON}).json()[0]
    assert meta["00082218"] == {"vr": "SQ", "Value": [{
        "00080100": {"vr": "SH", "Value": ["T-1"]}, "00080102": {"vr": "SH", "Value": ["SRT"]},
        "00080104": {"vr": "LO", "Value": ["Synthetic"]}}]}
    assert meta["00081140"] == {"vr": "SQ"}
    assert meta["00110010"] == {"vr": "LO", "Value": ["SYNTHETIC"]}
    assert meta["00111001"] == {"vr": "LO", "Value": ["private value"]}
    assert "00111002" not in meta


def test_deflated_file_round_trips_and_serves_frames(emulator_client):
    inst = build_instance(frames=2, rows=32, columns=32)
    ds = pydicom.dcmread(io.BytesIO(inst.data))
    ds.file_meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian
    buffer = io.BytesIO()
    ds.save_as(buffer)
    data = buffer.getvalue()
    assert stow(emulator_client, [data]).status_code == 200
    response = emulator_client.get(f"{emulator_client.base}/{inst.path}",
                                   headers={"Accept": "application/dicom; transfer-syntax=*"})
    assert response.content == b"\0" * 128 + data[128:]
    response = emulator_client.get(f"{emulator_client.base}/{inst.path}/frames/2", headers={
        "Accept": 'multipart/related; type="application/octet-stream"; transfer-syntax=*'})
    assert response.status_code == 200
    assert read_multipart(response)[0][1] == inst.frames[1]


def test_bad_query_parameters_on_rendered(emulator_client, stored):
    inst = stored()
    url = f"{emulator_client.base}/{inst.path}/rendered"
    for query in ("quality=1e2", "quality=%00", "quality=50&quality=abc", "quality=" + "9" * 400):
        response = emulator_client.get(f"{url}?{query}", headers={"Accept": "image/png"})
        assert response.status_code in (200, 400), query
        if response.status_code == 400:
            assert response.text.startswith("The query parameter 'quality' is invalid. The value '"), query


def test_client_that_disconnects_mid_upload_leaves_nothing(emulator, emulator_client):
    inst = build_instance(rows=256, columns=256)
    body, content_type = multipart([inst.data])
    before = index_count(emulator.data_dir)
    conn = http.client.HTTPConnection(urlsplit(emulator.root_url).netloc, timeout=30)
    conn.putrequest("POST", urlsplit(emulator.base_url()).path + "/studies")
    for name, value in {"Authorization": f"Bearer {emulator.token()}", "Accept": DICOM_JSON,
                        "Content-Type": content_type, "Content-Length": str(len(body))}.items():
        conn.putheader(name, value)
    conn.endheaders()
    conn.send(body[: len(body) // 2])
    conn.close()
    # The server notices the disconnect and removes the part's file; wait for that, bounded.
    deadline = time.monotonic() + 30
    while unindexed_files(emulator.data_dir) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert unindexed_files(emulator.data_dir) == []
    assert index_count(emulator.data_dir) == before
    assert emulator_client.get(f"{emulator_client.base}/{inst.path}/metadata",
                               headers={"Accept": DICOM_JSON}).status_code == 404


@contextlib.contextmanager
def app_with_route(tmp_path, path: str, handler) -> Iterator[tuple[str, str]]:
    """The emulator's app plus one extra route, served in this process: (root URL, owner token)."""
    store = Store(tmp_path / "data")
    secret = b"s" * 32
    (tmp_path / "data" / "token-secret").write_text(secret.decode())
    app = create_app(store, secret)
    app.router.routes.append(Route(path, endpoint(handler)))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="critical", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}", make_token(tmp_path / "data")[0]
    finally:
        server.should_exit = True
        thread.join(30)
        store.close()


def test_unexpected_errors_become_a_generic_500(tmp_path):
    """The catch-all: any exception a handler did not expect becomes a plain 500 without details."""

    async def boom(request):
        raise RuntimeError("internal detail that must not leak")

    with app_with_route(tmp_path, "/{version}/boom", boom) as (root, token):
        response = requests.get(f"{root}/v2/boom",
                                headers={"Authorization": f"Bearer {token}", "Origin": "http://localhost:3000"})
        assert response.status_code == 500
        # Azure's UseCors runs before its exception handling: the 500 carries the CORS headers too.
        assert response.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
        assert response.headers["Content-Type"] == PLAIN
        assert response.text == ("The server encountered an internal error. Please retry the request. If the "
                                 "issue persists, please contact support.")
        # The server closes the connection after a 500: it says so, so the client does not reuse it.
        assert response.headers["Connection"] == "close"


def test_an_error_after_the_response_started_ends_that_connection_only(tmp_path):
    """A body that fails half-way cannot become a 500: the connection is closed, the client sees it
    cut short (never a complete-looking answer), and the server goes on serving."""

    async def half(request):
        def body():
            yield b"x" * 1000
            raise RuntimeError("failed while streaming")
        return StreamingResponse(body(), media_type="application/octet-stream")

    with app_with_route(tmp_path, "/{version}/half", half) as (root, token):
        with requests.Session() as client:
            client.headers["Authorization"] = f"Bearer {token}"
            with pytest.raises(requests.exceptions.ChunkedEncodingError):
                client.get(f"{root}/v2/half")
            assert client.get(f"{root}/v2/changefeed").status_code == 200
