"""Transcoding on retrieve, as Azure's RetrieveResourceService, FrameHandler and Transcoder do it.

``serving`` is the one place that decides which transfer syntax an answer is served in, for instances
and frames alike (Azure's ``NeedsTranscoding`` and ``GetResponseTransferSyntax``). Where it must be
transcoded, ``check_transcodable`` applies Azure's limits first (``RetrieveHelpers.CheckFileSize``),
then the codecs run through pydicom's pixel-data plugins, one frame at a time:

* ``transcode_file`` writes the whole instance in the target syntax to an unnamed temporary file, before
  the status goes out (Azure transcodes into a memory stream before answering), so a codec failure is
  still a clean 406 and memory holds one frame at a time, not the instance;
* ``transcode_frame`` converts one frame's stored bytes (Azure's ``Transcoder.TranscodeFrame``).

The syntaxes transcoded from are the v2 conformance statement's "Retrieve Transfer Syntax" list; the
targets are those ``AcceptHeaderHandler`` accepts (Explicit VR Little Endian, JPEG 2000 Lossless).
Anything else, and any codec failure, is ``TranscodingException``: 406 "The specified transcoding is
not supported." ``DicomDatasetExtensions.CanTranscodeDataset`` is not mirrored: at eeefbe4d7 nothing
calls it (its rules date from fo-dicom 4.0.1), so Azure's answer is whatever its codecs manage.
"""

import struct
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.filebase import DicomFileLike
from pydicom.filereader import read_dataset
from pydicom.filewriter import write_dataset
from pydicom.pixels import get_decoder, get_encoder
from pydicom.pixels.utils import as_pixel_options
from pydicom.uid import UID

from .errors import DicomError
from .negotiation import EXPLICIT_VR_LE, IMPLICIT_VR_LE, JPEG2000_LOSSLESS, ORIGINAL

EXPLICIT_VR_BE = "1.2.840.10008.1.2.2"
JPEG_BASELINE = "1.2.840.10008.1.2.4.50"
JPEG_LOSSLESS = "1.2.840.10008.1.2.4.57"
JPEG_LOSSLESS_SV1 = "1.2.840.10008.1.2.4.70"
JPEG2000 = "1.2.840.10008.1.2.4.91"
RLE_LOSSLESS = "1.2.840.10008.1.2.5"
# v2 conformance statement, "Retrieve Transfer Syntax": the files that can be transcoded.
SOURCES = frozenset({IMPLICIT_VR_LE, EXPLICIT_VR_LE, EXPLICIT_VR_BE, JPEG_BASELINE, JPEG_LOSSLESS,
                     JPEG_LOSSLESS_SV1, JPEG2000_LOSSLESS, JPEG2000, RLE_LOSSLESS})
TARGETS = frozenset({EXPLICIT_VR_LE, JPEG2000_LOSSLESS})
# Decoded to their usual colour form (YCbCr to RGB), as a JPEG decoder hands them out; RLE and native
# data keep their photometric interpretation, so that lossless stays pixel for pixel.
_TO_RGB = frozenset({JPEG_BASELINE, JPEG_LOSSLESS, JPEG_LOSSLESS_SV1, JPEG2000_LOSSLESS, JPEG2000})
MAX_TRANSCODE_BYTES = 100 * 1024 * 1024  # RetrieveConfiguration.MaxDicomFileSize
UNSUPPORTED = "The specified transcoding is not supported."  # DicomCoreResource.UnsupportedTranscoding
_PIXEL_DATA = 0x7FE00010
_EXTENDED_OFFSETS = (0x7FE00001, 0x7FE00002)  # describe the source's fragments, not the target's
_SEQUENCE_DELIMITER = (0xFFFE, 0xE0DD)
_CHUNK = 1 << 20
_WORD_BYTES = {"OW": 2, "OF": 4, "OL": 4, "OD": 8, "OV": 8}


