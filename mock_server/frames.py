"""WADO-RS frames (``…/frames/1,2,3``) and rendered images (``…/rendered``, ``…/frames/{n}/rendered``).

Native (uncompressed) frames are read as a byte range of the file, at the offset pydicom reports for
PixelData, so a large multi-frame instance is never loaded whole. Encapsulated frames are split with
pydicom's ``generate_frames``.
"""

import io
import re
from collections.abc import Iterable
from pathlib import Path

import anyio
import numpy as np
import pydicom
from PIL import Image
from pydicom.dataelem import RawDataElement
from pydicom.encaps import generate_frames
from pydicom.tag import Tag
from pydicom.uid import UID
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from .binding import binding_error_text, int_in_range
from .dicomfile import number_of_frames
from .errors import DicomError, bad_request
from .negotiation import EXPLICIT_VR_LE, IMPLICIT_VR_LE, ORIGINAL, RENDER_TYPES, negotiate, negotiate_rendered
from .responses import iter_file, multipart_response
from .storage import Store
from .wado import find_instances, transcoding_error

FRAME_NOT_FOUND = "The specified frame cannot be found."
INVALID_FRAMES = ("The specified frames value is not valid. At least one frame must be present, "
                  "and all requested frames must have value greater than 0.")
_PIXEL_DATA = Tag(0x7FE00010)
_NATIVE_LE = {EXPLICIT_VR_LE, IMPLICIT_VR_LE}
_DIGITS = re.compile(r"[0-9]+")


def parse_frames(text: str) -> list[int]:
    """``"1,2,3"`` → [1, 2, 3]; 400 for an empty, malformed, zero or negative entry."""
    frames = []
    for piece in text.split(","):
        piece = piece.strip()
        # ASCII digits only: .NET's int parsing rejects other Unicode digits ("²", "١").
        if not _DIGITS.fullmatch(piece) or int(piece) < 1 or len(piece) > 9:
            raise bad_request(INVALID_FRAMES)
        frames.append(int(piece))
    return frames


class FrameSource:
    """Where each frame of one stored instance lives, read without loading the pixel data."""

    def __init__(self, path: Path, transfer_syntax: str) -> None:
        self.path = path
        ds = pydicom.dcmread(path, defer_size=1024)
        self.elem = ds.get_item(_PIXEL_DATA, keep_deferred=True)
        if self.elem is None:
            raise DicomError(404, FRAME_NOT_FOUND)
        self.count = number_of_frames(ds)
        self.encapsulated = UID(transfer_syntax).is_encapsulated
        # In a deflated file pydicom's offsets point into the inflated stream, not the file.
        self.deflated = UID(transfer_syntax).is_deflated
        if not self.encapsulated:
            bits = int(ds.get("BitsAllocated") or 0)
            if bits % 8:
                raise DicomError(406, f"Frames with BitsAllocated {bits} are not supported by the emulator.")
            self.frame_size = int(ds.Rows) * int(ds.Columns) * int(ds.get("SamplesPerPixel") or 1) * bits // 8
        self._ds = ds

    def read(self, frame: int) -> Iterable[bytes]:
        """The bytes of frame ``frame`` (1-based), as chunks."""
        if frame > self.count:
            raise DicomError(404, FRAME_NOT_FOUND)
        if self.encapsulated:
            data = self._ds.PixelData
            for index, value in enumerate(generate_frames(data, number_of_frames=self.count), 1):
                if index == frame:
                    return [value]
            raise DicomError(404, FRAME_NOT_FOUND)
        start = (frame - 1) * self.frame_size
        if isinstance(self.elem, RawDataElement) and self.elem.value is None and not self.deflated:
            if start + self.frame_size > self.elem.length:
                raise DicomError(404, FRAME_NOT_FOUND)
            return iter_file(self.path, self.elem.value_tell + start, self.frame_size)
        value = self._ds.PixelData
        if start + self.frame_size > len(value):
            raise DicomError(404, FRAME_NOT_FOUND)
        return [value[start:start + self.frame_size]]


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
    row = (await anyio.to_thread.run_sync(
        lambda: find_instances(store, study_uid, series_uid, sop_uid, "file_name, transfer_syntax")))[0]
    stored = row["transfer_syntax"]
    if choice.transfer_syntax == ORIGINAL:
        syntax = stored
    elif choice.transfer_syntax == stored or (choice.transfer_syntax == EXPLICIT_VR_LE and stored in _NATIVE_LE):
        syntax = choice.transfer_syntax  # native little-endian frames are the same bytes either way
    else:
        raise transcoding_error(stored, choice.transfer_syntax)

    def load() -> FrameSource:
        source = FrameSource(store.file_path(row["file_name"]), stored)
        # Check every frame exists before the response starts; then read each while streaming.
        for n in numbers:
            if n > source.count:
                raise DicomError(404, FRAME_NOT_FOUND)
        return source

    source = await anyio.to_thread.run_sync(load)
    part_type = f"{choice.part_type}; transfer-syntax={syntax}"
    if not choice.multipart:
        # Azure streams a single part (ObjectResult over a stream): chunked, no Content-Length.
        return StreamingResponse(source.read(numbers[0]), media_type=part_type)
    return multipart_response((part_type, source.read(n)) for n in numbers)


