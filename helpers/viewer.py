"""Links into the OHIF web viewer that ``make viewer`` serves (tools/viewer.py).

| variable | meaning |
|---|---|
| ``DICOMWEB_VIEWER_URL`` | where the viewer answers; unset = ``http://127.0.0.1:3000`` (``make viewer``'s default) |
"""

import os
from collections.abc import Mapping
from urllib.parse import urlencode

# OHIF's own development server listens on 3000; `make viewer` keeps that habit.
DEFAULT_PORT = 3000
DEFAULT_URL = f"http://127.0.0.1:{DEFAULT_PORT}"


def viewer_url(study_uid: str | None = None, environ: Mapping[str, str] = os.environ) -> str:
    """The viewer's study list, or the page that opens ``study_uid`` in OHIF's basic viewer."""
    base = (environ.get("DICOMWEB_VIEWER_URL", "").strip() or DEFAULT_URL).rstrip("/")
    if study_uid is None:
        return f"{base}/"
    # OHIF's viewer route takes the study (or several, comma-separated) in StudyInstanceUIDs.
    return f"{base}/viewer?{urlencode({'StudyInstanceUIDs': study_uid})}"


def show_viewer_link(study_uid: str | None = None) -> None:
    """Print where to see ``study_uid`` in the viewer (start it with ``make viewer``)."""
    print(f"See it in the OHIF viewer (start it with `make viewer`): {viewer_url(study_uid)}")
