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

from .binding import LONG_MAX, bind_boolean, bind_integer
from .errors import bad_request
from .responses import JSONResponse
from .storage import DEFAULT_PARTITION, FeedEntry, Store
# ISO 8601 date-time; the zone is checked separately so a missing one gets its own message.
_TIMESTAMP = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,7}))?)?)?"
    r"\s*(Z|[+-]\d{2}(?::?\d{2})?)?$", re.IGNORECASE | re.ASCII)
_MAX_OFFSET_MINUTES = 14 * 60  # .NET DateTimeOffset: offsets beyond ±14:00 do not parse
_EPOCH = datetime(1, 1, 1, tzinfo=timezone.utc)
_MAX_TICKS = 3_155_378_975_999_999_999  # DateTimeOffset.MaxValue


def _params(request: Request) -> dict[str, str]:
    """First value of each parameter, names lower-cased: ASP.NET binds names case-insensitively."""
    params: dict[str, str] = {}
    for name, value in request.query_params.multi_items():
        params.setdefault(name.lower(), value)
    return params


def _integer(params: dict[str, str], key: str, default: int, low: int, high: int, bits: int) -> int:
    raw = params.get(key.lower())
    return default if raw is None else bind_integer(raw, key, low, high, bits)


def _include_metadata(params: dict[str, str]) -> bool:
    raw = params.get("includemetadata")
    return True if raw is None else bind_boolean(raw, "includeMetadata")


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


def _time(params: dict[str, str], key: str) -> int | None:
    """MandatoryTimeZoneBinder: a date and time with a zone, in ticks; blank means none."""
    raw = params.get(key.lower())
    if raw is None or not raw.strip():
        return None
    match = _TIMESTAMP.match(raw.strip())
    try:
        if not match:
            raise ValueError(raw)
        ticks = _ticks(match)
    except (ValueError, OverflowError):
        # The binder adds the FormatException itself, whose model-state message is empty.
        raise bad_request(f"The query parameter '{key}' is invalid. ") from None
    if not match.group(8):
        raise bad_request(f"The query parameter '{key}' is invalid. Date and time value must specify a time zone.")
    return ticks


def _round_trip(ticks: int) -> str:
    """A UTC DateTimeOffset in .NET's "O" format, e.g. ``2024-01-02T00:00:00.0000000+00:00``."""
    moment = _EPOCH + timedelta(seconds=ticks // 10_000_000)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{ticks % 10_000_000:07d}+00:00"


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
    # ChangeFeedService adds the current version's metadata whenever one exists: Current and Replaced.
    if include_metadata and state != "Deleted" and row.metadata is not None:
        entry["metadata"] = json.loads(row.metadata)
    return entry


def _scope(request: Request) -> str | None:
    """The partitions the feed reads: it stays at the base URL and, with data partitions on, reads them
    all (GetChangeFeedV39.sql filters on none); without, every entry is in Microsoft.Default."""
    return None if request.app.state.partitions_enabled else DEFAULT_PARTITION


def _read_feed(store: Store, version: int, offset: int, limit: int, start: int | None, end: int | None,
               include: bool, partition: str | None) -> list[dict]:
    with store.snapshot() as snap:
        if version < 2:
            rows = snap.feed_by_sequence(offset, min(offset + limit, LONG_MAX), include, partition=partition)
        else:
            rows = snap.feed_by_time(start, end, offset, limit, include, partition=partition)
    return [_entry(r, include) for r in rows]


def _read_latest(store: Store, version: int, include: bool, partition: str | None) -> dict | None:
    with store.snapshot() as snap:
        row = snap.feed_latest(version >= 2, include, partition=partition)
    return _entry(row, include) if row else None


async def changefeed(request: Request) -> Response:
    """``GET /changefeed``: a JSON array of entries (possibly empty)."""
    params = _params(request)
    version = int(request.state.api_version)
    start = end = None
    # ModelState order: parameters (v1) or WindowedPaginationOptions properties (v2) as declared,
    # includeMetadata last; the v2 time window is the options' own IValidatableObject check.
    if version < 2:
        offset = _integer(params, "offset", 0, 0, LONG_MAX, 64)
        limit = _integer(params, "limit", 10, 1, 100, 32)
        include = _include_metadata(params)
    else:
        start, end = _time(params, "StartTime"), _time(params, "EndTime")
        offset = _integer(params, "Offset", 0, 0, LONG_MAX, 64)
        limit = _integer(params, "Limit", 100, 1, 200, 32)
        include = _include_metadata(params)
        low = 0 if start is None else start
        high = _MAX_TICKS if end is None else end
        if high <= low:
            # The options bind without a prefix, so the model-state key of this error is empty.
            raise bad_request(f"The query parameter '' is invalid. The start time '{_round_trip(low)}' must "
                              f"occur strictly before the end time '{_round_trip(high)}'.")
    entries = await run_in_threadpool(_read_feed, request.app.state.store, version, offset, limit,
                                      start, end, include, _scope(request))
    return JSONResponse(entries)


async def changefeed_latest(request: Request) -> Response:
    """``GET /changefeed/latest``: the newest entry, or 204 when the feed is empty."""
    params = _params(request)
    include = _include_metadata(params)
    version = int(request.state.api_version)
    entry = await run_in_threadpool(_read_latest, request.app.state.store, version, include, _scope(request))
    if entry is None:
        return Response(status_code=204)
    return JSONResponse(entry)
