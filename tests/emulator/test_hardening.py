"""Edges that used to break the server: each answered cleanly, over HTTP."""

import contextlib
import http.client
import io
import os
import socket
import stat
import subprocess
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest
import requests
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_file_meta_info
from pydicom.uid import UID

from tests.emulator.emulator_testlib import PLAIN, session_for
from tests.support.part10 import build_instance
from tests.support.stow import DICOM_JSON, stow

ANY = "application/dicom; transfer-syntax=*"
FRAME = "application/octet-stream; transfer-syntax=*"
DEFLATED = "1.2.840.10008.1.2.1.99"


def _netloc(emu) -> tuple[str, int]:
    parts = urlsplit(emu.root_url)
    return parts.hostname, parts.port


# --- deflate bombs ---------------------------------------------------------------------------------

def deflate_bomb(inflated_mib: int) -> bytes:
    """A deflated-transfer-syntax Part 10 file whose dataset inflates to ``inflated_mib`` MiB."""
    inst = build_instance(pixels=False)
    ds = Dataset()
    for keyword in ("SOPClassUID", "SOPInstanceUID", "StudyInstanceUID", "SeriesInstanceUID", "PatientID"):
        setattr(ds, keyword, {"SOPClassUID": inst.sop_class, "SOPInstanceUID": inst.sop,
                              "StudyInstanceUID": inst.study, "SeriesInstanceUID": inst.series,
                              "PatientID": "BOMB"}[keyword])
    body = io.BytesIO()
    ds.save_as(body, implicit_vr=False, little_endian=True, enforce_file_format=False)
    size = inflated_mib * 1024 * 1024
    header = b"\xe0\x7f\x10\x00OB\0\0" + size.to_bytes(4, "little")  # PixelData, OB, explicit length
    deflater = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    out = bytearray(deflater.compress(body.getvalue() + header))
    zeros = bytes(1 << 20)
    for _ in range(inflated_mib):
        out += deflater.compress(zeros)
    out += deflater.flush()
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID = UID(inst.sop_class), UID(inst.sop)
    meta.TransferSyntaxUID = UID(DEFLATED)
    head = DicomBytesIO()
    head.write(b"\0" * 128 + b"DICM")
    write_file_meta_info(head, meta)
    return head.getvalue() + bytes(out)


def test_deflated_file_inflating_beyond_the_limit_is_refused(emulator_client):
    bomb = deflate_bomb(300)  # about 300 KiB on the wire
    assert len(bomb) < 2 * 1024 * 1024
    response = stow(emulator_client, [bomb])
    assert response.status_code == 409, response.text
    failed = response.json()["00081198"]["Value"]
    assert failed[0]["00081197"]["Value"] == [43264]


def test_small_deflated_file_is_still_stored(emulator_client):
    response = stow(emulator_client, [deflate_bomb(1)])
    assert response.status_code == 200, response.text


# --- duplicate Authorization ------------------------------------------------------------------------

def test_two_authorization_headers_are_401_and_change_nothing(emulator, emulator_client):
    inst = build_instance()
    assert stow(emulator_client, [inst.data]).status_code == 200
    conn = http.client.HTTPConnection(*_netloc(emulator), timeout=30)
    try:
        conn.putrequest("DELETE", f"/v2/studies/{inst.study}")
        conn.putheader("Authorization", f"Bearer {emulator.token()}")
        conn.putheader("Authorization", "Bearer garbage")
        conn.endheaders()
        response = conn.getresponse()
        response.read()
        assert response.status == 401
        assert response.getheader("WWW-Authenticate").startswith("Bearer")
    finally:
        conn.close()
    assert emulator_client.get(f"{emulator_client.base}/{inst.path}/metadata",
                               headers={"Accept": DICOM_JSON}).status_code == 200


# --- over-long integers -----------------------------------------------------------------------------

LONG = "1" * 5000


