"""STOW-RS (``POST /studies[/{study}]``), with Azure's status matrix and response dataset.

The body is parsed as it arrives (python-multipart's streaming parser over ``request.stream()``)
and every part is spooled to its own new file in the store's ``files/`` (no index row names it until
it is stored), so memory does not grow with the upload.
As in Azure, all parts are read before any is stored: a part with the wrong Content-Type rejects the
whole request (415) and nothing is stored.
"""

import contextlib
import functools
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal, overload
from urllib.parse import urlsplit

import anyio
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from .accept import accepts_dicom_json, split_outside_quotes
from .dicomfile import (
    PROCESSING_FAILURE, SOP_INSTANCE_ALREADY_EXISTS, Accepted, Failure, inspect_file, quick_to_inspect, zero_preamble,
)
from .errors import DicomError, bad_request, not_acceptable, storage_full
from .responses import DicomJSONResponse
from .storage import DEFAULT_PARTITION, DuplicateInstance, Store, is_disk_full

if TYPE_CHECKING:  # python-multipart defines its callback types for type checkers only
    from python_multipart.multipart import MultipartCallbacks

DICOM = "application/dicom"
_FLUSH_BYTES = 1 << 20  # hand the parser about 1 MiB at a time (one thread hop per MiB)
_KEEP_BYTES = 1 << 20  # parts kept in memory as well, up to this much per request, to be validated there
_IN_PLACE_BYTES = 64 * 1024  # the largest part stored on the event loop (``in_place``)
_MAX_PREAMBLE = 64 * 1024
_END = 12  # python-multipart's MultipartState.END


def parse_content_type(header: str | None) -> tuple[str, dict[str, str]]:
    """``(media type, params)`` of a Content-Type header; params lower-cased, quotes removed."""
    if not header or not header.strip():
        raise unsupported("")
    pieces = split_outside_quotes(header, ";")
    media = pieces[0].strip().lower()
    params: dict[str, str] = {}
    for piece in pieces[1:]:
        if not piece.strip():
            continue
        name, sep, value = piece.partition("=")
        if not sep:
            raise unsupported(header)
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        params[name.strip().lower()] = value
    return media, params


def unsupported(content_type: str) -> DicomError:
    """415 naming the rejected Content-Type (of the request or of a part)."""
    return DicomError(415, f"The specified content type '{content_type}' is not supported.")


class _PartSpooler:
    """python-multipart callbacks that write each part to its own new file, all in one directory.

    The first parts, up to ``_KEEP_BYTES`` in all, are kept in ``contents`` too (as written), so that
    they are validated without reading them back.
    """

    def __init__(self, store: Store, outer_type: str | None, paths: list[Path], contents: dict[Path, bytes]) -> None:
        self.store = store
        self.outer_type = outer_type
        self.paths = paths  # the caller's list: it removes the files not stored, whatever happens
        self.contents = contents
        self._kept: bytearray | None = None
        self._kept_total = 0
        self._directory: Path | None = None
        self._file: IO[bytes] | None = None
        self._written = 0
        self._headers: dict[str, str] = {}
        self._field = bytearray()
        self._value = bytearray()

    def callbacks(self) -> "MultipartCallbacks":
        return {
            "on_part_begin": self.on_part_begin, "on_header_field": self.on_header_field,
            "on_header_value": self.on_header_value, "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished, "on_part_data": self.on_part_data,
            "on_part_end": self.on_part_end,
        }

    def on_part_begin(self) -> None:
        self._headers = {}

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def on_header_end(self) -> None:
        name = self._field.decode("latin-1").strip().lower()
        self._headers[name] = self._value.decode("latin-1").strip()
        self._field.clear()
        self._value.clear()

    def on_headers_finished(self) -> None:
        content_type = self._headers.get("content-type")
        if content_type is None and not self.paths:
            # Azure: only the first part may omit its Content-Type; it then takes the outer type.
            content_type = self.outer_type or ""
        if (content_type or "").strip().lower() != DICOM:
            raise unsupported(content_type or "")
        if self._directory is None:
            self._directory = self.store.spool_directory()
        path, self._file = self.store.create_file(self._directory)
        self.paths.append(path)
        self._written = 0
        self._kept = bytearray()

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        # The parser sends a part's data only after its headers, which opened the file or raised.
        assert self._file is not None, "part data before the part's headers"
        piece = zero_preamble(self._written, data[start:end])
        self._written += len(piece)
        self._file.write(piece)
        if self._kept is not None:
            if self._kept_total + len(self._kept) + len(piece) <= _KEEP_BYTES:
                self._kept += piece
            else:
                self._kept = None

    def on_part_end(self) -> None:
        if self._kept is not None:
            self.contents[self.paths[-1]] = bytes(self._kept)
            self._kept_total += len(self._kept)
            self._kept = None
        self.close()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


