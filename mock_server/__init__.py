"""A local emulator of the Azure Health Data Services DICOM service (DICOMweb), for offline use.

This package's ``__init__`` holds constants only, so that clients (``helpers``) can read the defaults
without loading the server (see README.md, "What a client may import").
"""

from pathlib import Path

DEFAULT_PORT = 8765
"""The port ``python -m mock_server`` listens on unless told otherwise."""

DEFAULT_DATA_DIR = Path(__file__).resolve().parent.parent / ".emulator-data"
"""Where the emulator keeps its files, index and token secret unless told otherwise (git-ignored)."""

BANNER = "DICOM service emulator listening on"
"""The first line the emulator prints, followed by its root URL, once it accepts connections."""

__all__ = ["BANNER", "DEFAULT_DATA_DIR", "DEFAULT_PORT"]
