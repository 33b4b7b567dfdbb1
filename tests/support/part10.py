"""Synthetic DICOM Part 10 files for the tests and benchmarks: the one place that writes them.

``build_instance`` makes a small grayscale image (or, with ``pixels=False``, a header only) with fresh UIDs;
``bare_instance`` a file with no more than its UIDs and the attributes given; ``file_meta`` and ``to_part10``
are the File Meta and serialisation that every builder here (and tests/emulator/compressed_testlib.py, the
helper tests' ``make_dicom``, the benchmarks) shares. tests/standard keeps its own encoder on purpose: it must
not depend on the code it checks the others with.
"""

import io
from dataclasses import dataclass

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.uid import UID, ExplicitVRLittleEndian, ImplicitVRLittleEndian, generate_uid

SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7"
MULTIFRAME_GRAY = "1.2.840.10008.5.1.4.1.1.7.3"


@dataclass
class Instance:
    """A synthetic instance: its UIDs, Part 10 bytes and (for native data) its frames' bytes."""

    study: str
    series: str
    sop: str
    sop_class: str
    data: bytes
    frames: list[bytes]

    @property
    def path(self) -> str:
        return f"studies/{self.study}/series/{self.series}/instances/{self.sop}"


def new_uid() -> str:
    return generate_uid(prefix="2.25.")


def file_meta(ds: Dataset, transfer_syntax: str = ExplicitVRLittleEndian) -> FileMetaDataset:
    """File Meta naming ``ds``'s SOP class and instance (a fresh UID when ``ds`` has none) and ``transfer_syntax``."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = UID(ds.SOPClassUID if "SOPClassUID" in ds else SECONDARY_CAPTURE)
    meta.MediaStorageSOPInstanceUID = UID(ds.SOPInstanceUID if "SOPInstanceUID" in ds else new_uid())
    meta.TransferSyntaxUID = UID(transfer_syntax)
    return meta


def to_part10(ds: Dataset, transfer_syntax: str | None = None, preamble: bytes | None = None,
              enforce_file_format: bool = True) -> bytes:
    """``ds`` as Part 10 bytes. With ``transfer_syntax``, its File Meta is written anew (``file_meta``);
    ``enforce_file_format=False`` writes the File Meta as it is, none of the elements pydicom would add."""
    if transfer_syntax is not None:
        ds.file_meta = file_meta(ds, transfer_syntax)
    if preamble is not None:
        ds.preamble = preamble
    syntax = ds.file_meta.TransferSyntaxUID
    buffer = io.BytesIO()
    if enforce_file_format:
        ds.save_as(buffer, enforce_file_format=True)
    else:
        ds.save_as(buffer, implicit_vr=syntax == ImplicitVRLittleEndian, little_endian=True,
                   enforce_file_format=False)
    return buffer.getvalue()


def bare_instance(study: str, series: str, sop: str, **attributes: object) -> bytes:
    """A Secondary Capture file with no pixel data: the three UIDs and ``attributes`` (keywords), nothing else."""
    ds = Dataset()
    ds.SOPClassUID = SECONDARY_CAPTURE
    ds.SOPInstanceUID, ds.StudyInstanceUID, ds.SeriesInstanceUID = sop, study, series
    for keyword, value in attributes.items():
        setattr(ds, keyword, value)
    return to_part10(ds, ExplicitVRLittleEndian)


def build_instance(study: str | None = None, series: str | None = None, sop: str | None = None,
                   frames: int = 1, rows: int = 4, columns: int = 5, transfer_syntax: str = ExplicitVRLittleEndian,
                   pixels: bool = True, encapsulated_frames: list[bytes] | None = None,
                   preamble: bytes = b"\x5a" * 128, **attributes: object) -> Instance:
    """A small grayscale instance with distinct frames; ``attributes`` set (or, as None, remove) elements."""
    ds = Dataset()
    ds.SOPClassUID = MULTIFRAME_GRAY if frames > 1 else SECONDARY_CAPTURE
    ds.SOPInstanceUID = sop or new_uid()
    ds.StudyInstanceUID = study or new_uid()
    ds.SeriesInstanceUID = series or new_uid()
    ds.PatientID = "SYN-1"
    ds.PatientName = "Synthetic^Patient"
    ds.StudyDate = "20240101"
    ds.Modality = "OT"
    ds.ContentDate = ""
    ds.InstanceNumber = 1
    frame_bytes: list[bytes] = []
    if pixels:
        ds.Rows, ds.Columns = rows, columns
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
        if frames > 1:
            ds.NumberOfFrames = frames
        if encapsulated_frames is not None:
            ds.PixelData = encapsulate(encapsulated_frames)
            ds["PixelData"].VR = "OB"
            frame_bytes = list(encapsulated_frames)
        else:
            arr = (np.arange(frames * rows * columns, dtype=np.uint16) * 7 % 4096).reshape(frames, rows, columns)
            frame_bytes = [arr[i].tobytes() for i in range(frames)]
            ds.PixelData = b"".join(frame_bytes)
            ds["PixelData"].VR = "OW"
    for key, value in attributes.items():
        if value is None:
            if key in ds:
                del ds[key]
        else:
            setattr(ds, key, value)
    # Not enforced: a test may remove the UIDs (the File Meta then names a fresh instance) or keep a preamble.
    data = to_part10(ds, transfer_syntax, preamble, enforce_file_format=False)
    return Instance(str(ds.get("StudyInstanceUID", "")), str(ds.get("SeriesInstanceUID", "")),
                    str(ds.get("SOPInstanceUID", "")), str(ds.get("SOPClassUID", "")), data, frame_bytes)


def as_stored(data: bytes) -> bytes:
    """What the emulator returns for an uploaded file: the same bytes with the preamble zeroed."""
    return b"\0" * 128 + data[128:]