# ASP.NET Core's MultipartReader (an IOException, wrapped as InvalidMultipartRequestException) when the body
# ends before a boundary it is looking for: no first boundary, or no closing one.
_UNEXPECTED_END = "Unexpected end of Stream, the content may have already been read by another component."


async def _body_chunks(request: Request, limit: int) -> AsyncIterator[bytes]:
    received = 0
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if received > limit:
                # DicomCoreResource.RequestLengthLimitExceeded
                raise DicomError(413, f"The request exceeded the allowed limit of {limit} bytes.")
            if chunk:
                yield chunk
    except ClientDisconnect:
        raise bad_request("Unexpected end of request content.") from None  # Kestrel's BadHttpRequestException


async def spool_multipart(request: Request, store: Store, boundary: str, outer_type: str | None,
                          limit: int, paths: list[Path], closers: list[Callable[[], None]],
                          contents: dict[Path, bytes]) -> Callable[[], None]:
    """Spool each part of a multipart body to a new file; their paths are appended to ``paths``, and
    the first parts' bytes (``_PartSpooler``) put in ``contents``.

    Returns the last step, for the caller to run once the body is in: parsing what is left of it (at
    most ``_FLUSH_BYTES``) and checking that it ended. ``closers`` gets what closes the open file, for
    the caller to run whatever happens (the last step may never run).
    """
    spooler = _PartSpooler(store, outer_type, paths, contents)
    closers.append(spooler.close)
    if len(boundary) > 70:
        # ASP.NET Core's MultipartReader constructor: an ArgumentException, 400 with its message.
        raise bad_request("Multipart boundary length limit 70 exceeded. (Parameter 'boundary')")
    try:
        parser = MultipartParser(boundary.encode("latin-1"), spooler.callbacks())
    except Exception:  # noqa: BLE001 - a boundary the parser cannot use
        raise bad_request("The multipart boundary is invalid.") from None
    delimiter = b"--" + boundary.encode("latin-1")
    pending = bytearray()
    seen_any = False
    started = False
    try:
        async for chunk in _body_chunks(request, limit):
            seen_any = True
            pending += chunk
            if not started:
                # Skip a preamble before the first delimiter, as RFC 2046 allows.
                at = pending.find(delimiter)
                if at < 0:
                    if len(pending) > _MAX_PREAMBLE:
                        raise bad_request(_UNEXPECTED_END)
                    continue
                del pending[:at]
                started = True
            if len(pending) >= _FLUSH_BYTES:
                data, pending = bytes(pending), bytearray()
                await anyio.to_thread.run_sync(parser.write, data)
        if pending and not started:
            raise bad_request(_UNEXPECTED_END)
    except MultipartParseError:  # the open part is closed by the caller's closers
        raise bad_request("The multipart body is malformed.") from None

    def finish() -> None:
        try:
            if pending:
                parser.write(bytes(pending))
        except MultipartParseError:
            raise bad_request("The multipart body is malformed.") from None
        finally:
            spooler.close()
        if seen_any and parser.state != _END:
            raise bad_request(_UNEXPECTED_END)

    return finish


async def spool_single(request: Request, store: Store, limit: int, paths: list[Path],
                       closers: list[Callable[[], None]], contents: dict[Path, bytes]) -> Callable[[], None]:
    """Azure's non-standard single-part upload: the whole body is one DICOM file.

    Returns the last step (writing the rest of the body); ``closers`` gets the file's close and
    ``contents`` the bytes of a body of at most ``_KEEP_BYTES``, as in ``spool_multipart``.
    """
    path, f = store.create_file(store.spool_directory())  # quick; and no await before the caller knows of it
    paths.append(path)
    closers.append(f.close)
    written = 0
    pending = bytearray()
    async for chunk in _body_chunks(request, limit):  # on an error the caller's closers close f
        pending += chunk
        if len(pending) >= _FLUSH_BYTES:
            data, pending = zero_preamble(written, bytes(pending)), bytearray()
            written += len(data)
            await anyio.to_thread.run_sync(f.write, data)

    def finish() -> None:
        with f:
            if pending:
                data = zero_preamble(written, bytes(pending))
                f.write(data)
                if not written and len(data) <= _KEEP_BYTES:
                    contents[path] = data

    return finish


def _us(value: int) -> dict[str, Any]:
    return {"vr": "US", "Value": [value]}


