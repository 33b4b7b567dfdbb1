"""Search latency of the emulator as the store grows: QIDO-RS and change-feed medians at 1k, 10k, 100k instances.

    .venv/bin/python benchmarks/search_scale.py [--sizes 1000 10000 100000] [--runs 30] [--http-fill 200]

Each instance is tiny (no pixel data) and its own study, as in issue 10's measurements; 1,000
patients share the studies. The big fills go through ``Store.add_many`` (one transaction per
2,000 instances, files written as they would be by STOW); ``--http-fill`` instances are also stored
one STOW request each to give the HTTP store rate. One emulator per size runs at once; each search
is timed over HTTP (a keep-alive session per emulator) at every size in turns, so the load of
other users of the machine falls on all sizes alike; the figures are medians after three warm-up
requests. Server
memory is the process's VmRSS and VmHWM from /proc (Linux only). Synthetic data only; not part of
the test suite. Prints figures, asserts nothing.
"""

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make the repository's packages (tests.support…) importable
    sys.path.insert(0, str(ROOT))

from mock_server.dicomfile import Accepted, inspect_file  # noqa: E402
from mock_server.launcher import Emulator, start_emulator  # noqa: E402
from tests.support.part10 import build_instance  # noqa: E402
from tests.support.stow import multipart  # noqa: E402
from mock_server.storage import StagedInstance, Store  # noqa: E402

DICOM_JSON = {"Accept": "application/dicom+json"}
NAMES = ["Smith^Anna", "Jones^Bert", "Brown^Cara", "Lopez^Dave", "Olsen^Emma", "Kumar^Finn", "Novak^Gwen",
         "Satou^Hana"]
MODALITIES = ["CT", "MR", "OT", "US"]
# Placeholders of the template, each replaced by a value of the same length.
P_STUDY, P_SERIES, P_SOP = "2.25.1000000000000", "2.25.2000000000000", "2.25.3000000000000"
P_PID, P_NAME, P_DATE, P_MOD = "PAT-0000", "Aaaaa^Aaaa", "19990101", "ZQ"
BATCH = 2000


def _uids(i: int) -> tuple[str, str, str]:
    return f"2.25.1{i:012d}", f"2.25.2{i:012d}", f"2.25.3{i:012d}"


class Filler:
    """Writes instance ``i`` from one template by same-length substitutions (fast, still valid Part 10)."""

    def __init__(self, work: Path) -> None:
        inst = build_instance(study=P_STUDY, series=P_SERIES, sop=P_SOP, pixels=False, PatientID=P_PID,
                              PatientName=P_NAME, StudyDate=P_DATE, Modality=P_MOD,
                              StudyDescription="Benchmark study", preamble=b"\0" * 128)
        path = work / "template.dcm"
        path.write_bytes(inst.data)
        result = inspect_file(path, 2, None)
        assert isinstance(result, Accepted), result
        self.data = path.read_bytes()
        self.staged = result.staged

    def values(self, i: int) -> list[tuple[str, str]]:
        study, series, sop = _uids(i)
        return [(P_STUDY, study), (P_SERIES, series), (P_SOP, sop), (P_PID, f"PAT-{i % 1000:04d}"),
                (P_NAME, NAMES[i % len(NAMES)]), (P_DATE, f"20{10 + i % 15:02d}{1 + i % 12:02d}{1 + i % 28:02d}"),
                (P_MOD, MODALITIES[i % len(MODALITIES)])]

    def stage(self, store: Store, i: int) -> StagedInstance:
        data, metadata = self.data, self.staged.metadata
        for old, new in self.values(i):
            data = data.replace(old.encode(), new.encode())
            metadata = metadata.replace(old, new)
        path, f = store.create_file(store.spool_directory())
        with f:
            f.write(data)
        study, series, sop = _uids(i)
        return StagedInstance(study, series, sop, self.staged.sop_class_uid, self.staged.transfer_syntax,
                              path, len(data), 0, metadata)

    def file(self, i: int) -> bytes:
        data = self.data
        for old, new in self.values(i):
            data = data.replace(old.encode(), new.encode())
        return data


def fill(data_dir: Path, filler: Filler, start: int, stop: int) -> float:
    """Store instances ``start..stop-1`` through the Store; instances per second."""
    store = Store(data_dir)
    began = time.perf_counter()
    try:
        for low in range(start, stop, BATCH):
            store.add_many([filler.stage(store, i) for i in range(low, min(stop, low + BATCH))])
    finally:
        store.close()
    return (stop - start) / (time.perf_counter() - began)


