"""STOW-RS requests built by hand, so that a test controls every byte of the body."""

import uuid

import requests

from tests.support.sessions import EmulatorSession

DICOM_JSON = "application/dicom+json"


def multipart(parts: list[bytes], boundary: str | None = None, part_type: str | None = "application/dicom",
              outer_type: str | None = "application/dicom") -> tuple[bytes, str]:
    """A multipart/related body and its Content-Type; ``None`` leaves the part's or the outer type out."""
    boundary = boundary or uuid.uuid4().hex
    out = bytearray()
    for part in parts:
        out += f"--{boundary}\r\n".encode()
        if part_type is not None:
            out += f"Content-Type: {part_type}\r\n".encode()
        out += b"\r\n" + part + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    content_type = "multipart/related"
    if outer_type is not None:
        content_type += f'; type="{outer_type}"'
    return bytes(out), f"{content_type}; boundary={boundary}"


def stow(client: EmulatorSession, parts: list[bytes], study: str | None = None, **headers: str) -> requests.Response:
    """POST ``parts`` to ``{client.base}/studies[/{study}]`` as one multipart/related request."""
    body, content_type = multipart(parts)
    url = f"{client.base}/studies" + (f"/{study}" if study else "")
    return client.post(url, data=body, headers={"Content-Type": content_type, "Accept": DICOM_JSON, **headers})
