"""WADO-RS frames (``…/frames/1,2,3``); rendered images are in ``rendered.py``.

Native (uncompressed) frames are read as a byte range of the file, at the offset pydicom reports for
PixelData, so a large multi-frame instance is never loaded whole. Encapsulated frames are split with
pydicom's ``generate_frames``. Frames asked for in another transfer syntax are transcoded one by one
(``transcode.py``), all before the status goes out, as Azure's FrameHandler does.
"""

import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

import anyio
import pydicom
from pydicom.dataelem import RawDataElement
from pydicom.encaps import generate_frames
from pydicom.tag import Tag
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from .binding import int_list
from .dicomfile import check_inflated_size, number_of_frames, syntax_kind
from .errors import DicomError, bad_request
from .negotiation import negotiate
from .responses import MultipartBody
from .storage import FrameLayout, Store
from .transcode import Serving, check_transcodable, serving, transcode_frame
from .wado import NOT_FOUND, find_instances, transcode_limit

FRAME_NOT_FOUND = "The specified frame cannot be found."
INVALID_FRAMES = ("The specified frames value is not valid. At least one frame must be present, "
                  "and all requested frames must have value greater than 0.")
INSTANCE_NOT_FOUND = NOT_FOUND["instance"]
_PIXEL_DATA = Tag(0x7FE00010)


def parse_frames(text: str) -> list[int]:
    """``"1,2,3"`` → [1, 2, 3]; 400 for an empty or unparsable list or a frame below 1.

    The list binds as Azure's IntArrayModelBinder binds it (``binding.int_list``: "+1", "1.0" and "1e0"
    are frame 1, "²" is not a number); when binding fails the frames are null, and RetrieveRequestValidator
    answers null, empty and non-positive frames alike.
    """
    frames = int_list(text)
    if not frames or min(frames) < 1:
        raise bad_request(INVALID_FRAMES)
    return frames


class FrameSource:
    """Where each frame of one stored instance lives, read without loading native pixel data.

    The file is opened once, before the response starts: a delete that commits afterwards does not
    cut the answer short (the open file stays readable). Every frame asked for is checked against
    the pixel data before the status goes out (``check``).
    """

    def __init__(self, path: Path, transfer_syntax: str, layout: FrameLayout | None = None,
                 frame_count: int = 0) -> None:
        """``layout`` and ``frame_count``: the index's record of native pixel data (the frames it holds in
        full), so the file's elements need not be parsed; without a layout they are read from the file."""
        self.path = path
        self.syntax = transfer_syntax
        # In a deflated file pydicom's offsets point into the inflated stream, not the file.
        self.encapsulated, self.deflated = syntax_kind(transfer_syntax)
        self._ds: pydicom.Dataset | None = None
        self._frames: list[bytes] | None = None  # encapsulated: each frame's bytes
        self._value: bytes | None = None  # native pixel data pydicom had to read (deflated, or short)
        self._offset = self._length = 0  # native pixel data left in the file: where its value lies
        try:
            self._file = path.open("rb")
        except FileNotFoundError:
            raise DicomError(404, INSTANCE_NOT_FOUND) from None
        opened = False
        try:
            if layout is not None and not self.encapsulated and not self.deflated:
                self.count, self.frame_size, self._offset = frame_count, layout.frame_bytes, layout.offset
                self._length = frame_count * layout.frame_bytes
            else:
                self._open()
            opened = True
        except FileNotFoundError:  # pydicom reopens the file by name for deferred values
            raise DicomError(404, INSTANCE_NOT_FOUND) from None
        finally:
            if not opened:
                self._file.close()

    def _open(self) -> None:
        if self.deflated:
            check_inflated_size(self._file)
            self._file.seek(0)
        ds = self._ds = pydicom.dcmread(self._file, defer_size=1024)
        elem = ds.get_item(_PIXEL_DATA, keep_deferred=True)
        if elem is None:
            raise DicomError(404, FRAME_NOT_FOUND)
        self.count = number_of_frames(ds)
        if self.encapsulated:
            self._frames = list(generate_frames(ds.PixelData, number_of_frames=self.count))
            return
        bits = int(ds.get("BitsAllocated") or 0)
        if bits % 8:
            raise DicomError(406, f"Frames with BitsAllocated {bits} are not supported by the emulator.")
        self.frame_size = int(ds.Rows) * int(ds.Columns) * int(ds.get("SamplesPerPixel") or 1) * bits // 8
        if isinstance(elem, RawDataElement) and elem.value is None and not self.deflated:
            # The still-unread Pixel Data element: its frames are read from the file at its offset.
            self._offset, self._length = elem.value_tell, elem.length
        else:
            self._value = ds.PixelData or b""

    @property
    def header(self) -> pydicom.Dataset:
        """The instance's elements (pixel data deferred), for its image pixel description."""
        if self._ds is None:  # the layout came from the index: read the elements now
            self._file.seek(0)
            self._ds = pydicom.dcmread(self._file, defer_size=1024)
        return self._ds

    def close(self) -> None:
        self._file.close()

    def check(self, frame: int) -> None:
        """404 unless frame ``frame`` (1-based) is there in full."""
        if frame > self.count:
            raise DicomError(404, FRAME_NOT_FOUND)
        if self._frames is not None:
            if frame > len(self._frames):
                raise DicomError(404, FRAME_NOT_FOUND)
            return
        end = frame * self.frame_size
        length = len(self._value) if self._value is not None else self._length
        if end > length:
            raise DicomError(404, FRAME_NOT_FOUND)

    def read(self, frame: int) -> Iterable[bytes]:
        """The bytes of frame ``frame`` (1-based, already ``check``-ed), as chunks."""
        if self._frames is not None:
            return [self._frames[frame - 1]]
        start = (frame - 1) * self.frame_size
        if self._value is not None:
            return [self._value[start:start + self.frame_size]]
        return _file_range(self._file, self._offset + start, self.frame_size)