def _ui(value: str) -> dict[str, Any]:
    return {"vr": "UI", "Value": [value]}


def _comments(comments: list[str]) -> dict[str, Any]:
    items = [{"00000902": {"vr": "LO", "Value": [c]}} for c in comments]
    return {"vr": "SQ", "Value": items} if items else {"vr": "SQ"}


def _failure_item(f: Failure) -> dict[str, Any]:
    item: dict[str, Any] = {}
    if f.sop_class_uid:
        item["00081150"] = _ui(f.sop_class_uid)
    if f.sop_uid:
        item["00081155"] = _ui(f.sop_uid)
    item["00081197"] = _us(f.reason)
    if f.comments:
        item["00741048"] = _comments(f.comments)
    return item


@overload
def store_parts(store: Store, paths: list[Path], api_version: int, path_study: str | None, base_url: str,
                partition: str = ..., contents: dict[Path, bytes] | None = ..., *,
                wait: Literal[True] = ...) -> Response: ...


@overload
def store_parts(store: Store, paths: list[Path], api_version: int, path_study: str | None, base_url: str,
                partition: str = ..., contents: dict[Path, bytes] | None = ..., *,
                wait: bool) -> Response | None: ...


def store_parts(store: Store, paths: list[Path], api_version: int, path_study: str | None,
                base_url: str, partition: str = DEFAULT_PARTITION, contents: dict[Path, bytes] | None = None,
                *, wait: bool = True) -> Response | None:
    """Validate and store each spooled part in ``partition``; build Azure's STOW response.

    ``base_url`` is that of the request, with its ``/partitions/{name}`` segment when it has one;
    ``contents`` has the bytes of the parts kept in memory. The paths of the parts stored are taken
    out of ``paths``: the caller removes the rest. ``wait=False``: None, with nothing stored, when
    another write holds the writer lock (``Store.add_all``).
    """
    if not paths:
        return Response(status_code=204)
    # The fsyncs first, so that the parts are durable by the time they are indexed; the GIL is
    # released meanwhile, so a worker thread lets the event loop finish its own work instead of
    # contending with it.
    store.sync_files(paths)
    succeeded: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    any_warning = False
    multi_valued = False
    # Each part validated, in order; then the valid ones stored in one transaction.
    outcomes: list[Accepted | Failure] = []
    for path in paths:
        try:
            result = inspect_file(path, api_version, path_study, (contents or {}).get(path))
        except OSError:
            result = Failure(PROCESSING_FAILURE)
        multi_valued = multi_valued or result.multi_valued
        outcomes.append(result)
    accepted = [r for r in outcomes if isinstance(r, Accepted)]
    results = store.add_all([r.staged for r in accepted], partition, synced=True, wait=wait) if accepted else []
    if results is None:
        return None
    kept = {r.staged.path for r, added in zip(accepted, results, strict=True) if isinstance(added, int)}
    paths[:] = [p for p in paths if p not in kept]
    stored = iter(results)
    for result in outcomes:
        if isinstance(result, Failure):
            failed.append(_failure_item(result))
            continue
        s = result.staged
        added = next(stored)
        if isinstance(added, DuplicateInstance):
            failed.append(_failure_item(Failure(SOP_INSTANCE_ALREADY_EXISTS, s.sop_class_uid, s.sop_uid)))
            continue
        if isinstance(added, OSError):
            failed.append(_failure_item(Failure(PROCESSING_FAILURE, s.sop_class_uid, s.sop_uid)))
            continue
        item: dict[str, Any] = {
            "00081150": _ui(s.sop_class_uid),
            "00081155": _ui(s.sop_uid),
            "00081190": {"vr": "UR", "Value": [
                f"{base_url}/studies/{s.study_uid}/series/{s.series_uid}/instances/{s.sop_uid}"]},
        }
        if result.warning_reasons:
            item["00081196"] = {"vr": "US", "Value": list(result.warning_reasons)}
            any_warning = True
        if api_version >= 2:
            # v2 always reports the attribute warnings, as an empty sequence when there are none.
            item["00741048"] = _comments(result.comments)
        succeeded.append(item)

    body: dict[str, Any] = {}
    if path_study is not None and succeeded:
        body["00081190"] = {"vr": "UR", "Value": [f"{base_url}/studies/{path_study}"]}
    if failed:
        body["00081198"] = {"vr": "SQ", "Value": failed}
    if succeeded:
        body["00081199"] = {"vr": "SQ", "Value": succeeded}
    if not succeeded:
        status = 409
    elif failed or (api_version >= 2 and any_warning):
        status = 202
    else:
        status = 200
    headers = {}
    if multi_valued:
        # StoreController: Warning "299 {host}: \"{DicomCoreResource.IndexedDicomTagHasMultipleValues}\"",
        # the host being Request.Host.Host followed by a colon (GetHost(dicomStandards: true)).
        host = urlsplit(base_url).hostname or ""
        host = f"[{host}]" if ":" in host else host
        headers["Warning"] = (f'299 {host}: "One or more indexed Dicom tag(s) have multiple values, only first '
                              'value is indexed."')
    return DicomJSONResponse(body, status_code=status, headers=headers)


