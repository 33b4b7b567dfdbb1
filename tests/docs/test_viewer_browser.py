"""`make viewer` in headless Chromium: OHIF lists the emulator's studies and shows the sample study.

The viewer (tools/viewer.py) serves the pinned OHIF release on its own origin and OHIF calls the
emulator's DICOMweb base URL directly, with a reader's token, as it would call Azure.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pydicom
import pytest
import requests
from PIL import Image
from playwright.sync_api import Browser, Page, Response
from playwright.sync_api import Error as PlaywrightError

from helpers.multipart import encode_multipart_related
from helpers.samples import ct_series
from helpers.viewer import viewer_url
from mock_server.launcher import Emulator, start_emulator
from tests.support.processes import stop_make
from tools import viewer

REPO = Path(__file__).resolve().parents[2]
SAMPLES = sorted((REPO / "data").glob("*.dcm"))
STUDY_UID = "1.2.826.0.1.3680043.8.498.13230779778012324449356534479549187420"
# data/README.md: the shapes' colours on the grey (195,195,195) background.
BACKGROUND = (195, 195, 195)
SHAPES = {"red triangle": (237, 28, 36), "green square": (34, 177, 76), "blue circle": (63, 72, 204)}
SCREENSHOT = "viewer-sample-study.png"
CT_SCREENSHOT = "viewer-ct-series.png"
# Generous: two CPU cores shared with other test runs, and OHIF loads ~200 MB of scripts.
TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def ohif_dist() -> Path:
    """The pinned OHIF release, installed with npm into .ohif/ when missing (as `make viewer` does)."""
    try:
        return viewer.install_ohif()
    except viewer.NpmMissing as missing:
        # The one case this test may skip: nothing here can fetch OHIF from the npm registry.
        pytest.skip(str(missing))
    except viewer.OhifInstallFailed as failed:
        pytest.fail(str(failed), pytrace=False)


@pytest.fixture(scope="module")
def sample_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """An emulator of its own (free port) holding the sample study and the synthetic CT series
    (data/make_ct_series.py, written on first use), stored with STOW-RS."""
    with start_emulator(tmp_path_factory.mktemp("viewer-emulator")) as emu:
        for files in (SAMPLES, ct_series()):
            body, content_type = encode_multipart_related([path.read_bytes() for path in files])
            response = requests.post(f"{emu.base_url()}/studies", data=body, timeout=120,
                                     headers={"Content-Type": content_type, "Accept": "application/dicom+json",
                                              "Authorization": f"Bearer {emu.token()}"})
            assert response.status_code == 200, response.text
        yield emu


@pytest.fixture(scope="module")
def viewer_server(ohif_dist: Path, sample_emulator: Emulator) -> Iterator[str]:
    """tools/viewer.py's server on a free port, for the emulator's v2 API with a reader's token."""
    site = viewer.ViewerSite(ohif_dist, sample_emulator.base_url(), lambda: sample_emulator.token("reader"))
    server = viewer.ViewerServer(0, site)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.url
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _share(image: Image.Image, colour: tuple[int, int, int], tolerance: int = 12) -> float:
    """The fraction of ``image``'s pixels within ``tolerance`` of ``colour`` in every channel."""
    pixels = np.asarray(image.convert("RGB"), dtype=np.int16)
    near = np.all(np.abs(pixels - np.array(colour, dtype=np.int16)) <= tolerance, axis=-1)
    return float(near.mean())


def _confirm_investigational_use(page: Page) -> None:
    """Click away OHIF's banner "for investigational use only", shown on a first visit."""
    page.get_by_role("button", name="Confirm and hide").click()


# The share of a viewport canvas's pixels (sampled) within 12 of an RGB colour, for page.wait_for_function.
_CANVAS_SHOWS = """([index, colour, share]) => {
  const canvas = document.querySelectorAll('.cornerstone-viewport-element canvas')[index];
  const ctx = canvas && canvas.width ? canvas.getContext('2d') : null;
  if (!ctx) return false;
  const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
  let near = 0, total = 0;
  for (let i = 0; i < data.length; i += 4 * 7) {
    total += 1;
    if (colour.every((value, c) => Math.abs(data[i + c] - value) <= 12)) near += 1;
  }
  return near / total > share;
}"""


def _wait_until_shown(page: Page, index: int, colour: tuple[int, int, int]) -> None:
    page.wait_for_function(_CANVAS_SHOWS, arg=[index, list(colour), 0.05])


def _assert_shows_a_sample(page: Page, index: int) -> str:
    """Viewport ``index`` shows a sample image: the grey background and one shape; its name."""
    canvas = page.locator(".cornerstone-viewport-element").nth(index).locator("canvas").first
    shown = Image.open(io.BytesIO(canvas.screenshot()))
    assert _share(shown, BACKGROUND) > 0.05, f"viewport {index}: no grey background"
    shares = {name: _share(shown, colour) for name, colour in SHAPES.items()}
    name = max(shares, key=lambda shape: shares[shape])
    assert shares[name] > 0.05, f"viewport {index}: no sample shape ({shares})"
    return name


