"""Transcoding on retrieve, over HTTP: every conformance-statement source syntax to Explicit VR LE and to
JPEG 2000 Lossless, for an instance (single part and multipart) and for frames (octet-stream and
``image/jp2``), pixel for pixel; the part headers; Azure's 406 cases and texts; memory while a large
transcoded instance streams."""

import io
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.encaps import generate_frames
from pydicom.uid import (JPEG2000Lossless, JPEGBaseline8Bit, JPEGLSLossless, ExplicitVRLittleEndian,
                         ImplicitVRLittleEndian, RLELossless)

from tests.emulator.compressed_testlib import LOSSLESS_TARGETS, SOURCES, build_compressed, decode_frame
from tests.emulator.emulator_testlib import PLAIN, read_multipart, session_for
from tests.support.part10 import as_stored, build_instance
from tests.support.stow import stow

UNSUPPORTED = "The specified transcoding is not supported."


def too_big(limit: int) -> str:
    return (f"Requested DICOM instance size is above the supported limit of {limit}. The entire instance can be "
            "retrieved with the original transfer syntax by specifying 'transfer-syntax=*' in the Accept header.")


def store(client, compressed):
    response = stow(client, [compressed.instance.data])
    assert response.status_code in (200, 202), response.text
    return compressed


@pytest.fixture
def stored_as(emulator_client):
    """Store a fresh instance in a syntax (``build_compressed``'s arguments) and return it."""
    return lambda syntax, **kwargs: store(emulator_client, build_compressed(syntax, **kwargs))


def le_bytes(arr: np.ndarray) -> bytes:
    return arr.astype(arr.dtype.newbyteorder("<")).tobytes()


def get(client, path: str, accept: str):
    return client.get(f"{client.base}/{path}", headers={"Accept": accept})


def single_part(target: str) -> str:
    return f"application/dicom; transfer-syntax={target}"


def check_file(body: bytes, compressed, target: str) -> None:
    ds = pydicom.dcmread(io.BytesIO(body))
    assert ds.file_meta.TransferSyntaxUID == target
    assert ds.SOPInstanceUID == compressed.instance.sop
    assert ds.PatientName == "Synthetic^Transcode"
    assert np.array_equal(ds.pixel_array.reshape(compressed.pixels.shape), compressed.pixels)


@pytest.mark.parametrize("target", LOSSLESS_TARGETS)
@pytest.mark.parametrize("source", SOURCES)
def test_instance_transcodes_pixel_equal(emulator_client, stored_as, source, target):
    c = stored_as(source)
    response = get(emulator_client, c.instance.path, single_part(target))
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == single_part(target)
    if source == target:
        assert response.content == as_stored(c.instance.data)  # served as stored
    check_file(response.content, c, target)


@pytest.mark.parametrize("target", LOSSLESS_TARGETS)
def test_multipart_instance_part_names_what_was_sent(emulator_client, stored_as, target):
    c = stored_as(RLELossless, frames=3)
    response = get(emulator_client, c.instance.path, f'multipart/related; type="application/dicom"; '
                                                     f"transfer-syntax={target}")
    assert response.status_code == 200, response.text
    [(headers, body)] = read_multipart(response)
    assert headers == {"content-type": single_part(target)}
    check_file(body, c, target)


def test_a_study_of_one_instance_is_transcoded_too(emulator_client, stored_as):
    # RetrieveResourceService transcodes whenever exactly one instance matches, whatever the level.
    c = stored_as(JPEG2000Lossless)
    response = get(emulator_client, f"studies/{c.instance.study}", 'multipart/related; type="application/dicom"')
    assert response.status_code == 200, response.text
    [(headers, body)] = read_multipart(response)
    assert headers == {"content-type": single_part(ExplicitVRLittleEndian)}
    check_file(body, c, ExplicitVRLittleEndian)


def test_colour_sources_come_back_as_rgb(emulator_client, stored_as):
    for source in (JPEGBaseline8Bit, RLELossless, JPEG2000Lossless):
        c = stored_as(source, samples=3)
        for target in LOSSLESS_TARGETS:
            response = get(emulator_client, c.instance.path, single_part(target))
            assert response.status_code == 200, (source, target, response.text)
            ds = pydicom.dcmread(io.BytesIO(response.content))
            assert ds.PhotometricInterpretation == "RGB", (source, target)
            assert np.array_equal(ds.pixel_array.reshape(c.pixels.shape), c.pixels), (source, target)


OCTET = 'multipart/related; type="application/octet-stream"'
JP2 = 'multipart/related; type="image/jp2"'