@dataclass(frozen=True)
class Serving:
    """The transfer syntax an answer's parts name, and whether the stored file must be converted."""

    syntax: str
    transcode: bool


def serving(requested: str, stored: str) -> Serving:
    """``NeedsTranscoding`` and ``GetResponseTransferSyntax``: ``*`` serves as stored, else the requested one."""
    if requested == ORIGINAL:
        return Serving(stored, False)
    return Serving(requested, requested != stored)


def unsupported() -> DicomError:
    return DicomError(406, UNSUPPORTED)  # TranscodingException


def file_too_big(limit: int) -> DicomError:
    # DicomCoreResource.RetrieveServiceFileTooBig ({0}: the limit in bytes, formatted as .NET does a long)
    return DicomError(406, f"Requested DICOM instance size is above the supported limit of {limit}. The entire "
                           "instance can be retrieved with the original transfer syntax by specifying "
                           "'transfer-syntax=*' in the Accept header.")


def check_transcodable(stored: str, file_size: int, target: str, limit: int = MAX_TRANSCODE_BYTES) -> None:
    """406 for a file above Azure's size limit (checked first, as ``CheckFileSize``), or a pair no codec covers."""
    if file_size > limit:
        raise file_too_big(limit)
    if stored not in SOURCES or target not in TARGETS:
        raise unsupported()


# --- pixel description and one frame --------------------------------------------------------------

def _options(ds: Dataset, syntax: str, frames: int | None = None) -> dict[str, Any]:
    opts = as_pixel_options(ds)
    opts["transfer_syntax_uid"] = UID(syntax)
    opts["pixel_keyword"] = "PixelData"
    if frames is not None:
        opts["number_of_frames"] = frames
    return opts


def _native_bytes(arr: np.ndarray, bits_allocated: int) -> bytes:
    """A decoded frame as little-endian native pixel data."""
    if arr.dtype.itemsize * 8 != bits_allocated:
        raise ValueError(f"decoded {arr.dtype} for BitsAllocated {bits_allocated}")
    return arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()


def _encode_j2k(arr: np.ndarray, meta: dict[str, Any]) -> bytes:
    """One frame as a JPEG 2000 lossless codestream (pylibjpeg-openjpeg, through pydicom's encoder)."""
    encoder = get_encoder(JPEG2000_LOSSLESS)
    keys = ("rows", "columns", "samples_per_pixel", "bits_allocated", "bits_stored", "pixel_representation",
            "photometric_interpretation")
    # No multi-component transform: the photometric interpretation stays what the pixels are.
    return encoder.encode(arr, encoding_plugin="pylibjpeg", number_of_frames=1, planar_configuration=0,
                          use_mct=False, **{k: meta[k] for k in keys})


def _raw(stored: str) -> bool:
    return stored not in _TO_RGB


def transcode_frame(ds: Dataset, stored: str, data: bytes, target: str) -> bytes:
    """One frame's stored bytes (native, or one frame's codestream) in ``target``; 406 when no codec can."""
    try:
        if target == EXPLICIT_VR_LE and not UID(stored).is_encapsulated and stored != EXPLICIT_VR_BE:
            return data  # little-endian native frames are the same bytes in either VR encoding
        src = encapsulate([data]) if UID(stored).is_encapsulated else data
        arr, meta = get_decoder(stored).as_array(src, raw=_raw(stored), **_options(ds, stored, 1))
        if target == EXPLICIT_VR_LE:
            return _native_bytes(arr, int(meta["bits_allocated"]))
        return _encode_j2k(arr, meta)
    except DicomError:
        raise
    except Exception:  # noqa: BLE001 - Transcoder.TranscodeFrame turns every codec failure into 406
        raise unsupported() from None


# --- a whole file -------------------------------------------------------------------------------

