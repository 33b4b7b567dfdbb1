"""Headless Debian Chromium for the browser tests (no Playwright browser download)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
INSTALL_SCRIPT = Path(__file__).with_name("install_chromium.sh")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


class ChromiumMissing(RuntimeError):
    """Chromium is not installed and cannot be installed from here (not root, or no apt-get)."""


class ChromiumInstallFailed(RuntimeError):
    """Installing Debian's chromium package was possible but did not work."""


def ensure_chromium() -> Path:
    """Return Chromium's path, installing Debian's package first when missing and root."""
    if CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise ChromiumMissing(
            f"{CHROMIUM} is missing: install Debian's chromium package "
            f"(as root: bash {INSTALL_SCRIPT})"
        )
    result = subprocess.run(["bash", str(INSTALL_SCRIPT)], capture_output=True, text=True, timeout=900)
    if result.returncode != 0 or not CHROMIUM.is_file():
        raise ChromiumInstallFailed(f"installing chromium failed:\n{result.stdout}\n{result.stderr}")
    return CHROMIUM
