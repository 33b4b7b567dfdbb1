"""Synthetic instances in every transfer syntax the emulator transcodes from, made in the test run.

pydicom's own encoders (``Dataset.compress``) make RLE and JPEG 2000; pydicom has no JPEG encoder, so
JPEG baseline and lossless come from GDCM (python-gdcm, the emulator's JPEG decoder too). Each image is
at least 32×32: the JPEG 2000 encoder uses six wavelet levels.
"""

import io
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.uid import (UID, JPEG2000, JPEG2000Lossless, JPEGBaseline8Bit, JPEGLossless, JPEGLosslessSV1,
                         JPEGLSLossless, ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian,
                         RLELossless)

from tests.support.part10 import MULTIFRAME_GRAY, SECONDARY_CAPTURE, Instance, file_meta, new_uid, to_part10

# v2 conformance statement, "Retrieve Transfer Syntax".
SOURCES = [ImplicitVRLittleEndian, ExplicitVRLittleEndian, ExplicitVRBigEndian, JPEGBaseline8Bit,
           JPEGLossless, JPEGLosslessSV1, JPEG2000Lossless, JPEG2000, RLELossless]
LOSSLESS_TARGETS = [ExplicitVRLittleEndian, JPEG2000Lossless]
_GDCM_SYNTAXES = {JPEGBaseline8Bit: "JPEGBaselineProcess1", JPEGLossless: "JPEGLosslessProcess14",
                  JPEGLosslessSV1: "JPEGLosslessProcess14_1", JPEGLSLossless: "JPEGLSLossless"}


@dataclass
class Compressed:
    """A stored-to-be instance and the pixels pydicom decodes from it (frames, rows, columns[, samples])."""

    instance: Instance
    pixels: np.ndarray
    dataset: Dataset

    def frame(self, number: int) -> np.ndarray:
        return self.pixels[number - 1]


def pixels(frames: int, rows: int, columns: int, samples: int = 1, bits: int = 16) -> np.ndarray:
    """Smooth gradients with a little texture, different in each frame (JPEG-friendly, not constant)."""
    y, x = np.mgrid[0:rows, 0:columns]
    top = (1 << (12 if bits == 16 else 8)) - 1
    planes = []
    for f in range(frames):
        frame = [((x * (3 + s) + y * (2 + f) + (x * y) % 7 * 5) % (top + 1)) for s in range(samples)]
        planes.append(np.stack(frame, axis=-1) if samples > 1 else frame[0])
    return np.asarray(planes, dtype=np.uint16 if bits == 16 else np.uint8)


def _native(frames: int, rows: int, columns: int, samples: int, bits: int, study: str | None = None) -> Dataset:
    ds = Dataset()
    ds.SOPClassUID = MULTIFRAME_GRAY if frames > 1 and samples == 1 else SECONDARY_CAPTURE
    ds.SOPInstanceUID, ds.StudyInstanceUID, ds.SeriesInstanceUID = new_uid(), study or new_uid(), new_uid()
    ds.PatientID, ds.PatientName, ds.StudyDate, ds.Modality = "SYN-TX", "Synthetic^Transcode", "20240101", "OT"
    ds.Rows, ds.Columns, ds.SamplesPerPixel = rows, columns, samples
    ds.PhotometricInterpretation = "RGB" if samples == 3 else "MONOCHROME2"
    if samples == 3:
        ds.PlanarConfiguration = 0
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = bits, (12 if bits == 16 else 8), (11 if bits == 16 else 7)
    ds.PixelRepresentation = 0
    if frames > 1:
        ds.NumberOfFrames = frames
    ds.PixelData = pixels(frames, rows, columns, samples, bits).tobytes()
    ds["PixelData"].VR = "OW" if bits > 8 else "OB"
    ds.file_meta = file_meta(ds, ExplicitVRLittleEndian)
    ds.preamble = b"\0" * 128
    return ds


def _gdcm(ds: Dataset, syntax: UID) -> Dataset:
    import gdcm

    with tempfile.TemporaryDirectory() as tmp:
        source, target = Path(tmp) / "in.dcm", Path(tmp) / "out.dcm"
        ds.save_as(source, enforce_file_format=True)
        reader = gdcm.ImageReader()
        reader.SetFileName(str(source))
        assert reader.Read()
        change = gdcm.ImageChangeTransferSyntax()
        change.SetTransferSyntax(gdcm.TransferSyntax(getattr(gdcm.TransferSyntax, _GDCM_SYNTAXES[syntax])))
        change.SetInput(reader.GetImage())
        assert change.Change(), syntax
        writer = gdcm.ImageWriter()
        writer.SetFileName(str(target))
        writer.SetFile(reader.GetFile())
        writer.SetImage(change.GetOutput())
        assert writer.Write()
        return pydicom.dcmread(target)


def build_compressed(syntax: str, frames: int = 2, rows: int = 64, columns: int = 48, samples: int = 1,
                     study: str | None = None) -> Compressed:
    """One instance in ``syntax`` (8-bit for JPEG baseline, else 12 bits in 16), and its decoded pixels."""
    bits = 8 if syntax == JPEGBaseline8Bit or samples == 3 else 16
    ds = _native(frames, rows, columns, samples, bits, study)
    if syntax in _GDCM_SYNTAXES:
        ds = _gdcm(ds, UID(syntax))
    elif syntax in (RLELossless, JPEG2000Lossless):
        ds.compress(syntax, generate_instance_uid=False)
    elif syntax == JPEG2000:
        ds.compress(syntax, generate_instance_uid=False, j2k_cr=[8])
    elif syntax == ExplicitVRBigEndian:
        arr = ds.pixel_array
        ds.PixelData = arr.astype(arr.dtype.newbyteorder(">")).tobytes()
        ds.file_meta.TransferSyntaxUID = UID(syntax)
    else:
        ds.file_meta.TransferSyntaxUID = UID(syntax)
    data = to_part10(ds, preamble=b"\0" * 128)
    stored = pydicom.dcmread(io.BytesIO(data))
    assert stored.file_meta.TransferSyntaxUID == syntax
    decoded = stored.pixel_array.reshape((frames, rows, columns) + ((samples,) if samples > 1 else ()))
    instance = Instance(str(stored.StudyInstanceUID), str(stored.SeriesInstanceUID), str(stored.SOPInstanceUID),
                        str(stored.SOPClassUID), data, [])
    return Compressed(instance, decoded, stored)


def decode_frame(codestream: bytes, like: Dataset, photometric: str | None = None,
                 syntax: str = JPEG2000Lossless) -> np.ndarray:
    """One frame's codestream (a frames answer) decoded with the image description of ``like``."""
    from pydicom.encaps import encapsulate
    from pydicom.pixels import get_decoder
    from pydicom.pixels.utils import as_pixel_options

    options = {**as_pixel_options(like), "number_of_frames": 1, "transfer_syntax_uid": pydicom.uid.UID(syntax),
               "pixel_keyword": "PixelData"}
    if photometric:
        options["photometric_interpretation"] = photometric
    return get_decoder(syntax).as_array(encapsulate([codestream]), **options)[0]
