"""A page on another loopback origin uses the emulator from headless Chromium: the browser's CORS
preflight and an authorized fetch succeed by default, and the browser refuses them with CORS off."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mock_server.launcher import Emulator, start_emulator

from .conftest import serve_directory

# The page's script: fetch with a bearer token (a non-simple header, so the browser sends a preflight).
PAGE = """<!doctype html><meta charset="utf-8"><title>CORS check</title>
<script>
async function fetchMetadata(url, token) {
  try {
    const response = await fetch(url, {headers: {"Authorization": "Bearer " + token,
                                                 "Accept": "application/dicom+json"}});
    return {status: response.status, body: await response.json(),
            type: response.headers.get("Content-Type")};
  } catch (error) {
    return {error: String(error)};
  }
}
</script>"""


@pytest.fixture
def page_url(tmp_path: Path):
    (tmp_path / "index.html").write_text(PAGE, encoding="utf-8")
    with serve_directory(tmp_path) as url:
        yield url.replace("127.0.0.1", "localhost") + "/index.html"


def _fetch_from_page(chromium, page_url: str, url: str, token: str) -> dict:
    context = chromium.new_context()
    try:
        page = context.new_page()
        page.goto(page_url, wait_until="load")
        result = page.evaluate("([url, token]) => fetchMetadata(url, token)", [url, token])
        return {**result, "page_origin": page.evaluate("location.origin")}
    finally:
        context.close()


@pytest.fixture
def emulators(tmp_path: Path) -> Iterator[Callable[..., Emulator]]:
    """``emulators(*args)``: an emulator started with those options; all stopped afterwards."""
    started: list[Emulator] = []

    def start(*args: str) -> Emulator:
        emu = start_emulator(tmp_path / f"data{len(started)}", extra_args=list(args))
        started.append(emu)
        return emu

    yield start
    for emu in started:
        emu.stop()


def test_page_on_another_loopback_origin_fetches_with_a_token(chromium, emulators, page_url) -> None:
    emu = emulators()
    result = _fetch_from_page(chromium, page_url, f"{emu.base_url('v2')}/changefeed", emu.token("reader"))
    assert result["page_origin"].startswith("http://localhost:")  # another origin than the emulator's
    assert result.get("status") == 200, result
    assert result["body"] == []


def test_the_browser_refuses_when_cors_is_off(chromium, emulators, page_url) -> None:
    emu = emulators("--cors-origin", "none")
    result = _fetch_from_page(chromium, page_url, f"{emu.base_url('v2')}/changefeed", emu.token())
    assert "Failed to fetch" in result.get("error", ""), result
