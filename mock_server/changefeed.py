"""The change feed (``/changefeed`` and ``/changefeed/latest``), an Azure-only API.

Entries are shaped as Azure's System.Text.Json output: camelCase keys, PascalCase enum values,
``partitionName`` always present, ``metadata`` only for the live version of an instance. v1 pages
by sequence number (offset is exclusive, limit bounds the sequence range); v2 pages by rows inside
a time window ordered by timestamp then sequence.
"""

import json

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from .binding import (
    LONG_MAX, MAX_TICKS, QueryCollection, bind_boolean, bind_date_time_offset, bind_integer, first_query_value,
    query_collection, round_trip,
)
from .errors import bad_request
from .responses import JSONResponse
from .storage import DEFAULT_PARTITION, FeedEntry, Store


def _integer(params: QueryCollection, key: str, default: int, low: int, high: int, bits: int) -> int:
    raw = first_query_value(params, key)
    return default if raw is None else bind_integer(raw, key, low, high, bits)


def _include_metadata(params: QueryCollection) -> bool:
    raw = first_query_value(params, "includeMetadata")
    return True if raw is None else bind_boolean(raw, "includeMetadata")


def _time(params: QueryCollection, key: str) -> int | None:
    return bind_date_time_offset(first_query_value(params, key), key)


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
    params = query_collection(request.query_params.multi_items())
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
        high = MAX_TICKS if end is None else end
        if high <= low:
            # The options bind without a prefix, so the model-state key of this error is empty.
            raise bad_request(f"The query parameter '' is invalid. The start time '{round_trip(low)}' must "
                              f"occur strictly before the end time '{round_trip(high)}'.")
    entries = await run_in_threadpool(_read_feed, request.app.state.store, version, offset, limit,
                                      start, end, include, _scope(request))
    return JSONResponse(entries)


async def changefeed_latest(request: Request) -> Response:
    """``GET /changefeed/latest``: the newest entry, or 204 when the feed is empty."""
    params = query_collection(request.query_params.multi_items())
    include = _include_metadata(params)
    version = int(request.state.api_version)
    entry = await run_in_threadpool(_read_latest, request.app.state.store, version, include, _scope(request))
    if entry is None:
        return Response(status_code=204)
    return JSONResponse(entry)
