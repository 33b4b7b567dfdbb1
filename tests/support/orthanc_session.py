"""The Orthanc peer of a test session: started by the ``orthanc`` fixture of tests/conftest.py (once per
session, for every folder that asks for it), and by benchmarks/peer_compare.py; the peer itself is
tools/orthanc_peer.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools import orthanc_peer


def unavailable_reason() -> str | None:
    """Why Orthanc cannot run here, or None. The only case: packages missing and no way to install."""
    missing = orthanc_peer.missing_packages()
    if missing and not orthanc_peer.can_install():
        return (f"Orthanc peer unavailable: Debian package(s) {', '.join(missing)} not installed and "
                f"this user cannot install them (root and apt-get are needed). {orthanc_peer.INSTALL_HINT}")
    return None


def start_peer(work_dir: Path) -> orthanc_peer.OrthancPeer:
    """A peer on loopback serving ``work_dir`` (installing Orthanc first when root); the test is skipped,
    with the reason, where Orthanc is missing and cannot be installed."""
    reason = unavailable_reason()
    if reason is not None:
        pytest.skip(reason)
    return orthanc_peer.start(work_dir)
