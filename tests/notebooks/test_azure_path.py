"""The Azure path end to end, offline: azure-identity's real credentials, a stand-in ``az``, the emulator.

A learner on Azure runs ``az login``, sets ``DICOMWEB_URL`` and runs the lessons, which get tokens from
``DefaultAzureCredential`` (README, "Against a real Azure DICOM service"). Here the same code runs with
three changes, all outside the code under test:

* ``az`` is ``azure_cli_standin.py``'s stand-in, first on ``PATH``: it prints what Azure CLI prints,
  with an Entra-shaped token the test emulator accepts only when asked for the DICOM service.
* ``AZURE_TOKEN_CREDENTIALS=AzureCliCredential``, azure-identity's own switch, limits
  ``DefaultAzureCredential`` to the Azure CLI: no managed-identity, environment or workload-identity
  probe, whose endpoints are off the machine.
* ``DICOMWEB_SERVER=azure``, because the emulator's loopback URL does not end in
  ``.azurehealthcareapis.com``, from which the helpers would otherwise infer it.

Every Python process of the run (this one for the in-process tests, the kernels, the stand-in ``az``)
has ``loopback_guard`` installed: a connection or lookup that would leave loopback is refused and
logged, and each test checks the log is empty.
"""

import json
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import nbformat
import pytest
import requests
from azure.core.credentials import AccessToken
from azure.identity import AzureCliCredential
from azure.identity._credentials.azure_cli import parse_token  # the parser AzureCliCredential uses
from nbclient.exceptions import CellExecutionError

from tests.notebooks import loopback_guard
from tests.notebooks.azure_cli_standin import calls, write_az
from helpers.auth import DICOM_SCOPE, BearerAuth, azure_credential
from tests.notebooks.lesson_files import execute, stream_text
from tools import check_server
from tests.support.lessons import NOTEBOOK_DIR

DICOM_RESOURCE = DICOM_SCOPE.removesuffix("/.default")
LESSONS = ["01_authenticate", "05_delete"]  # the first lesson, and one that stores and deletes
RENEW_BEFORE = 5 * 60  # BearerAuth renews a token with less than five minutes left (lesson 01, section 6)
SHORT_LIFETIME = 240  # seconds: under RENEW_BEFORE, so BearerAuth must renew before every request


@dataclass
class AzureWorld:
    """One stand-in ``az`` and guard log, and the kernels' environment that uses them."""

    base_url: str
    az: Path
    az_log: Path
    guard_log: Path
    env: dict[str, str]  # for kernels: the README's Azure configuration, pointed at the emulator
    process_env: dict[str, str]  # the variables this process needs to run azure-identity the same way


def _make_world(root: Path, kernel_env: dict[str, str], lifetime: int) -> AzureWorld:
    root.mkdir(parents=True, exist_ok=True)
    az = write_az(root / "bin", Path(kernel_env["DICOMWEB_EMULATOR_DATA_DIR"]), root / "az.log", lifetime)
    guard_dir = root / "guard"
    guard_dir.mkdir()
    (guard_dir / "sitecustomize.py").write_text(loopback_guard.sitecustomize(root / "guard.log"))
    python_path = os.pathsep.join(filter(None, [str(guard_dir), os.environ.get("PYTHONPATH")]))
    process_env = {"PATH": f"{root / 'bin'}{os.pathsep}{os.environ['PATH']}",
                   "AZURE_TOKEN_CREDENTIALS": "AzureCliCredential", "PYTHONPATH": python_path}
    env = {key: value for key, value in kernel_env.items()
           if not key.startswith(("DICOMWEB_", "AZURE_", "IDENTITY_", "MSI_"))}
    env.update(process_env, DICOMWEB_URL=kernel_env["DICOMWEB_URL"], DICOMWEB_AUTH="azure",
               DICOMWEB_SERVER="azure")
    return AzureWorld(kernel_env["DICOMWEB_URL"], az, root / "az.log", root / "guard.log", env, process_env)


@pytest.fixture(scope="module")
def short_lived(tmp_path_factory, kernel_env) -> AzureWorld:
    """A stand-in ``az`` whose tokens live SHORT_LIFETIME seconds: the lessons' configuration."""
    return _make_world(tmp_path_factory.mktemp("azure-short"), kernel_env, SHORT_LIFETIME)


@pytest.fixture
def hour_long(tmp_path, kernel_env, monkeypatch) -> Iterator[AzureWorld]:
    """A stand-in ``az`` with Azure's usual hour-long tokens, used from this process under the guard."""
    world = _make_world(tmp_path / "azure", kernel_env, 3600)
    for name, value in world.process_env.items():
        monkeypatch.setenv(name, value)
    uninstall = loopback_guard.install(world.guard_log)
    yield world
    uninstall()
    assert not world.guard_log.exists(), world.guard_log.read_text()


class FakeClock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


