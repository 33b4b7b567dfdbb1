"""The change feed (``/changefeed`` and ``/changefeed/latest``), an Azure-only API.

Entries are shaped as Azure's System.Text.Json output: camelCase keys, PascalCase enum values,
``partitionName`` always present, ``metadata`` only for the live version of an instance. v1 pages
by sequence number (offset is exclusive, limit bounds the sequence range); v2 pages by rows inside
a time window ordered by timestamp then sequence.
"""

import json
import re
from datetime import datetime, timedelta, timezone

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from .binding import INT_MAX, LONG_MAX, is_integer, to_int
from .errors import bad_request
from .responses import JSONResponse
from .storage import FeedEntry, Store
# ISO 8601 date-time; the zone is checked separately so a missing one gets its own message.
_TIMESTAMP = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,7}))?)?)?"
    r"\s*(Z|[+-]\d{2}(?::?\d{2})?)?$", re.IGNORECASE | re.ASCII)
_MAX_OFFSET_MINUTES = 14 * 60  # .NET DateTimeOffset: offsets beyond ±14:00 do not parse
_EPOCH = datetime(1, 1, 1, tzinfo=timezone.utc)


def _params(request: Request) -> dict[str, str]:
    """First value of each parameter, names lower-cased: ASP.NET binds names case-insensitively."""
    params: dict[str, str] = {}
    for name, value in request.query_params.multi_items():
        params.setdefault(name.lower(), value)
    return params


def _integer(params: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = params.get(name.lower())
    if raw is None:
        return default
    value = to_int(raw) if is_integer(raw) else None
    if value is None:
        raise bad_request(f"The value '{raw}' is not valid for the query parameter '{name}': "
                          "it must be an integer.")
    if name == "offset" and value < 0:
        raise bad_request(f"The query parameter 'offset' is invalid: the offset cannot be a negative "
                          f"value ({value}).")
    if not low <= value <= high:
        raise bad_request(f"The query parameter '{name}' is invalid: the {name} must be between "
                          f"{low} and {high} (got {value}).")
    return value


def _include_metadata(params: dict[str, str]) -> bool:
    raw = params.get("includemetadata")
    if raw is None:
        return True
    text = raw.strip().lower()
    if text not in ("true", "false"):
        raise bad_request(f"The value '{raw}' is not valid for the query parameter 'includeMetadata': "
                          "use true or false.")
    return text == "true"


def _ticks(match: re.Match) -> int:
    """100-nanosecond ticks since 0001-01-01 UTC, the resolution of a .NET DateTimeOffset."""
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    moment = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0),
                      int(second or 0), tzinfo=timezone.utc)
    if zone and zone.upper() != "Z":
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:] or 0)
        if minutes > 59 or hours * 60 + minutes > _MAX_OFFSET_MINUTES:
            raise ValueError(f"time zone offset {zone} is out of range")
        moment -= sign * timedelta(hours=hours, minutes=minutes)
    whole = (moment - _EPOCH) // timedelta(seconds=1)
    return whole * 10_000_000 + int((fraction or "").ljust(7, "0"))


def _time(params: dict[str, str], name: str) -> int | None:
    raw = params.get(name.lower())
    if raw is None or not raw.strip():
        return None
    match = _TIMESTAMP.match(raw.strip())
    try:
        if not match:
            raise ValueError(raw)
        ticks = _ticks(match)
    except (ValueError, OverflowError):
        raise bad_request(f"The value '{raw}' is not valid for the query parameter '{name}': "
                          "use an ISO 8601 date and time with a time zone, "
                          "e.g. 2024-01-01T10:00:00Z.") from None
    if not match.group(8):
        raise bad_request(f"The value '{raw}' of the query parameter '{name}' has no time zone; "
                          "add Z or an offset such as +00:00.")
    return ticks


def _entry(row: FeedEntry, include_metadata: bool) -> dict:
    if row.current is None:
        state = "Deleted"
    elif row.watermark == row.current:
        state = "Current"
    else:
        state = "Replaced"
    entry = {
        "sequence": row.sequence,
        "partitionName": row.partition,
        "studyInstanceUid": row.study_uid,
        "seriesInstanceUid": row.series_uid,
        "sopInstanceUid": row.sop_uid,
        "action": row.action,
        "timestamp": row.timestamp,
        "state": state,
    }
    if include_metadata and state == "Current" and row.metadata is not None:
        entry["metadata"] = json.loads(row.metadata)
    return entry


def _read_feed(store: Store, version: int, offset: int, limit: int, start: int | None, end: int | None,
               include: bool) -> list[dict]:
    with store.snapshot() as snap:
        if version < 2:
            rows = snap.feed_by_sequence(offset, min(offset + limit, LONG_MAX), include)
        else:
            rows = snap.feed_by_time(start, end, offset, limit, include)
    return [_entry(r, include) for r in rows]


def _read_latest(store: Store, version: int, include: bool) -> dict | None:
    with store.snapshot() as snap:
        row = snap.feed_latest(version >= 2, include)
    return _entry(row, include) if row else None


async def changefeed(request: Request) -> Response:
    """``GET /changefeed``: a JSON array of entries (possibly empty)."""
    params = _params(request)
    version = int(request.state.api_version)
    include = _include_metadata(params)
    start = end = None
    if version < 2:
        offset = _integer(params, "offset", 0, 0, LONG_MAX)
        limit = _integer(params, "limit", 10, 1, 100)
    else:
        offset = _integer(params, "offset", 0, 0, INT_MAX)
        limit = _integer(params, "limit", 100, 1, 200)
        start, end = _time(params, "startTime"), _time(params, "endTime")
        if start is not None and end is not None and end <= start:
            raise bad_request(f"The time range is invalid: startTime '{params['starttime']}' must be "
                              f"earlier than endTime '{params['endtime']}'.")
    entries = await run_in_threadpool(_read_feed, request.app.state.store, version, offset, limit,
                                      start, end, include)
    return JSONResponse(entries)


async def changefeed_latest(request: Request) -> Response:
    """``GET /changefeed/latest``: the newest entry, or 204 when the feed is empty."""
    params = _params(request)
    include = _include_metadata(params)
    version = int(request.state.api_version)
    entry = await run_in_threadpool(_read_latest, request.app.state.store, version, include)
    if entry is None:
        return Response(status_code=204)
    return JSONResponse(entry)
