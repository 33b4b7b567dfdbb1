"""Write the tutorial's three sample DICOM files and their metadata CSV.

Usage: python data/make_samples.py [OUTPUT_DIR]   (default: the folder holding this script)

The output is the same, byte for byte, on every run and every machine: all UIDs, dates and
File Meta values are fixed here, and the images are drawn with integer pixel tests.
The UIDs and metadata are those of Microsoft's original DICOM service sample files; the
pixels are drawn by this script.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import UID, ExplicitVRLittleEndian, SecondaryCaptureImageStorage

ROWS, COLUMNS = 979, 985
GREY = (195, 195, 195)
UID_ROOT = "1.2.826.0.1.3680043.8.498."
STUDY_UID = UID_ROOT + "13230779778012324449356534479549187420"

# The originals name pydicom 1.4.2 as their writer; these files are written by this script,
# so they name it instead. The UID was made once with
# pydicom.uid.generate_uid(entropy_srcs=["dicomweb-tutorial", "make_samples"]) and is fixed here;
# both values have the originals' lengths, so the file sizes stay the same.
IMPLEMENTATION_CLASS_UID = UID_ROOT + "83606130993569047785770722685281233107"
IMPLEMENTATION_VERSION_NAME = "DICOMWEB-TUT 1"

# The project-relative path written in the CSV's fname column, whatever the output folder.
CSV_PATH_PREFIX = "data/"

Image = np.ndarray  # (ROWS, COLUMNS, 3) uint8, RGB


def _grid() -> tuple[np.ndarray, np.ndarray]:
    """Row and column index of every pixel."""
    rows, columns = np.mgrid[0:ROWS, 0:COLUMNS]
    return rows, columns


def draw_circle() -> np.ndarray:
    """Mask of the blue disc: radius 286 around (row 510, column 491), near the original's place and size."""
    y, x = _grid()
    cy, cx, radius = 510, 491, 286
    return (y - cy) ** 2 + (x - cx) ** 2 <= radius**2


def draw_square() -> np.ndarray:
    """Mask of the green square: 505 x 505 px, rows 236-740, columns 240-744, centred where the original's is."""
    y, x = _grid()
    return (y >= 236) & (y <= 740) & (x >= 240) & (x <= 744)


def draw_triangle() -> np.ndarray:
    """Mask of the red shape: apex up at (row 237, column 478), base on row 716 from column 169 to 787."""
    y, x = _grid()
    apex_y, apex_x, base_y, half_base = 237, 478, 716, 309
    # Integer cross-multiplication keeps the edges identical on every platform.
    return (y <= base_y) & (np.abs(x - apex_x) * (base_y - apex_y) <= (y - apex_y) * half_base)


@dataclass(frozen=True)
class Sample:
    """One sample file: its name, identity in the study, and shape."""

    name: str
    series_uid: str
    sop_uid: str
    series_number: str
    instance_number: str
    comment: str
    colour: tuple[int, int, int]
    draw: Callable[[], np.ndarray]


SAMPLES = [
    Sample(
        "blue-circle",
        UID_ROOT + "77033797676425927098669402985243398207",
        UID_ROOT + "13273713909719068980354078852867170114",
        "2", "1", "Fake DICOM - Blue Circle", (63, 72, 204), draw_circle,
    ),
    Sample(
        "green-square",
        UID_ROOT + "45787841905473114233124723359129632652",
        UID_ROOT + "12714725698140337137334606354172323212",
        "1", "2", "Fake DICOM - Green Square", (34, 177, 76), draw_square,
    ),
    Sample(
        "red-triangle",
        UID_ROOT + "45787841905473114233124723359129632652",
        UID_ROOT + "47359123102728459884412887463296905395",
        "1", "1", "Fake DICOM - Red Triangle", (237, 28, 36), draw_triangle,
    ),
]


def render(sample: Sample) -> Image:
    """The sample's RGB image: its shape in its colour on grey."""
    image = np.empty((ROWS, COLUMNS, 3), dtype=np.uint8)
    image[...] = GREY
    image[sample.draw()] = sample.colour
    return image


