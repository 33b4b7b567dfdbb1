"""Helpers for the emulator tests: Azure's texts and media types, a multipart reader, exact requests.

The synthetic instances are in tests/support/part10.py, the STOW requests in tests/support/stow.py.
"""

import http.client
from urllib.parse import urlsplit

import requests

from mock_server.launcher import Emulator
from tests.support.sessions import EmulatorSession

DICOM_JSON_UTF8 = "application/dicom+json; charset=utf-8"  # the Content-Type of Azure's JSON answers
PLAIN = "text/plain; charset=utf-8"


def invalid_uid_text(name: str) -> str:
    """Azure's 400 text for a malformed UID (InvalidIdentifierException; ``name`` as Azure's nameof)."""
    return (f"Dicom element '{name}' failed validation for VR 'UI': DICOM Identifier is invalid. Value length "
            "should not exceed the maximum length of 64 characters. Value should contain characters in '0'-'9' "
            "and '.'. Each component must start with non-zero number.")


def read_multipart(response: requests.Response) -> list[tuple[dict[str, str], bytes]]:
    """(headers, content) of each part of a multipart response, split by hand on the boundary."""
    content_type = response.headers["Content-Type"]
    assert content_type.startswith("multipart/related; boundary="), content_type
    boundary = content_type.split("boundary=", 1)[1].encode()
    body = response.content
    assert body.endswith(b"--" + boundary + b"--\r\n")
    parts = []
    for chunk in body.split(b"--" + boundary)[1:-1]:
        assert chunk.startswith(b"\r\n") and chunk.endswith(b"\r\n")
        head, _, content = chunk[2:-2].partition(b"\r\n\r\n")
        headers = dict(line.split(": ", 1) for line in head.decode().split("\r\n"))
        parts.append(({k.lower(): v for k, v in headers.items()}, content))
    return parts


def session_for(emu: Emulator, version: str = "v2") -> EmulatorSession:
    return EmulatorSession(emu.base_url(version), emu.token())


def send(client: requests.Session, method: str, url: str, accept: str | None, **kwargs) -> requests.Response:
    """Send with exactly the given Accept header; ``None`` sends none (requests would add ``*/*``)."""
    request = client.prepare_request(requests.Request(method, url, **kwargs))
    request.headers.pop("Accept", None)
    if accept is not None:
        request.headers["Accept"] = accept
    return client.send(request)


def raw_request(emulator, method: str, path: str, headers: dict[str, str] | None = None, body: bytes = b""):
    """Send a request exactly as written (no URL normalisation), return (status, headers, body)."""
    netloc = urlsplit(emulator.root_url).netloc
    conn = http.client.HTTPConnection(netloc, timeout=30)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for name, value in {"Authorization": f"Bearer {emulator.token()}", **(headers or {})}.items():
            conn.putheader(name, value)
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()