@pytest.mark.parametrize("source", SOURCES)
def test_frames_transcode_pixel_equal(emulator_client, stored_as, source):
    c = stored_as(source, frames=3)
    url = f"{c.instance.path}/frames/3,1"
    response = get(emulator_client, url, OCTET)
    assert response.status_code == 200, response.text
    parts = read_multipart(response)
    assert [h["content-type"] for h, _ in parts] == [f"application/octet-stream; transfer-syntax="
                                                     f"{ExplicitVRLittleEndian}"] * 2
    assert [body for _, body in parts] == [le_bytes(c.frame(3)), le_bytes(c.frame(1))]
    response = get(emulator_client, url, JP2)
    assert response.status_code == 200, response.text
    parts = read_multipart(response)
    assert [h["content-type"] for h, _ in parts] == [f"image/jp2; transfer-syntax={JPEG2000Lossless}"] * 2
    if source == JPEG2000Lossless:  # already in the syntax asked for: as stored
        stored = list(generate_frames(c.dataset.PixelData, number_of_frames=3))
        assert [body for _, body in parts] == [stored[2], stored[0]]
    for (_, body), number in zip(parts, (3, 1), strict=True):
        assert np.array_equal(decode_frame(body, c.dataset), c.frame(number))


def test_single_part_frame_transcoded(emulator_client, stored_as):
    c = stored_as(RLELossless, frames=2)
    response = get(emulator_client, f"{c.instance.path}/frames/2", "application/octet-stream")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == f"application/octet-stream; transfer-syntax={ExplicitVRLittleEndian}"
    assert response.content == le_bytes(c.frame(2))


def test_colour_jpeg_frame_as_jp2_is_rgb(emulator_client, stored_as):
    c = stored_as(JPEGBaseline8Bit, samples=3)
    response = get(emulator_client, f"{c.instance.path}/frames/1", JP2)
    assert response.status_code == 200, response.text
    [(_, body)] = read_multipart(response)
    assert np.array_equal(decode_frame(body, c.dataset, photometric="RGB"), c.frame(1))


# --- 406 ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("accept,path", [
    (single_part(ExplicitVRLittleEndian), ""),
    ('multipart/related; type="application/dicom"; transfer-syntax=1.2.840.10008.1.2.4.90', ""),
    (OCTET, "/frames/1"),
    (JP2, "/frames/1"),
])
def test_a_syntax_it_cannot_transcode_from_is_406(emulator_client, stored_as, accept, path):
    c = stored_as(JPEGLSLossless)  # not in the conformance statement's list
    response = get(emulator_client, c.instance.path + path, accept)
    assert response.status_code == 406
    assert response.headers["Content-Type"] == PLAIN
    assert response.text == UNSUPPORTED
    assert get(emulator_client, c.instance.path, "application/dicom; transfer-syntax=*").status_code == 200


def test_a_codec_failure_is_406(emulator_client):
    # 4×5 pixels: too small for the JPEG 2000 encoder's six wavelet levels.
    inst = build_instance(frames=2)
    assert stow(emulator_client, [inst.data]).status_code == 200
    for path, accept in (("", single_part(JPEG2000Lossless)), ("/frames/1", JP2)):
        response = get(emulator_client, inst.path + path, accept)
        assert response.status_code == 406
        assert response.text == UNSUPPORTED


def test_frame_past_the_end_is_404_before_transcoding(emulator_client, stored_as):
    c = stored_as(RLELossless, frames=2)
    response = get(emulator_client, f"{c.instance.path}/frames/3", JP2)
    assert response.status_code == 404
    assert response.text == "The specified frame cannot be found."


def test_several_instances_in_a_named_syntax_stay_406(emulator_client, stored_as):
    a = stored_as(RLELossless)
    store(emulator_client, build_compressed(RLELossless, study=a.instance.study))
    accept = f'multipart/related; type="application/dicom"; transfer-syntax={JPEG2000Lossless}'
    response = get(emulator_client, f"studies/{a.instance.study}", accept)
    assert response.status_code == 406
    assert response.text.startswith(f"Accept transfer syntax '{JPEG2000Lossless}' is not supported when multiple")


def test_a_file_above_the_limit_is_406_with_azures_text(own_emulator):
    emu = own_emulator(extra_args=["--max-transcode-size", "5000"])
    client = session_for(emu)
    c = store(client, build_compressed(RLELossless, frames=2))
    assert len(c.instance.data) > 5000
    for path, accept in (("", single_part(ExplicitVRLittleEndian)), ("/frames/1", OCTET)):
        response = get(client, c.instance.path + path, accept)
        assert response.status_code == 406
        assert response.text == too_big(5000)
    # As stored, the size does not matter.
    assert get(client, c.instance.path, "application/dicom; transfer-syntax=*").status_code == 200
    assert get(client, f"{c.instance.path}/frames/1", OCTET + "; transfer-syntax=*").status_code == 200


