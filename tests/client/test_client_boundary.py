"""The client never loads the server: what a notebook kernel has imported after connect() and a search.

The rule (mock_server/README.md, "What a client may import"): a client imports ``mock_server``
(constants), ``mock_server.tokens`` and ``mock_server.launcher``, and those load no server framework.
"""

import json
import subprocess
import sys

from mock_server.launcher import Emulator
from tests.support.kernels import emulator_kernel_env

CLIENT_MODULES = {"mock_server", "mock_server.tokens", "mock_server.launcher"}
SERVER_FRAMEWORKS = {"starlette", "uvicorn", "anyio", "multipart", "python_multipart", "h11", "httptools",
                     "websockets", "sniffio"}

# Run in a fresh interpreter, as a kernel would: this test process has the server loaded already.
KERNEL = """
import json, sys
import helpers
client = helpers.connect()
response = client.session.get(client.url("studies"), headers={"Accept": "application/dicom+json"})
print(json.dumps({
    "status": response.status_code,
    "authorization": response.request.headers.get("Authorization", "")[:7],
    "started": client.emulator_pid,
    "modules": sorted(sys.modules),
}))
"""


def test_connect_and_search_load_no_server_module(emulator: Emulator) -> None:
    env = emulator_kernel_env(emulator)
    result = subprocess.run([sys.executable, "-c", KERNEL], capture_output=True, text=True, env=env,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)

    assert seen["status"] in (200, 204), seen["status"]  # the search went through, authenticated
    assert seen["authorization"] == "Bearer "
    assert seen["started"] is None  # it found the running emulator, and recognised it
    modules = set(seen["modules"])
    assert {name for name in modules if name.split(".")[0] in SERVER_FRAMEWORKS} == set()
    assert {name for name in modules if name.split(".")[0] == "mock_server"} <= CLIENT_MODULES
    assert "mock_server.tokens" in modules  # the check above looks where the minting happens
