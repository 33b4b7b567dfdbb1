"""multipart/related bodies: building them for STOW-RS, reading them from WADO-RS.

A multipart/related body is a list of parts separated by a boundary line::

    --BOUNDARY\\r\\n
    Content-Type: application/dicom\\r\\n
    \\r\\n
    <the bytes of one DICOM file>\\r\\n
    --BOUNDARY\\r\\n
    ...
    --BOUNDARY--\\r\\n
"""

import re
import uuid
from dataclasses import dataclass
from io import BytesIO

import pydicom
import requests
from requests_toolbelt import MultipartDecoder
from requests_toolbelt.multipart.decoder import ImproperBodyPartContentException

DICOM = "application/dicom"
# RFC 2046 allows more characters, but these never need quoting in the Content-Type header.
_BOUNDARY = re.compile(r"[0-9A-Za-z'+_.-]{1,70}")


def encode_multipart_related(parts: list[bytes], boundary: str | None = None) -> tuple[bytes, str]:
    """Return ``(body, content_type)`` for a STOW-RS request carrying ``parts`` (DICOM files)."""
    boundary = boundary or uuid.uuid4().hex
    if not _BOUNDARY.fullmatch(boundary):
        raise ValueError(f"boundary {boundary!r} must be 1-70 letters, digits or '+_.- characters")
    delimiter = b"--" + boundary.encode("ascii")
    if any(delimiter in part for part in parts):
        raise ValueError(f"boundary {boundary!r} occurs inside a part; choose another one")
    body = b"".join(delimiter + b"\r\nContent-Type: application/dicom\r\n\r\n" + part + b"\r\n"
                    for part in parts)
    body += delimiter + b"--\r\n"
    return body, f'multipart/related; type="{DICOM}"; boundary={boundary}'


@dataclass(frozen=True)
class Part:
    """One part of a multipart body: its headers (lower-case names) and its bytes."""

    headers: dict[str, str]
    content: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


def is_multipart(content_type: str | None) -> bool:
    """Whether a Content-Type is some ``multipart/...`` type (parameters ignored)."""
    return (content_type or "").strip().lower().startswith("multipart/")


def decode_body(content: bytes, content_type: str) -> list[Part]:
    """Split a multipart body into its parts (``content_type`` must carry the boundary)."""
    if not is_multipart(content_type) or "boundary=" not in content_type.lower():
        raise ValueError(f"not a multipart body with a boundary: Content-Type {content_type!r}")
    # MultipartDecoder finds the boundary whether or not the header has a type= parameter.
    try:
        decoder = MultipartDecoder(content, content_type)
    except ImproperBodyPartContentException as exc:
        raise ValueError(f"malformed multipart body: {exc}") from None
    return [Part({k.decode().lower(): v.decode() for k, v in part.headers.items()}, part.content)
            for part in decoder.parts]


def decode_multipart(response: requests.Response) -> list[Part]:
    """The parts of a multipart response (a ``requests.Response``)."""
    content_type = response.headers.get("Content-Type", "")
    if not is_multipart(content_type):
        raise ValueError(f"expected a multipart response, got {response.status_code} with "
                         f"Content-Type {content_type!r}: {response.content[:200]!r}")
    return decode_body(response.content, content_type)


def _payloads(response: requests.Response) -> list[bytes]:
    # A single-part response (e.g. Accept: application/dicom for one instance) is one payload.
    if is_multipart(response.headers.get("Content-Type")):
        return [part.content for part in decode_multipart(response)]
    if response.status_code != 200 or not response.content:
        raise ValueError(f"expected DICOM content, got {response.status_code} with Content-Type "
                         f"{response.headers.get('Content-Type')!r}: {response.content[:200]!r}")
    return [response.content]


def read_datasets(response: requests.Response) -> list[pydicom.Dataset]:
    """The DICOM datasets in a WADO-RS response (multipart, or a single application/dicom body)."""
    return [pydicom.dcmread(BytesIO(payload)) for payload in _payloads(response)]


def read_frames(response: requests.Response) -> list[bytes]:
    """The raw bytes of each frame in a WADO-RS frames response."""
    return _payloads(response)
