"""WADO-RS rendered images: ``…/rendered`` and ``…/frames/{n}/rendered`` as JPEG or PNG.

One frame is decoded with pydicom's pixel plugins from the file, opened once per request, mapped to
8 bits (modality LUT, then the VOI window when the file has one, then min-max; MONOCHROME1 inverted)
and encoded with Pillow, as Azure's RetrieveRenderedService answers with its ImageSharp encoder.
"""

import io
from pathlib import Path

import anyio
import numpy as np
import pydicom
from PIL import Image
from pydicom.uid import UID
from starlette.requests import Request
from starlette.responses import Response

from .binding import binding_error_text, first_query_value, int_in_range, query_collection, to_int
from .dicomfile import check_inflated_size, number_of_frames
from .errors import DicomError, bad_request
from .frames import FRAME_NOT_FOUND, INSTANCE_NOT_FOUND, INVALID_FRAMES
from .negotiation import RENDER_TYPES, negotiate_rendered
from .storage import Store
from .wado import find_instances


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
    """One frame of ``path`` encoded as JPEG or PNG (404 when the file has gone)."""
    try:
        f = path.open("rb")
    except FileNotFoundError:
        raise DicomError(404, INSTANCE_NOT_FOUND) from None
    with f:
        ds = pydicom.dcmread(f, stop_before_pixels=True)
        syntax = str(ds.file_meta.TransferSyntaxUID)
        f.seek(0)
        if UID(syntax).is_deflated:
            check_inflated_size(f)
            f.seek(0)
        if frame > number_of_frames(ds):
            raise DicomError(404, FRAME_NOT_FOUND)
        try:
            from pydicom.pixels import pixel_array
            arr = pixel_array(f, index=frame - 1)
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
        number = to_int(frame) or 0  # int_in_range held, so a value (to_int: no 4,300-digit limit)
    # Model binding reads the first value of a repeated parameter (Starlette's get() gives the last).
    quality_text = first_query_value(query_collection(request.query_params.multi_items()), "quality")
    if quality_text is not None and not int_in_range(quality_text):
        raise bad_request(binding_error_text("quality", quality_text))
    if number < 1:
        raise bad_request(INVALID_FRAMES)
    quality = (to_int(quality_text) or 0) if quality_text is not None else 100
    if not 1 <= quality <= 100:
        raise bad_request("Image quality must be between 1 and 100 inclusive")  # DicomCoreResource.InvalidImageQuality
    media = negotiate_rendered(request.headers.get("accept"))
    store: Store = request.app.state.store
    row = (await anyio.to_thread.run_sync(lambda: find_instances(store, study_uid, series_uid, sop_uid,
                                                                 partition=request.state.partition)))[0]
    if number > row.frame_count:  # frame_count: the frames stored in full (0 without pixel data)
        raise DicomError(404, FRAME_NOT_FOUND)
    data = await anyio.to_thread.run_sync(
        render, store.file_path(row.file_name), number, RENDER_TYPES[media], quality)
    return Response(data, media_type=media)
