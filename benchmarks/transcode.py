"""Transcode one large synthetic instance on retrieve and report the emulator's time and peak memory.

    .venv/bin/python benchmarks/transcode.py [--frames 128]

A multi-frame 512x512 16-bit instance (12 bits stored, smooth gradients with noise, like CT) is stored
in Implicit VR Little Endian, retrieved as JPEG 2000 Lossless; that answer is stored again (new UIDs) and
retrieved as Explicit VR Little Endian, then all its frames as octet-stream. For each step: seconds,
bytes sent, and how far the server's peak RSS (VmHWM, reset before each step with /proc/PID/clear_refs;
Linux only) rose above its resident size. Not part of the test suite.
"""

import argparse
import io
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pydicom
import requests
from pydicom.dataset import Dataset
from pydicom.uid import ImplicitVRLittleEndian, generate_uid

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make the repository's packages (tests.support…) importable
    sys.path.insert(0, str(ROOT))

from helpers.multipart import encode_multipart_related  # noqa: E402
from mock_server.launcher import start_emulator  # noqa: E402
from tests.support.part10 import to_part10  # noqa: E402

ROWS = COLUMNS = 512
J2K = "1.2.840.10008.1.2.4.90"
EXPLICIT = "1.2.840.10008.1.2.1"


def instance(frames: int) -> bytes:
    ds = Dataset()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7.3"  # Multi-frame Grayscale Word Secondary Capture
    ds.SOPInstanceUID, ds.StudyInstanceUID, ds.SeriesInstanceUID = (generate_uid(prefix="2.25.") for _ in range(3))
    ds.PatientID, ds.PatientName, ds.Modality, ds.StudyDate = "BENCH-TX", "Benchmark^Synthetic", "OT", "20240101"
    ds.Rows, ds.Columns, ds.NumberOfFrames = ROWS, COLUMNS, frames
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    y, x = np.mgrid[0:ROWS, 0:COLUMNS]
    rng = np.random.default_rng(0)
    body = np.hypot(x - COLUMNS / 2, y - ROWS / 2) < 200
    pixels = np.empty((frames, ROWS, COLUMNS), np.uint16)
    for f in range(frames):
        pixels[f] = np.where(body, 1000 + (x + f) % 64, 24) + rng.integers(0, 20, (ROWS, COLUMNS))
    ds.PixelData = pixels.tobytes()
    return to_part10(ds, ImplicitVRLittleEndian)


def status(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(field)


def measure(pid: int, label: str, send) -> bytes:
    Path(f"/proc/{pid}/clear_refs").write_text("5")
    before = status(pid, "VmRSS")
    start = time.perf_counter()
    body = send()
    seconds = time.perf_counter() - start
    growth = status(pid, "VmHWM") - before
    print(f"{label:<44} {seconds:7.2f} s  {len(body) / 2**20:8.1f} MiB sent  peak +{growth / 2**20:6.1f} MiB",
          flush=True)
    return body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=128)
    args = parser.parse_args()
    data = instance(args.frames)
    print(f"instance: {args.frames} frames of {ROWS}x{COLUMNS}, {len(data) / 2**20:.1f} MiB")
    with tempfile.TemporaryDirectory() as tmp, start_emulator(Path(tmp) / "data") as emu:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {emu.token()}"
        base = emu.base_url("v2")

        def store(part: bytes) -> str:
            body, content_type = encode_multipart_related([part])
            r = session.post(f"{base}/studies", data=body, headers={"Content-Type": content_type,
                                                                   "Accept": "application/dicom+json"})
            assert r.status_code in (200, 202), r.text
            ds = pydicom.dcmread(io.BytesIO(part), stop_before_pixels=True)
            return f"{base}/studies/{ds.StudyInstanceUID}/series/{ds.SeriesInstanceUID}/instances/{ds.SOPInstanceUID}"

        def get(url: str, accept: str) -> bytes:
            r = session.get(url, headers={"Accept": accept}, stream=True)
            assert r.status_code == 200, r.text
            return b"".join(r.iter_content(1 << 20))

        url = store(data)
        j2k = measure(emu.pid, "implicit VR LE -> JPEG 2000 Lossless", lambda: get(
            url, f"application/dicom; transfer-syntax={J2K}"))
        ds = pydicom.dcmread(io.BytesIO(j2k))
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid(prefix="2.25.")
        out = io.BytesIO()
        ds.save_as(out, enforce_file_format=True)
        url = store(out.getvalue())
        measure(emu.pid, "JPEG 2000 Lossless -> explicit VR LE", lambda: get(url, "application/dicom"))
        frames = ",".join(str(n) for n in range(1, args.frames + 1))
        measure(emu.pid, f"{args.frames} frames JPEG 2000 -> octet-stream", lambda: get(
            f"{url}/frames/{frames}", 'multipart/related; type="application/octet-stream"'))


if __name__ == "__main__":
    main()
