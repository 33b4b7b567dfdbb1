"""WADO-RS retrieve of studies, series and instances, and their metadata.

Files are streamed from disk as stored (their preamble was zeroed at store time). One instance asked
for in another transfer syntax is transcoded first (``transcode.py``), as Azure does.
"""

from collections.abc import Iterator
from typing import BinaryIO

import anyio
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from .accept import accepts_dicom_json
from .errors import DicomError, not_acceptable, not_found
from .negotiation import ORIGINAL, Choice, negotiate
from .responses import DICOM_JSON_UTF8, MultipartBody, iter_open, multipart_response, primed_file_body
from .storage import DEFAULT_PARTITION, InstanceRecord, Store
from .transcode import Serving, check_transcodable, serving, transcode_file

_OPEN_AHEAD = 256  # files opened before the status goes out; the rest as the answer streams
NOT_FOUND = {
    "study": "The specified study cannot be found.",
    "series": "The specified series cannot be found.",
    "instance": "The specified instance cannot be found.",
}


def level_of(series_uid: str | None, sop_uid: str | None) -> str:
    """``study``, ``series`` or ``instance``: the deepest level the path UIDs name."""
    return "instance" if sop_uid else "series" if series_uid else "study"


def find_instances(store: Store, study_uid: str, series_uid: str | None = None, sop_uid: str | None = None,
                   with_metadata: bool = False, partition: str = DEFAULT_PARTITION) -> list[InstanceRecord]:
    """The stored instances of ``partition`` under a study/series/instance, oldest first; 404 when there are none."""
    with store.snapshot() as snap:
        rows = snap.instances(study_uid, series_uid, sop_uid, with_metadata=with_metadata, partition=partition)
    if not rows:
        raise not_found(NOT_FOUND[level_of(series_uid, sop_uid)])
    return rows


def open_instances(store: Store, rows: list[InstanceRecord],
                   level: str) -> list[tuple[InstanceRecord, BinaryIO | None]]:
    """Open the instances' files before the status goes out, so the answer is complete or a clean 404.

    An instance deleted since the rows were read is left out (an open file stays readable after its
    delete); when none is left, the answer is the level's 404. Beyond the first ``_OPEN_AHEAD`` files
    (a large study would use up file descriptors) the files are opened as their parts are sent:
    ``None`` here, and ``open_parts`` skips those deleted by then.
    """
    opened: list[tuple[InstanceRecord, BinaryIO | None]] = []
    for row in rows[:_OPEN_AHEAD]:
        try:
            opened.append((row, store.file_path(row.file_name).open("rb")))
        except FileNotFoundError:
            continue
    opened += [(row, None) for row in rows[_OPEN_AHEAD:]]
    if not opened:
        raise not_found(NOT_FOUND[level])
    return opened


def open_parts(store: Store, opened: list[tuple[InstanceRecord, BinaryIO | None]]
               ) -> Iterator[tuple[InstanceRecord, BinaryIO]]:
    """Each instance with its open file, in order; closes the files of parts never sent."""
    try:
        for n, (row, f) in enumerate(opened):
            if f is None:
                try:
                    f = store.file_path(row.file_name).open("rb")
                except FileNotFoundError:
                    continue  # deleted while the answer streams: the part is left out, the body stays whole
            opened[n] = (row, None)
            yield row, f
    finally:
        for _, f in opened:
            if f is not None:
                f.close()


def transcode_limit(request: Request) -> int:
    """The largest file transcoded (``--max-transcode-size``; Azure's MaxDicomFileSize by default)."""
    return request.app.state.max_transcode_bytes


def _find_and_open(store: Store, study_uid: str, series_uid: str | None, sop_uid: str | None, partition: str,
                   choice: Choice, level: str) -> tuple[list[InstanceRecord], Serving, Response | None]:
    """In one worker thread: the instances, how they are served, and (served as stored) the answer
    with its files open and its first chunk read, so a small answer takes one trip to the thread pool."""
    rows = find_instances(store, study_uid, series_uid, sop_uid, partition=partition)
    if choice.transfer_syntax != ORIGINAL and len(rows) > 1:
        # DicomCoreResource.RetrieveServiceMultiInstanceTranscodingNotSupported
        raise DicomError(406, f"Accept transfer syntax '{choice.transfer_syntax}' is not supported when "
                              "multiple instances are matched. Matching instances can be retrieved with their "
                              "original transfer syntax by specifying 'transfer-syntax=*' in the Accept header.")
    serve = serving(choice.transfer_syntax, rows[0].transfer_syntax)
    if serve.transcode:
        return rows, serve, None
    opened = open_instances(store, rows, level)

    def part_type(row: InstanceRecord) -> str:
        return f"application/dicom; transfer-syntax={serving(choice.transfer_syntax, row.transfer_syntax).syntax}"

    if not choice.multipart:
        row, f = opened[0]  # single part: one instance, opened above
        assert f is not None
        return rows, serve, StreamingResponse(primed_file_body(f), media_type=part_type(row))
    body = MultipartBody((part_type(row), iter_open(f)) for row, f in open_parts(store, opened))
    return rows, serve, body.prime().response()


async def retrieve(request: Request, study_uid: str, series_uid: str | None = None,
                   sop_uid: str | None = None) -> Response:
    """GET a study, series or instance as DICOM Part 10 files."""
    level = level_of(series_uid, sop_uid)
    choice = negotiate(request.headers.get("accept"), level)
    store: Store = request.app.state.store
    rows, serve, answer = await anyio.to_thread.run_sync(
        _find_and_open, store, study_uid, series_uid, sop_uid, request.state.partition, choice, level)
    if answer is not None:
        return answer
    row = rows[0]
    check_transcodable(row.transfer_syntax, row.file_size, serve.syntax, transcode_limit(request))
    converted = await anyio.to_thread.run_sync(transcode_file, store.file_path(row.file_name), serve.syntax)
    media_type = f"application/dicom; transfer-syntax={serve.syntax}"
    if not choice.multipart:
        return StreamingResponse(iter_open(converted), media_type=media_type)
    return multipart_response([(media_type, iter_open(converted))])


async def metadata(request: Request, study_uid: str, series_uid: str | None = None,
                   sop_uid: str | None = None) -> Response:
    """GET …/metadata: a JSON array of the instances' DICOM JSON, with an ETag and 304."""
    if not accepts_dicom_json(request.headers.get("accept")):
        raise not_acceptable()
    store: Store = request.app.state.store
    rows = await anyio.to_thread.run_sync(
        lambda: find_instances(store, study_uid, series_uid, sop_uid, with_metadata=True,
                               partition=request.state.partition))
    if sop_uid:
        etag = str(rows[0].watermark)
    else:
        etag = f"{max(r.watermark for r in rows)}-{len(rows)}"
    # RetrieveMetadataService.IsCacheValid: the whole header equals the ETag (ignoring case); no list,
    # no quotes, no W/. MetadataResult sends no ETag with the 304.
    if_none_match = ", ".join(request.headers.getlist("if-none-match"))
    if if_none_match and if_none_match.lower() == etag.lower():
        return Response(status_code=304)
    body = "[" + ",".join(r.metadata or "{}" for r in rows) + "]"
    return Response(body.encode("utf-8"), media_type=DICOM_JSON_UTF8, headers={"ETag": etag})
