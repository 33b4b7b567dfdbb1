"""A guard that keeps a Python process on this machine: any connection or name lookup that would
leave loopback is refused (``LeftLoopback``) and written to a log the test reads afterwards.

The log matters because azure-identity catches its credentials' errors and tries the next one: a
refused managed-identity probe would otherwise go unnoticed. ``sitecustomize(log)`` returns the
text of a ``sitecustomize.py`` that installs the guard in every Python process started with that
file's folder on ``PYTHONPATH``: the notebook kernel and the stand-in ``az`` it runs.
"""

import ipaddress
import os
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}


class LeftLoopback(PermissionError):
    """A connection or lookup that would have left the machine."""


def is_loopback(host: Any) -> bool:
    """Whether ``host`` (an address, a name, or None for "this machine") stays on loopback."""
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode()
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False  # a name other than localhost: resolving it may already ask a remote DNS server


def _is_address(host: Any) -> bool:
    try:
        ipaddress.ip_address((host.decode() if isinstance(host, bytes) else host).split("%")[0])
    except (ValueError, AttributeError):
        return False
    return True


def install(log_path: str | Path) -> Callable[[], None]:
    """Guard ``socket.socket.connect``/``connect_ex`` and ``socket.getaddrinfo``; returns the undo."""
    connect, connect_ex, getaddrinfo = socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo

    def refuse(what: str) -> None:
        with open(log_path, "a") as log:
            log.write(f"pid {os.getpid()}: {what}\n")
        raise LeftLoopback(f"loopback guard: {what} would leave this machine")

    def guarded_connect(self: socket.socket, address: Any) -> None:
        # AF_UNIX addresses are paths (str or bytes), never a tuple: always local.
        if isinstance(address, tuple) and not is_loopback(address[0]):
            refuse(f"connect to {address!r}")
        return connect(self, address)

    def guarded_connect_ex(self: socket.socket, address: Any) -> int:
        if isinstance(address, tuple) and not is_loopback(address[0]):
            refuse(f"connect_ex to {address!r}")
        return connect_ex(self, address)

    def guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> list:
        # An address needs no lookup (connect then decides); a remote name would query DNS.
        if not is_loopback(host) and not _is_address(host):
            refuse(f"getaddrinfo({host!r})")
        return getaddrinfo(host, *args, **kwargs)

    # Patching the methods is the point; typeshed types their address as a union we test with isinstance.
    socket.socket.connect = guarded_connect  # type: ignore[method-assign,assignment]
    socket.socket.connect_ex = guarded_connect_ex  # type: ignore[method-assign,assignment]
    socket.getaddrinfo = guarded_getaddrinfo

    def uninstall() -> None:
        socket.socket.connect = connect  # type: ignore[method-assign]
        socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
        socket.getaddrinfo = getaddrinfo

    return uninstall


def sitecustomize(log_path: str | Path) -> str:
    """The text of a sitecustomize.py that installs this guard, logging to ``log_path``."""
    return (
        "# Written by tests/notebooks/loopback_guard.py: no connection may leave this machine.\n"
        "import importlib.util\n"
        f"_spec = importlib.util.spec_from_file_location('loopback_guard', {str(Path(__file__).resolve())!r})\n"
        "_guard = importlib.util.module_from_spec(_spec)\n"
        "_spec.loader.exec_module(_guard)\n"
        f"_guard.install({str(log_path)!r})\n")
