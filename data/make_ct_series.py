"""Write a synthetic CT series: a 3-D phantom of a chest, 64 axial slices of 256 x 256, 16-bit; and a
multi-frame instance of every 4th slice with its compressed copies (JPEG 2000 lossless, RLE, JPEG baseline).

Usage: python data/make_ct_series.py [OUTPUT_DIR]   (default: data/ct-phantom/, git-ignored)

Deterministic: the same bytes on every run (UIDs hashed from fixed names, fixed dates and File Meta
values; the phantom is drawn from closed-form shapes on a fixed grid; the codecs are pinned). About 11 MB,
so it is made on first use (``helpers.samples.ct_series()`` and ``helpers.samples.ct_multiframe()``), not
committed. The patient is synthetic.

Pixel values are stored unsigned, with RescaleIntercept -1024 and RescaleSlope 1 turning them into
Hounsfield units, and two window presets (soft tissue, lung). Each slice has its ImagePositionPatient,
ImageOrientationPatient (axial), PixelSpacing, SliceThickness and SpacingBetweenSlices, so a viewer
can stack the slices into a volume.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.uid import (UID, CTImageStorage, ExplicitVRLittleEndian, JPEG2000Lossless, JPEGBaseline8Bit,
                         RLELossless, generate_uid)

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
    # Open grids (one axis each) broadcast in the arithmetic: the same values as full grids, without
    # building three volumes of coordinates.
    z, y, x = np.ogrid[0:SLICES, 0:ROWS, 0:COLUMNS]
    # Millimetres from the volume's centre.
    z = (z - (SLICES - 1) / 2) * SLICE_SPACING
    y = (y - (ROWS - 1) / 2) * PIXEL_SPACING
    x = (x - (COLUMNS - 1) / 2) * PIXEL_SPACING

    def ellipsoid(cx: float, cy: float, cz: float, rx: float, ry: float, rz: float) -> np.ndarray:
        return ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 + ((z - cz) / rz) ** 2 <= 1

    def cylinder(cx: float, cy: float, r: float) -> np.ndarray:
        return (x - cx) ** 2 + (y - cy) ** 2 <= r**2

    hu = np.full((SLICES, ROWS, COLUMNS), -1000.0)                          # air

    def fill(mask: np.ndarray, value: float) -> None:
        hu[np.broadcast_to(mask, hu.shape)] = value

    body = ((x / 160) ** 2 + (y / 110) ** 2 <= 1)
    fill(body, 40)                                                          # soft tissue
    fill(body & ~((x / 150) ** 2 + (y / 100) ** 2 <= 1), -100)              # subcutaneous fat
    for side in (-1, 1):
        fill(ellipsoid(side * 70, -5, 0, 55, 75, 95), -850)                 # lungs
    fill(cylinder(0, 75, 18), 700)                                          # vertebral bodies
    fill(cylinder(0, 75, 18) & (np.abs(z) % 25 > 22), 300)                  # discs between them
    fill(cylinder(25, 40, 14), 250)                                         # aorta (patient's left), with contrast
    fill(ellipsoid(60, -20, 10, 9, 9, 9), 30)                               # a nodule in the left lung
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


# The multi-frame instance: every MULTIFRAME_STEP-th slice of the volume as one frame, in a series of its own
# next to the axial slices (same study, patient and frame of reference).
MULTIFRAME_STEP = 4
MULTIFRAME_SERIES_UID = _uid("multi-frame series")
# Multi-frame Grayscale Word / Byte Secondary Capture Image Storage (PS3.4 B.5): the multi-frame SOP classes
# that need no functional groups, unlike Enhanced CT.
MULTIFRAME_WORD_SC = UID("1.2.840.10008.5.1.4.1.1.7.3")
MULTIFRAME_BYTE_SC = UID("1.2.840.10008.5.1.4.1.1.7.2")
SLICE_LOCATION_VECTOR = 0x00182005
JPEG_QUALITY = 90
# (file name without .dcm, transfer syntax): the multi-frame instance as written, then its copies. The JPEG
# baseline copy is 8-bit (JPEG baseline has no 16-bit form): the soft-tissue window burnt in, lossy.
MULTIFRAME_FILES = (
    ("multiframe", ExplicitVRLittleEndian),
    ("multiframe-jpeg2000", JPEG2000Lossless),
    ("multiframe-rle", RLELossless),
    ("multiframe-jpeg-baseline", JPEGBaseline8Bit),
)


def multiframe_dataset(hu: np.ndarray, syntax: UID) -> Dataset:
    """The volume's every MULTIFRAME_STEP-th slice as one multi-frame instance in ``syntax``."""
    indexes = list(range(0, SLICES, MULTIFRAME_STEP))
    name = dict((each, name) for name, each in MULTIFRAME_FILES)[syntax]
    ds = build_dataset(indexes[0], hu)  # the slice's patient, study and image attributes, then changed:
    for keyword in ("ImagePositionPatient", "SliceLocation", "PixelData", "KVP", "PatientPosition"):
        delattr(ds, keyword)
    lossy = syntax == JPEGBaseline8Bit
    ds.SOPClassUID = MULTIFRAME_BYTE_SC if lossy else MULTIFRAME_WORD_SC
    ds.SOPInstanceUID = _uid("multi-frame", name)
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = UID(ds.SOPInstanceUID)
    ds.ImageType = ["DERIVED", "SECONDARY", "AXIAL"]
    ds.ConversionType = "WSD"  # workstation: made from the axial slices
    ds.SeriesInstanceUID = MULTIFRAME_SERIES_UID
    ds.SeriesNumber = 2
    ds.SeriesDescription = "Every 4th slice, multi-frame"
    ds.InstanceNumber = [each for _, each in MULTIFRAME_FILES].index(syntax) + 1
    ds.DerivationDescription = f"Every {MULTIFRAME_STEP}th axial slice of series 1, one frame each"
    ds.NumberOfFrames = len(indexes)
    ds.FrameIncrementPointer = SLICE_LOCATION_VECTOR
    ds.SliceLocationVector = [((SLICES - 1) / 2 - index) * SLICE_SPACING for index in indexes]
    ds.SpacingBetweenSlices = SLICE_SPACING * MULTIFRAME_STEP
    stored = ((hu[indexes].astype(np.int32) - RESCALE_INTERCEPT) // RESCALE_SLOPE).astype(np.uint16)
    if not lossy:
        ds.PixelData = stored.tobytes()
        ds["PixelData"].VR = "OW"
        if syntax == RLELossless:  # pydicom's own RLE encoder, whichever other plugins are installed
            ds.compress(syntax, encoding_plugin="pydicom", generate_instance_uid=False)
        elif syntax != ExplicitVRLittleEndian:
            ds.compress(syntax, generate_instance_uid=False)
        return ds
    # 8 bits: the soft-tissue window (the first preset) mapped to 0-255 in integers, then Pillow's JPEG
    # encoder, one frame at a time (pydicom has no JPEG encoder).
    from PIL import Image

    centre, width, _ = WINDOWS[0]
    lower = centre - width // 2
    eight_bit = np.clip((hu[indexes].astype(np.int32) - lower) * 255 // width, 0, 255).astype(np.uint8)
    frames = []
    for frame in eight_bit:
        buffer = io.BytesIO()
        Image.fromarray(frame, mode="L").save(buffer, "JPEG", quality=JPEG_QUALITY)
        frames.append(buffer.getvalue())
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 8, 8, 7
    for keyword in ("WindowCenter", "WindowWidth", "WindowCenterWidthExplanation"):
        delattr(ds, keyword)  # the window is already applied
    ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = 0, 1, "US"  # unspecified: no longer HU
    ds.LossyImageCompression = "01"
    ds.LossyImageCompressionMethod = "ISO_10918_1"
    ds.LossyImageCompressionRatio = round(eight_bit.nbytes / sum(len(frame) for frame in frames), 2)
    ds.DerivationDescription += f", soft-tissue window {centre}/{width} to 8 bits, JPEG quality {JPEG_QUALITY}"
    ds.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
    ds.PixelData = encapsulate(frames)
    ds["PixelData"].VR = "OB"
    ds["PixelData"].is_undefined_length = True
    return ds


def write_multiframe(output_dir: Path = DEFAULT_DIR) -> dict[str, Path]:
    """Write the multi-frame instance and its copies into ``output_dir``: name -> path, in MULTIFRAME_FILES order."""
    output_dir.mkdir(parents=True, exist_ok=True)
    hu = phantom()
    paths = {}
    for name, syntax in MULTIFRAME_FILES:
        path = output_dir / f"{name}.dcm"
        pydicom.dcmwrite(path, multiframe_dataset(hu, syntax), enforce_file_format=True)
        paths[name] = path
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("output_dir", nargs="?", type=Path, default=DEFAULT_DIR)
    args = parser.parse_args(argv)
    paths = write_series(args.output_dir)
    print(f"wrote {len(paths)} CT slices to {args.output_dir}")
    copies = write_multiframe(args.output_dir)
    print(f"wrote the multi-frame instance and its copies: {', '.join(path.name for path in copies.values())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
