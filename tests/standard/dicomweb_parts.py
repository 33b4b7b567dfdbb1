"""Reading DICOMweb responses in the standard tests: media types, multipart parts, DICOM JSON values."""

from __future__ import annotations

from dataclasses import dataclass

import requests
from requests_toolbelt.multipart.decoder import MultipartDecoder

DICOM_MULTIPART = 'multipart/related; type="application/dicom"; transfer-syntax=*'
FRAMES_MULTIPART = 'multipart/related; type="application/octet-stream"; transfer-syntax=*'
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"


@dataclass(frozen=True)
class Part:
    content_type: str
    content: bytes

    @property
    def media_type(self) -> str:
        return media_type_of(self.content_type)


def media_type_of(content_type: str) -> str:
    """``type/subtype`` in lower case, without parameters."""
    return content_type.split(";", 1)[0].strip().lower()


def media_type(response: requests.Response) -> str:
    return media_type_of(response.headers.get("Content-Type", ""))


def parts(response: requests.Response) -> list[Part]:
    """The parts of a multipart/related response body."""
    assert media_type(response) == "multipart/related", response.headers.get("Content-Type")
    decoded = MultipartDecoder.from_response(response)
    return [Part(p.headers.get(b"Content-Type", b"").decode(), p.content) for p in decoded.parts]


def value(item: dict, tag: str):
    """The first value of ``tag`` in a DICOM JSON object, or None when absent or empty."""
    values = item.get(tag, {}).get("Value")
    return values[0] if values else None


def values(items: list[dict], tag: str) -> list:
    return [value(item, tag) for item in items]
