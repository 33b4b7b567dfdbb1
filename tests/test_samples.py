"""The sample files in data/: reproducible by data/make_samples.py, and equal in metadata to Microsoft's originals."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
GENERATOR = DATA / "make_samples.py"
# Microsoft's originals, vendored with their licence for these tests (tests/data/microsoft-dcms/README.md).
REFERENCE = ROOT / "tests" / "data" / "microsoft-dcms"

NAMES = ["blue-circle", "green-square", "red-triangle"]
FILES = [f"{name}.dcm" for name in NAMES] + ["dicom-metadata.csv"]
ROWS, COLUMNS = 979, 985
PIXEL_DATA_LENGTH = ROWS * COLUMNS * 3 + 1  # odd frame length + one pad byte
FILE_SIZES = {"blue-circle": 2_894_020, "green-square": 2_894_022, "red-triangle": 2_894_022}

PIXEL_DATA = "7FE00010"
# Elements that differ from the originals on purpose, with the reason.
DELIBERATELY_CHANGED = {
    "00020012": "ImplementationClassUID: the originals name pydicom 1.4.2 as their writer; ours name make_samples.py",
    "00020013": "ImplementationVersionName: same reason as ImplementationClassUID",
    PIXEL_DATA: "PixelData: drawn by make_samples.py; checked by length and sampled colours instead",
}

UID_ROOT = "1.2.826.0.1.3680043.8.498."
STUDY_UID = UID_ROOT + "13230779778012324449356534479549187420"
PER_FILE = {
    "blue-circle": {
        "sop": UID_ROOT + "13273713909719068980354078852867170114",
        "series": UID_ROOT + "77033797676425927098669402985243398207",
        "series_number": "2", "instance_number": "1", "comment": "Fake DICOM - Blue Circle",
    },
    "green-square": {
        "sop": UID_ROOT + "12714725698140337137334606354172323212",
        "series": UID_ROOT + "45787841905473114233124723359129632652",
        "series_number": "1", "instance_number": "2", "comment": "Fake DICOM - Green Square",
    },
    "red-triangle": {
        "sop": UID_ROOT + "47359123102728459884412887463296905395",
        "series": UID_ROOT + "45787841905473114233124723359129632652",
        "series_number": "1", "instance_number": "1", "comment": "Fake DICOM - Red Triangle",
    },
}

GREY = (195, 195, 195)
COLOURS = {"blue-circle": (63, 72, 204), "green-square": (34, 177, 76), "red-triangle": (237, 28, 36)}
# (row, column) inside each shape, near its centre; the same points are inside the originals' shapes.
SHAPE_CENTRES = {"blue-circle": (510, 491), "green-square": (488, 492), "red-triangle": (556, 478)}
# Points on the grey background of all three images: the corners and the margin above the shapes.
BACKGROUND = [(0, 0), (0, COLUMNS - 1), (ROWS - 1, 0), (ROWS - 1, COLUMNS - 1), (120, 492), (900, 492)]


def expected_elements(name: str) -> list[tuple[str, str, object]]:
    """The originals' elements as (tag, VR, value), in file order, without the deliberately changed ones."""
    f = PER_FILE[name]
    return [
        ("00020000", "UL", 242),
        ("00020001", "OB", b"\x00\x01"),
        ("00020002", "UI", "1.2.840.10008.5.1.4.1.1.7"),
        ("00020003", "UI", f["sop"]),
        ("00020010", "UI", "1.2.840.10008.1.2.1"),
        ("00080005", "CS", "ISO_IR 192"),
        ("00080008", "CS", ["DERIVED", "SECONDARY", "OTHER"]),
        ("00080016", "UI", "1.2.840.10008.5.1.4.1.1.7"),
        ("00080018", "UI", f["sop"]),
        ("00080020", "DA", "20200922"),
        ("00080023", "DA", ""),
        ("0008002A", "DT", ""),
        ("00080030", "TM", "120000"),
        ("00080033", "TM", ""),
        ("00080050", "SH", ""),
        ("00080060", "CS", "OT"),
        ("00080064", "CS", "SYN"),
        ("00080090", "PN", "Doctor Doc"),
        ("00100010", "PN", "Anony Mous"),
        ("00100020", "LO", "ID1"),
        ("00100030", "DA", ""),
        ("00100040", "CS", "F"),
        ("00101010", "AS", "024Y"),
        ("00185100", "CS", ""),
        ("0020000D", "UI", STUDY_UID),
        ("0020000E", "UI", f["series"]),
        ("00200010", "SH", "1"),
        ("00200011", "IS", f["series_number"]),
        ("00200013", "IS", f["instance_number"]),
        ("00200020", "CS", ""),
        ("00200060", "CS", ""),
        ("00204000", "LT", f["comment"]),
        ("00280002", "US", 3),
        ("00280004", "CS", "RGB"),
        ("00280006", "US", 0),
        ("00280010", "US", ROWS),
        ("00280011", "US", COLUMNS),
        ("00280030", "DS", ["1.0", "1.0"]),
        ("00280100", "US", 8),
        ("00280101", "US", 8),
        ("00280102", "US", 7),
        ("00280103", "US", 0),
        ("00280106", "US", 0),
        ("00280107", "US", 255),
    ]