class RecordingCredential:
    """Passes get_token through to the real credential, noting the scopes BearerAuth asked for."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.scopes: list[tuple[str, ...]] = []

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.scopes.append(scopes)
        return self.inner.get_token(*scopes, **kwargs)


CREDENTIALS: dict[str, Callable[[], Any]] = {
    "helpers.auth.azure_credential": azure_credential,  # DefaultAzureCredential, as connect() builds it
    "AzureCliCredential": AzureCliCredential,  # as lesson 01's table shows it
}


@pytest.mark.parametrize("form", [["--scope", DICOM_SCOPE], ["--resource", DICOM_RESOURCE]])
def test_the_stand_in_prints_what_azure_cli_prints(form, hour_long) -> None:
    # Azure CLI 2.54 and later: both the CLI's local-time expiresOn and the Unix expires_on.
    printed = subprocess.run([str(hour_long.az), "account", "get-access-token", "--output", "json", *form],
                             capture_output=True, text=True, timeout=60, check=True).stdout
    fields = json.loads(printed)
    parsed = parse_token(printed)

    assert set(fields) == {"accessToken", "expiresOn", "expires_on", "subscription", "tenant", "tokenType"}
    assert parsed is not None and (parsed.token, parsed.expires_on) == (fields["accessToken"], fields["expires_on"])
    assert datetime.strptime(fields["expiresOn"], "%Y-%m-%d %H:%M:%S.%f").timestamp() == fields["expires_on"]
    assert fields["tokenType"] == "Bearer"
    response = requests.get(f"{hour_long.base_url}/changefeed",
                            headers={"Authorization": f"Bearer {parsed.token}"})
    assert response.status_code == 200


@pytest.mark.parametrize("kind", CREDENTIALS)
def test_bearer_auth_sends_and_renews_azure_cli_tokens(kind, hour_long) -> None:
    inner = CREDENTIALS[kind]()
    if kind == "helpers.auth.azure_credential":
        # AZURE_TOKEN_CREDENTIALS left only the Azure CLI in DefaultAzureCredential's chain.
        assert [type(c).__name__ for c in inner.credentials] == ["AzureCliCredential"]
    credential, clock = RecordingCredential(inner), FakeClock()
    session = requests.Session()
    session.auth = BearerAuth(credential, clock=clock)
    url = f"{hour_long.base_url}/changefeed"

    first = session.get(url)
    issued = calls(hour_long.az_log)
    clock.now = issued[0]["expires_on"] - RENEW_BEFORE - 10  # still more than five minutes left
    reused = session.get(url)
    clock.now += 11  # now inside the five minutes, not yet expired
    renewed = session.get(url)
    issued = calls(hour_long.az_log)

    assert [r.status_code for r in (first, reused, renewed)] == [200, 200, 200]
    assert credential.scopes == [(DICOM_SCOPE,), (DICOM_SCOPE,)]
    assert len(issued) == 2  # reused while fresh, renewed once inside the margin
    assert issued[0]["resource"] == issued[1]["resource"] == DICOM_RESOURCE
    assert issued[0]["expires_on"] - time.time() > 3000  # parsed from the CLI's JSON, not made up
    assert first.request.headers["Authorization"] == f"Bearer {issued[0]['token']}"
    assert reused.request.headers["Authorization"] == f"Bearer {issued[0]['token']}"
    assert renewed.request.headers["Authorization"] == f"Bearer {issued[1]['token']}"
    assert issued[0]["token"] != issued[1]["token"]


def test_a_token_for_another_scope_is_refused(hour_long) -> None:
    # What the lessons would meet if the helpers asked for the wrong scope: Entra issues a token for
    # that resource, and the DICOM service answers 401.
    session = requests.Session()
    session.auth = BearerAuth(azure_credential(), scope="https://management.azure.com/.default")

    response = session.get(f"{hour_long.base_url}/changefeed")

    assert calls(hour_long.az_log)[-1]["resource"] == "https://management.azure.com"
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith('Bearer error="invalid_token"')


def test_the_guard_refuses_what_leaves_loopback(tmp_path, short_lived) -> None:
    # The kernels run with the guard: a cell that reaches out (here a documentation-only address,
    # RFC 5737) fails, and the attempt is logged even when the caller swallows the error.
    log = tmp_path / "guard.log"
    (tmp_path / "guard").mkdir()
    (tmp_path / "guard" / "sitecustomize.py").write_text(loopback_guard.sitecustomize(log))
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell(f"import requests\nassert requests.get({short_lived.base_url!r}"
                                  " + '/changefeed').status_code == 401  # loopback: allowed"),
        nbformat.v4.new_code_cell("import socket\ntry:\n    socket.getaddrinfo('login.microsoftonline.com', 443)\n"
                                  "except PermissionError:\n    pass"),
        nbformat.v4.new_code_cell("socket.create_connection(('192.0.2.1', 443), timeout=1)")])
    path = tmp_path / "reach_out.ipynb"
    nbformat.write(notebook, path)

    with pytest.raises(CellExecutionError, match="loopback guard"):
        check_server.run_lesson(path, {**short_lived.env, "PYTHONPATH": str(tmp_path / "guard")})

    refused = log.read_text().splitlines()
    assert len(refused) == 2, refused
    assert refused[0].endswith("getaddrinfo('login.microsoftonline.com')")
    assert refused[1].endswith("connect to ('192.0.2.1', 443)")


@pytest.mark.notebook_run
@pytest.mark.parametrize("name", LESSONS)
def test_lesson_runs_with_azure_identity(name, short_lived) -> None:
    before = len(calls(short_lived.az_log))

    nb = execute(NOTEBOOK_DIR / f"{name}.ipynb", short_lived.env)

    issued = calls(short_lived.az_log)[before:]
    printed = "".join(stream_text(cell) for cell in nb.cells if cell.cell_type == "code")
    assert not short_lived.guard_log.exists(), short_lived.guard_log.read_text()
    # Tokens live less than the renewal margin, so every request renews: one token would mean no renewal.
    assert len(issued) >= 2, issued
    assert {call["resource"] for call in issued} == {DICOM_RESOURCE}
    assert all(call["expires_on"] - SHORT_LIFETIME <= time.time() for call in issued)
    if name == "01_authenticate":
        # It took the Azure branches: azure-identity's credential, not the emulator's.
        assert "auth mode:   azure" in printed
        assert "credential: DefaultAzureCredential" in printed
