"""Start JupyterLab for the end-to-end test: loopback, free port, token auth, private state."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests


@dataclass
class JupyterLab:
    """A running JupyterLab server."""

    process: subprocess.Popen
    url: str  # ends with "/"
    token: str
    root_dir: Path
    log_path: Path

    def lab_url(self, notebook: str, workspace: str) -> str:
        """The notebook opened alone, in a workspace of its own (no tabs restored from others)."""
        return f"{self.url}lab/workspaces/{workspace}/tree/{notebook}?token={self.token}"

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        """Shut the server and its kernels down, then make sure the process is gone."""
        if self.process.poll() is None:
            try:
                requests.post(f"{self.url}api/shutdown", headers={"Authorization": f"token {self.token}"}, timeout=10)
                self.process.wait(timeout=30)
            except (requests.RequestException, subprocess.TimeoutExpired):
                self.process.send_signal(signal.SIGTERM)
                try:
                    self.process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait(timeout=15)


def _write_settings(settings_dir: Path) -> None:
    """Settings that keep the UI deterministic and offline."""
    settings = {
        # Keep every cell in the DOM, so the test sees every prompt.
        "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
        # No news fetched from the network and no question about it.
        "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false"},
    }
    for relative, values in settings.items():
        path = settings_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values), encoding="utf-8")


def start_jupyterlab(root_dir: Path, state_dir: Path, env: dict[str, str], timeout: float = 120) -> JupyterLab:
    """Start ``jupyter lab`` serving ``root_dir``; kernels inherit ``env``."""
    token = secrets.token_hex(24)
    runtime = state_dir / "runtime"
    env = dict(
        env,
        JUPYTER_RUNTIME_DIR=str(runtime),
        JUPYTER_CONFIG_DIR=str(state_dir / "config"),
        JUPYTERLAB_SETTINGS_DIR=str(state_dir / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(state_dir / "workspaces"),
        IPYTHONDIR=str(state_dir / "ipython"),
    )
    env.pop("JUPYTER_PORT", None)
    _write_settings(state_dir / "settings")
    log_path = state_dir / "jupyterlab.log"
    command = [
        sys.executable, "-m", "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        "--ServerApp.port=0",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={root_dir}",
        f"--IdentityProvider.token={token}",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
    ]
    if os.geteuid() == 0:
        command.append("--allow-root")  # CI runs as root
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=root_dir)
    lab = JupyterLab(process, "", token, root_dir, log_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"JupyterLab exited with {process.returncode}:\n{lab.log()}")
        # The server writes its real URL (port 0 picked a free one) to the runtime dir.
        for info_file in runtime.glob(f"jpserver-{process.pid}.json"):
            try:
                info = json.loads(info_file.read_text(encoding="utf-8"))
            except json.JSONDecodeError:
                continue  # still being written
            lab.url = info["url"] if info["url"].endswith("/") else info["url"] + "/"
            try:
                status = requests.get(f"{lab.url}api/status", headers={"Authorization": f"token {token}"}, timeout=5)
            except requests.RequestException:
                continue
            if status.status_code == 200:
                return lab
        time.sleep(0.25)
    lab.stop()
    raise RuntimeError(f"JupyterLab did not answer within {timeout} s:\n{lab.log()}")
