"""Accept negotiation for WADO-RS retrieve and frames, after Azure's AcceptHeaderHandler.

Each resource accepts a few (media type, multipart ``type``) descriptors, each with the transfer
syntaxes it allows and a default. The Accept ranges are tried by descending quality; the first one
a descriptor matches wins. Nothing matching gives 406.
"""

from dataclasses import dataclass

from .accept import MediaRange, parse_accept
from .errors import not_acceptable

ORIGINAL = "*"
EXPLICIT_VR_LE = "1.2.840.10008.1.2.1"
IMPLICIT_VR_LE = "1.2.840.10008.1.2"
JPEG2000_LOSSLESS = "1.2.840.10008.1.2.4.90"
NOT_ACCEPTABLE = "The request headers are not acceptable"


@dataclass(frozen=True)
class Descriptor:
    media_type: str  # "multipart/related", "application/dicom", ...
    part_type: str | None  # the multipart ``type`` parameter, or None for single part
    transfer_syntaxes: frozenset[str]
    default: str


@dataclass(frozen=True)
class Choice:
    multipart: bool
    part_type: str  # media type of each part, or of the single-part body
    transfer_syntax: str  # a UID, or "*" for "as stored"


def _quality(r: MediaRange) -> float:
    try:
        return float(r.params.get("q", "1"))
    except ValueError:
        return 0.0


def negotiate(header: str | None, descriptors: list[Descriptor], any_part_type: str) -> Choice:
    """Pick the response format; ``*/*`` means multipart with the original transfer syntax."""
    ranges = parse_accept(header)
    if not ranges:
        raise not_acceptable(NOT_ACCEPTABLE)
    for r in sorted(ranges, key=_quality, reverse=True):
        if r.media_type == "*/*":
            return Choice(True, any_part_type, ORIGINAL)
        for d in descriptors:
            if r.media_type != d.media_type:
                continue
            if d.part_type is not None and (r.param("type") or "").lower() != d.part_type:
                continue
            syntax = r.param("transfer-syntax") or d.default
            if syntax in d.transfer_syntaxes:
                return Choice(d.part_type is not None, d.part_type or d.media_type, syntax)
    raise not_acceptable(NOT_ACCEPTABLE)


_DICOM_SYNTAXES = frozenset({ORIGINAL, EXPLICIT_VR_LE, JPEG2000_LOSSLESS})

RESOURCE_DESCRIPTORS = [
    Descriptor("multipart/related", "application/dicom", _DICOM_SYNTAXES, EXPLICIT_VR_LE),
]
INSTANCE_DESCRIPTORS = [
    Descriptor("application/dicom", None, _DICOM_SYNTAXES, EXPLICIT_VR_LE),
    Descriptor("multipart/related", "application/dicom", _DICOM_SYNTAXES, EXPLICIT_VR_LE),
]
FRAME_DESCRIPTORS = [
    Descriptor("multipart/related", "application/octet-stream", frozenset({ORIGINAL, EXPLICIT_VR_LE}),
               EXPLICIT_VR_LE),
    Descriptor("multipart/related", "image/jp2", frozenset({ORIGINAL, JPEG2000_LOSSLESS}), JPEG2000_LOSSLESS),
]
FRAME_DESCRIPTORS_V2 = FRAME_DESCRIPTORS + [
    Descriptor("application/octet-stream", None, frozenset({ORIGINAL, EXPLICIT_VR_LE}), EXPLICIT_VR_LE),
]
