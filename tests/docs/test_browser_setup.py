"""Getting Chromium for the browser tests: Debian's package, installed once, clear when impossible."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from . import browser


def test_missing_chromium_without_root_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(browser, "CHROMIUM", tmp_path / "no-chromium")
    monkeypatch.setattr(browser.os, "geteuid", lambda: 1000)
    with pytest.raises(browser.ChromiumMissing, match="install Debian's chromium package"):
        browser.ensure_chromium()


def test_install_script_does_nothing_when_chromium_is_there(chromium: object) -> None:
    # The chromium fixture has installed it by now if it was missing (or skipped: no root, no package).
    assert browser.ensure_chromium() == browser.CHROMIUM
    result = subprocess.run(["bash", str(browser.INSTALL_SCRIPT)], capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


@pytest.mark.skipif(browser.os.geteuid() != 0, reason="only root can install Chromium")
def test_as_root_chromium_is_always_available() -> None:
    # As root (CI), a browser test may never skip: ensure_chromium installs or raises, never skips.
    assert browser.ensure_chromium() == browser.CHROMIUM
