"""WADO-RS rendered: JPEG or PNG only, the quality parameter, and the 400/404/406 rules."""

import io

import numpy as np
import pytest
from PIL import Image

from emulator_testlib import PLAIN, send


@pytest.fixture
def multiframe(stored):
    return stored(frames=3, rows=8, columns=10)


def rendered_url(client, inst, frame=None):
    suffix = "rendered" if frame is None else f"frames/{frame}/rendered"
    return f"{client.base}/{inst.path}/{suffix}"


def fetch(client, url, accept):
    return send(client, "GET", url, accept)


@pytest.mark.parametrize("accept,media,pil_format", [("image/png", "image/png", "PNG"),
                                                     ("image/jpeg", "image/jpeg", "JPEG"),
                                                     (None, "image/jpeg", "JPEG")])
def test_rendered_instance(emulator_client, multiframe, accept, media, pil_format):
    response = fetch(emulator_client, rendered_url(emulator_client, multiframe), accept)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == media
    image = Image.open(io.BytesIO(response.content))
    assert image.format == pil_format
    assert image.size == (10, 8)


def test_rendered_png_matches_the_frame(emulator_client, multiframe):
    for frame in (1, 3):
        response = fetch(emulator_client, rendered_url(emulator_client, multiframe, frame), "image/png")
        assert response.status_code == 200
        pixels = np.asarray(Image.open(io.BytesIO(response.content)))
        source = np.frombuffer(multiframe.frames[frame - 1], dtype=np.uint16).reshape(8, 10).astype(float)
        expected = np.rint((source - source.min()) * 255 / (source.max() - source.min())).astype(np.uint8)
        assert np.array_equal(pixels, expected)


def test_quality_changes_jpeg_size(emulator_client, stored):
    inst = stored(rows=64, columns=64)
    small = fetch(emulator_client, rendered_url(emulator_client, inst) + "?quality=5", "image/jpeg")
    large = fetch(emulator_client, rendered_url(emulator_client, inst) + "?quality=100", "image/jpeg")
    assert small.status_code == large.status_code == 200
    assert len(small.content) < len(large.content)


@pytest.mark.parametrize("quality", ["0", "101", "-1", "abc", "", "%C2%B2", "%D9%A1", "%EF%BC%95%EF%BC%90"])
def test_bad_quality_is_400(emulator_client, multiframe, quality):
    response = fetch(emulator_client, rendered_url(emulator_client, multiframe) + f"?quality={quality}", "image/jpeg")
    assert response.status_code == 400
    assert response.headers["Content-Type"] == PLAIN
    assert response.text == "Image quality must be between 1 and 100."


@pytest.mark.parametrize("accept", ["*/*", "image/gif", "application/dicom", "image/png, image/jpeg", "image/*"])
def test_other_accept_is_406(emulator_client, multiframe, accept):
    response = fetch(emulator_client, rendered_url(emulator_client, multiframe), accept)
    assert response.status_code == 406
    assert response.headers["Content-Type"] == PLAIN


def test_frame_beyond_the_last_is_404(emulator_client, multiframe):
    response = fetch(emulator_client, rendered_url(emulator_client, multiframe, 4), "image/png")
    assert response.status_code == 404
    assert response.text == "The specified frame cannot be found."


@pytest.mark.parametrize("frame", ["0", "x", "1,2"])
def test_bad_frame_is_400(emulator_client, multiframe, frame):
    response = fetch(emulator_client, rendered_url(emulator_client, multiframe, frame), "image/png")
    assert response.status_code == 400
    assert response.headers["Content-Type"] == PLAIN


def test_no_pixel_data_is_404(emulator_client, stored):
    inst = stored(pixels=False)
    response = fetch(emulator_client, rendered_url(emulator_client, inst), "image/png")
    assert response.status_code == 404
    assert response.text == "The specified frame cannot be found."


def test_missing_instance_is_404(emulator_client, multiframe):
    url = f"{emulator_client.base}/studies/{multiframe.study}/series/{multiframe.series}/instances/1.404/rendered"
    response = fetch(emulator_client, url, "image/png")
    assert response.status_code == 404
    assert response.text == "The specified instance cannot be found."
