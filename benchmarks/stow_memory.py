"""Store a generated ~1 GB study in one STOW request and report the emulator's peak memory and throughput.

    .venv/bin/python benchmarks/stow_memory.py [--size-mb 1024] [--frames 32] [--keep]

Synthetic data only: multi-frame 512x512 16-bit instances written to a temp dir, uploaded as one
``multipart/related`` body streamed from disk (chunked), then retrieved whole (``transfer-syntax=*``)
and frame by frame. Peak RSS is the server process's VmHWM from /proc (Linux only). Not part of the
test suite.
"""

import argparse
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import requests
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mock_server.launcher import start_emulator  # noqa: E402

ROWS = COLUMNS = 512
CHUNK = 1 << 20


def make_instance(path: Path, study: str, series: str, number: int, frames: int) -> str:
    ds = Dataset()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7.3"  # Multi-frame Grayscale Word Secondary Capture
    ds.SOPInstanceUID = generate_uid(prefix="2.25.")
    ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
    ds.PatientID, ds.PatientName, ds.Modality = "BENCH-1", "Benchmark^Synthetic", "OT"
    ds.StudyDate, ds.InstanceNumber = "20240101", number
    ds.Rows, ds.Columns, ds.NumberOfFrames = ROWS, COLUMNS, frames
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
    rng = np.random.default_rng(number)
    ds.PixelData = rng.integers(0, 65535, size=(frames, ROWS, COLUMNS), dtype=np.uint16).tobytes()
    ds["PixelData"].VR = "OW"
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.save_as(path, enforce_file_format=True)
    return ds.SOPInstanceUID


def multipart_body(paths: list[Path], boundary: str) -> Iterator[bytes]:
    for path in paths:
        yield f"--{boundary}\r\nContent-Type: application/dicom\r\n\r\n".encode()
        with path.open("rb") as f:
            while chunk := f.read(CHUNK):
                yield chunk
        yield b"\r\n"
    yield f"--{boundary}--\r\n".encode()


def rss_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not found")


def reset_peak(pid: int) -> None:
    # Writing 5 to clear_refs resets VmHWM (Linux >= 4.0), so each phase reports its own peak.
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mb", type=int, default=1024, help="approximate study size (default 1024)")
    parser.add_argument("--frames", type=int, default=32, help="frames per instance (512x512x16 bit)")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="stow-bench-"))
    try:
        instance_bytes = ROWS * COLUMNS * 2 * args.frames
        count = max(1, round(args.size_mb * 2**20 / instance_bytes))
        study, series = generate_uid(prefix="2.25."), generate_uid(prefix="2.25.")
        source = work / "source"
        source.mkdir()
        print(f"generating {count} instances of {args.frames} frames ({instance_bytes / 2**20:.1f} MiB each)...")
        paths, sops = [], []
        for n in range(count):
            path = source / f"{n:04d}.dcm"
            sops.append(make_instance(path, study, series, n + 1, args.frames))
            paths.append(path)
        total = sum(p.stat().st_size for p in paths)
        print(f"study: {total / 2**20:.0f} MiB in {count} files")

        with start_emulator(work / "emulator-data") as emu:
            pid = emu.pid
            session = requests.Session()
            session.headers["Authorization"] = f"Bearer {emu.token()}"
            base = emu.base_url()
            idle = rss_kib(pid, "VmRSS")

            reset_peak(pid)
            boundary = uuid.uuid4().hex
            started = time.perf_counter()
            response = session.post(f"{base}/studies/{study}", data=multipart_body(paths, boundary), headers={
                "Content-Type": f'multipart/related; type="application/dicom"; boundary={boundary}',
                "Accept": "application/dicom+json"})
            stow_seconds = time.perf_counter() - started
            if response.status_code != 200:
                sys.exit(f"STOW failed: {response.status_code} {response.text[:500]}")
            stow_peak = rss_kib(pid, "VmHWM")

            reset_peak(pid)
            started = time.perf_counter()
            received = 0
            with session.get(f"{base}/studies/{study}", stream=True, headers={
                    "Accept": 'multipart/related; type="application/dicom"; transfer-syntax=*'}) as r:
                r.raise_for_status()
                for chunk in r.iter_content(CHUNK):
                    received += len(chunk)
            wado_seconds = time.perf_counter() - started
            wado_peak = rss_kib(pid, "VmHWM")

            reset_peak(pid)
            started = time.perf_counter()
            frames = ",".join(str(i) for i in range(1, args.frames + 1))
            r = session.get(f"{base}/studies/{study}/series/{series}/instances/{sops[-1]}/frames/{frames}",
                            headers={"Accept": 'multipart/related; type="application/octet-stream"; '
                                               'transfer-syntax=*'})
            r.raise_for_status()
            frames_seconds = time.perf_counter() - started
            frames_peak = rss_kib(pid, "VmHWM")

        mib = total / 2**20
        print(f"server RSS idle:            {idle / 1024:7.1f} MiB")
        print(f"STOW  {mib:6.0f} MiB: {stow_seconds:6.1f} s  {mib / stow_seconds:6.1f} MiB/s  "
              f"peak RSS {stow_peak / 1024:6.1f} MiB")
        print(f"WADO  {received / 2**20:6.0f} MiB: {wado_seconds:6.1f} s  "
              f"{received / 2**20 / wado_seconds:6.1f} MiB/s  "
              f"peak RSS {wado_peak / 1024:6.1f} MiB")
        print(f"frames {args.frames} x {ROWS * COLUMNS * 2 / 2**20:.1f} MiB: {frames_seconds:5.2f} s  "
              f"peak RSS {frames_peak / 1024:6.1f} MiB")
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
