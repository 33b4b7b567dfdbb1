"""connect() against the local emulator: it starts one in the background, the helpers work with it, and
another program on its port is named as such, with the fix."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import connect, encode_multipart_related, read_datasets, read_frames, samples
from helpers.cleanup import delete_study
from helpers.emulator import LOG_NAME, PID_NAME, PortInUseError
from helpers.http import show_request, show_response
from mock_server.launcher import probe

REPO = Path(__file__).resolve().parents[2]

DICOM_JSON = "application/dicom+json"


def stop(pid: int) -> None:
    """Stop the background emulator connect() started, and reap it."""
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if os.waitpid(pid, os.WNOHANG) != (0, 0):
                return
        except ChildProcessError:  # already reaped by subprocess's own clean-up
            return
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)


@pytest.fixture(scope="module")
def started(tmp_path_factory, free_port):
    """(environment, client) for an emulator that connect() started on a free port."""
    port = free_port()
    data_dir = tmp_path_factory.mktemp("emulator-data")
    env = {"DICOMWEB_EMULATOR_DATA_DIR": str(data_dir), "DICOMWEB_EMULATOR_PORT": str(port)}
    client = connect(env)
    assert client.emulator_pid is not None
    yield env, client
    stop(client.emulator_pid)


def test_connect_starts_the_emulator_and_authenticates(started) -> None:
    env, client = started
    data_dir = client.config.emulator_data_dir

    response = client.session.get(client.url("changefeed"))

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert isinstance(response.json(), list)
    assert (data_dir / PID_NAME).read_text() == f"{client.emulator_pid}\n"
    assert "listening on" in (data_dir / LOG_NAME).read_text()


def test_second_connect_reuses_the_running_emulator(started) -> None:
    env, first = started

    second = connect(env)

    assert second.emulator_pid is None
    assert second.session.get(second.url("changefeed")).status_code == 200


def test_samples_round_trip_through_the_emulator(started, capsys) -> None:
    _, client = started
    body, content_type = encode_multipart_related([s.data() for s in samples.ALL])

    stored = client.session.post(client.url("studies"), data=body,
                                 headers={"Content-Type": content_type, "Accept": DICOM_JSON})
    show_request(stored)
    show_response(stored, max_lines=3)
    retrieved = client.session.get(
        client.url(f"studies/{samples.STUDY_UID}"),
        headers={"Accept": 'multipart/related; type="application/dicom"; transfer-syntax=*'})
    red = samples.RED_TRIANGLE
    frames = read_frames(client.session.get(
        client.url(f"studies/{red.study_uid}/series/{red.series_uid}/instances/{red.sop_uid}/frames/1"),
        headers={"Accept": 'multipart/related; type="application/octet-stream"; transfer-syntax=*'}))
    delete_study(client, samples.STUDY_UID)
    delete_study(client, samples.STUDY_UID)
    after = client.session.get(client.url(f"studies/{samples.STUDY_UID}/metadata"),
                               headers={"Accept": DICOM_JSON})

    assert stored.status_code == 200
    assert capsys.readouterr().out.startswith(
        "POST /studies\nAccept: application/dicom+json\nAuthorization: Bearer <token>\n"
        f"Content-Length: {len(body)}\nContent-Type: {content_type}\n\n")
    assert sorted(ds.SOPInstanceUID for ds in read_datasets(retrieved)) == sorted(
        s.sop_uid for s in samples.ALL)
    assert [len(f) for f in frames] == [979 * 985 * 3]
    assert after.status_code == 404


@pytest.fixture
def other_program(tmp_path, free_port):
    """A port held by ``python -m http.server``: what a learner may have left on 8765."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                                "--directory", str(tmp_path)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while probe(f"http://127.0.0.1:{port}") is None:
        assert process.poll() is None and time.monotonic() < deadline, "http.server did not start"
        time.sleep(0.1)
    yield port
    process.terminate()
    process.wait(10)


def test_connect_refuses_another_program_on_the_emulator_port(other_program, tmp_path) -> None:
    env = {"DICOMWEB_EMULATOR_DATA_DIR": str(tmp_path / "data"), "DICOMWEB_EMULATOR_PORT": str(other_program)}

    with pytest.raises(PortInUseError) as raised:
        connect(env)

    message = str(raised.value)
    assert message.startswith(f"Port {other_program} is held by another program, not the DICOM service "
                              "emulator: it answered GET /v2/changefeed/latest with 404 File not found, "
                              "Server: SimpleHTTP/")
    assert "DICOMWEB_EMULATOR_PORT=8766 make lab" in message
    assert not (tmp_path / "data" / PID_NAME).exists()  # nothing was started


def test_binder_start_names_the_port_and_the_fix(other_program, tmp_path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("DICOMWEB_")}
    env.update(DICOMWEB_EMULATOR_DATA_DIR=str(tmp_path / "data"), DICOMWEB_EMULATOR_PORT=str(other_program))

    result = subprocess.run([str(REPO / "binder" / "start"), "echo", "lab started"], capture_output=True,
                            text=True, env=env, timeout=120)

    assert result.returncode == 1
    assert "lab started" not in result.stdout  # JupyterLab is not started on a wrong emulator
    assert result.stderr.startswith(f"error: Port {other_program} is held by another program")
    assert "DICOMWEB_EMULATOR_PORT=8766 make lab" in result.stderr


def test_probe_tells_the_emulator_from_other_programs(started, other_program, free_port) -> None:
    _, client = started
    emulator = probe(client.base_url.rsplit("/", 1)[0])
    other = probe(f"http://127.0.0.1:{other_program}")

    assert emulator is not None and emulator.is_emulator
    assert other is not None and not other.is_emulator
    assert probe(f"http://127.0.0.1:{free_port()}") is None