def queries(n: int) -> list[tuple[str, str, dict[str, str]]]:
    """(label, path, params); the first five are issue 10's."""
    mid_study = _uids(n // 2)[0]
    return [
        ("/studies?limit=10", "v2/studies", {"limit": "10"}),
        ("/instances?limit=10", "v2/instances", {"limit": "10"}),
        ("/studies?PatientID=…&limit=10", "v2/studies", {"PatientID": "PAT-0007", "limit": "10"}),
        ("/studies?PatientID=nobody", "v2/studies", {"PatientID": "nobody"}),
        ("/studies?StudyInstanceUID=…", "v2/studies", {"StudyInstanceUID": mid_study}),
        ("/series?Modality=CT&limit=10", "v2/series", {"Modality": "CT", "limit": "10"}),
        ("/studies?PatientName=smi (fuzzy)", "v2/studies",
         {"PatientName": "smi", "fuzzymatching": "true", "limit": "10"}),
        ("/studies?StudyDate=range&limit=10", "v2/studies", {"StudyDate": "20150101-20150630", "limit": "10"}),
        ("/studies?ModalitiesInStudy=MR", "v2/studies", {"ModalitiesInStudy": "MR", "limit": "10"}),
        ("/studies?offset=n/2 (deep page)", "v2/studies", {"offset": str(n // 2), "limit": "10"}),
        ("v1 /studies?limit=10 (metadata)", "v1/studies", {"limit": "10"}),
        ("v1 /changefeed?offset=n-10", "v1/changefeed", {"offset": str(max(n - 10, 0)), "includeMetadata": "false"}),
        ("v2 /changefeed?offset=n/2", "v2/changefeed", {"offset": str(n // 2), "limit": "10",
                                                        "includeMetadata": "false"}),
        ("v2 /changefeed/latest", "v2/changefeed/latest", {}),
    ]


def interleaved_medians(targets: list[tuple[requests.Session, str, dict[str, str]]], runs: int) -> list[float]:
    """Median ms of ``runs`` requests to each (session, url, params), after three warm-ups, taken in
    turns so that every store sees the same load from the other users of the machine."""
    times: list[list[float]] = [[] for _ in targets]
    for attempt in range(runs + 3):
        for n, (session, url, params) in enumerate(targets):
            began = time.perf_counter()
            response = session.get(url, params=params, headers=DICOM_JSON)
            elapsed = time.perf_counter() - began
            if response.status_code not in (200, 204):
                raise RuntimeError(f"{url} {params}: {response.status_code} {response.text[:200]}")
            if attempt >= 3:
                times[n].append(elapsed * 1000)
    return [statistics.median(t) for t in times]


def memory_kib(emu: Emulator) -> tuple[int, int]:
    fields = {}
    for line in Path(f"/proc/{emu.pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        fields[name] = value.strip()
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


def http_fill_rate(emu: Emulator, filler: Filler, start: int, count: int) -> float:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {emu.token()}"
    began = time.perf_counter()
    for i in range(start, start + count):
        body, content_type = multipart([filler.file(i)])
        response = session.post(f"{emu.base_url()}/studies", data=body,
                                headers={"Content-Type": content_type, **DICOM_JSON})
        if response.status_code != 200:
            raise RuntimeError(response.text)
    return count / (time.perf_counter() - began)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--http-fill", type=int, default=200, help="instances stored by STOW, one request each")
    parser.add_argument("--keep", action="store_true", help="keep the data dir (its path is printed)")
    parser.add_argument("--filled", type=Path, metavar="DIR",
                        help="a data dir kept by --keep that holds the largest size: searched as it is, "
                             "not filled again (the machine is shared: fill 100k once)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="search-scale-"))
    filler = Filler(work)
    sizes = sorted(args.sizes)
    emulators: dict[int, Emulator] = {}
    sessions: dict[int, requests.Session] = {}
    notes: dict[int, str] = {}
    table: dict[str, list[float]] = {}
    try:
        for size in sizes:
            if args.filled is not None and size == sizes[-1]:
                data_dir, note = args.filled, f"filled before ({args.filled})"
            else:
                data_dir = work / f"data-{size}"
                http = min(args.http_fill, size)
                note = f"Store fill {fill(data_dir, filler, 0, size - http):,.0f}/s"
            emu = emulators[size] = start_emulator(data_dir)
            if data_dir != args.filled and args.http_fill:
                note += f", STOW fill {http_fill_rate(emu, filler, size - http, http):,.0f}/s"
            notes[size] = note
            session = sessions[size] = requests.Session()
            session.headers["Authorization"] = f"Bearer {emu.token()}"
        # Each query at every size in turns (its UID and offsets follow the size).
        for q, (label, _, _) in enumerate(queries(sizes[0])):
            targets = []
            for size in sizes:
                _, path, params = queries(size)[q]
                targets.append((sessions[size], f"{emulators[size].root_url}/{path}", params))
            table[label] = interleaved_medians(targets, args.runs)
        for size in sizes:
            rss, hwm = memory_kib(emulators[size])
            print(f"{size:>7} instances: {notes[size]}, server RSS {rss / 1024:.0f} MiB (peak {hwm / 1024:.0f} MiB)",
                  flush=True)
    finally:
        for emu in emulators.values():
            emu.stop()
        if args.keep:
            print(f"data kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    print()
    print("| query (median ms) | " + " | ".join(f"{s:,}" for s in sizes) + " | largest / smallest |")
    print("|---|" + "---|" * (len(sizes) + 1))
    for label, figures in table.items():
        print(f"| `{label}` | " + " | ".join(f"{f:.1f}" for f in figures) + f" | {figures[-1] / figures[0]:.2f}× |")


if __name__ == "__main__":
    main()
