"""WADO-RS retrieve of studies, series and instances, and their metadata.

Files are streamed from disk as stored (their preamble was zeroed at store time). The emulator does
not transcode: where Azure would transcode, it answers 406 (Azure's TranscodingException status).
"""

import sqlite3

import anyio
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from .accept import accepts_dicom_json
from .errors import DicomError, not_acceptable, not_found
from .negotiation import ORIGINAL, negotiate
from .responses import DICOM_JSON_UTF8, iter_file, multipart_response
from .storage import Store, instance_filter

NOT_FOUND = {
    "study": "The specified study cannot be found.",
    "series": "The specified series cannot be found.",
    "instance": "The specified instance cannot be found.",
}


def level_of(series_uid: str | None, sop_uid: str | None) -> str:
    """``study``, ``series`` or ``instance``: the deepest level the path UIDs name."""
    return "instance" if sop_uid else "series" if series_uid else "study"


def find_instances(store: Store, study_uid: str, series_uid: str | None = None, sop_uid: str | None = None,
                   columns: str = "*") -> list[sqlite3.Row]:
    """The stored instances under a study/series/instance, oldest first; 404 when there are none."""
    where, args = instance_filter(study_uid, series_uid, sop_uid)
    with store.read() as conn:
        rows = conn.execute(f"SELECT {columns} FROM instances WHERE {where} ORDER BY watermark", args).fetchall()
    if not rows:
        raise not_found(NOT_FOUND[level_of(series_uid, sop_uid)])
    return rows


def transcoding_error(stored: str, requested: str) -> DicomError:
    """406 where Azure would transcode and the emulator does not."""
    return DicomError(406, f"The emulator cannot transcode from transfer syntax '{stored}' to '{requested}'; "
                           "request transfer-syntax=* to receive the instance as stored.")


async def retrieve(request: Request, study_uid: str, series_uid: str | None = None,
                   sop_uid: str | None = None) -> Response:
    """GET a study, series or instance as DICOM Part 10 files."""
    choice = negotiate(request.headers.get("accept"), level_of(series_uid, sop_uid))
    store: Store = request.app.state.store
    rows = await anyio.to_thread.run_sync(
        lambda: find_instances(store, study_uid, series_uid, sop_uid, "file_name, transfer_syntax"))
    if choice.transfer_syntax != ORIGINAL:
        if len(rows) > 1:
            # DicomCoreResource.RetrieveServiceMultiInstanceTranscodingNotSupported
            raise DicomError(406, f"Accept transfer syntax '{choice.transfer_syntax}' is not supported when "
                                  "multiple instances are matched. Matching instances can be retrieved with their "
                                  "original transfer syntax by specifying 'transfer-syntax=*' in the Accept header.")
        if rows[0]["transfer_syntax"] != choice.transfer_syntax:
            raise transcoding_error(rows[0]["transfer_syntax"], choice.transfer_syntax)

    def part_type(row: sqlite3.Row) -> str:
        return f"application/dicom; transfer-syntax={row['transfer_syntax']}"

    if not choice.multipart:
        row = rows[0]
        return StreamingResponse(iter_file(store.file_path(row["file_name"])), media_type=part_type(row))

    def parts():
        for row in rows:
            path = store.file_path(row["file_name"])
            if path.exists():  # skip an instance deleted while the response streams
                yield part_type(row), iter_file(path)

    return multipart_response(parts())


async def metadata(request: Request, study_uid: str, series_uid: str | None = None,
                   sop_uid: str | None = None) -> Response:
    """GET …/metadata: a JSON array of the instances' DICOM JSON, with an ETag and 304."""
    if not accepts_dicom_json(request.headers.get("accept")):
        raise not_acceptable()
    store: Store = request.app.state.store
    rows = await anyio.to_thread.run_sync(
        lambda: find_instances(store, study_uid, series_uid, sop_uid, "watermark, metadata"))
    if sop_uid:
        etag = str(rows[0]["watermark"])
    else:
        etag = f"{max(r['watermark'] for r in rows)}-{len(rows)}"
    # RetrieveMetadataService.IsCacheValid: the whole header equals the ETag (ignoring case); no list,
    # no quotes, no W/. MetadataResult sends no ETag with the 304.
    if_none_match = ", ".join(request.headers.getlist("if-none-match"))
    if if_none_match and if_none_match.lower() == etag.lower():
        return Response(status_code=304)
    body = "[" + ",".join(r["metadata"] for r in rows) + "]"
    return Response(body.encode("utf-8"), media_type=DICOM_JSON_UTF8, headers={"ETag": etag})