def _plain(value: object) -> object:
    """A value in a form that compares by content: strings for text, DS and IS; lists for multiple values."""
    if isinstance(value, (list, pydicom.multival.MultiValue)):
        return [_plain(v) for v in value]
    # DS and IS keep the text they were read from ("1.0", not 1.0): the encoding is part of the contract.
    if isinstance(value, (pydicom.valuerep.DSfloat, pydicom.valuerep.IS)):
        return value.original_string if getattr(value, "original_string", None) is not None else str(value)
    if isinstance(value, (bytes, int)):
        return value
    return str(value)


def elements(ds: Dataset) -> list[tuple[str, str, object]]:
    """File Meta and dataset elements as (tag, VR, value), in file order, without the deliberately changed ones."""
    found = []
    for element in [*ds.file_meta, *ds]:
        tag = f"{element.tag:08X}"
        if tag not in DELIBERATELY_CHANGED:
            found.append((tag, element.VR, _plain(element.value)))
    return found


def frame(ds: Dataset) -> np.ndarray:
    """The single RGB frame, read from the raw pixel bytes."""
    return np.frombuffer(ds.PixelData[: ROWS * COLUMNS * 3], dtype=np.uint8).reshape(ROWS, COLUMNS, 3)


def committed(name: str) -> Dataset:
    return pydicom.dcmread(DATA / f"{name}.dcm")


def original(name: str) -> Dataset:
    return pydicom.dcmread(REFERENCE / f"{name}.dcm")


def run_generator(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(GENERATOR), *args], capture_output=True, text=True, timeout=300, check=False
    )


def test_generator_reproduces_committed_files_byte_for_byte(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_generator(str(out))
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES)
    for filename in FILES:
        assert (out / filename).read_bytes() == (DATA / filename).read_bytes(), f"{filename} differs"


def test_generator_rejects_an_output_path_that_is_a_file(tmp_path: Path) -> None:
    target = tmp_path / "not-a-folder"
    target.write_text("x")
    result = run_generator(str(target))
    assert result.returncode == 2
    assert "is not a folder" in result.stderr
    assert "Traceback" not in result.stderr
    assert target.read_text() == "x"


@pytest.mark.parametrize("name", NAMES)
def test_file_layout(name: str) -> None:
    path = DATA / f"{name}.dcm"
    raw = path.read_bytes()
    assert len(raw) == FILE_SIZES[name]
    assert raw[:128] == b"\x00" * 128 and raw[128:132] == b"DICM"
    ds = pydicom.dcmread(path)
    assert "NumberOfFrames" not in ds
    pixel_data = ds["PixelData"]
    assert pixel_data.VR == "OB"
    assert len(pixel_data.value) == PIXEL_DATA_LENGTH
    assert pixel_data.value[-1:] == b"\x00"
    # Our own implementation identity, not pydicom 1.4.2's (see DELIBERATELY_CHANGED).
    assert ds.file_meta.ImplementationVersionName == "DICOMWEB-TUT 1"
    assert ds.file_meta.ImplementationClassUID == UID_ROOT + "83606130993569047785770722685281233107"


