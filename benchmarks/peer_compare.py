"""The emulator and Orthanc side by side on the same 200 instances: STOW, WADO, QIDO, metadata, frames.

    .venv/bin/python benchmarks/peer_compare.py [--rounds 3] [--runs 10] [--batch 50] [--emulator-only]

Both servers get the same synthetic instances (pydicom, 64x64 16-bit MONOCHROME2, Explicit VR
Little Endian; 4 synthetic patients, each one study of 2 series of 25 instances) and the same
requests over HTTP, each through its own keep-alive session. Orthanc is Debian's, with its
DICOMweb plugin, started on loopback by tools/orthanc_peer.py (installed by it when missing and
we are root); ``--emulator-only`` or a machine without it gives the emulator's column alone.

Every round empties both stores, stores the 200 instances one STOW request each, empties them
again, stores them ``--batch`` instances per request, then times each read ``--runs`` times. Each
request goes to one server and then the other, and which goes first alternates, so that the
load of other users of the machine falls on both alike. The figures are medians over all rounds
(the first three requests of each read in each round are warm-ups); the load average is printed
with them. Server memory is VmRSS and VmHWM from /proc (Linux only). Synthetic data only; not
part of the test suite. Prints figures, asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make the repository's packages (tests.support…) importable
    sys.path.insert(0, str(ROOT))

from mock_server.launcher import start_emulator  # noqa: E402
from tests.support import orthanc_session  # noqa: E402
from tests.support.part10 import Instance, build_instance, new_uid  # noqa: E402
from tests.support.stow import multipart  # noqa: E402
from tools import orthanc_peer  # noqa: E402

DICOM_JSON = "application/dicom+json"
WADO_ACCEPT = 'multipart/related; type="application/dicom"; transfer-syntax=*'
FRAMES_ACCEPT = 'multipart/related; type="application/octet-stream"; transfer-syntax=*'
PATIENTS = [("PEER-0001", "Synthetic^Anna", "CT"), ("PEER-0002", "Synthetic^Bert", "MR"),
            ("PEER-0003", "Synthetic^Cara", "CT"), ("PEER-0004", "Synthetic^Dave", "US")]
SERIES_PER_STUDY, INSTANCES_PER_SERIES = 2, 25
WARMUPS = 3
COUNT = len(PATIENTS) * SERIES_PER_STUDY * INSTANCES_PER_SERIES  # 200


@dataclass
class Server:
    """One DICOMweb server under test: how to reach it, empty it, and which process serves it."""

    name: str
    base: str
    session: requests.Session
    pid: int
    empty: Callable[[], None]
    times: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))

    def request(self, method: str, path: str, **kwargs) -> tuple[requests.Response, float]:
        began = time.perf_counter()
        response = self.session.request(method, f"{self.base}/{path}", timeout=120, **kwargs)
        return response, (time.perf_counter() - began) * 1000


def make_instances() -> list[Instance]:
    """The 200 synthetic instances: per patient one study, two series, 25 instances each."""
    instances = []
    for n, (patient_id, name, modality) in enumerate(PATIENTS):
        study = new_uid()
        for s in range(SERIES_PER_STUDY):
            series = new_uid()
            for i in range(INSTANCES_PER_SERIES):
                instances.append(build_instance(
                    study=study, series=series, rows=64, columns=64, PatientID=patient_id, PatientName=name,
                    Modality=modality, StudyDate=f"2024010{n + 1}", StudyDescription="Peer benchmark",
                    SeriesNumber=s + 1, InstanceNumber=i + 1))
    return instances


def emulator_server(work: Path, studies: list[str]) -> tuple[Server, Callable[[], None]]:
    emu = start_emulator(work / "emulator-data")
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {emu.token()}"
    base = emu.base_url("v2")

    def empty() -> None:
        for study in studies:
            response = session.delete(f"{base}/studies/{study}", timeout=120)
            if response.status_code not in (204, 404):
                raise RuntimeError(f"emulator DELETE study: {response.status_code} {response.text[:200]}")

    return Server("emulator", base, session, emu.pid, empty), emu.stop


def orthanc_server(work: Path) -> tuple[Server, Callable[[], None]]:
    peer = orthanc_peer.start(work / "orthanc")
    session = requests.Session()

    def empty() -> None:
        # Orthanc's DICOMweb has no DELETE (405): its REST API deletes by Orthanc ID.
        for orthanc_id in session.get(f"{peer.rest_url}/studies", timeout=120).json():
            response = session.delete(f"{peer.rest_url}/studies/{orthanc_id}", timeout=120)
            if response.status_code != 200:
                raise RuntimeError(f"Orthanc DELETE study: {response.status_code} {response.text[:200]}")

    return Server("Orthanc", peer.dicomweb_url, session, peer.pid, empty), peer.stop


def in_turns(servers: list[Server], count: int, turn: int, step: Callable[[Server, int], float], label: str,
             warmups: int = 0) -> None:
    """Run ``step(server, k)`` for k in range(count) on every server in turns, first server alternating."""
    for k in range(count):
        order = servers if (turn + k) % 2 == 0 else servers[::-1]
        for server in order:
            elapsed = step(server, k)
            if k >= warmups:
                server.times[label].append(elapsed)


def stow_step(instances: list[Instance], per_request: int) -> Callable[[Server, int], float]:
    def step(server: Server, k: int) -> float:
        parts = [i.data for i in instances[k * per_request:(k + 1) * per_request]]
        body, content_type = multipart(parts)
        response, elapsed = server.request("POST", "studies", data=body,
                                           headers={"Content-Type": content_type, "Accept": DICOM_JSON})
        if response.status_code != 200:
            raise RuntimeError(f"{server.name} STOW: {response.status_code} {response.text[:300]}")
        return elapsed
    return step


def read_step(paths: Callable[[int], str], accept: str, params: dict[str, str] | None = None,
              parts: Callable[[int], int] | None = None) -> Callable[[Server, int], float]:
    """A GET of ``paths(k)``; 200 required, and (multipart) the boundary seen ``parts(k)`` times."""
    def step(server: Server, k: int) -> float:
        response, elapsed = server.request("GET", paths(k), params=params, headers={"Accept": accept})
        if response.status_code != 200:
            raise RuntimeError(f"{server.name} GET {paths(k)} {params}: {response.status_code} "
                               f"{response.text[:300]}")
        if parts is not None:
            boundary = response.headers["Content-Type"].split("boundary=", 1)[1].split(";")[0].strip('"')
            seen = response.content.count(b"--" + boundary.encode() + b"\r\n")
            if seen != parts(k):
                raise RuntimeError(f"{server.name} GET {paths(k)}: {seen} parts, expected {parts(k)}")
        return elapsed
    return step


def reads(instances: list[Instance]) -> list[tuple[str, Callable[[Server, int], float]]]:
    """(label, step) of every timed read; k picks the study, series or instance, so all are read."""
    studies = list(dict.fromkeys(i.study for i in instances))
    series = list(dict.fromkeys((i.study, i.series) for i in instances))
    per_study, per_series = len(instances) // len(studies), len(instances) // len(series)
    pid = PATIENTS[1][0]

    def study(k: int) -> str:
        return f"studies/{studies[k % len(studies)]}"

    def one_series(k: int) -> str:
        study_uid, series_uid = series[k % len(series)]
        return f"studies/{study_uid}/series/{series_uid}"

    def instance(k: int) -> str:
        return instances[(k * 37) % len(instances)].path  # 37: a stride that visits every instance

    return [
        (f"WADO study ({per_study} instances)", read_step(study, WADO_ACCEPT, parts=lambda k: per_study)),
        (f"WADO series ({per_series} instances)", read_step(one_series, WADO_ACCEPT, parts=lambda k: per_series)),
        ("WADO instance", read_step(instance, WADO_ACCEPT, parts=lambda k: 1)),
        ("QIDO /studies", read_step(lambda k: "studies", DICOM_JSON)),
        ("QIDO /studies?PatientID=…", read_step(lambda k: "studies", DICOM_JSON, {"PatientID": pid})),
        ("QIDO /studies?StudyDate=range", read_step(lambda k: "studies", DICOM_JSON,
                                                    {"StudyDate": "20240102-20240103"})),
        ("QIDO /instances?limit=50", read_step(lambda k: "instances", DICOM_JSON, {"limit": "50"})),
        ("QIDO /instances?PatientID=…&Modality=MR", read_step(lambda k: "instances", DICOM_JSON,
                                                              {"PatientID": pid, "Modality": "MR"})),
        ("QIDO /studies/{s}/instances?SeriesInstanceUID=…", _series_filter(series)),
        (f"metadata study ({per_study} instances)", read_step(lambda k: f"{study(k)}/metadata", DICOM_JSON)),
        ("metadata instance", read_step(lambda k: f"{instance(k)}/metadata", DICOM_JSON)),
        ("frames/1", read_step(lambda k: f"{instance(k)}/frames/1", FRAMES_ACCEPT, parts=lambda k: 1)),
    ]


def _series_filter(series: list[tuple[str, str]]) -> Callable[[Server, int], float]:
    """QIDO instances of a study filtered by series UID (the series changes with k)."""
    def step(server: Server, k: int) -> float:
        study, uid = series[k % len(series)]
        return read_step(lambda _: f"studies/{study}/instances", DICOM_JSON, {"SeriesInstanceUID": uid})(server, k)
    return step


def memory_mib(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of ``pid`` in MiB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="store-and-read rounds (default 3)")
    parser.add_argument("--runs", type=int, default=10, help="timed requests per read per round (default 10)")
    parser.add_argument("--batch", type=int, default=50, help="instances per batched STOW request (default 50)")
    parser.add_argument("--emulator-only", action="store_true", help="do not start Orthanc")
    args = parser.parse_args()
    if COUNT % args.batch:
        parser.error(f"--batch must divide {COUNT}")

    instances = make_instances()
    studies = list(dict.fromkeys(i.study for i in instances))
    work = Path(tempfile.mkdtemp(prefix="peer-compare-"))
    stops: list[Callable[[], None]] = []
    servers: list[Server] = []
    loads = [load()]
    try:
        emulator, stop = emulator_server(work, studies)
        servers.append(emulator)
        stops.append(stop)
        if not args.emulator_only:
            reason = orthanc_session.unavailable_reason()
            if reason is None:
                orthanc, stop = orthanc_server(work)
                servers.append(orthanc)
                stops.append(stop)
            else:
                print(f"Orthanc left out: {reason}", file=sys.stderr)
        stow_label = f"STOW {args.batch} instances per request"
        for turn in range(args.rounds):
            for server in servers:
                server.empty()
            in_turns(servers, len(instances), turn, stow_step(instances, 1), "STOW 1 instance per request")
            for server in servers:
                server.empty()
            in_turns(servers, len(instances) // args.batch, turn, stow_step(instances, args.batch), stow_label)
            for label, step in reads(instances):
                in_turns(servers, args.runs + WARMUPS, turn, step, label, warmups=WARMUPS)
            loads.append(load())
            print(f"round {turn + 1} of {args.rounds} done, load average {loads[-1]}", file=sys.stderr)
        memory = {server.name: memory_mib(server.pid) for server in servers}
    finally:
        for stop in reversed(stops):
            stop()
        shutil.rmtree(work, ignore_errors=True)

    print(f"{COUNT} instances (64x64 16-bit, {len(PATIENTS)} studies of {SERIES_PER_STUDY} series of "
          f"{INSTANCES_PER_SERIES}), {args.rounds} rounds; "
          f"load average (1, 5, 15 min) before and after each round: {' | '.join(loads)}")
    names = [s.name for s in servers]
    header = "| median ms | " + " | ".join(names)
    if len(servers) == 2:
        header += " | emulator / Orthanc"
    print()
    print(header + " |")
    print("|---|" + "---|" * (len(servers) + (len(servers) == 2)))
    for label in servers[0].times:
        figures = [statistics.median(s.times[label]) for s in servers]
        row = f"| {label} | " + " | ".join(f"{f:.1f}" for f in figures)
        if len(servers) == 2:
            row += f" | {figures[0] / figures[1]:.2f}"
        print(row + " |")
    print()
    for server in servers:
        single = sum(server.times["STOW 1 instance per request"]) / 1000 / args.rounds
        batched = sum(server.times[stow_label]) / 1000 / args.rounds
        rss, hwm = memory[server.name]
        print(f"{server.name}: STOW of the {COUNT} in {single:.2f} s one per request ({COUNT / single:.0f}/s), "
              f"{batched:.2f} s in batches of {args.batch} ({COUNT / batched:.0f}/s); "
              f"server RSS {rss:.0f} MiB (peak {hwm:.0f} MiB)")
    if len(servers) == 2:
        print("(emulator / Orthanc is the ratio of the medians: below 1, the emulator is faster)")


if __name__ == "__main__":
    main()
