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


def test_install_script_does_nothing_when_chromium_is_there() -> None:
    # The browser fixtures have installed it by now if it was missing.
    assert browser.ensure_chromium() == browser.CHROMIUM
    result = subprocess.run(["bash", str(browser.INSTALL_SCRIPT)], capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
