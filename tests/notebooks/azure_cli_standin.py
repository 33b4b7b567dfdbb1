"""A stand-in for the Azure CLI, so that azure-identity's real AzureCliCredential runs offline.

``write_az(bin_dir, data_dir, log, expires_in)`` writes an executable ``az`` into ``bin_dir``; put
that folder first on ``PATH``. It answers ``az account get-access-token`` as Azure CLI 2.x does,
with either ``--scope https://dicom.healthcareapis.azure.com/.default`` or the ``--resource`` form
older clients send (azure-identity 1.27 sends ``--resource``): one JSON object with
``accessToken``, ``expiresOn`` (local time, as the CLI prints it), ``expires_on`` (Unix seconds),
``subscription``, ``tenant`` and ``tokenType``. The token is Entra-shaped and signed with the
emulator's secret, so the emulator accepts it when, and only when, it was asked for the DICOM
service: a token for any other resource carries that resource as its audience, as Entra's would,
and the emulator answers 401. Every call is appended to ``log`` as a JSON line.
"""

import json
import stat
import sys
from pathlib import Path

SCRIPT = '''#!{python}
"""Stand-in Azure CLI for tests (tests/notebooks/azure_cli_standin.py): never a real login."""
import argparse
import json
import sys
import time
from datetime import datetime

import jwt

from mock_server.tokens import ALGORITHM, AUDIENCE, entra_claims, load_secret

DATA_DIR, LOG, EXPIRES_IN = {data_dir!r}, {log!r}, {expires_in!r}
MANAGEMENT = "https://management.core.windows.net/"  # the CLI's default resource
SUBSCRIPTION = "00000000-0000-4000-8000-00000000a2b1"  # synthetic

args = sys.argv[1:]
if args[:2] != ["account", "get-access-token"]:
    sys.exit(f"ERROR: 'az {{' '.join(args)}}' is not part of this stand-in Azure CLI")
parser = argparse.ArgumentParser(prog="az account get-access-token", allow_abbrev=False)
parser.add_argument("--output", "-o", default="json")
parser.add_argument("--resource")
parser.add_argument("--scope", nargs="+")
parser.add_argument("--tenant", "-t")
parser.add_argument("--subscription", "-s")
options = parser.parse_args(args[2:])
if options.resource and options.scope:
    sys.exit("ERROR: usage error: --resource and --scope can't be used together")
if options.output != "json":
    sys.exit("ERROR: this stand-in prints --output json only")
if options.scope:
    if len(options.scope) != 1 or not options.scope[0].endswith("/.default"):
        sys.exit(f"ERROR: AADSTS70011: The provided value for scope {{' '.join(options.scope)}} is not valid.")
    resource = options.scope[0][:-len("/.default")]
else:
    resource = options.resource or MANAGEMENT

secret = load_secret(DATA_DIR)
now = int(time.time())
claims = entra_claims(secret, "owner", now, now + EXPIRES_IN)
claims["aud"] = AUDIENCE if resource.rstrip("/") == AUDIENCE else resource
token = jwt.encode(claims, secret, algorithm=ALGORITHM)
with open(LOG, "a") as log:
    log.write(json.dumps({{"args": args, "resource": resource, "expires_on": claims["exp"],
                          "token": token}}) + "\\n")
print(json.dumps({{
    "accessToken": token,
    "expiresOn": datetime.fromtimestamp(claims["exp"]).strftime("%Y-%m-%d %H:%M:%S.%f"),
    "expires_on": claims["exp"],
    "subscription": SUBSCRIPTION,
    "tenant": claims["tid"],
    "tokenType": "Bearer",
}}, indent=2))
'''


def write_az(bin_dir: Path, data_dir: Path, log: Path, expires_in: int) -> Path:
    """Write the stand-in ``az`` (tokens valid ``expires_in`` seconds) into ``bin_dir``; return its path."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    az = bin_dir / "az"
    az.write_text(SCRIPT.format(python=sys.executable, data_dir=str(data_dir), log=str(log),
                                expires_in=int(expires_in)))
    az.chmod(az.stat().st_mode | stat.S_IXUSR)
    return az


def calls(log: Path) -> list[dict]:
    """The stand-in's calls so far: ``args``, ``resource``, ``expires_on`` and the ``token`` it printed."""
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines()]
