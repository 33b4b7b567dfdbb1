"""A client that goes away in the middle of a multipart answer leaves no file open in the server."""

import os
import socket
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.support.part10 import build_instance
from tests.support.stow import stow

ANY_TS = 'multipart/related; type="application/dicom"; transfer-syntax=*'


def open_stored_files(emulator) -> list[str]:
    """The emulator's open file descriptors that point at its stored instances (Linux /proc)."""
    files_dir = str(Path(emulator.data_dir, "files").resolve())
    fd_dir = Path(f"/proc/{emulator.pid}/fd")
    targets = []
    for fd in os.listdir(fd_dir):
        try:
            targets.append(os.readlink(fd_dir / fd))
        except OSError:
            continue  # closed meanwhile
    return [t for t in targets if t.startswith(files_dir)]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the server's descriptors from /proc")
def test_study_retrieve_abandoned_mid_answer_closes_its_files(emulator, emulator_client):
    # Four 1.5 MiB instances: the answer is several chunks, so the client leaves while it streams.
    first = build_instance(rows=1024, columns=768)
    instances = [first] + [build_instance(study=first.study, rows=1024, columns=768) for _ in range(3)]
    assert stow(emulator_client, [i.data for i in instances]).status_code == 200
    netloc = urlsplit(emulator.root_url)
    for _ in range(3):
        with socket.create_connection((netloc.hostname, netloc.port), timeout=30) as sock:
            sock.sendall(f"GET /v2/studies/{first.study} HTTP/1.1\r\nHost: {netloc.netloc}\r\n"
                         f"Authorization: Bearer {emulator.token()}\r\nAccept: {ANY_TS}\r\n\r\n".encode())
            assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")
    deadline = time.monotonic() + 10
    while open_stored_files(emulator) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert open_stored_files(emulator) == []
