"""Request paths as ASP.NET Core (Kestrel and endpoint routing) sees them, so routes match as on Azure.

* ``%2F`` stays encoded: it is part of a segment, never a separator (Kestrel decodes everything else).
  ``/studies/1.2%2Fseries%2F3.4`` is a bad study UID (400), not a series path.
* ``.`` and ``..`` segments are resolved after decoding, as Kestrel does.
* Literal segments match case-insensitively (``/V2/Studies`` is ``/v2/studies``); a partition name
  (the segment after ``/v{n}/partitions``) is a route value and keeps its spelling.
* One trailing slash is ignored, without a redirect.
"""

import re
from urllib.parse import unquote

from starlette.types import ASGIApp, Receive, Scope, Send

from .versions import is_version_segment

# Every literal segment of the emulator's routes (tests/unit/test_route_literals.py checks them against
# app.routes); UIDs and frame lists are digits, so never collide.
LITERALS = frozenset({"studies", "series", "instances", "metadata", "frames", "rendered", "changefeed", "latest",
                      "partitions"})
_ENCODED_SLASH = re.compile(r"%2F", re.IGNORECASE)


def _decode(raw: str) -> str:
    return "%2F".join(unquote(piece, errors="replace") for piece in _ENCODED_SLASH.split(raw))


def _remove_dot_segments(segments: list[str]) -> list[str]:
    out: list[str] = []
    for i, seg in enumerate(segments):
        last = i == len(segments) - 1
        if seg == ".":
            if last:
                out.append("")
        elif seg == "..":
            if out:
                out.pop()
            if last:
                out.append("")
        else:
            out.append(seg)
    return out


def normalize_path(raw: str) -> str:
    """The routing path for a raw (percent-encoded) request path."""
    segments = _decode(raw).split("/")
    if segments and segments[0] == "":
        segments = [""] + _remove_dot_segments(segments[1:])
    if len(segments) > 2 and segments[-1] == "":
        segments = segments[:-1]  # ASP.NET Core routing ignores a trailing slash
    for i, seg in enumerate(segments):
        if i == 1 and is_version_segment(seg):
            segments[i] = seg.lower()
        elif i == 3 and segments[2] == "partitions":
            continue  # the partition name: "Studies" is a name there, not the literal
        elif seg.lower() in LITERALS:
            segments[i] = seg.lower()
    return "/".join(segments) or "/"


class AspNetPaths:
    """ASGI middleware: rewrite ``scope["path"]`` with ``normalize_path`` before routing."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            raw_path = scope.get("raw_path")
            raw = raw_path.decode("latin-1") if raw_path else scope["path"]
            scope = dict(scope, path=normalize_path(raw))
        await self.app(scope, receive, send)
