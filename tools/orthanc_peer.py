"""Start and stop Orthanc with its DICOMweb plugin as a local, loopback-only DICOMweb peer.

Command line::

    python tools/orthanc_peer.py start DIR [--port N] [--allow-all-interfaces]
    python tools/orthanc_peer.py status DIR
    python tools/orthanc_peer.py stop DIR

From Python (tests load this file by path)::

    peer = start(Path("/tmp/peer"))      # port 0 picks a free port
    requests.get(peer.dicomweb_url + "/studies")
    peer.stop()

Everything Orthanc writes (config, database, log, pid file, the bind shim) lives in DIR.
Debian's ``orthanc`` and ``orthanc-dicomweb`` packages are installed when missing and we run
as root; otherwise a clear error says what to install.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ORTHANC_BINARY = Path("/usr/sbin/Orthanc")
DICOMWEB_PLUGIN = Path("/usr/share/orthanc/plugins/libOrthancDicomWeb.so")
PACKAGES = ("orthanc", "orthanc-dicomweb")
POLICY_RC_D = Path("/usr/sbin/policy-rc.d")
SHIM_SOURCE = Path(__file__).resolve().parent / "lo_bind.c"
READY_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
INSTALL_HINT = (
    "Install them as root with:\n"
    "  apt-get update && apt-get install -y --no-install-recommends " + " ".join(PACKAGES)
)


class OrthancUnavailable(RuntimeError):
    """Orthanc cannot be started here (packages missing and no root, no compiler, a busy port...)."""


@dataclass
class OrthancPeer:
    """A running Orthanc started by :func:`start`; ``stop()`` ends exactly that process."""

    directory: Path
    port: int
    pid: int
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def rest_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def dicomweb_url(self) -> str:
        return f"{self.rest_url}/dicom-web"

    def stop(self) -> None:
        _terminate(self.pid, self.directory, self.process)
        _forget(self.directory, self.pid)

    def __enter__(self) -> OrthancPeer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


# ---------------------------------------------------------------- installation

def missing_packages() -> list[str]:
    """The Debian packages whose files are not on this machine."""
    missing = []
    if not ORTHANC_BINARY.exists():
        missing.append("orthanc")
    if not DICOMWEB_PLUGIN.exists():
        missing.append("orthanc-dicomweb")
    return missing


def is_root() -> bool:
    """Whether this process may run apt-get (effective uid 0; never on Windows)."""
    return hasattr(os, "geteuid") and os.geteuid() == 0


def can_install() -> bool:
    return is_root() and shutil.which("apt-get") is not None


def ensure_installed(install: bool = True) -> None:
    """Install Orthanc and its DICOMweb plugin when missing, or raise OrthancUnavailable."""
    missing = missing_packages()
    if not missing:
        return
    if not install or not can_install():
        why = "not running as root" if not is_root() else "apt-get is not available"
        if not install:
            why = "installation was not allowed"
        raise OrthancUnavailable(
            f"Orthanc is not installed (missing Debian package(s): {', '.join(missing)}) "
            f"and cannot be installed automatically ({why}).\n{INSTALL_HINT}"
        )
    _apt_install()
    still_missing = missing_packages()
    if still_missing:
        raise OrthancUnavailable(f"apt-get finished but {', '.join(still_missing)} is still missing.")


def _apt_install() -> None:
    """apt-get install the packages without letting the postinst start a system Orthanc."""
    policy = POLICY_RC_D
    # invoke-rc.d and deb-systemd-invoke both obey policy-rc.d: exit 101 means "do not start services".
    added_policy = not policy.exists()
    if added_policy:
        policy.write_text("#!/bin/sh\n# temporary, written by tools/orthanc_peer.py\nexit 101\n")
        policy.chmod(0o755)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    lock_wait = ["-o", "DPkg::Lock::Timeout=300"]
    try:
        for cmd in (["apt-get", *lock_wait, "update"],
                    ["apt-get", *lock_wait, "install", "-y", "--no-install-recommends", *PACKAGES]):
            done = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            if done.returncode != 0:
                raise OrthancUnavailable(
                    f"{' '.join(cmd)} failed with exit code {done.returncode}:\n{done.stdout[-2000:]}"
                )
    finally:
        if added_policy:
            policy.unlink(missing_ok=True)
    _stop_system_service()


def _stop_system_service() -> None:
    """If a packaged Orthanc service came up anyway (a host with its own policy), stop it."""
    if _system_orthanc_pids() and shutil.which("systemctl"):
        subprocess.run(["systemctl", "disable", "--now", "orthanc"], capture_output=True)
    if _system_orthanc_pids() and shutil.which("service"):
        subprocess.run(["service", "orthanc", "stop"], capture_output=True)
    if _system_orthanc_pids():
        raise OrthancUnavailable(
            "installing Orthanc started the system service (ports 8042/4242) and it could not be stopped; "
            "stop it with `systemctl disable --now orthanc`."
        )


def _system_orthanc_pids() -> list[int]:
    """PIDs of Orthanc processes running Debian's /etc/orthanc configuration."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            args = _cmdline(int(entry.name))
            if args and args[0].endswith("Orthanc") and any(a.startswith("/etc/orthanc") for a in args[1:]):
                pids.append(int(entry.name))
    return pids