def test_azures_limit_is_100_mib_by_default():
    from mock_server.transcode import MAX_TRANSCODE_BYTES
    assert MAX_TRANSCODE_BYTES == 104857600
    assert too_big(MAX_TRANSCODE_BYTES).startswith("Requested DICOM instance size is above the supported limit "
                                                   "of 104857600.")


# --- memory --------------------------------------------------------------------------------------------

def _reset_peak_rss(pid: int) -> None:
    """Start VmHWM afresh at the current resident size (Linux's clear_refs "5"), so the STOW is not counted."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def _rss(pid: int, field: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no {field}")


def _peak_rss(pid: int) -> int:
    """The process's peak resident memory since the last reset (VmHWM), in bytes."""
    return _rss(pid, "VmHWM")


def test_memory_stays_flat_while_a_large_transcoded_instance_streams(own_emulator):
    emu = own_emulator()
    client = session_for(emu)
    small = store(client, build_compressed(ImplicitVRLittleEndian, frames=2))
    # Warm up: load the codecs once, so their libraries are not counted below.
    assert get(client, small.instance.path, single_part(JPEG2000Lossless)).status_code == 200
    frames, rows, columns = 48, 512, 512  # 24 MiB of 16-bit pixels
    inst = build_instance(frames=frames, rows=rows, columns=columns, transfer_syntax=ImplicitVRLittleEndian)
    response = stow(client, [inst.data])
    assert response.status_code == 202, response.text
    _reset_peak_rss(emu.pid)
    before = _rss(emu.pid)
    with client.get(f"{client.base}/{inst.path}", headers={"Accept": single_part(JPEG2000Lossless)},
                    stream=True) as response:
        assert response.status_code == 200
        body = b"".join(response.iter_content(1 << 20))
    growth = _peak_rss(emu.pid) - before
    ds = pydicom.dcmread(io.BytesIO(body))
    assert ds.file_meta.TransferSyntaxUID == JPEG2000Lossless
    assert int(ds.NumberOfFrames) == frames
    # One instance is 24 MiB; frame by frame through a temporary file, the server grows by a few frames.
    assert growth < len(inst.data) // 4, f"server peak grew by {growth / 2**20:.1f} MiB"
    # All its frames, transcoded (implicit to explicit VR) before the status, then streamed.
    _reset_peak_rss(emu.pid)
    before = _rss(emu.pid)
    numbers = ",".join(str(n) for n in range(1, frames + 1))
    with client.get(f"{client.base}/{inst.path}/frames/{numbers}", headers={"Accept": OCTET},
                    stream=True) as response:
        assert response.status_code == 200
        body = b"".join(response.iter_content(1 << 20))
    growth = _peak_rss(emu.pid) - before
    assert len(body) > frames * rows * columns * 2
    assert growth < len(inst.data) // 4, f"server peak grew by {growth / 2**20:.1f} MiB for the frames"


def test_an_instance_without_pixel_data_is_rewritten_in_the_syntax_asked_for(emulator_client):
    inst = build_instance(pixels=False, transfer_syntax=ImplicitVRLittleEndian)
    assert stow(emulator_client, [inst.data]).status_code == 202
    for target in LOSSLESS_TARGETS:
        response = get(emulator_client, inst.path, single_part(target))
        assert response.status_code == 200, response.text
        ds = pydicom.dcmread(io.BytesIO(response.content))
        assert ds.file_meta.TransferSyntaxUID == target
        assert ds.SOPInstanceUID == inst.sop and "PixelData" not in ds


def test_elements_after_pixel_data_are_kept(emulator_client):
    c = build_compressed(RLELossless)
    c.dataset.DataSetTrailingPadding = b"\0" * 6
    buffer = io.BytesIO()
    c.dataset.save_as(buffer, enforce_file_format=True)
    c.instance.data = buffer.getvalue()
    store(emulator_client, c)
    response = get(emulator_client, c.instance.path, single_part(JPEG2000Lossless))
    assert response.status_code == 200, response.text
    ds = pydicom.dcmread(io.BytesIO(response.content))
    assert ds.DataSetTrailingPadding == b"\0" * 6
    assert np.array_equal(ds.pixel_array.reshape(c.pixels.shape), c.pixels)
