"""Small synthetic studies for the standard DICOMweb tests: fresh UIDs each time, tiny pixel data.

Each study has two series: series A holds two 8x8 RGB Secondary Capture images, series B one
16x12 greyscale multi-frame image with three frames, so that frame retrieval can be checked
on more than one frame.
"""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, UID, ExplicitVRLittleEndian, generate_uid

SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7"
MULTIFRAME_GRAYSCALE_BYTE_SC = "1.2.840.10008.5.1.4.1.1.7.2"
UID_PREFIX = "1.2.826.0.1.3680043.8.498."


@dataclass(frozen=True)
class Instance:
    study_uid: str
    series_uid: str
    sop_uid: str
    sop_class_uid: str
    rows: int
    columns: int
    samples_per_pixel: int
    frames: int
    pixel_data: bytes
    data: bytes  # the Part 10 file, preamble included

    @property
    def frame_length(self) -> int:
        """Bytes in one uncompressed 8-bit frame: Rows x Columns x SamplesPerPixel."""
        return self.rows * self.columns * self.samples_per_pixel

    def frame(self, number: int) -> bytes:
        """Frame ``number`` (1-based) as raw bytes."""
        start = (number - 1) * self.frame_length
        return self.pixel_data[start:start + self.frame_length]


@dataclass(frozen=True)
class Study:
    uid: str
    patient_id: str
    series_a: str
    series_b: str
    instances: tuple[Instance, ...]

    def in_series(self, series_uid: str) -> list[Instance]:
        return [i for i in self.instances if i.series_uid == series_uid]

    @property
    def multiframe(self) -> Instance:
        return self.in_series(self.series_b)[0]


def make_study() -> Study:
    """A new study with unique UIDs and a unique PatientID such as ``STD-1a2b3c4d``."""
    study_uid, series_a, series_b = (generate_uid(UID_PREFIX) for _ in range(3))
    patient_id = f"STD-{uuid.uuid4().hex[:8]}"
    rng = np.random.default_rng(int(uuid.uuid4().int % 2**32))
    instances = []
    for number in (1, 2):
        pixels = rng.integers(0, 256, size=(8, 8, 3), dtype=np.uint8)
        instances.append(_instance(study_uid, series_a, patient_id, number, SECONDARY_CAPTURE, pixels,
                                   frames=1))
    frames = rng.integers(0, 256, size=(3, 12, 16), dtype=np.uint8)
    instances.append(_instance(study_uid, series_b, patient_id, 1, MULTIFRAME_GRAYSCALE_BYTE_SC, frames,
                               frames=3))
    return Study(study_uid, patient_id, series_a, series_b, tuple(instances))


def _instance(study_uid: str, series_uid: str, patient_id: str, number: int, sop_class: str,
              pixels: np.ndarray, frames: int) -> Instance:
    sop_uid = generate_uid(UID_PREFIX)
    colour = pixels.ndim == 3 and frames == 1
    rows, columns = pixels.shape[-3:-1] if colour else pixels.shape[-2:]

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = UID(sop_class)
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID

    ds = Dataset()
    ds.file_meta = meta
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = sop_uid
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = series_uid
    ds.PatientName = "Standard^Synthetic"
    ds.PatientID = patient_id
    ds.PatientBirthDate = "19700101"
    ds.PatientSex = "O"
    ds.StudyDate = "20240115"
    ds.StudyTime = "101500"
    ds.StudyID = "1"
    ds.AccessionNumber = ""
    ds.ReferringPhysicianName = ""
    ds.StudyDescription = "Synthetic standard-test study"
    ds.Modality = "OT"
    ds.ConversionType = "WSD"
    ds.SeriesNumber = 1 if sop_class == SECONDARY_CAPTURE else 2
    ds.InstanceNumber = number
    ds.Rows = rows
    ds.Columns = columns
    ds.BitsAllocated = 8
    ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    if colour:
        ds.SamplesPerPixel = 3
        ds.PhotometricInterpretation = "RGB"
        ds.PlanarConfiguration = 0
    else:
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.NumberOfFrames = frames
        ds.FrameIncrementPointer = 0x00181063  # FrameTime
        ds.FrameTime = 100
    ds.PixelData = pixels.tobytes()

    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return Instance(study_uid, series_uid, sop_uid, sop_class, rows, columns, ds.SamplesPerPixel, frames,
                    ds.PixelData, buffer.getvalue())