# ---------------------------------------------------------------- start / stop

def start(directory: Path | str, port: int = 0, *, install: bool = True,
          allow_all_interfaces: bool = False) -> OrthancPeer:
    """Start Orthanc serving DICOMweb on 127.0.0.1:port with everything stored in ``directory``.

    ``port=0`` picks a free port. Without a C compiler the loopback-only shim cannot be built,
    and start refuses unless ``allow_all_interfaces`` is true.
    """
    directory = Path(directory).resolve()
    directory.mkdir(parents=True, exist_ok=True)
    running = status(directory)
    if running is not None:
        if port and running.port != port:
            raise OrthancUnavailable(f"an Orthanc peer already runs for {directory} on port {running.port}")
        return running

    ensure_installed(install)
    shim = _build_shim(directory, allow_all_interfaces)
    attempts = 3 if port == 0 else 1
    for attempt in range(attempts):
        chosen = port or _free_port()
        if _port_busy(chosen):
            if port:
                raise OrthancUnavailable(f"port {port} is already in use on 127.0.0.1; pick another one")
            continue
        try:
            return _launch(directory, chosen, shim)
        except _PortTaken:
            # Another program took the free port between our probe and Orthanc's bind: try another.
            if attempt == attempts - 1:
                raise OrthancUnavailable(
                    f"Orthanc could not bind port {chosen}; see {directory / 'orthanc.log'}") from None
    raise OrthancUnavailable("no free port found for Orthanc")


class _PortTaken(Exception):
    pass


