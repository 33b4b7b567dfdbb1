"""Response types: (DICOM) JSON, and multipart/related streamed from files on disk."""

import json
import uuid
from collections.abc import AsyncIterator, Generator, Iterable, Iterator
from typing import Any, BinaryIO

import anyio
from starlette.concurrency import iterate_in_threadpool
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

DICOM_JSON = "application/dicom+json"
# ASP.NET Core's text output formatters add the charset: Azure's QIDO, STOW and metadata answers.
DICOM_JSON_UTF8 = "application/dicom+json; charset=utf-8"
JSON_UTF8 = "application/json; charset=utf-8"
_CHUNK = 1 << 20


def compact_json(value: Any) -> str:
    """JSON without spaces and with non-ASCII characters kept, as System.Text.Json writes it."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class JSONResponse(Response):
    """``application/json; charset=utf-8``, compact and UTF-8."""

    media_type = JSON_UTF8

    def render(self, content: Any) -> bytes:
        return compact_json(content).encode("utf-8")


class DicomJSONResponse(JSONResponse):
    """``application/dicom+json; charset=utf-8``, compact."""

    media_type = DICOM_JSON_UTF8


def iter_open(f: BinaryIO, start: int = 0, length: int | None = None) -> Iterator[bytes]:
    """The bytes of the open file ``f`` from ``start`` (``length`` of them, or to the end), in chunks; closes it."""
    with f:
        f.seek(start)
        remaining = length
        while remaining is None or remaining > 0:
            chunk = f.read(_CHUNK if remaining is None else min(_CHUNK, remaining))
            if not chunk:
                break
            if remaining is not None:
                remaining -= len(chunk)
            yield chunk


def primed_file_body(f: BinaryIO) -> AsyncIterator[bytes]:
    """The bytes of the open file ``f``, its first chunk read now (call it in a worker thread), the
    rest in a worker thread as the answer is sent; closes ``f``."""
    try:
        first = f.read(_CHUNK)
    except BaseException:
        f.close()
        raise

    async def body() -> AsyncIterator[bytes]:
        try:
            if first:
                yield first
            if len(first) == _CHUNK:
                async for chunk in iterate_in_threadpool(iter_open(f, len(first))):
                    yield chunk
        finally:
            f.close()

    return body()


def multipart_response(parts: Iterable[tuple[str, Iterable[bytes]]], headers: dict[str, str] | None = None,
                       status_code: int = 200) -> StreamingResponse:
    """``multipart/related; boundary=<guid>`` (no ``type``, as Azure) streaming each part's chunks."""
    return MultipartBody(parts).response(headers, status_code)


class OneChunkResponse(StreamingResponse):
    """A streamed answer whose whole body is already read: sent as one chunk, no Content-Length.

    On the wire it is what StreamingResponse sends for a one-chunk body (chunked, as Azure's streamed
    answers are), without the task group StreamingResponse starts to watch for the client leaving
    (under ASGI 2.3, which uvicorn speaks): a single message has nothing to stop early, and for a small
    WADO or frames answer that task group was about a quarter of the event loop's work.
    """

    def __init__(self, chunk: bytes, status_code: int = 200, headers: dict[str, str] | None = None,
                 media_type: str | None = None) -> None:
        super().__init__(iter(()), status_code=status_code, headers=headers, media_type=media_type)
        self._chunk = chunk

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        await send({"type": "http.response.body", "body": self._chunk, "more_body": False})


class MultipartBody:
    """A multipart/related body streaming each part's chunks; ``response()`` sends it.

    ``parts`` yields (part Content-Type, chunks); it is consumed lazily, in a worker thread, and sent
    in chunks of about ``_CHUNK`` bytes, each read in one trip to the thread pool (an answer under
    ``_CHUNK`` in one trip, end included). Starlette would take each item of a sync iterator to a
    worker thread and back and write it to the socket on its own: with small instances (a header,
    the file and a CRLF each) those trips cost more than reading the files (benchmarks/peer_compare.py).
    ``prime()``, called in the worker thread that found and opened the files, reads the first chunk
    there, so a small answer needs no trip of its own.
    """

    def __init__(self, parts: Iterable[tuple[str, Iterable[bytes]]]) -> None:
        self.boundary = str(uuid.uuid4())
        self._pieces = self._generate(parts)
        self._first: tuple[bytes, bool] | None = None

    def _generate(self, parts: Iterable[tuple[str, Iterable[bytes]]]) -> Generator[bytes, None, None]:
        for content_type, chunks in parts:
            yield f"--{self.boundary}\r\nContent-Type: {content_type}\r\n\r\n".encode("latin-1")
            yield from chunks
            yield b"\r\n"
        yield f"--{self.boundary}--\r\n".encode("latin-1")

    def _fill(self) -> tuple[bytes, bool]:
        """About ``_CHUNK`` bytes of the body, and whether the body has ended."""
        pending: list[bytes] = []
        size = 0
        for piece in self._pieces:
            pending.append(piece)
            size += len(piece)
            if size >= _CHUNK:
                return b"".join(pending), False
        return b"".join(pending), True

    def prime(self) -> "MultipartBody":
        """Read the first chunk now (in the calling thread, not the event loop's)."""
        if self._first is None:
            try:
                self._first = self._fill()
            except BaseException:
                self._pieces.close()
                raise
        return self

    def close(self) -> None:
        self._pieces.close()  # closes the files of parts not sent (a client gone mid-answer)

    async def _body(self) -> AsyncIterator[bytes]:
        try:
            if self._first is not None:
                chunk, done = self._first
                self._first = None
            else:
                chunk, done = await anyio.to_thread.run_sync(self._fill)
            if chunk:
                yield chunk
            while not done:
                chunk, done = await anyio.to_thread.run_sync(self._fill)
                if chunk:
                    yield chunk
        finally:
            self.close()

    def response(self, headers: dict[str, str] | None = None, status_code: int = 200) -> StreamingResponse:
        media_type = f"multipart/related; boundary={self.boundary}"
        if self._first is not None and self._first[1]:  # primed, and the whole body fitted in it
            chunk, self._first = self._first[0], None
            self.close()
            return OneChunkResponse(chunk, status_code, headers, media_type)
        return StreamingResponse(self._body(), status_code=status_code, headers=headers, media_type=media_type)