def build_dataset(sample: Sample) -> Dataset:
    """The complete dataset, File Meta included, with the originals' elements, VRs and values."""
    meta = FileMetaDataset()
    meta.FileMetaInformationVersion = b"\x00\x01"
    meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    meta.MediaStorageSOPInstanceUID = UID(sample.sop_uid)
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = UID(IMPLEMENTATION_CLASS_UID)
    meta.ImplementationVersionName = IMPLEMENTATION_VERSION_NAME

    ds = Dataset()
    ds.file_meta = meta
    ds.preamble = b"\x00" * 128
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.ImageType = ["DERIVED", "SECONDARY", "OTHER"]
    ds.SOPClassUID = SecondaryCaptureImageStorage
    ds.SOPInstanceUID = sample.sop_uid
    ds.StudyDate = "20200922"
    # Present but empty in the originals: the tutorial shows how such elements look in DICOM JSON.
    ds.ContentDate = ""
    ds.AcquisitionDateTime = ""
    ds.StudyTime = "120000"
    ds.ContentTime = ""
    ds.AccessionNumber = ""
    ds.Modality = "OT"
    ds.ConversionType = "SYN"
    ds.ReferringPhysicianName = "Doctor Doc"
    ds.PatientName = "Anony Mous"
    ds.PatientID = "ID1"
    ds.PatientBirthDate = ""
    ds.PatientSex = "F"
    ds.PatientAge = "024Y"
    ds.PatientPosition = ""
    ds.StudyInstanceUID = STUDY_UID
    ds.SeriesInstanceUID = sample.series_uid
    ds.StudyID = "1"
    ds.SeriesNumber = sample.series_number
    ds.InstanceNumber = sample.instance_number
    ds.PatientOrientation = ""
    ds.Laterality = ""
    ds.ImageComments = sample.comment
    ds.SamplesPerPixel = 3
    ds.PhotometricInterpretation = "RGB"
    ds.PlanarConfiguration = 0
    ds.Rows = ROWS
    ds.Columns = COLUMNS
    ds.PixelSpacing = ["1.0", "1.0"]  # strings, so the bytes are "1.0\1.0" as in the originals
    ds.BitsAllocated = 8
    ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    ds.SmallestImagePixelValue = 0
    ds.LargestImagePixelValue = 255
    pixels = render(sample).tobytes()
    # 979*985*3 is odd: DICOM values have even length, so one zero pad byte follows the frame.
    ds.add_new(0x7FE00010, "OB", pixels + b"\x00")
    return ds


def encode_file(ds: Dataset) -> bytes:
    """The Part 10 file bytes of ds."""
    buffer = io.BytesIO()
    pydicom.dcmwrite(buffer, ds, enforce_file_format=True)
    return buffer.getvalue()


def _csv_text(value: object) -> str:
    """A value as the original CSV writes it (numbers without a trailing .0)."""
    if isinstance(value, float):
        return format(value, "g")
    return str(value)


def csv_rows(datasets: dict[str, Dataset]) -> list[list[str]]:
    """The metadata table: one column per element, then fname, then the extra values of multi-valued elements.

    This is the layout of Microsoft's dicom-metadata.csv: a multi-valued element keeps its first
    value in its own column, and gets a Multi<Keyword> flag column plus <Keyword>1, <Keyword>2, ...
    """
    header: list[str] = []
    rows: list[list[str]] = []
    for name, ds in datasets.items():
        main_header: list[str] = []
        main: list[str] = []
        extra_header: list[str] = []
        extra: list[str] = []
        for element in ds:
            if element.tag == 0x7FE00010:
                continue
            main_header.append(element.keyword)
            values = list(element.value) if element.VM > 1 else [element.value]
            main.append(_csv_text(values[0]))
            if len(values) > 1:
                extra_header.append("Multi" + element.keyword)
                extra.append("1")
                for index, value in enumerate(values[1:], start=1):
                    extra_header.append(f"{element.keyword}{index}")
                    extra.append(_csv_text(value))
        this_header = main_header + ["fname"] + extra_header
        if header and this_header != header:
            raise ValueError(f"{name}: its elements differ from the other samples'")
        header = this_header
        rows.append(main + [f"{CSV_PATH_PREFIX}{name}.dcm"] + extra)
    return [header, *rows]


def encode_csv(rows: list[list[str]]) -> bytes:
    """CSV bytes with Unix line endings, as the original."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue().encode("utf-8")


def write_samples(output_dir: Path) -> list[Path]:
    """Write the three .dcm files and dicom-metadata.csv into output_dir; return their paths."""
    output_dir.mkdir(parents=True, exist_ok=True)
    datasets = {sample.name: build_dataset(sample) for sample in SAMPLES}
    outputs = {f"{name}.dcm": encode_file(ds) for name, ds in datasets.items()}
    outputs["dicom-metadata.csv"] = encode_csv(csv_rows(datasets))
    written = []
    for filename, content in outputs.items():
        path = output_dir / filename
        path.write_bytes(content)
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "output_dir", nargs="?", type=Path, default=Path(__file__).resolve().parent,
        help="folder to write into (created if missing; default: the data/ folder)",
    )
    args = parser.parse_args(argv)
    if args.output_dir.exists() and not args.output_dir.is_dir():
        parser.error(f"{args.output_dir} exists and is not a folder")
    try:
        paths = write_samples(args.output_dir)
    except OSError as exc:
        parser.error(f"cannot write to {args.output_dir}: {exc.strerror or exc}")
    for path in paths:
        print(f"wrote {path} ({path.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