@pytest.mark.parametrize("path, params", [
    ("studies", {"limit": LONG}), ("studies", {"offset": LONG}), ("series", {"offset": "-" + LONG}),
    ("instances", {"limit": "0" * 5000 + "1" * 30}),
    ("changefeed", {"offset": LONG}), ("changefeed", {"limit": LONG}),
])
def test_over_long_integers_are_400(emulator_client, v1_client, path, params):
    for client in (emulator_client, v1_client):
        headers = {} if path == "changefeed" else {"Accept": DICOM_JSON}
        response = client.get(f"{client.base}/{path}", params=params, headers=headers)
        assert response.status_code == 400, response.text
        assert response.headers["Content-Type"] == PLAIN
        # Azure's model-binding 400 names the parameter (Limit/Offset in QIDO and v2, limit/offset in v1).
        assert response.text.lower().startswith(f"the query parameter '{next(iter(params))}' is invalid.")


def test_over_long_frame_numbers_and_quality_are_400(emulator_client, stored):
    inst = stored()
    base = f"{emulator_client.base}/{inst.path}"
    assert emulator_client.get(f"{base}/frames/{LONG}", headers={"Accept": FRAME}).status_code == 400
    response = emulator_client.get(f"{base}/rendered", params={"quality": LONG}, headers={"Accept": "image/png"})
    assert response.status_code == 400 and "quality" in response.text.lower()
    leading_zeros = emulator_client.get(f"{base}/rendered", params={"quality": "0" * 5000 + "50"},
                                        headers={"Accept": "image/jpeg"})
    assert leading_zeros.status_code == 200


# --- frames beyond the pixel data ---------------------------------------------------------------------

def test_frames_the_pixel_data_does_not_hold_are_404_before_the_status(emulator_client):
    # NumberOfFrames says 3, PixelData holds two frames.
    frames = [np.full((4, 5), n, dtype=np.uint16).tobytes() for n in (1, 2)]
    inst = build_instance(frames=3, PixelData=b"".join(frames))
    assert stow(emulator_client, [inst.data]).status_code == 200
    base = f"{emulator_client.base}/{inst.path}"
    assert emulator_client.get(f"{base}/frames/2", headers={"Accept": FRAME}).content == frames[1]
    for path, accept in ((f"{base}/frames/3", FRAME),
                         (f"{base}/frames/1,3", 'multipart/related; type="application/octet-stream"'),
                         (f"{base}/frames/3/rendered", "image/png")):
        response = emulator_client.get(path, headers={"Accept": accept})
        assert response.status_code == 404, (path, response.status_code)
        assert response.text == "The specified frame cannot be found."


# --- disk full ---------------------------------------------------------------------------------------

@contextlib.contextmanager
def small_file_system(path: Path, size: str) -> Iterator[Path]:
    path.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"a small file system needs mount (root): {result.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def test_full_disk_gives_a_clean_error_and_delete_frees_space(own_emulator, tmp_path):
    with small_file_system(tmp_path / "small", "12m") as mount:
        emu = own_emulator(mount / "data")
        client = session_for(emu)
        stored, statuses = [], []
        for _ in range(200):
            inst = build_instance(rows=256, columns=512)  # 256 KiB of pixel data
            response = stow(client, [inst.data])
            statuses.append(response.status_code)
            if response.status_code != 200:
                assert response.status_code in (409, 507), response.text
                if response.status_code == 507:
                    assert response.headers["Connection"] == "close"
                    assert response.headers["Content-Type"] == PLAIN
                break
            stored.append(inst)
        assert statuses[-1] != 200, "the file system never filled up"
        assert stored
        # What was acknowledged is intact, and DELETE works on the full disk.
        again = session_for(emu)
        assert again.get(f"{again.base}/{stored[0].path}", headers={"Accept": ANY}).content[128:] == \
            stored[0].data[128:]
        for inst in stored:
            assert again.delete(f"{again.base}/studies/{inst.study}").status_code == 204
        # Space is back: storing works again.
        fresh = build_instance(rows=256, columns=512)
        assert stow(again, [fresh.data]).status_code == 200
        emu.stop()


# --- timeouts and the connection limit -------------------------------------------------------------------