class TranscodedFrames:
    """The frames asked for, each transcoded before the response starts (a failure is still a 406).

    Azure holds them in memory; here they go to an unnamed temporary file, so that all the frames of a
    large instance do not sit in memory at once.
    """

    def __init__(self, source: FrameSource, numbers: list[int], target: str) -> None:
        self._file = tempfile.TemporaryFile()
        self._ranges: dict[int, tuple[int, int]] = {}
        try:
            for n in numbers:
                if n not in self._ranges:
                    data = transcode_frame(source.header, source.syntax, b"".join(source.read(n)), target)
                    self._ranges[n] = (self._file.tell(), len(data))
                    self._file.write(data)
        except BaseException:
            self._file.close()
            raise
        finally:
            source.close()

    def read(self, frame: int) -> Iterable[bytes]:
        start, length = self._ranges[frame]
        return _file_range(self._file, start, length)

    def close(self) -> None:
        self._file.close()


def _file_range(f: BinaryIO, start: int, length: int) -> Iterator[bytes]:
    # Like iter_open, but leaves the file open for the next frame of the answer.
    f.seek(start)
    while length > 0:
        chunk = f.read(min(length, 1 << 20))
        if not chunk:
            break
        length -= len(chunk)
        yield chunk


async def frames(request: Request, study_uid: str, series_uid: str, sop_uid: str, frame_list: str) -> Response:
    """GET …/instances/{i}/frames/{list}."""
    # The frame list is bound (and rejected) before the action runs, so before Accept is looked at.
    numbers = parse_frames(frame_list)
    choice = negotiate(request.headers.get("accept"), "frames")
    if not choice.multipart and len(numbers) > 1:
        # DicomCoreResource.SinglePartSupportedForSingleFrame
        raise bad_request("The accept header is supported for single frame retrieval, use multi-part accept "
                          "header instead.")
    store: Store = request.app.state.store

    def load() -> tuple[Serving, FrameSource | None, Response | None]:
        # One trip to the thread pool: the row, the file, every frame checked and (served as stored)
        # the answer's first chunk read.
        row = find_instances(store, study_uid, series_uid, sop_uid, partition=request.state.partition)[0]
        serve = serving(choice.transfer_syntax, row.transfer_syntax)
        if serve.transcode:  # RetrieveResourceService: the size limit before the file is opened
            check_transcodable(row.transfer_syntax, row.file_size, serve.syntax, transcode_limit(request))
        source = FrameSource(store.file_path(row.file_name), row.transfer_syntax, row.frame_layout, row.frame_count)
        # Check every frame is there in full before the response starts; then read each while streaming.
        try:
            for n in numbers:
                source.check(n)
        except BaseException:
            source.close()
            raise
        if serve.transcode:
            return serve, source, None
        return serve, None, _answer(source, numbers, f"{choice.part_type}; transfer-syntax={serve.syntax}",
                                    choice.multipart, prime=True)

    serve, as_stored, answer = await anyio.to_thread.run_sync(load)
    if answer is not None:
        return answer
    assert as_stored is not None
    transcoded = await anyio.to_thread.run_sync(TranscodedFrames, as_stored, numbers, serve.syntax)
    return _answer(transcoded, numbers, f"{choice.part_type}; transfer-syntax={serve.syntax}", choice.multipart)


def _answer(source: "FrameSource | TranscodedFrames", numbers: list[int], part_type: str, multipart: bool,
            prime: bool = False) -> Response:
    """The frames answer: one part, or multipart (its first chunk read now with ``prime``)."""
    def chunks(frame_numbers: list[int]) -> Iterator[bytes]:
        try:
            for n in frame_numbers:
                yield from source.read(n)
        finally:
            source.close()

    if not multipart:
        # Azure streams a single part (ObjectResult over a stream): chunked, no Content-Length.
        return StreamingResponse(chunks(numbers[:1]), media_type=part_type)

    def parts() -> Iterator[tuple[str, Iterable[bytes]]]:
        try:
            for n in numbers:
                yield part_type, source.read(n)
        finally:
            source.close()

    body = MultipartBody(parts())
    return (body.prime() if prime else body).response()
