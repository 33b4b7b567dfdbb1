"""Helpers for the emulator tests: synthetic instances, hand-built multipart bodies, a multipart reader."""

import http.client
import io
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

import numpy as np
import requests
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.uid import UID, ExplicitVRLittleEndian, ImplicitVRLittleEndian, generate_uid

from mock_server.launcher import Emulator
from tests.support.sessions import EmulatorSession

SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7"
MULTIFRAME_GRAY = "1.2.840.10008.5.1.4.1.1.7.3"
DICOM_JSON = "application/dicom+json"
DICOM_JSON_UTF8 = "application/dicom+json; charset=utf-8"  # the Content-Type of Azure's JSON answers
PLAIN = "text/plain; charset=utf-8"


def invalid_uid_text(name: str) -> str:
    """Azure's 400 text for a malformed UID (InvalidIdentifierException; ``name`` as Azure's nameof)."""
    return (f"Dicom element '{name}' failed validation for VR 'UI': DICOM Identifier is invalid. Value length "
            "should not exceed the maximum length of 64 characters. Value should contain characters in '0'-'9' "
            "and '.'. Each component must start with non-zero number.")


@dataclass
class Instance:
    """A synthetic instance: its UIDs, Part 10 bytes and (for native data) its frames' bytes."""

    study: str
    series: str
    sop: str
    sop_class: str
    data: bytes
    frames: list[bytes]

    @property
    def path(self) -> str:
        return f"studies/{self.study}/series/{self.series}/instances/{self.sop}"


def new_uid() -> str:
    return generate_uid(prefix="2.25.")


def build_instance(study: str | None = None, series: str | None = None, sop: str | None = None,
                   frames: int = 1, rows: int = 4, columns: int = 5, transfer_syntax: str = ExplicitVRLittleEndian,
                   pixels: bool = True, encapsulated_frames: list[bytes] | None = None,
                   preamble: bytes = b"\x5a" * 128, **attributes: object) -> Instance:
    """A small grayscale instance with distinct frames; ``attributes`` set (or, as None, remove) elements."""
    ds = Dataset()
    ds.SOPClassUID = MULTIFRAME_GRAY if frames > 1 else SECONDARY_CAPTURE
    ds.SOPInstanceUID = sop or new_uid()
    ds.StudyInstanceUID = study or new_uid()
    ds.SeriesInstanceUID = series or new_uid()
    ds.PatientID = "SYN-1"
    ds.PatientName = "Synthetic^Patient"
    ds.StudyDate = "20240101"
    ds.Modality = "OT"
    ds.ContentDate = ""
    ds.InstanceNumber = 1
    frame_bytes: list[bytes] = []
    if pixels:
        ds.Rows, ds.Columns = rows, columns
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
        if frames > 1:
            ds.NumberOfFrames = frames
        if encapsulated_frames is not None:
            ds.PixelData = encapsulate(encapsulated_frames)
            ds["PixelData"].VR = "OB"
            frame_bytes = list(encapsulated_frames)
        else:
            arr = (np.arange(frames * rows * columns, dtype=np.uint16) * 7 % 4096).reshape(frames, rows, columns)
            frame_bytes = [arr[i].tobytes() for i in range(frames)]
            ds.PixelData = b"".join(frame_bytes)
            ds["PixelData"].VR = "OW"
    for key, value in attributes.items():
        if value is None:
            if key in ds:
                del ds[key]
        else:
            setattr(ds, key, value)
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = UID(ds.SOPClassUID if "SOPClassUID" in ds else SECONDARY_CAPTURE)
    meta.MediaStorageSOPInstanceUID = UID(ds.SOPInstanceUID if "SOPInstanceUID" in ds else new_uid())
    meta.TransferSyntaxUID = UID(transfer_syntax)
    ds.file_meta = meta
    ds.preamble = preamble
    buffer = io.BytesIO()
    ds.save_as(buffer, implicit_vr=transfer_syntax == ImplicitVRLittleEndian, little_endian=True,
               enforce_file_format=False)
    return Instance(str(ds.get("StudyInstanceUID", "")), str(ds.get("SeriesInstanceUID", "")),
                    str(ds.get("SOPInstanceUID", "")), str(ds.get("SOPClassUID", "")), buffer.getvalue(),
                    frame_bytes)


def as_stored(data: bytes) -> bytes:
    """What the emulator returns for an uploaded file: the same bytes with the preamble zeroed."""
    return b"\0" * 128 + data[128:]


def multipart(parts: list[bytes], boundary: str | None = None, part_type: str | None = "application/dicom",
              outer_type: str | None = "application/dicom") -> tuple[bytes, str]:
    """A multipart/related body (built by hand, so tests control every byte)."""
    boundary = boundary or uuid.uuid4().hex
    out = bytearray()
    for part in parts:
        out += f"--{boundary}\r\n".encode()
        if part_type is not None:
            out += f"Content-Type: {part_type}\r\n".encode()
        out += b"\r\n" + part + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    content_type = "multipart/related"
    if outer_type is not None:
        content_type += f'; type="{outer_type}"'
    return bytes(out), f"{content_type}; boundary={boundary}"


def read_multipart(response: requests.Response) -> list[tuple[dict[str, str], bytes]]:
    """(headers, content) of each part of a multipart response, split by hand on the boundary."""
    content_type = response.headers["Content-Type"]
    assert content_type.startswith("multipart/related; boundary="), content_type
    boundary = content_type.split("boundary=", 1)[1].encode()
    body = response.content
    assert body.endswith(b"--" + boundary + b"--\r\n")
    parts = []
    for chunk in body.split(b"--" + boundary)[1:-1]:
        assert chunk.startswith(b"\r\n") and chunk.endswith(b"\r\n")
        head, _, content = chunk[2:-2].partition(b"\r\n\r\n")
        headers = dict(line.split(": ", 1) for line in head.decode().split("\r\n"))
        parts.append(({k.lower(): v for k, v in headers.items()}, content))
    return parts


def stow(client: EmulatorSession, parts: list[bytes], study: str | None = None, **headers: str) -> requests.Response:
    body, content_type = multipart(parts)
    url = f"{client.base}/studies" + (f"/{study}" if study else "")
    return client.post(url, data=body, headers={"Content-Type": content_type, "Accept": DICOM_JSON, **headers})


def session_for(emu: Emulator, version: str = "v2") -> EmulatorSession:
    return EmulatorSession(emu.base_url(version), emu.token())


def send(client: requests.Session, method: str, url: str, accept: str | None, **kwargs) -> requests.Response:
    """Send with exactly the given Accept header; ``None`` sends none (requests would add ``*/*``)."""
    request = client.prepare_request(requests.Request(method, url, **kwargs))
    request.headers.pop("Accept", None)
    if accept is not None:
        request.headers["Accept"] = accept
    return client.send(request)


def raw_request(emulator, method: str, path: str, headers: dict[str, str] | None = None, body: bytes = b""):
    """Send a request exactly as written (no URL normalisation), return (status, headers, body)."""
    netloc = urlsplit(emulator.root_url).netloc
    conn = http.client.HTTPConnection(netloc, timeout=30)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for name, value in {"Authorization": f"Bearer {emulator.token()}", **(headers or {})}.items():
            conn.putheader(name, value)
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()
