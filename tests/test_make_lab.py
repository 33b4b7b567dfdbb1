"""`make lab`, the README's first command: JupyterLab on notebooks/ with the emulator running."""

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]


def test_make_lab_serves_the_notebooks_with_the_emulator_running(tmp_path: Path, free_port) -> None:
    emulator_port, token = free_port(), "make-lab-test"
    env = {key: value for key, value in os.environ.items() if not key.startswith("DICOMWEB_")}
    env.update(DICOMWEB_EMULATOR_DATA_DIR=str(tmp_path / "emulator"),
               DICOMWEB_EMULATOR_PORT=str(emulator_port),
               JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"))
    lab_args = f"--no-browser --ServerApp.port=0 --IdentityProvider.token={token}"
    log = tmp_path / "lab.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(["make", "--no-print-directory", "lab", f"LAB_ARGS={lab_args}"],
                                   cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        url = None
        deadline = time.monotonic() + 120
        while url is None and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.5)
            match = re.search(r"(http://127\.0\.0\.1:\d+)/lab", log.read_text(errors="replace"))
            url = match and match[1]
        assert url, f"JupyterLab did not come up:\n{log.read_text(errors='replace')}"

        status = requests.get(f"{url}/api/status", params={"token": token}, timeout=10)
        assert status.status_code == 200
        contents = requests.get(f"{url}/api/contents", params={"token": token}, timeout=10).json()
        names = {item["name"] for item in contents["content"]}
        assert "01_authenticate.ipynb" in names, names  # the root is notebooks/

        # The emulator answers on its configured port (401: it wants a token, as Azure does).
        emulator = requests.get(f"http://127.0.0.1:{emulator_port}/v2/changefeed", timeout=10)
        assert emulator.status_code == 401
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)
        pid_file = tmp_path / "emulator" / "emulator.pid"
        if pid_file.exists():
            os.kill(int(pid_file.read_text()), signal.SIGTERM)
