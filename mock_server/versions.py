"""API versions in the path, as ASP.NET API Versioning's ``v{version:apiVersion}`` route segment reads them.

Azure's ApiVersionsConvention gives every controller the emulator serves the versions ``1.0-prerelease``,
``1`` and ``2``; ``ApiVersion`` compares ``1`` and ``1.0`` as equal, so ``/v1.0`` and ``/v2.0`` are served
too. ``ReportApiVersions = true`` makes each answer of a matched action carry ``api-supported-versions``
(the versions in ascending order, a status-less version after its prerelease), set by a global action
filter: so not on a 401 (the authorization filter answers first) nor on an unknown route.
"""

import re

SUPPORTED_HEADER = "api-supported-versions"
SUPPORTED_VALUE = "1.0-prerelease, 1, 2"
_SEGMENT = re.compile(r"v([0-9]+)(?:\.([0-9]+))?(?:-([a-z0-9]+))?", re.IGNORECASE)
_SUPPORTED = {(1, 0, None): 1, (2, 0, None): 2, (1, 0, "prerelease"): 1}


def is_version_segment(segment: str) -> bool:
    """Whether a path segment has the shape of a version (``v2``, ``v1.0-prerelease``)."""
    return bool(_SEGMENT.fullmatch(segment))


def api_version(segment: str) -> int | None:
    """The major version (1 or 2) a path segment names, or None when Azure serves no such version."""
    match = _SEGMENT.fullmatch(segment)
    if not match:
        return None
    major, minor, status = match.groups()
    return _SUPPORTED.get((int(major), int(minor or 0), status.lower() if status else None))