def _launch(directory: Path, port: int, shim: Path | None) -> OrthancPeer:
    config = _write_config(directory, port)
    env = dict(os.environ)
    if shim is not None:
        env["LD_PRELOAD"] = f"{shim} {env['LD_PRELOAD']}" if env.get("LD_PRELOAD") else str(shim)
    log = open(directory / "orthanc.log", "ab")
    try:
        # A new session, so that the peer started from the command line outlives it and
        # a Ctrl-C in a notebook or terminal does not reach Orthanc.
        process = subprocess.Popen([str(ORTHANC_BINARY), str(config)], cwd=directory, env=env,
                                   stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
    finally:
        log.close()
    peer = OrthancPeer(directory, port, process.pid, process)
    (directory / "orthanc.pid").write_text(f"{process.pid}\n")
    (directory / "orthanc.port").write_text(f"{port}\n")
    try:
        _wait_ready(peer)
    except BaseException:
        peer.stop()
        raise
    return peer


def _wait_ready(peer: OrthancPeer) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if peer.process is not None and peer.process.poll() is not None:
            log_tail = _log_tail(peer.directory)
            if "address already in use" in log_tail.lower() or "cannot bind" in log_tail.lower():
                raise _PortTaken()
            raise OrthancUnavailable(
                f"Orthanc exited with code {peer.process.returncode} before it answered; log tail:\n{log_tail}"
            )
        if _answers(peer.dicomweb_url + "/studies"):
            return
        time.sleep(0.1)
    raise OrthancUnavailable(
        f"Orthanc did not answer GET {peer.dicomweb_url}/studies within {READY_TIMEOUT:.0f} s; "
        f"log tail:\n{_log_tail(peer.directory)}"
    )


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def status(directory: Path | str) -> OrthancPeer | None:
    """The peer recorded in ``directory`` if its process is still alive, else None."""
    directory = Path(directory).resolve()
    try:
        pid = int((directory / "orthanc.pid").read_text())
        port = int((directory / "orthanc.port").read_text())
    except (FileNotFoundError, ValueError):
        return None
    if not _is_our_orthanc(pid, directory):
        return None
    return OrthancPeer(directory, port, pid)


def stop(directory: Path | str) -> bool:
    """Stop the peer recorded in ``directory``; False if none was running."""
    peer = status(directory)
    if peer is None:
        _forget(Path(directory).resolve(), None)
        return False
    peer.stop()
    return True


def _terminate(pid: int, directory: Path, process: subprocess.Popen | None) -> None:
    # Only signal the pid if it is still the Orthanc we started on this directory's config
    # (a stale pid file must never make us kill an unrelated process that reused the pid).
    if process is not None:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        return
    if not _is_our_orthanc(pid, directory):
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    while time.monotonic() < deadline:
        if not _is_our_orthanc(pid, directory):
            return
        time.sleep(0.1)
    if _is_our_orthanc(pid, directory):
        os.kill(pid, signal.SIGKILL)


def _forget(directory: Path, pid: int | None) -> None:
    pid_file = directory / "orthanc.pid"
    try:
        recorded = int(pid_file.read_text())
    except (FileNotFoundError, ValueError):
        recorded = None
    if pid is None or recorded == pid:
        pid_file.unlink(missing_ok=True)
        (directory / "orthanc.port").unlink(missing_ok=True)


def _is_our_orthanc(pid: int, directory: Path) -> bool:
    """True if ``pid`` is a live (not zombie) Orthanc running ``directory``'s config."""
    args = _cmdline(pid)
    if not args or not args[0].endswith("Orthanc") or str(directory / "orthanc.json") not in args:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [a.decode(errors="replace") for a in raw.split(b"\0") if a]


# ---------------------------------------------------------------- config, shim, ports

def _write_config(directory: Path, port: int) -> Path:
    storage = directory / "db"
    storage.mkdir(exist_ok=True)
    config = {
        "Name": "dicomweb-tutorial-peer",
        "StorageDirectory": str(storage),
        "IndexDirectory": str(storage),
        "HttpPort": port,
        "HttpServerEnabled": True,
        "RemoteAccessAllowed": False,
        "AuthenticationEnabled": False,
        "DicomServerEnabled": False,
        "WebDavEnabled": False,
        "SaveJobs": False,
        "Plugins": [str(DICOMWEB_PLUGIN)],
        # No "Host": Orthanc then builds RetrieveURL/BulkDataURI from the request's Host header.
        "DicomWeb": {"Enable": True, "Root": "/dicom-web/", "EnableWado": True, "WadoRoot": "/wado",
                     "Ssl": False},
    }
    path = directory / "orthanc.json"
    path.write_text(json.dumps(config, indent=2) + "\n")
    return path


def _build_shim(directory: Path, allow_all_interfaces: bool) -> Path | None:
    """Compile the loopback bind shim into ``directory``; None only if allowed to do without."""
    target = directory / "lo-bind.so"
    if target.exists() and target.stat().st_mtime >= SHIM_SOURCE.stat().st_mtime:
        return target
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        if allow_all_interfaces:
            print("warning: no C compiler; Orthanc will listen on every interface "
                  "(it still refuses requests not from 127.0.0.1)", file=sys.stderr)
            return None
        raise OrthancUnavailable(
            "no C compiler (cc) found: it is needed to build the shim that keeps Orthanc on 127.0.0.1 "
            "(Orthanc 1.10 otherwise listens on every interface). Install one with "
            "`apt-get install -y gcc libc6-dev`, or pass --allow-all-interfaces "
            "(allow_all_interfaces=True) to accept listening on 0.0.0.0."
        )
    done = subprocess.run([compiler, "-shared", "-fPIC", "-O2", "-o", str(target), str(SHIM_SOURCE), "-ldl"],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise OrthancUnavailable(f"compiling {SHIM_SOURCE.name} failed:\n{done.stderr}")
    return target


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _port_busy(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _log_tail(directory: Path, lines: int = 20) -> str:
    try:
        return "\n".join((directory / "orthanc.log").read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# ---------------------------------------------------------------- command line

def main(argv: list[str] | None = None) -> int:
    """The command line; returns the exit status (1: status found nothing, 2: Orthanc unavailable)."""
    parser = argparse.ArgumentParser(description="Run Orthanc with DICOMweb on 127.0.0.1 as a test peer.")
    commands = parser.add_subparsers(dest="command", required=True)
    start_cmd = commands.add_parser("start", help="start (or report) the peer for DIR")
    start_cmd.add_argument("directory", type=Path)
    start_cmd.add_argument("--port", type=int, default=0, help="HTTP port (default: a free one)")
    start_cmd.add_argument("--allow-all-interfaces", action="store_true",
                           help="start even without a C compiler, listening on every interface")
    for name, text in (("status", "print the peer's PID and URL, exit 1 if not running"),
                       ("stop", "stop the peer recorded in DIR")):
        commands.add_parser(name, help=text).add_argument("directory", type=Path)
    args = parser.parse_args(argv)

    try:
        if args.command == "start":
            peer = start(args.directory, args.port, allow_all_interfaces=args.allow_all_interfaces)
            print(f"Orthanc peer running, PID {peer.pid}")
            print(f"  DICOMweb: {peer.dicomweb_url}")
            print(f"  REST:     {peer.rest_url}")
            return 0
        if args.command == "status":
            running = status(args.directory)
            if running is None:
                print("not running")
                return 1
            print(f"running, PID {running.pid}, DICOMweb {running.dicomweb_url}")
            return 0
        print("stopped" if stop(args.directory) else "not running")
        return 0
    except OrthancUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