def test_silent_and_slow_connections_are_closed_with_408(own_emulator):
    emu = own_emulator(extra_args=["--header-timeout", "1"])
    host, port = _netloc(emu)
    with socket.create_connection((host, port), timeout=30) as silent, \
            socket.create_connection((host, port), timeout=30) as slow:
        slow.sendall(b"GET /v2/studies HTTP/1.1\r\nHost: x\r\n")  # never finishes its headers
        for sock in (silent, slow):
            answer = b""
            while chunk := sock.recv(4096):
                answer += chunk
            assert answer.startswith(b"HTTP/1.1 408 "), answer
    # A client that sends its request in time is served as before.
    assert session_for(emu).get(f"{emu.base_url()}/changefeed").status_code == 200


def test_connections_beyond_the_limit_get_503(own_emulator):
    emu = own_emulator(extra_args=["--max-connections", "4"])
    host, port = _netloc(emu)
    idle = [socket.create_connection((host, port), timeout=30) for _ in range(4)]
    try:
        time.sleep(0.2)  # let the server accept them
        with socket.create_connection((host, port), timeout=30) as extra:
            answer = b""
            while chunk := extra.recv(4096):
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 503 "), answer
        assert b"Connection: close" in answer and b"Retry-After: 1" in answer
    finally:
        for sock in idle:
            sock.close()
    deadline = time.monotonic() + 10
    while True:
        try:
            assert session_for(emu).get(f"{emu.base_url()}/changefeed").status_code == 200
            break
        except (requests.ConnectionError, AssertionError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _answer(emu, request: bytes) -> bytes:
    """Everything the server sends back for ``request`` on a new connection, until it closes it."""
    with socket.create_connection(_netloc(emu), timeout=30) as sock:
        with contextlib.suppress(ConnectionResetError, BrokenPipeError):
            sock.sendall(request)
        answer = b""
        with contextlib.suppress(ConnectionResetError):
            while chunk := sock.recv(65536):
                answer += chunk
    return answer


def test_over_long_request_lines_and_headers_are_refused_as_kestrel_does(emulator):
    # Kestrel's MaxRequestLineSize (8 KiB) and MaxRequestHeadersTotalSize (32 KiB): 414 and 431, then close.
    long_target = b"GET /v2/studies?PatientID=" + b"x" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    answer = _answer(emulator, long_target)
    assert answer.startswith(b"HTTP/1.1 414 "), answer[:80]
    assert b"Connection: close" in answer
    many_headers = b"GET /v2/studies HTTP/1.1\r\nHost: x\r\n" + b"".join(
        b"X-Filler-%d: %s\r\n" % (n, b"y" * 1000) for n in range(40)) + b"\r\n"
    answer = _answer(emulator, many_headers)
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:80]
    assert b"Connection: close" in answer
    # Just under both limits the request is served.
    token = emulator.token()
    fits = (b"GET /v2/studies?PatientID=" + b"x" * 7000 + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            + b"Accept: application/dicom+json\r\n"
            + b"Authorization: Bearer " + token.encode() + b"\r\n"
            + b"".join(b"X-Filler-%d: %s\r\n" % (n, b"y" * 1000) for n in range(25)) + b"\r\n")
    assert _answer(emulator, fits).split(b"\r\n", 1)[0] in (b"HTTP/1.1 200 OK", b"HTTP/1.1 204 No Content")


# --- permissions -----------------------------------------------------------------------------------------

def test_data_dir_is_private_whatever_the_umask(own_emulator, tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o755)
    secret = data_dir / "token-secret"
    secret.write_text("s" * 64)
    secret.chmod(0o644)  # as an older emulator (or a copy) may have left it
    old = os.umask(0)
    try:
        emu = own_emulator(data_dir)
    finally:
        os.umask(old)
    inst = build_instance()
    assert stow(session_for(emu), [inst.data]).status_code == 200
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    for path in data_dir.rglob("*"):
        assert stat.S_IMODE(path.stat().st_mode) == (0o700 if path.is_dir() else 0o600), path
