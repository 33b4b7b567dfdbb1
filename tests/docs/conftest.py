"""Fixtures for the docs site and browser tests: a built site, a local HTTP server, Chromium."""

from __future__ import annotations

import contextlib
import functools
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from .browser import CHROMIUM_ARGS, ChromiumInstallFailed, ChromiumMissing, ensure_chromium

if TYPE_CHECKING:  # imported by the fixture only, once Chromium is there
    from playwright.sync_api import Browser

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
ARTIFACTS = REPO / "test-artifacts"
# The site is built from these notebooks (the docs build honours the same variable).
NOTEBOOKS_DIR = Path(os.environ.get("DICOMWEB_DOCS_NOTEBOOKS") or REPO / "notebooks").resolve()


def build_site(outdir: Path, docs_dir: Path = DOCS, notebooks: Path = NOTEBOOKS_DIR) -> subprocess.CompletedProcess:
    """Run the same Sphinx build as ``make docs`` into ``outdir``."""
    env = dict(os.environ, DICOMWEB_DOCS_NOTEBOOKS=str(notebooks))
    command = [
        sys.executable, "-m", "sphinx", "-W", "-n", "-q", "-b", "html",
        "-d", str(outdir / ".doctrees"), str(docs_dir), str(outdir / "html"),
    ]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site built from the repository's docs and notebooks; its HTML directory."""
    outdir = tmp_path_factory.mktemp("site")
    result = build_site(outdir)
    assert result.returncode == 0, f"docs build failed:\n{result.stdout}\n{result.stderr}"
    return outdir / "html"


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        pass


@contextlib.contextmanager
def serve_directory(directory: Path) -> Iterator[str]:
    """Serve ``directory`` over HTTP on a free 127.0.0.1 port; yields its root URL."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def site_url(built_site: Path) -> Iterator[str]:
    """The built site served over HTTP on a free loopback port."""
    with serve_directory(built_site) as url:
        yield url


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    """A headless Debian Chromium driven by Playwright."""
    try:
        executable = ensure_chromium()
    except ChromiumMissing as missing:
        # The one case a browser test may skip: nothing here can install Chromium. As root (CI),
        # ensure_chromium installs it, and a failed install fails the tests.
        pytest.skip(str(missing))
    except ChromiumInstallFailed as failed:
        pytest.fail(str(failed), pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(executable), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Where screenshots go (git-ignored)."""
    path = ARTIFACTS / "docs"
    path.mkdir(parents=True, exist_ok=True)
    return path
