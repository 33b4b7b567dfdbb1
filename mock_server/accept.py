"""Parsing of Accept headers (and the quote-aware splitting Content-Type shares), and Azure's Accept
filter for JSON responses."""

import re
from dataclasses import dataclass, field

# A parameter value: a token, plus "/" — ASP.NET Core parses an unquoted ``type=application/octet-stream``
# (MediaTypeHeaderValueExtensionsTests.GivenMultiPartRelatedHeaderWithNoQuotesOnType…, "used by OHIF viewer").
_VALUE = re.compile(r"^[!#$%&'*+./^_`|~0-9A-Za-z-]+$")


@dataclass(frozen=True)
class MediaRange:
    """One entry of an Accept header: ``type/subtype`` plus lower-cased parameter names."""

    media_type: str
    params: dict[str, str] = field(default_factory=dict)

    def param(self, name: str) -> str | None:
        return self.params.get(name)


def split_outside_quotes(text: str, sep: str) -> list[str]:
    """``text`` split at each ``sep`` that is not between double quotes (the quotes are kept)."""
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if ch == sep and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


def parse_accept(header: str | None) -> list[MediaRange] | None:
    """The media ranges of an Accept header, or None when it is missing, empty or unparseable."""
    if header is None or not header.strip():
        return None
    ranges = []
    for item in split_outside_quotes(header, ","):
        pieces = split_outside_quotes(item, ";")
        media_type = pieces[0].strip().lower()
        if media_type.count("/") != 1 or not all(media_type.split("/")):
            return None
        params = {}
        for piece in pieces[1:]:
            if not piece.strip():
                continue
            if "=" not in piece:
                return None
            name, value = (x.strip() for x in piece.split("=", 1))
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1]
            elif not _VALUE.match(value):
                return None  # like ASP.NET Core, one invalid range makes the whole header invalid
            params[name.lower()] = value
        ranges.append(MediaRange(media_type, params))
    return ranges


_JSON_MATCHES = {"*/*", "application/*", "application/json", "application/dicom+json"}


def accepts_dicom_json(header: str | None) -> bool:
    """Azure's AcceptContentFilter for STOW, QIDO and metadata: must match application/dicom+json.

    No Accept header, an empty or unparseable one, or one that names only other types fails (406).
    """
    ranges = parse_accept(header)
    return ranges is not None and any(r.media_type in _JSON_MATCHES for r in ranges)
