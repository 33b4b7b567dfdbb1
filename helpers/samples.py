"""The three synthetic sample images in ``data/``, with the UIDs the notebooks use.

All three belong to one study; green-square and red-triangle share a series.
Regenerate the files with ``python data/make_samples.py``.
"""

from dataclasses import dataclass
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7"

STUDY_UID = "1.2.826.0.1.3680043.8.498.13230779778012324449356534479549187420"


@dataclass(frozen=True)
class Sample:
    """One sample DICOM file and the UIDs inside it."""

    name: str
    series_uid: str
    sop_uid: str
    sop_class_uid: str = SECONDARY_CAPTURE
    study_uid: str = STUDY_UID

    @property
    def path(self) -> Path:
        return DATA_DIR / f"{self.name}.dcm"

    def data(self) -> bytes:
        """The file's bytes, ready to send."""
        if not self.path.is_file():
            raise FileNotFoundError(f"{self.path} is missing; run: python data/make_samples.py")
        return self.path.read_bytes()


BLUE_CIRCLE = Sample("blue-circle",
                     series_uid="1.2.826.0.1.3680043.8.498.77033797676425927098669402985243398207",
                     sop_uid="1.2.826.0.1.3680043.8.498.13273713909719068980354078852867170114")
GREEN_SQUARE = Sample("green-square",
                      series_uid="1.2.826.0.1.3680043.8.498.45787841905473114233124723359129632652",
                      sop_uid="1.2.826.0.1.3680043.8.498.12714725698140337137334606354172323212")
RED_TRIANGLE = Sample("red-triangle",
                      series_uid="1.2.826.0.1.3680043.8.498.45787841905473114233124723359129632652",
                      sop_uid="1.2.826.0.1.3680043.8.498.47359123102728459884412887463296905395")
ALL = (BLUE_CIRCLE, GREEN_SQUARE, RED_TRIANGLE)


CT_SERIES_DIR = DATA_DIR / "ct-phantom"
CT_SLICES = 64
# The multi-frame instance (every 4th slice of the series, 16 frames) and its compressed copies:
# file name in CT_SERIES_DIR (without .dcm) -> transfer syntax, as data/make_ct_series.py writes them.
CT_MULTIFRAME = {
    "multiframe": "1.2.840.10008.1.2.1",                 # Explicit VR Little Endian
    "multiframe-jpeg2000": "1.2.840.10008.1.2.4.90",     # JPEG 2000 Lossless
    "multiframe-rle": "1.2.840.10008.1.2.5",             # RLE Lossless
    "multiframe-jpeg-baseline": "1.2.840.10008.1.2.4.50",  # JPEG Baseline, 8-bit, lossy
}


def _generator():
    """data/make_ct_series.py as a module (a script in data/, not part of this package)."""
    import importlib.util
    import sys

    if "make_ct_series" not in sys.modules:
        spec = importlib.util.spec_from_file_location("make_ct_series", DATA_DIR / "make_ct_series.py")
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load {DATA_DIR / 'make_ct_series.py'}")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        sys.modules["make_ct_series"] = module
    return sys.modules["make_ct_series"]


def ct_series(directory: Path = CT_SERIES_DIR) -> list[Path]:
    """The synthetic CT series' 64 slice files, in slice order; written by
    ``data/make_ct_series.py`` on first use (about 8 MB, so not committed)."""
    paths = sorted(directory.glob("ct-*.dcm"))
    if len(paths) == CT_SLICES:
        return paths
    return _generator().write_series(directory)


def ct_multiframe(directory: Path = CT_SERIES_DIR) -> dict[str, Path]:
    """The CT series' multi-frame instance and its compressed copies (the keys of ``CT_MULTIFRAME``, in
    that order) -> their files; written by ``data/make_ct_series.py`` on first use (about 2.5 MB)."""
    paths = {name: directory / f"{name}.dcm" for name in CT_MULTIFRAME}
    if all(path.is_file() for path in paths.values()):
        return paths
    return _generator().write_multiframe(directory)