@pytest.mark.parametrize("name", NAMES)
def test_metadata_matches_the_expected_table(name: str) -> None:
    assert elements(committed(name)) == expected_elements(name)


@pytest.mark.parametrize("name", NAMES)
def test_metadata_matches_the_original(name: str) -> None:
    """Element for element (tag, VR, value, order) against Microsoft's file."""
    reference = original(name)
    assert elements(committed(name)) == elements(reference)
    assert len(reference.PixelData) == len(committed(name).PixelData)
    assert reference.file_meta.ImplementationVersionName == "PYDICOM 1.4.2"  # what DELIBERATELY_CHANGED replaces


@pytest.mark.parametrize("name", NAMES)
def test_shapes_are_drawn_where_expected(name: str) -> None:
    image = frame(committed(name))
    # Each pixel's R, G and B packed into one integer: np.unique over rows of a million-pixel image is slow.
    packed = np.unique(image.astype(np.uint32) @ np.array([1 << 16, 1 << 8, 1], dtype=np.uint32))
    colours = {(int(v) >> 16, (int(v) >> 8) & 0xFF, int(v) & 0xFF) for v in packed}
    assert colours == {GREY, COLOURS[name]}
    row, column = SHAPE_CENTRES[name]
    assert tuple(image[row, column]) == COLOURS[name]
    for row, column in BACKGROUND:
        assert tuple(image[row, column]) == GREY, (row, column)
    reference_image = frame(original(name))
    for row, column in [SHAPE_CENTRES[name], *BACKGROUND]:
        assert tuple(reference_image[row, column]) == tuple(image[row, column]), (row, column)


def test_triangle_points_up() -> None:
    mask = np.all(frame(committed("red-triangle")) == COLOURS["red-triangle"], axis=2)
    rows = np.flatnonzero(mask.any(axis=1))
    top_width = mask[rows[0] + 10].sum()
    bottom_width = mask[rows[-1] - 10].sum()
    assert top_width < bottom_width / 10


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_metadata_csv_describes_the_files() -> None:
    rows = _read_csv(DATA / "dicom-metadata.csv")
    assert [row["fname"] for row in rows] == [f"data/{name}.dcm" for name in NAMES]
    for name, row in zip(NAMES, rows, strict=True):
        f = PER_FILE[name]
        assert (DATA.parent / row["fname"]).is_file()
        assert row["SOPInstanceUID"] == f["sop"]
        assert row["SeriesInstanceUID"] == f["series"]
        assert row["StudyInstanceUID"] == STUDY_UID
        assert row["ImageComments"] == f["comment"]
        assert (row["ImageType"], row["MultiImageType"], row["ImageType1"], row["ImageType2"]) == (
            "DERIVED", "1", "SECONDARY", "OTHER",
        )
        assert (row["PixelSpacing"], row["MultiPixelSpacing"], row["PixelSpacing1"]) == ("1", "1", "1")
    originals = _read_csv(REFERENCE / "dicom-metadata.csv")
    assert list(originals[0]) == list(rows[0])  # same columns, same order
    for ours, theirs in zip(rows, originals, strict=True):
        assert {k: v for k, v in ours.items() if k != "fname"} == {
            k: v for k, v in theirs.items() if k != "fname"
        }


