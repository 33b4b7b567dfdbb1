"""Accept negotiation for WADO-RS retrieve, frames and rendered, after Azure's AcceptHeaderHandler.

Each resource type accepts a few descriptors (a part media type, whether single part and/or multipart,
the transfer syntaxes allowed and the one a missing ``transfer-syntax`` means). Azure turns each Accept
range into an ``AcceptHeader`` (``MediaTypeHeaderValueExtensions.ToAcceptHeader``), then walks every
range, highest quality first, and every descriptor: the first acceptable pair is selected, and a later
acceptable range replaces it only when it asks for ``transfer-syntax=*`` at an equal or higher quality
(``IsHigherPriorityTransferSyntax``). Nothing acceptable gives 406.
"""

import functools
from dataclasses import dataclass

from .accept import MediaRange, parse_accept
from .errors import not_acceptable

ORIGINAL = "*"
EXPLICIT_VR_LE = "1.2.840.10008.1.2.1"
IMPLICIT_VR_LE = "1.2.840.10008.1.2"
JPEG2000_LOSSLESS = "1.2.840.10008.1.2.4.90"
ANY_MEDIA_TYPE = "*/*"
MULTIPART_RELATED = "multipart/related"
# DicomCoreResource.NotAcceptableHeaders and .MultipleAcceptHeadersNotSupported.
NOT_ACCEPTABLE = "The request headers are not acceptable"
MULTIPLE_ACCEPT = "The request contains multiple accept headers, which is not supported."
DEFAULT_QUALITY = 1.0

SINGLE = frozenset({"single"})
MULTI = frozenset({"multi"})
SINGLE_OR_MULTI = SINGLE | MULTI


@dataclass(frozen=True)
class AcceptHeader:
    """One Accept range as Azure sees it: the (part) media type, single part or multipart, syntax, quality."""

    media_type: str  # for multipart/related, its ``type`` parameter ("" when missing)
    multipart: bool
    transfer_syntax: str  # "" when missing
    quality: float


def _quality(value: str | None) -> float:
    # HeaderUtilities.GetQuality: a q that is not a plain 0..1 decimal counts as missing (1.0).
    if value is None:
        return DEFAULT_QUALITY
    text = value.strip()
    try:
        q = float(text)
    except ValueError:
        return DEFAULT_QUALITY
    if not text[:1].isdigit() or not 0.0 <= q <= 1.0:
        return DEFAULT_QUALITY
    return q


def to_accept_header(r: MediaRange, header_starts_multipart: bool) -> AcceptHeader:
    """``ToAcceptHeader``: multipart/related takes its ``type`` parameter as the media type.

    Azure tests whether the *buffer* behind the parsed media type starts with ``multipart/related``;
    that buffer is the whole Accept line, so every range of a line that starts with it is multipart.
    """
    if r.media_type == MULTIPART_RELATED:
        return AcceptHeader((r.param("type") or "").lower(), True, r.param("transfer-syntax") or "",
                            _quality(r.param("q")))
    return AcceptHeader(r.media_type, header_starts_multipart, r.param("transfer-syntax") or "",
                        _quality(r.param("q")))


def accept_headers(header: str | None) -> list[AcceptHeader]:
    """``HttpRequest.GetAcceptHeaders``: every range of the Accept header, or none."""
    ranges = parse_accept(header) or []
    starts_multipart = (header or "").strip().lower().startswith(MULTIPART_RELATED)
    return [to_accept_header(r, starts_multipart) for r in ranges]


@dataclass(frozen=True)
class Descriptor:
    """``AcceptHeaderDescriptor``: what one kind of Accept range may ask for."""

    payload: frozenset[str]
    media_type: str
    default: str  # transfer syntax when the range names none
    transfer_syntaxes: frozenset[str]

    def acceptable(self, h: AcceptHeader) -> bool:
        if ("multi" if h.multipart else "single") not in self.payload or h.media_type != self.media_type:
            return False
        return not h.transfer_syntax or h.transfer_syntax in self.transfer_syntaxes

    def transfer_syntax(self, h: AcceptHeader) -> str:
        return h.transfer_syntax or self.default


@dataclass(frozen=True)
class Choice:
    multipart: bool
    part_type: str  # media type of each part, or of the single-part body
    transfer_syntax: str  # a UID, or "*" for "as stored"
    quality: float = DEFAULT_QUALITY


@functools.lru_cache(maxsize=128)  # a client repeats its Accept header; a Choice is immutable
def negotiate(header: str | None, resource: str) -> Choice:
    """``GetValidAcceptHeader`` for ``resource`` (study, series, instance, frames); 406 when none fits."""
    descriptors = DESCRIPTORS[resource]
    selected: Choice | None = None
    # sorted() is stable, as LINQ's OrderByDescending.
    for h in sorted(accept_headers(header), key=lambda a: a.quality, reverse=True):
        for d in descriptors:
            if d.acceptable(h) and (selected is None or (h.transfer_syntax == ORIGINAL
                                                         and h.quality >= selected.quality)):
                any_type = h.media_type == ANY_MEDIA_TYPE
                part_type = (("application/octet-stream" if resource == "frames" else "application/dicom")
                             if any_type else h.media_type)
                # GetPayloadType: */* is always answered as multipart.
                selected = Choice(h.multipart or any_type, part_type, d.transfer_syntax(h), h.quality)
    if selected is None:
        raise not_acceptable(NOT_ACCEPTABLE)
    return selected


RENDER_TYPES = {"image/jpeg": "JPEG", "image/png": "PNG"}


def negotiate_rendered(header: str | None) -> str:
    """``GetValidRenderAcceptHeader``: one range, image/jpeg or image/png; none means image/jpeg.

    Only the (part) media type counts, so ``multipart/related; type="image/png"`` renders PNG.
    """
    headers = accept_headers(header)
    if len(headers) > 1:
        raise not_acceptable(MULTIPLE_ACCEPT)
    if headers and headers[0].media_type not in RENDER_TYPES:
        raise not_acceptable(NOT_ACCEPTABLE)
    return headers[0].media_type if headers else "image/jpeg"


def _syntaxes(*uids: str) -> frozenset[str]:
    return frozenset(uids)


def _non_frame(payload: frozenset[str]) -> list[Descriptor]:
    dicom = _syntaxes(ORIGINAL, EXPLICIT_VR_LE, JPEG2000_LOSSLESS)
    return [Descriptor(payload, "application/dicom", EXPLICIT_VR_LE, dicom),
            Descriptor(payload, ANY_MEDIA_TYPE, ORIGINAL, dicom)]


DESCRIPTORS: dict[str, list[Descriptor]] = {
    "study": _non_frame(MULTI),
    "series": _non_frame(MULTI),
    "instance": _non_frame(SINGLE_OR_MULTI),
    "frames": [
        Descriptor(SINGLE_OR_MULTI, "application/octet-stream", EXPLICIT_VR_LE, _syntaxes(ORIGINAL, EXPLICIT_VR_LE)),
        Descriptor(MULTI, "image/jp2", JPEG2000_LOSSLESS, _syntaxes(JPEG2000_LOSSLESS)),
        Descriptor(SINGLE_OR_MULTI, ANY_MEDIA_TYPE, ORIGINAL, _syntaxes(ORIGINAL, EXPLICIT_VR_LE)),
    ],
}
