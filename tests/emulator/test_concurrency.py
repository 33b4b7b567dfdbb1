"""Reads racing writes: every answer is complete or a clean 4xx, never a 5xx or a body cut short."""

import threading
from collections.abc import Callable

from tests.emulator.emulator_testlib import read_multipart, session_for
from tests.support.part10 import Instance, build_instance
from tests.support.stow import DICOM_JSON, stow

ANY = "application/dicom; transfer-syntax=*"
MULTIPART_ANY = 'multipart/related; type="application/dicom"; transfer-syntax=*'
FRAME = "application/octet-stream; transfer-syntax=*"
MULTIPART_FRAMES = 'multipart/related; type="application/octet-stream"; transfer-syntax=*'
ROUNDS = 40


def _run_together(*workers: Callable[[], None]) -> list[BaseException]:
    errors: list[BaseException] = []

    def guard(work: Callable[[], None]) -> None:
        try:
            work()
        except BaseException as exc:  # noqa: BLE001 - collected and reported by the test
            errors.append(exc)

    threads = [threading.Thread(target=guard, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    return errors


def test_store_delete_and_search_at_once_give_no_5xx(own_emulator):
    emu = own_emulator()
    pid = "RACE-SEARCH"
    seen: list[int] = []
    done = threading.Event()

    def writer() -> None:
        client = session_for(emu)
        try:
            for _ in range(ROUNDS):
                study = build_instance(PatientID=pid, frames=2)
                other = build_instance(study=study.study, PatientID=pid)
                assert stow(client, [study.data, other.data]).status_code == 200
                assert client.delete(f"{client.base}/studies/{study.study}").status_code == 204
        finally:
            done.set()

    def searcher(path: str, params: dict[str, str]) -> Callable[[], None]:
        def work() -> None:
            client = session_for(emu)
            while not done.is_set():
                response = client.get(f"{client.base}/{path}", params=params, headers={"Accept": DICOM_JSON})
                seen.append(response.status_code)
                assert response.status_code in (200, 204), (path, response.status_code, response.text)
                if response.status_code == 200:
                    assert isinstance(response.json(), list)
        return work

    def feed() -> None:
        client = session_for(emu)
        while not done.is_set():
            for params in ({}, {"startTime": "2000-01-01T00:00:00Z"}):
                response = client.get(f"{client.base}/changefeed", params=params)
                seen.append(response.status_code)
                assert response.status_code == 200, response.text

    errors = _run_together(
        writer, feed,
        searcher("studies", {}), searcher("instances", {"includefield": "all"}),
        searcher("series", {"PatientID": pid, "includefield": "NumberOfSeriesRelatedInstances"}),
        searcher("studies", {"PatientID": pid, "includefield": "ModalitiesInStudy,NumberOfStudyRelatedInstances"}))
    assert not errors, errors[:3]
    assert 200 in seen


def test_reads_of_an_instance_being_deleted_are_complete_or_404(own_emulator):
    emu = own_emulator()
    current: dict[str, Instance] = {}
    done = threading.Event()
    lock = threading.Lock()
    outcomes: list[tuple[str, int]] = []

    def writer() -> None:
        client = session_for(emu)
        try:
            for _ in range(ROUNDS):
                inst = build_instance(frames=3, rows=64, columns=64)
                sibling = build_instance(study=inst.study, series=inst.series, frames=3, rows=64, columns=64)
                assert stow(client, [inst.data, sibling.data]).status_code == 200
                with lock:
                    current["inst"], current["sibling"] = inst, sibling
                assert client.delete(f"{client.base}/studies/{inst.study}").status_code == 204
        finally:
            done.set()

    def reader(kind: str) -> Callable[[], None]:
        def work() -> None:
            client = session_for(emu)
            while not done.is_set():
                with lock:
                    inst, sibling = current.get("inst"), current.get("sibling")
                if inst is None or sibling is None:  # set together, under the lock
                    continue
                base = f"{client.base}/{inst.path}"
                series = f"{client.base}/studies/{inst.study}/series/{inst.series}"
                if kind == "instance":
                    response = client.get(base, headers={"Accept": ANY})
                elif kind == "series":
                    response = client.get(series, headers={"Accept": MULTIPART_ANY})
                elif kind == "frames":
                    response = client.get(f"{base}/frames/1,3", headers={"Accept": MULTIPART_FRAMES})
                elif kind == "frame":
                    response = client.get(f"{base}/frames/2", headers={"Accept": FRAME})
                elif kind == "rendered":
                    response = client.get(f"{base}/rendered", headers={"Accept": "image/png"})
                else:
                    response = client.get(f"{series}/metadata", headers={"Accept": DICOM_JSON})
                outcomes.append((kind, response.status_code))
                assert response.status_code in (200, 404), (kind, response.status_code, response.text)
                if response.status_code != 200:
                    continue
                if kind == "instance":
                    assert response.content == b"\0" * 128 + inst.data[128:]
                elif kind == "series":
                    bodies = [content for _, content in read_multipart(response)]
                    assert bodies and all(b in (b"\0" * 128 + inst.data[128:], b"\0" * 128 + sibling.data[128:])
                                          for b in bodies)
                elif kind == "frames":
                    assert [c for _, c in read_multipart(response)] == [inst.frames[0], inst.frames[2]]
                elif kind == "frame":
                    assert response.content == inst.frames[1]
                elif kind == "rendered":
                    assert response.content.startswith(b"\x89PNG")
                else:
                    assert len(response.json()) in (1, 2)
        return work

    errors = _run_together(writer, *(reader(k) for k in ("instance", "series", "frames", "frame", "rendered",
                                                           "metadata")))
    assert not errors, errors[:3]
    assert {k for k, status in outcomes if status == 200} >= {"instance", "series", "frame"}