def test_ct_series_is_deterministic_and_a_stackable_volume(tmp_path: Path) -> None:
    """data/make_ct_series.py: the same bytes on every run; 64 axial slices 2.5 mm apart, in HU by rescale."""
    from helpers.samples import ct_series

    first, second = ct_series(tmp_path / "a"), ct_series(tmp_path / "b")
    assert len(first) == 64
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]
    datasets = [pydicom.dcmread(path) for path in first]
    assert len({ds.StudyInstanceUID for ds in datasets}) == 1 and len({ds.SeriesInstanceUID for ds in datasets}) == 1
    assert len({ds.SOPInstanceUID for ds in datasets}) == 64
    z = [float(ds.ImagePositionPatient[2]) for ds in datasets]
    assert np.allclose(np.diff(z), -2.5) and all(float(ds.SpacingBetweenSlices) == 2.5 for ds in datasets)
    middle = datasets[32]
    assert (middle.Modality, middle.Rows, middle.Columns, middle.BitsAllocated) == ("CT", 256, 256, 16)
    assert list(middle.ImageOrientationPatient) == [1, 0, 0, 0, 1, 0]
    assert list(middle.WindowCenter) == [40, -600] and list(middle.WindowWidth) == [400, 1500]
    hu = pydicom.pixels.apply_rescale(middle.pixel_array, middle)
    assert hu.min() == -1000 and hu.max() == 700  # air and bone
    assert (hu == -850).mean() > 0.05 and (hu == 40).mean() > 0.1  # lungs and soft tissue
    # A second call finds the files and does not rewrite them.
    before = [p.stat().st_mtime_ns for p in first]
    assert ct_series(tmp_path / "a") == first and [p.stat().st_mtime_ns for p in first] == before


def test_ct_multiframe_and_its_compressed_copies(tmp_path: Path) -> None:
    """data/make_ct_series.py's multi-frame instance: every 4th slice as a frame, the same bytes on every run;
    its JPEG 2000 and RLE copies decode to the same pixels, the JPEG baseline copy close to the 8-bit window."""
    from helpers.samples import CT_MULTIFRAME, ct_multiframe, ct_series

    first, second = ct_multiframe(tmp_path / "a"), ct_multiframe(tmp_path / "b")
    assert list(first) == list(CT_MULTIFRAME)
    assert [p.read_bytes() for p in first.values()] == [p.read_bytes() for p in second.values()]
    copies = {name: pydicom.dcmread(path) for name, path in first.items()}
    assert {name: ds.file_meta.TransferSyntaxUID for name, ds in copies.items()} == CT_MULTIFRAME
    slices = [pydicom.dcmread(path) for path in ct_series(tmp_path / "a")[::4]]
    native = copies["multiframe"]
    assert native.NumberOfFrames == 16 and native.pixel_array.shape == (16, 256, 256)
    assert np.array_equal(native.pixel_array, np.stack([ds.pixel_array for ds in slices]))
    assert [float(z) for z in native.SliceLocationVector] == [float(ds.SliceLocation) for ds in slices]
    assert len({ds.SOPInstanceUID for ds in copies.values()} | {slices[0].SOPInstanceUID}) == 5
    assert {ds.SeriesInstanceUID for ds in copies.values()} != {slices[0].SeriesInstanceUID}
    assert {ds.StudyInstanceUID for ds in copies.values()} == {slices[0].StudyInstanceUID}
    for name in ("multiframe-jpeg2000", "multiframe-rle"):
        assert np.array_equal(copies[name].pixel_array, native.pixel_array), name
        assert len(first[name].read_bytes()) < len(first["multiframe"].read_bytes()) / 4, name
    jpeg = copies["multiframe-jpeg-baseline"]
    hu = pydicom.pixels.apply_rescale(native.pixel_array, native)
    windowed = np.clip((hu.astype(np.int32) + 160) * 255 // 400, 0, 255)  # soft tissue: 40/400
    assert (jpeg.BitsAllocated, jpeg.LossyImageCompression, jpeg.pixel_array.dtype) == (8, "01", np.uint8)
    assert np.abs(jpeg.pixel_array.astype(np.int32) - windowed).mean() < 2
    assert not np.array_equal(jpeg.pixel_array, windowed)  # lossy
    # A second call finds the files and does not rewrite them.
    before = [p.stat().st_mtime_ns for p in first.values()]
    assert ct_multiframe(tmp_path / "a") == first and [p.stat().st_mtime_ns for p in first.values()] == before
