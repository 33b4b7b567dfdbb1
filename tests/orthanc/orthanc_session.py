"""One Orthanc peer shared by every test folder that needs it, started at most once per session.

Both ``tests/orthanc/conftest.py`` and ``tests/standard/conftest.py`` define an ``orthanc``
fixture through :func:`acquire` / :func:`release`; the reference count keeps a single peer
alive until the last of them is torn down. This module and ``tools/orthanc_peer.py`` are
loaded by file path (the tools folder is not a package), under fixed names in ``sys.modules``
so that every conftest sees the same objects.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOOL_PATH = ROOT / "tools" / "orthanc_peer.py"
TOOL_MODULE = "dicomweb_tutorial_orthanc_peer"

_peer = None
_users = 0


def load_module(name: str, path: Path) -> ModuleType:
    """Import ``path`` as module ``name`` once; later calls return the same module."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None, f"{path} is missing"
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def tool() -> ModuleType:
    return load_module(TOOL_MODULE, TOOL_PATH)


def unavailable_reason() -> str | None:
    """Why Orthanc cannot run here, or None. The only case: packages missing and no way to install."""
    peer_tool = tool()
    missing = peer_tool.missing_packages()
    if missing and not peer_tool.can_install():
        return (f"Orthanc peer unavailable: Debian package(s) {', '.join(missing)} not installed and "
                f"this user cannot install them (root and apt-get are needed). {peer_tool.INSTALL_HINT}")
    return None


def acquire(tmp_path_factory: pytest.TempPathFactory):
    """Return the session's peer, starting it (and installing Orthanc when root) on first use."""
    global _peer, _users
    if _peer is None:
        reason = unavailable_reason()
        if reason is not None:
            pytest.skip(reason)
        _peer = tool().start(tmp_path_factory.mktemp("orthanc-peer"))
    _users += 1
    return _peer


def release() -> None:
    global _peer, _users
    _users -= 1
    if _users <= 0 and _peer is not None:
        _peer.stop()
        _peer = None
        _users = 0