@dataclass
class _Source:
    """A stored file read up to its Pixel Data: the header, and where the pixel data value starts."""

    f: BinaryIO
    ds: Dataset
    syntax: str
    value_start: int | None  # None: no Pixel Data element
    length: int  # 0xFFFFFFFF for encapsulated pixel data
    vr: str  # "" in implicit VR

    @classmethod
    def read(cls, f: BinaryIO) -> "_Source":
        ds = pydicom.dcmread(f, stop_before_pixels=True)  # leaves f at the Pixel Data tag, if any
        syntax = str(ds.file_meta.TransferSyntaxUID)
        uid = UID(syntax)
        endian = "<" if uid.is_little_endian else ">"
        head = f.read(8)
        if len(head) < 8 or struct.unpack(f"{endian}HH", head[:4]) != (0x7FE0, 0x0010):
            return cls(f, ds, syntax, None, 0, "")
        if uid.is_implicit_VR:
            vr, length = "", struct.unpack(f"{endian}L", head[4:])[0]
        else:
            vr, length = head[4:6].decode("ascii"), struct.unpack(f"{endian}L", f.read(4))[0]
        return cls(f, ds, syntax, f.tell(), length, vr)

    def frames(self, raw: bool) -> Iterator[tuple[np.ndarray, dict[str, Any]]]:
        """Each frame decoded, read from the file as it goes."""
        assert self.value_start is not None
        self.f.seek(self.value_start)
        frames = int(self.ds.get("NumberOfFrames") or 1)
        yield from get_decoder(self.syntax).iter_array(self.f, raw=raw, **_options(self.ds, self.syntax, frames))

    def pixel_end(self) -> int:
        """Where the Pixel Data element ends (after its sequence delimiter, when encapsulated)."""
        assert self.value_start is not None
        if self.length != 0xFFFFFFFF:
            return self.value_start + self.length
        endian = "<" if UID(self.syntax).is_little_endian else ">"
        position = self.value_start
        while True:
            self.f.seek(position)
            item = self.f.read(8)
            if len(item) < 8:
                raise ValueError("encapsulated pixel data without a sequence delimiter")
            group, element, length = struct.unpack(f"{endian}HHL", item)
            position += 8 + ((group, element) != _SEQUENCE_DELIMITER) * length
            if (group, element) == _SEQUENCE_DELIMITER:
                return position

    def trailing(self) -> Dataset:
        """The elements after Pixel Data (trailing padding, signatures), rarely any."""
        assert self.value_start is not None
        self.f.seek(self.pixel_end())
        uid = UID(self.syntax)
        return read_dataset(self.f, uid.is_implicit_VR, uid.is_little_endian)


def _header(ds: Dataset, target: str, meta: dict[str, Any] | None) -> Dataset:
    """The elements before Pixel Data, re-described for the target syntax and the decoded pixels."""
    out = Dataset()
    out.update({tag: ds[tag] for tag in ds.keys() if tag not in _EXTENDED_OFFSETS})
    out.file_meta = FileMetaDataset(ds.file_meta)
    out.file_meta.TransferSyntaxUID = UID(target)
    out.preamble = b"\0" * 128  # the stored files' preamble is zeroed
    if not UID(str(ds.file_meta.TransferSyntaxUID)).is_little_endian:
        for elem in out:  # byte streams of words are written as read: turn them little endian
            width = _WORD_BYTES.get(elem.VR)
            if width and isinstance(elem.value, bytes) and len(elem.value) % width == 0:
                elem.value = np.frombuffer(elem.value, f">u{width}").astype(f"<u{width}").tobytes()
    if meta is not None:
        out.PhotometricInterpretation = meta["photometric_interpretation"]
        if int(meta["samples_per_pixel"]) > 1:
            out.PlanarConfiguration = 0  # decoded frames are interleaved
    return out


def _element_header(vr: str, length: int) -> bytes:
    return struct.pack("<HH2sHL", 0x7FE0, 0x0010, vr.encode("ascii"), 0, length)