def _to_8bit(ds: pydicom.Dataset, arr: np.ndarray) -> np.ndarray:
    if arr.ndim == 3 and arr.shape[-1] in (3, 4):
        if arr.dtype == np.uint8:
            return arr[..., :3]
        arr = arr[..., :3].astype(np.float64)
    else:
        from pydicom.pixels import apply_modality_lut, apply_voi_lut
        arr = apply_modality_lut(arr, ds)
        if "WindowCenter" in ds or "VOILUTSequence" in ds:
            arr = apply_voi_lut(arr, ds)
        arr = arr.astype(np.float64)
    low, high = float(arr.min()), float(arr.max())
    scaled = np.zeros(arr.shape) if high <= low else (arr - low) * (255.0 / (high - low))
    if arr.ndim == 2 and str(ds.get("PhotometricInterpretation", "")).strip() == "MONOCHROME1":
        scaled = 255.0 - scaled
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)


def render(path: Path, frame: int, fmt: str, quality: int) -> bytes:
    """One frame of ``path`` encoded as JPEG or PNG."""
    ds = pydicom.dcmread(path, stop_before_pixels=True)
    source = FrameSource(path, str(ds.file_meta.TransferSyntaxUID))
    if frame > source.count:
        raise DicomError(404, FRAME_NOT_FOUND)
    try:
        from pydicom.pixels import pixel_array
        arr = pixel_array(path, index=frame - 1)
        image = Image.fromarray(_to_8bit(ds, arr))
    except DicomError:
        raise
    except Exception:  # noqa: BLE001 - an undecodable image is Azure's DicomImageException
        raise DicomError(406, "An error was encountered when attempting to convert the dicom file into an "
                              "image") from None  # DicomImageException
    out = io.BytesIO()
    if fmt == "JPEG":
        image.save(out, "JPEG", quality=quality)
    else:
        image.save(out, "PNG")
    return out.getvalue()


async def rendered(request: Request, study_uid: str, series_uid: str, sop_uid: str,
                   frame: str | None = None) -> Response:
    """GET …/rendered and …/frames/{n}/rendered.

    Azure's order: model binding of ``frame`` and ``quality`` (QueryModelStateValidator), the frame
    number, the quality range (RetrieveRenderedService), then Accept; so 400 comes before 406.
    """
    number = 1
    if frame is not None:
        if not int_in_range(frame):
            raise bad_request(binding_error_text("frame", frame))
        number = int(frame)
    # Model binding reads the first value of a repeated parameter (Starlette's get() gives the last).
    quality_text = next(iter(request.query_params.getlist("quality")), None)
    if quality_text is not None and not int_in_range(quality_text):
        raise bad_request(binding_error_text("quality", quality_text))
    if number < 1:
        raise bad_request(INVALID_FRAMES)
    quality = int(quality_text) if quality_text is not None else 100
    if not 1 <= quality <= 100:
        raise bad_request("Image quality must be between 1 and 100 inclusive")  # DicomCoreResource.InvalidImageQuality
    media = negotiate_rendered(request.headers.get("accept"))
    store: Store = request.app.state.store
    row = (await anyio.to_thread.run_sync(
        lambda: find_instances(store, study_uid, series_uid, sop_uid, "file_name, frame_count")))[0]
    if row["frame_count"] == 0:
        raise DicomError(404, FRAME_NOT_FOUND)
    data = await anyio.to_thread.run_sync(
        render, store.file_path(row["file_name"]), number, RENDER_TYPES[media], quality)
    return Response(data, media_type=media)
