"""Write a synthetic CT series: a 3-D phantom of a chest, 64 axial slices of 256 x 256, 16-bit.

Usage: python data/make_ct_series.py [OUTPUT_DIR]   (default: data/ct-phantom/, git-ignored)

Deterministic: the same bytes on every run (UIDs hashed from fixed names, fixed dates and File Meta
values; the phantom is drawn from closed-form shapes on a fixed grid). About 8 MB, so it is made on first use
(``helpers.samples.ct_series()``), not committed. The patient is synthetic.

Pixel values are stored unsigned, with RescaleIntercept -1024 and RescaleSlope 1 turning them into
Hounsfield units, and two window presets (soft tissue, lung). Each slice has its ImagePositionPatient,
ImageOrientationPatient (axial), PixelSpacing, SliceThickness and SpacingBetweenSlices, so a viewer
can stack the slices into a volume.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import UID, CTImageStorage, ExplicitVRLittleEndian, generate_uid

SLICES, ROWS, COLUMNS = 64, 256, 256
PIXEL_SPACING = 1.5  # mm: a 384 mm field of view
SLICE_SPACING = 2.5  # mm between slice centres, equal to the slice thickness
RESCALE_INTERCEPT, RESCALE_SLOPE = -1024, 1
# (centre, width, explanation): what a radiologist would pick for this body part.
WINDOWS = ((40, 400, "SOFT TISSUE"), (-600, 1500, "LUNG"))

UID_ROOT = "1.2.826.0.1.3680043.8.498."
IMPLEMENTATION_CLASS_UID = UID_ROOT + "83606130993569047785770722685281233107"  # as make_samples.py
DEFAULT_DIR = Path(__file__).resolve().parent / "ct-phantom"


def _uid(*what: str) -> str:
    # generate_uid with entropy sources is a hash of them: the same UID on every run and machine.
    return generate_uid(prefix=UID_ROOT, entropy_srcs=["dicomweb-tutorial", "ct-phantom", *what])


STUDY_UID = _uid("study")
SERIES_UID = _uid("series")
FRAME_OF_REFERENCE_UID = _uid("frame of reference")


def sop_instance_uid(index: int) -> str:
    """Slice ``index``'s SOPInstanceUID (0-based index)."""
    return _uid("slice", str(index + 1))


def phantom() -> np.ndarray:
    """The volume in Hounsfield units, (SLICES, ROWS, COLUMNS) int16: air around an elliptic body
    of soft tissue with two lungs, a spine, a contrast-filled aorta and a small nodule in one lung."""
    z, y, x = np.mgrid[0:SLICES, 0:ROWS, 0:COLUMNS].astype(np.float64)
    # Millimetres from the volume's centre.
    z = (z - (SLICES - 1) / 2) * SLICE_SPACING
    y = (y - (ROWS - 1) / 2) * PIXEL_SPACING
    x = (x - (COLUMNS - 1) / 2) * PIXEL_SPACING

    def ellipsoid(cx: float, cy: float, cz: float, rx: float, ry: float, rz: float) -> np.ndarray:
        return ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 + ((z - cz) / rz) ** 2 <= 1

    def cylinder(cx: float, cy: float, r: float) -> np.ndarray:
        return (x - cx) ** 2 + (y - cy) ** 2 <= r**2

    hu = np.full((SLICES, ROWS, COLUMNS), -1000.0)                          # air
    body = ((x / 160) ** 2 + (y / 110) ** 2 <= 1)
    hu[body] = 40                                                           # soft tissue
    hu[body & ~((x / 150) ** 2 + (y / 100) ** 2 <= 1)] = -100               # subcutaneous fat
    for side in (-1, 1):
        hu[ellipsoid(side * 70, -5, 0, 55, 75, 95)] = -850                  # lungs
    hu[cylinder(0, 75, 18)] = 700                                           # vertebral bodies
    hu[cylinder(0, 75, 18) & (np.abs(z) % 25 > 22)] = 300                   # discs between them
    hu[cylinder(25, 40, 14)] = 250                                          # aorta (patient's left), with contrast
    hu[ellipsoid(60, -20, 10, 9, 9, 9)] = 30                                # a nodule in the left lung
    return hu.astype(np.int16)