@contextmanager
def _viewer_page(chromium: Browser, failure_screenshot: Path) -> Iterator[Page]:
    """A fresh page; on leaving, no request may have failed (refused, or HTTP 4xx/5xx) and no page
    error occurred. A wait that timed out fails with the browser's log and a screenshot."""
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    # As for a returning user: the viewer's onboarding tour, whose overlay would catch the clicks
    # below, was already seen (OHIF remembers it in localStorage).
    context.add_init_script("localStorage.setItem('shownTours', JSON.stringify(['basicViewerTour']))")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    failures: list[str] = []
    page.on("requestfailed", lambda request: failures.append(f"failed: {request.url} {request.failure}"))

    def on_response(response: Response) -> None:
        if response.status >= 400:
            failures.append(f"{response.status}: {response.request.method} {response.url}")

    page.on("response", on_response)
    page.on("pageerror", lambda error: failures.append(f"page error: {error}"))
    try:
        yield page
        page.wait_for_load_state("networkidle")
        assert failures == []
    except PlaywrightError as error:
        page.screenshot(path=str(failure_screenshot))
        pytest.fail(f"{error}\nfailed requests and page errors: {failures}", pytrace=False)
    finally:
        context.close()


def test_viewer_lists_the_study_and_shows_every_viewport(chromium: Browser, viewer_server: str, artifacts_dir: Path,
                                                         monkeypatch) -> None:
    with _viewer_page(chromium, artifacts_dir / "viewer-sample-study-failed.png") as page:
        # The study list: QIDO-RS from the viewer's origin to the emulator's (CORS, bearer token).
        page.goto(viewer_server + "/")
        row = page.get_by_role("row").filter(has_text="Anony Mous")
        row.wait_for()
        assert "22-Sep-2020" in row.inner_text()
        page.get_by_role("row").filter(has_text="Phantom").wait_for()  # the CT study is listed too
        assert page.get_by_role("row").filter(has_text="Anony").count() == 1
        _confirm_investigational_use(page)

        # Open it as a learner would: a double-click launches the default workflow (basic viewer).
        row.dblclick()
        page.wait_for_url("**/viewer**")
        monkeypatch.setenv("DICOMWEB_VIEWER_URL", viewer_server)
        assert page.url.startswith(viewer_url(STUDY_UID))  # the link helpers.viewer prints
        viewports = page.locator(".cornerstone-viewport-element")
        viewports.first.wait_for()
        # The first series' first instance (InstanceNumber 1) is the red triangle.
        _wait_until_shown(page, 0, SHAPES["red triangle"])
        count = viewports.count()
        assert count >= 1
        for index in range(count):
            _assert_shows_a_sample(page, index)
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(artifacts_dir / SCREENSHOT))

        # The next image of that series (the "down" hotkey), then the other series' thumbnail.
        page.keyboard.press("ArrowDown")
        _wait_until_shown(page, 0, SHAPES["green square"])
        assert _assert_shows_a_sample(page, 0) == "green square"
        page.locator('[data-cy="study-browser-thumbnail"][data-series="2"]').dblclick()
        _wait_until_shown(page, 0, SHAPES["blue circle"])
        assert _assert_shows_a_sample(page, 0) == "blue circle"


# The CT slices through the soft-tissue window (centre 40, width 400): soft tissue (40 HU) is mid-grey,
# lungs (-850 HU) and air black, the spine (700 HU) white.
_CT_SHADES = {"soft tissue": ((128, 128, 128), 0.10), "lungs and air": ((0, 0, 0), 0.10),
              "bone": ((255, 255, 255), 0.002)}


def test_viewer_shows_the_ct_series_windowed(chromium: Browser, viewer_server: str, artifacts_dir: Path) -> None:
    """The 64-slice CT series opens with its first window preset, every viewport showing the phantom."""
    ct_study_uid = pydicom.dcmread(ct_series()[0], stop_before_pixels=True).StudyInstanceUID
    with _viewer_page(chromium, artifacts_dir / "viewer-ct-series-failed.png") as page:
        page.goto(viewer_server + "/")
        row = page.get_by_role("row").filter(has_text="Phantom")
        row.wait_for()
        # OHIF asks /studies for includefield=00080060 (Modality, a series attribute): Azure answers it
        # from the series of the study's newest instance, and OHIF opens a study only for known modalities.
        assert "CT" in row.inner_text()
        _confirm_investigational_use(page)
        row.dblclick()
        page.wait_for_url(f"**/viewer?StudyInstanceUIDs={ct_study_uid}**")
        viewports = page.locator(".cornerstone-viewport-element")
        viewports.first.wait_for()
        for index in range(viewports.count()):
            for colour, share in _CT_SHADES.values():
                page.wait_for_function(_CANVAS_SHOWS, arg=[index, list(colour), share])
        # The overlay names the window the viewer applied: the first preset.
        page.wait_for_function(
            """() => /W:\\s*400\\s+L:\\s*40\\b/.test(
                 document.querySelector('[data-cy="viewport-overlay-bottom-left"]')?.innerText ?? '')""")
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(artifacts_dir / CT_SCREENSHOT))


