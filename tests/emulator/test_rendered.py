"""WADO-RS rendered: JPEG or PNG only, the quality parameter, and the 400/404/406 rules."""

import io

import numpy as np
import pytest
from PIL import Image

from tests.emulator.emulator_testlib import PLAIN, send


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


QUALITY_RANGE = "Image quality must be between 1 and 100 inclusive"  # DicomCoreResource.InvalidImageQuality


@pytest.mark.parametrize("quality,message", [
    ("0", QUALITY_RANGE), ("101", QUALITY_RANGE), ("-1", QUALITY_RANGE),
    # Not an int: ASP.NET Core's model-binding message inside Azure's InvalidQueryStringValue.
    ("abc", "The query parameter 'quality' is invalid. The value 'abc' is not valid for quality."),
    ("", "The query parameter 'quality' is invalid. The value '' is invalid."),
    ("%C2%B2", "The query parameter 'quality' is invalid. The value '\u00b2' is not valid for quality."),
    ("%D9%A1", "The query parameter 'quality' is invalid. The value '\u0661' is not valid for quality."),
    ("%EF%BC%95%EF%BC%90",
     "The query parameter 'quality' is invalid. The value '\uff15\uff10' is not valid for quality."),
])
def test_bad_quality_is_400(emulator_client, multiframe, quality, message):
    response = fetch(emulator_client, rendered_url(emulator_client, multiframe) + f"?quality={quality}", "image/jpeg")
    assert response.status_code == 400
    assert response.headers["Content-Type"] == PLAIN
    assert response.text == message


def test_the_quality_key_is_read_in_any_case(emulator_client, multiframe):
    # ASP.NET Core's query collection compares keys case-insensitively, so "Quality=0" is range-checked too.
    url = rendered_url(emulator_client, multiframe)
    for key in ("Quality", "QUALITY"):
        response = fetch(emulator_client, f"{url}?{key}=0", "image/jpeg")
        assert (response.status_code, response.text) == (400, QUALITY_RANGE), key
    assert fetch(emulator_client, f"{url}?QuAlItY=50", "image/jpeg").status_code == 200


@pytest.mark.parametrize("accept", ["*/*", "image/gif", "image/png, image/jpeg"])
def test_bad_quality_is_400_before_accept_is_looked_at(emulator_client, multiframe, accept):
    response = fetch(emulator_client, rendered_url(emulator_client, multiframe) + "?quality=0", accept)
    assert response.status_code == 400
    assert response.text == QUALITY_RANGE


def test_several_accept_ranges_are_406_with_azures_text(emulator_client, multiframe):
    response = fetch(emulator_client, rendered_url(emulator_client, multiframe), "image/png, image/jpeg")
    assert response.status_code == 406
    assert response.text == "The request contains multiple accept headers, which is not supported."
    response = fetch(emulator_client, rendered_url(emulator_client, multiframe), "image/gif")
    assert response.text == "The request headers are not acceptable"


def test_multipart_accept_naming_png_renders_png(emulator_client, multiframe):
    # GetValidRenderAcceptHeader looks only at the media type ToAcceptHeader gives: the part type.
    response = fetch(emulator_client, rendered_url(emulator_client, multiframe), 'multipart/related; type="image/png"')
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/png"
    assert response.content.startswith(b"\x89PNG")


@pytest.mark.parametrize("accept", ["*/*", "image/gif", "application/dicom", "image/png, image/jpeg", "image/*"])
def test_other_accept_is_406(emulator_client, multiframe, accept):
    response = fetch(emulator_client, rendered_url(emulator_client, multiframe), accept)
    assert response.status_code == 406
    assert response.headers["Content-Type"] == PLAIN


def test_frame_beyond_the_last_is_404(emulator_client, multiframe):
    response = fetch(emulator_client, rendered_url(emulator_client, multiframe, 4), "image/png")
    assert response.status_code == 404
    assert response.text == "The specified frame cannot be found."


@pytest.mark.parametrize("frame,message", [
    ("0", "The specified frames value is not valid. At least one frame must be present, and all requested "
          "frames must have value greater than 0."),
    ("x", "The query parameter 'frame' is invalid. The value 'x' is not valid for frame."),
    ("1,2", "The query parameter 'frame' is invalid. The value '1,2' is not valid for frame."),
])
def test_bad_frame_is_400(emulator_client, multiframe, frame, message):
    response = fetch(emulator_client, rendered_url(emulator_client, multiframe, frame), "image/gif")
    assert response.status_code == 400
    assert response.headers["Content-Type"] == PLAIN
    assert response.text == message


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