def build_dataset(index: int, hu: np.ndarray) -> Dataset:
    """Slice ``index`` of the volume as a CT Image Storage dataset."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CTImageStorage
    meta.MediaStorageSOPInstanceUID = UID(sop_instance_uid(index))
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = UID(IMPLEMENTATION_CLASS_UID)
    meta.ImplementationVersionName = "DICOMWEB-TUT 1"

    ds = Dataset()
    ds.file_meta = meta
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = sop_instance_uid(index)
    ds.StudyDate = ds.SeriesDate = ds.ContentDate = "20240315"
    ds.StudyTime = ds.SeriesTime = ds.ContentTime = "093000"
    ds.AccessionNumber = "SYNCT0001"
    ds.Modality = "CT"
    ds.Manufacturer = "dicomweb-tutorial"
    ds.ReferringPhysicianName = ""
    ds.StudyDescription = "Synthetic chest phantom"
    ds.SeriesDescription = "Axial 2.5 mm"
    ds.PatientName = "Phantom^Chest"
    ds.PatientID = "SYN-CT-1"
    ds.PatientBirthDate = ""
    ds.PatientSex = "O"
    ds.BodyPartExamined = "CHEST"
    ds.SliceThickness = SLICE_SPACING
    ds.SpacingBetweenSlices = SLICE_SPACING
    ds.KVP = 120
    ds.PatientPosition = "HFS"
    ds.StudyInstanceUID = STUDY_UID
    ds.SeriesInstanceUID = SERIES_UID
    ds.StudyID = "1"
    ds.SeriesNumber = 1
    ds.InstanceNumber = index + 1
    # Head-first supine: slice 1 is the most superior (largest z), each next one SLICE_SPACING lower.
    z = ((SLICES - 1) / 2 - index) * SLICE_SPACING
    corner = -(COLUMNS - 1) / 2 * PIXEL_SPACING
    ds.ImagePositionPatient = [corner, corner, z]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.FrameOfReferenceUID = FRAME_OF_REFERENCE_UID
    ds.PositionReferenceIndicator = ""
    ds.SliceLocation = z
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = ROWS, COLUMNS
    ds.PixelSpacing = [PIXEL_SPACING, PIXEL_SPACING]
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.WindowCenter = [centre for centre, _, _ in WINDOWS]
    ds.WindowWidth = [width for _, width, _ in WINDOWS]
    ds.WindowCenterWidthExplanation = [name for _, _, name in WINDOWS]
    ds.RescaleIntercept = RESCALE_INTERCEPT
    ds.RescaleSlope = RESCALE_SLOPE
    ds.RescaleType = "HU"
    stored = ((hu[index].astype(np.int32) - RESCALE_INTERCEPT) // RESCALE_SLOPE).astype(np.uint16)
    ds.PixelData = stored.tobytes()
    ds["PixelData"].VR = "OW"
    return ds


def slice_name(index: int) -> str:
    return f"ct-{index + 1:03d}.dcm"


def write_series(output_dir: Path = DEFAULT_DIR) -> list[Path]:
    """Write the 64 slices into ``output_dir`` (created if needed); their paths, in slice order."""
    output_dir.mkdir(parents=True, exist_ok=True)
    hu = phantom()
    paths = []
    for index in range(SLICES):
        path = output_dir / slice_name(index)
        pydicom.dcmwrite(path, build_dataset(index, hu), enforce_file_format=True)
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("output_dir", nargs="?", type=Path, default=DEFAULT_DIR)
    args = parser.parse_args(argv)
    paths = write_series(args.output_dir)
    print(f"wrote {len(paths)} CT slices to {args.output_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