def test_viewer_serves_spa_routes_and_404s_missing_files(viewer_server: str) -> None:
    """A route of the single-page app gets index.html; a missing script stays a 404, never HTML."""
    route = requests.get(f"{viewer_server}/viewer?StudyInstanceUIDs={STUDY_UID}", timeout=30)
    assert route.status_code == 200 and "app-config.js" in route.text
    missing = requests.get(f"{viewer_server}/no-such-bundle.js", timeout=30)
    assert missing.status_code == 404


def test_head_requests_get_headers_only(viewer_server: str) -> None:
    for path in ("/app-config.js", "/viewer", "/index.html"):
        response = requests.head(f"{viewer_server}{path}", timeout=30)
        assert response.status_code == 200 and response.content == b"", path
        assert int(response.headers["Content-Length"]) > 0, path


def test_viewer_config_points_at_the_service_and_the_token_stays_local(
        viewer_server: str, sample_emulator: Emulator) -> None:
    config = requests.get(f"{viewer_server}/app-config.js", timeout=30)
    assert config.status_code == 200
    assert f'"qidoRoot": "{sample_emulator.base_url()}"' in config.text
    assert "userAuthenticationService" in config.text
    token = requests.get(f"{viewer_server}{viewer.TOKEN_PATH}", timeout=30)
    assert token.status_code == 200 and token.headers["Cache-Control"] == "no-store"
    # The token is a reader's: it searches, but cannot delete.
    headers = {"Authorization": f"Bearer {token.json()['token']}"}
    assert requests.get(f"{sample_emulator.base_url()}/studies", headers=headers, timeout=30).status_code == 200
    assert requests.delete(f"{sample_emulator.base_url()}/studies/{STUDY_UID}", headers=headers,
                           timeout=30).status_code == 403
    # A page served under another name (DNS rebinding onto 127.0.0.1) does not get it.
    rebound = requests.get(f"{viewer_server}{viewer.TOKEN_PATH}", headers={"Host": "attacker.example:80"},
                           timeout=30)
    assert rebound.status_code == 403


def test_install_refuses_without_npm(tmp_path: Path, monkeypatch) -> None:
    """Without npm the install says what to install (and the browser test above skips with it)."""
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(viewer.NpmMissing, match="apt-get install npm"):
        viewer.install_ohif(tmp_path)


def test_make_viewer_starts_the_emulator_and_prints_the_viewer_url(ohif_dist: Path, tmp_path: Path,
                                                                   free_port) -> None:
    """`make viewer` from the README: the emulator started as `make lab` starts it, then the URL printed."""
    emulator_port, viewer_port = free_port(), free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("DICOMWEB_")}
    env.update(DICOMWEB_EMULATOR_DATA_DIR=str(tmp_path / "emulator"), DICOMWEB_EMULATOR_PORT=str(emulator_port))
    log = tmp_path / "viewer.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(["make", "--no-print-directory", "viewer", f"VIEWER_ARGS=--port {viewer_port}"],
                                   cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        expected = f"on http://127.0.0.1:{emulator_port}/v2: http://127.0.0.1:{viewer_port}/"
        deadline = time.monotonic() + 120
        while expected not in log.read_text(errors="replace") and time.monotonic() < deadline:
            assert process.poll() is None, log.read_text(errors="replace")
            time.sleep(0.5)
        assert expected in log.read_text(errors="replace"), log.read_text(errors="replace")
        base = f"http://127.0.0.1:{viewer_port}"
        config = requests.get(f"{base}/app-config.js", timeout=30).text
        assert f'"wadoRoot": "http://127.0.0.1:{emulator_port}/v2"' in config
        token = requests.get(f"{base}{viewer.TOKEN_PATH}", timeout=30).json()["token"]
        studies = requests.get(f"http://127.0.0.1:{emulator_port}/v2/studies", timeout=30,
                               headers={"Authorization": f"Bearer {token}", "Origin": base})
        assert studies.status_code in (200, 204)
        assert studies.headers["Access-Control-Allow-Origin"] == base  # the viewer's origin may read it
    finally:
        stop_make(process, tmp_path / "emulator")

