"""Where the lessons meet a server that is not Azure: each helper takes Azure's path when it can, and
otherwise takes the portable one and prints one line saying what it did instead.

The lessons are written for the Azure DICOM service (and its emulator); these helpers keep the other
servers' differences out of the lesson cells. ``docs/other-servers.md`` lists the differences.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import socket
import tempfile
from collections.abc import Collection
from typing import NamedTuple

import requests

from . import checks
from .client import DicomWeb, connect
from .multipart import encode_multipart_related

DICOM_JSON = "application/dicom+json"
FEATURE_NAMES = {"delete": "DICOMweb DELETE", "changefeed": "change feed"}


class Probe(NamedTuple):
    """A cheap authenticated read: the path below the base URL, its headers, the answer's Content-Type."""

    path: str
    headers: dict[str, str]
    content_type: str


def auth_probe(client: DicomWeb) -> Probe:
    """The read to check a token with: Azure's change feed, else a QIDO-RS search (PS3.18 §10.6)."""
    if client.supports("changefeed"):
        return Probe("changefeed", {}, "application/json")
    print(f"This {client.flavor} server has no change feed (Azure-only): checking with a QIDO-RS search.")
    return Probe("studies?limit=1", {"Accept": DICOM_JSON}, DICOM_JSON)


def store_single_part(client: DicomWeb, data: bytes, path: str = "studies") -> requests.Response:
    """POST one DICOM file as the whole body (Azure); elsewhere as a one-part multipart/related body."""
    if client.supports("single-part-stow"):
        return client.session.post(client.url(path), data=data,
                                   headers={"Content-Type": "application/dicom", "Accept": DICOM_JSON})
    print(f"This {client.flavor} server has no single-part upload (Azure-only); sending multipart/related.")
    body, content_type = encode_multipart_related([data])
    return client.session.post(client.url(path), data=body,
                               headers={"Content-Type": content_type, "Accept": DICOM_JSON})


def retrieve_instance(client: DicomWeb, path: str, transfer_syntax: str | None = "*") -> requests.Response:
    """GET one instance as a single-part ``application/dicom`` answer, or multipart if it is refused.

    ``transfer_syntax`` is the Accept header's parameter (``*``: as stored; None: leave it out, which asks
    for the default, Explicit VR Little Endian). A single-part answer is optional in PS3.18 §10.4;
    Orthanc, for one, refuses it with 400.
    """
    syntax = f"; transfer-syntax={transfer_syntax}" if transfer_syntax else ""
    r = client.session.get(client.url(path), headers={"Accept": f"application/dicom{syntax}"})
    if r.status_code in (400, 406) and client.flavor != "azure":
        print(f"This server refuses single-part ({r.status_code}); asking for multipart instead.")
        r = client.session.get(client.url(path), headers={
            "Accept": f'multipart/related; type="application/dicom"{syntax}'})
    return r


def expect_azure(client: DicomWeb, response: requests.Response, status: int | Collection[int], *,
                 hint: str | None = None, **details) -> None:
    """``checks.expect`` for a behaviour that is Azure's own: checked on Azure and its emulator;
    elsewhere the server's answer is printed next to Azure's, not checked."""
    if client.flavor == "azure":
        checks.expect(response, status, hint=hint, **details)
        return
    statuses = (status,) if isinstance(status, int) else tuple(status)
    print(f"This {client.flavor} server answers {response.status_code} {checks.phrase(response.status_code)}; "
          f"Azure answers {' or '.join(map(str, statuses))} (Azure-only behaviour, not checked here).")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stop_at_exit(pid: int, data_dir: str) -> None:
    def stop() -> None:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        shutil.rmtree(data_dir, ignore_errors=True)
    atexit.register(stop)


def server_with(client: DicomWeb, feature: str) -> DicomWeb:
    """``client`` if its server has the Azure-only ``feature``; otherwise a client of a private local
    emulator (a free port, a temporary data folder, stopped when the kernel exits), so that the lesson
    still shows Azure's behaviour. Says which one it returns."""
    if client.supports(feature):
        return client
    data_dir = tempfile.mkdtemp(prefix="dicomweb-emulator-")
    emulator = connect({"DICOMWEB_EMULATOR_PORT": str(_free_port()), "DICOMWEB_EMULATOR_DATA_DIR": data_dir})
    if emulator.emulator_pid is not None:
        _stop_at_exit(emulator.emulator_pid, data_dir)
    print(f"This {client.flavor} server has no {FEATURE_NAMES.get(feature, feature)} (Azure-only): "
          "this lesson runs against a private local emulator of the Azure DICOM service instead.")
    return emulator