_CONSUMES = ("application/dicom", "multipart/related")


def check_consumes(request: Request) -> None:
    """StoreController's resource filter, the first of its filters (before the data-partition one).

    ``[Consumes("application/dicom", "multipart/related")]`` answers any other Content-Type with 415
    and an empty body; a request without one goes on.
    """
    header = request.headers.get("content-type")
    if header is not None and header.split(";", 1)[0].strip().lower() not in _CONSUMES:
        raise DicomError(415)


def check_accept(request: Request) -> None:
    """StoreController's AcceptContentFilter, an action filter that runs before the role check in the
    handler (and after the controller's data-partition filter): 406 unless Accept matches
    application/dicom+json."""
    if not accepts_dicom_json(request.headers.get("accept")):
        raise not_acceptable()


async def stow(request: Request, study_uid: str | None = None) -> Response:
    """Handle ``POST /studies`` and ``POST /studies/{study}`` (Accept and study UID already checked)."""
    header = request.headers.get("content-type")
    media, params = parse_content_type(header)
    store: Store = request.app.state.store
    limit: int = request.app.state.max_request_bytes
    paths: list[Path] = []
    closers: list[Callable[[], None]] = []
    contents: dict[Path, bytes] = {}
    handed_over = False
    try:
        if media == "multipart/related":
            boundary = params.get("boundary")
            if not boundary:
                # AspNetCoreMultipartReader: DicomApiResource.InvalidMultipartContentType
                raise DicomError(415, f"The content type '{header}' is either not multipart or is missing "
                                      "boundary.")
            if "start" in params:
                raise bad_request("The start parameter in multipart/related request is not supported.")
            finish = await spool_multipart(request, store, boundary, params.get("type"), limit, paths, closers,
                                           contents)
        elif media == DICOM:
            finish = await spool_single(request, store, limit, paths, closers, contents)
        else:
            raise unsupported(header or "")
        api_version, base_url, partition = request.state.api_version, request.state.base_url, request.state.partition

        finish()  # the last bytes of the body (at most _FLUSH_BYTES) into their files

        store_these = functools.partial(store_parts, store, paths, api_version, study_uid, base_url, partition,
                                        contents)
        if in_place(store, paths, contents):
            stored = store_these(wait=False)
            if stored is not None:
                return stored  # the files of parts not stored are removed below

        def store_and_clean_up() -> Response:
            try:
                return store_these()
            finally:
                _remove(paths)

        # One trip to the worker thread: fsyncs, validation, storing and the clean-up. From here on
        # the thread owns the files: a cancelled request (the server shutting down) does not wait
        # for it, and must not remove files the thread may yet store.
        handed_over = True
        return await anyio.to_thread.run_sync(store_and_clean_up)
    except OSError as exc:
        if is_disk_full(exc):
            raise storage_full() from None
        raise
    finally:
        if not handed_over:  # the request failed, was cancelled or was stored here
            for close in closers:
                close()
            _remove(paths)


def in_place(store: Store, paths: list[Path], contents: dict[Path, bytes]) -> bool:
    """Whether to store a request's parts here, on the event loop, rather than in a worker thread.

    So for one part of at most ``_IN_PLACE_BYTES``, kept in memory and not deflated, on a disk
    whose fsyncs are quick, while no other write or fsync is under way: the thread would hold the
    GIL for nearly all of it anyway, and the trip there and back (two thread wake-ups) costs more
    than the fsync keeps the loop waiting. Anything larger, slower or deflated, or behind another
    write, goes to the worker thread, so the loop is never held for long (and if another write
    takes the writer lock meanwhile, ``store_parts`` gives way to the thread).
    """
    if len(paths) != 1 or paths[0] not in contents or len(contents[paths[0]]) > _IN_PLACE_BYTES:
        return False
    return quick_to_inspect(contents[paths[0]]) and store.syncs_are_quick and not store.busy


def _remove(paths: list[Path]) -> None:
    """Remove the files left in ``paths`` (those of stored parts were taken out) and forget them."""
    for path in paths:
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)
    paths.clear()
