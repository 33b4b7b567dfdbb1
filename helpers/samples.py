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


def ct_series(directory: Path = CT_SERIES_DIR) -> list[Path]:
    """The synthetic CT series' 64 slice files, in slice order; written by
    ``data/make_ct_series.py`` on first use (about 8 MB, so not committed)."""
    paths = sorted(directory.glob("ct-*.dcm"))
    if len(paths) == CT_SLICES:
        return paths
    import importlib.util  # the generator is a script in data/, not part of this package

    spec = importlib.util.spec_from_file_location("make_ct_series", DATA_DIR / "make_ct_series.py")
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {DATA_DIR / 'make_ct_series.py'}")
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    return generator.write_series(directory)
