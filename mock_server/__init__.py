"""A local emulator of the Azure Health Data Services DICOM service (DICOMweb), for offline use."""

from pathlib import Path

DEFAULT_PORT = 8765
"""The port ``python -m mock_server`` listens on unless told otherwise."""

DEFAULT_DATA_DIR = Path(__file__).resolve().parent.parent / ".emulator-data"
"""Where the emulator keeps its files, index and token secret unless told otherwise (git-ignored)."""

__all__ = ["DEFAULT_DATA_DIR", "DEFAULT_PORT"]