def _write_trailing(out: BinaryIO, source: _Source) -> None:
    rest = source.trailing()
    if len(rest):
        fp = DicomFileLike(out)
        fp.is_little_endian, fp.is_implicit_VR = True, False
        write_dataset(fp, rest)


def _copy(f: BinaryIO, start: int, length: int, out: BinaryIO) -> None:
    f.seek(start)
    while length > 0:
        chunk = f.read(min(length, _CHUNK))
        if not chunk:
            raise ValueError("pixel data shorter than its length")
        out.write(chunk)
        length -= len(chunk)


def _write(source: _Source, target: str, out: BinaryIO) -> None:
    if source.value_start is None:  # no pixel data: the same elements in the target encoding
        pydicom.dcmwrite(out, _header(source.ds, target, None), enforce_file_format=True)
        return
    native_le = not UID(source.syntax).is_encapsulated and source.syntax != EXPLICIT_VR_BE
    if target == EXPLICIT_VR_LE and native_le:
        # Implicit to explicit VR: the pixel bytes are the same; only the elements' encoding changes.
        pydicom.dcmwrite(out, _header(source.ds, target, None), enforce_file_format=True)
        wide = int(source.ds.get("BitsAllocated") or 8) > 8
        vr = source.vr if source.vr in ("OB", "OW") else "OW" if wide else "OB"  # implicit VR names none
        out.write(_element_header(vr, source.length))
        _copy(source.f, source.value_start, source.length, out)
    else:
        frames = source.frames(raw=_raw(source.syntax))
        first, meta = next(frames)
        pydicom.dcmwrite(out, _header(source.ds, target, meta), enforce_file_format=True)
        bits = int(meta["bits_allocated"])
        count = int(source.ds.get("NumberOfFrames") or 1)
        if target == EXPLICIT_VR_LE:
            size = len(_native_bytes(first, bits))
            total = size * count
            out.write(_element_header("OW" if bits > 8 else "OB", total + total % 2))
            written = 0
            for arr, _ in _chain(first, meta, frames):
                data = _native_bytes(arr, bits)
                if len(data) != size:
                    raise ValueError("frames of different sizes")
                out.write(data)
                written += 1
            if written != count:  # the length written above would be wrong
                raise ValueError(f"{written} frames decoded of {count}")
            if total % 2:
                out.write(b"\0")
        else:
            out.write(_element_header("OB", 0xFFFFFFFF))
            out.write(struct.pack("<HHL", 0xFFFE, 0xE000, 0))  # an empty basic offset table
            for arr, frame_meta in _chain(first, meta, frames):
                codestream = _encode_j2k(arr, frame_meta)
                codestream += b"\0" * (len(codestream) % 2)
                out.write(struct.pack("<HHL", 0xFFFE, 0xE000, len(codestream)))
                out.write(codestream)
            out.write(struct.pack("<HHL", *_SEQUENCE_DELIMITER, 0))
    _write_trailing(out, source)


def _chain(first: np.ndarray, meta: dict[str, Any], rest: Iterator[tuple[np.ndarray, dict[str, Any]]]
           ) -> Iterator[tuple[np.ndarray, dict[str, Any]]]:
    yield first, meta
    yield from rest


def transcode_file(path: Path, target: str) -> BinaryIO:
    """The instance at ``path`` in ``target``, as an unnamed temporary file at offset 0 (deleted on close).

    404 when the file has gone; 406 when a codec cannot (``Transcoder.TranscodeFileAsync``).
    """
    try:
        f = path.open("rb")
    except FileNotFoundError:
        raise DicomError(404, "The specified instance cannot be found.") from None
    out = tempfile.TemporaryFile()
    try:
        with f:
            _write(_Source.read(f), target, out)
    except BaseException as error:
        out.close()
        if isinstance(error, Exception) and not isinstance(error, DicomError):
            raise unsupported() from None  # every codec failure is TranscodingException
        raise
    out.seek(0)
    return out
