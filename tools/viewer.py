"""Serve the OHIF web viewer on the configured DICOMweb service (the local emulator by default).

Usage (``make viewer`` starts the emulator first, as ``make lab`` does)::

    .venv/bin/python tools/viewer.py [--port N]

The pinned OHIF release (``@ohif/app``, its prebuilt ``dist/``) is fetched once with ``npm pack``
from the npm registry into ``.ohif/`` (git-ignored), checked against the pinned integrity, and
served from 127.0.0.1 with a data source for the DICOMweb service modelled on the one Microsoft
shipped with its DICOM server (``src/Microsoft.Health.Dicom.Web/wwwroot/app-config.js``). The
viewer calls the DICOMweb base URL directly, as it would call Azure: the service must allow the
viewer's origin by CORS (the emulator allows loopback origins).

The bearer token reaches OHIF through its ``userAuthenticationService``, the service its
``?token=`` and OpenID Connect sign-ins fill: a small extension in app-config.js fetches the token
from this server's ``/dicomweb-token`` and renews it every few minutes.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make the repository's packages importable
    sys.path.insert(0, str(ROOT))

from helpers.auth import BearerAuth, EmulatorCredential  # noqa: E402
from helpers.client import make_session  # noqa: E402
from helpers.config import Config, load_config  # noqa: E402
from helpers.emulator import answers  # noqa: E402
from helpers.viewer import DEFAULT_PORT, viewer_url  # noqa: E402

OHIF_PACKAGE = "@ohif/app"
OHIF_VERSION = "3.13.2"
# The registry's sha512 of ohif-app-3.13.2.tgz: a re-published or altered tarball is refused.
OHIF_INTEGRITY = ("sha512-WZdxmpmG7rqFgW9ZJLcbgr3XCtLi1KDNPoMaeY5PPe6j4G4fjEjjkycZM6C6Zk2F87BKx"
                  "Ffpq+jd5xXZB9E8EA==")
OHIF_ROOT = ROOT / ".ohif"
TOKEN_PATH = "/dicomweb-token"
# The browser asks for a fresh token this often; BearerAuth hands out one with >5 minutes left.
TOKEN_REFRESH_SECONDS = 240
NPM_HINT = "install Node.js's npm (Debian/Ubuntu: apt-get install npm; or https://nodejs.org)"


class NpmMissing(RuntimeError):
    """npm is not on PATH, so OHIF cannot be fetched from the npm registry."""


class OhifInstallFailed(RuntimeError):
    """npm ran but did not give the pinned OHIF tarball."""


def ohif_dist(root: Path = OHIF_ROOT) -> Path:
    """Where the pinned release's ``dist/`` lives once installed."""
    return root / OHIF_VERSION / "dist"


def _integrity(path: Path) -> str:
    digest = hashlib.sha512(path.read_bytes()).digest()
    return "sha512-" + base64.b64encode(digest).decode()


def install_ohif(root: Path = OHIF_ROOT) -> Path:
    """Return the pinned OHIF ``dist/`` directory, fetching it with ``npm pack`` on first use."""
    dist = ohif_dist(root)
    if (dist / "index.html").is_file():
        return dist
    npm = shutil.which("npm")
    if npm is None:
        raise NpmMissing(f"npm is missing, so OHIF {OHIF_VERSION} cannot be installed: {NPM_HINT}")
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root, prefix=".download-") as tmp_text:
        tmp = Path(tmp_text)
        # `npm pack` downloads the one tarball (none of the source dependencies a build needs:
        # dist/ is already built) and runs no package scripts.
        result = subprocess.run(
            [npm, "pack", f"{OHIF_PACKAGE}@{OHIF_VERSION}", "--json", "--ignore-scripts",
             "--pack-destination", str(tmp)],
            cwd=tmp, capture_output=True, text=True, timeout=900)
        if result.returncode != 0:
            raise OhifInstallFailed(f"npm pack {OHIF_PACKAGE}@{OHIF_VERSION} failed:\n{result.stderr}")
        tarball = tmp / json.loads(result.stdout)[0]["filename"]
        if _integrity(tarball) != OHIF_INTEGRITY:
            raise OhifInstallFailed(f"{tarball.name} does not have the pinned integrity {OHIF_INTEGRITY}")
        with tarfile.open(tarball) as archive:
            archive.extractall(tmp / "unpacked", filter="data")
        try:
            os.replace(tmp / "unpacked" / "package", root / OHIF_VERSION)
        except OSError:
            if not (dist / "index.html").is_file():  # else another process installed it first
                raise
    return dist


def data_source(dicomweb_url: str) -> dict:
    """OHIF's DICOMweb data source for ``dicomweb_url``: Microsoft's settings for its own API."""
    return {
        "namespace": "@ohif/extension-default.dataSourcesModule.dicomweb",
        "sourceName": "dicomweb",
        "configuration": {
            "friendlyName": "Azure DICOM service (DICOMweb)",
            "name": "AzureDicomWeb",
            "wadoUriRoot": dicomweb_url,
            "qidoRoot": dicomweb_url,
            "wadoRoot": dicomweb_url,
            # QIDO-RS on Azure takes includefield and fuzzymatching, not wildcards.
            "qidoSupportsIncludeField": True,
            "supportsFuzzyMatching": True,
            "supportsWildcard": False,
            "supportsReject": False,
            # The viewer gets a reader's token: uploading from it would be refused (403).
            "dicomUploadEnabled": False,
            "imageRendering": "wadors",
            "thumbnailRendering": "wadors",
            "enableStudyLazyLoad": True,
            "staticWado": True,
            # Frames as stored (transfer-syntax=*); OHIF decodes JPEG, JPEG 2000 and RLE itself.
            "requestTransferSyntaxUID": "*",
            # OHIF's default: `multipart/related; type=application/octet-stream` without quotes,
            # which Azure's AcceptHeaderHandler accepts (test "...NoQuotesOnType", "used by OHIF").
            "omitQuotationForMultipartRequest": True,
            "singlepart": "bulkdata,video",
            "bulkDataURI": {"enabled": True, "relativeResolution": "studies"},
        },
    }


_TOKEN_EXTENSION = """\
// Hands the DICOMweb service's bearer token to OHIF's userAuthenticationService (the service its
// ?token= and OpenID Connect sign-ins fill), from the server that serves this viewer.
const bearerTokenExtension = {
  id: 'dicomweb-tutorial.bearer-token',
  async preRegistration({ servicesManager }) {
    let header = {};
    const refresh = async () => {
      const response = await fetch('%(token_path)s', { cache: 'no-store' });
      if (!response.ok) {
        throw new Error(`%(token_path)s answered ${response.status}`);
      }
      const { token } = await response.json();
      header = token ? { Authorization: `Bearer ${token}` } : {};
    };
    await refresh();
    setInterval(() => refresh().catch(console.error), %(refresh_ms)d);
    servicesManager.services.userAuthenticationService.setServiceImplementation({
      getAuthorizationHeader: () => header,
    });
  },
};
"""


def app_config(dicomweb_url: str) -> str:
    """The app-config.js OHIF reads at start-up: one data source, the token extension."""
    config = {
        "routerBasename": "/",
        "modes": [],
        "customizationService": {},
        "showStudyList": True,
        "maxNumberOfWebWorkers": 3,
        "showWarningMessageForCrossOrigin": True,
        "showCPUFallbackMessage": True,
        "showLoadingIndicator": True,
        "strictZSpacingForVolumeViewport": True,
        "maxNumRequests": {"interaction": 100, "thumbnail": 75, "prefetch": 25},
        "defaultDataSourceName": "dicomweb",
        "dataSources": [data_source(dicomweb_url)],
    }
    body = json.dumps(config, indent=2)
    return (_TOKEN_EXTENSION % {"token_path": TOKEN_PATH, "refresh_ms": TOKEN_REFRESH_SECONDS * 1000}
            + f"window.config = {body};\n"
            + "window.config.extensions = [bearerTokenExtension];\n")


def token_source(config: Config) -> Callable[[], str | None]:
    """What the viewer sends as bearer token: a reader's token for the emulator (the viewer only
    reads), else the token the lessons would use (Entra ID via azure-identity, or DICOMWEB_TOKEN)."""
    if config.auth == "emulator":
        auth = BearerAuth(EmulatorCredential(config.emulator_data_dir, role="reader"))
    else:
        session_auth = make_session(config).auth
        if not isinstance(session_auth, BearerAuth):  # None: DICOMWEB_AUTH=none, the server takes no token
            return lambda: None
        auth = session_auth
    return auth.token


@dataclass
class ViewerSite:
    """What the server serves: OHIF's files, the generated app-config.js, the token."""

    dist: Path
    dicomweb_url: str
    token: Callable[[], str | None]


class ViewerServer(ThreadingHTTPServer):
    """OHIF on 127.0.0.1 (only: the token endpoint must not be reachable from elsewhere)."""

    daemon_threads = True

    def __init__(self, port: int, site: ViewerSite) -> None:
        self.site = site
        super().__init__(("127.0.0.1", port), _Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(SimpleHTTPRequestHandler):
    server: ViewerServer

    def __init__(self, request, client_address, server: ViewerServer) -> None:
        super().__init__(request, client_address, server, directory=str(server.site.dist))

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        pass

    def _send(self, body: bytes, content_type: str) -> None:
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self) -> None:
        self._serve(super().do_GET)

    def do_HEAD(self) -> None:
        self._serve(super().do_HEAD)

    def _serve(self, serve_file: Callable[[], None]) -> None:
        path = urlsplit(self.path).path
        site = self.server.site
        if path == "/app-config.js":
            return self._send(app_config(site.dicomweb_url).encode(), "text/javascript; charset=utf-8")
        if path == TOKEN_PATH:
            # Only for pages of this server: a page elsewhere that rebinds a DNS name to 127.0.0.1
            # would send its own name as Host.
            port = self.server.server_address[1]
            if self.headers.get("Host") not in (f"127.0.0.1:{port}", f"localhost:{port}"):
                return self.send_error(HTTPStatus.FORBIDDEN, "Host must be this viewer's address")
            return self._send(json.dumps({"token": site.token()}).encode(), "application/json")
        # The SPA's routes (/viewer, /segmentation, ...) are index.html; a missing file stays a 404.
        if "." not in path.rsplit("/", 1)[-1] and not (site.dist / path.lstrip("/")).is_file():
            self.path = "/index.html"
        return serve_file()


def _default_port() -> int:
    return urlsplit(viewer_url()).port or DEFAULT_PORT


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=_default_port(),
                        help="port on 127.0.0.1 (default: DICOMWEB_VIEWER_URL's, else %(default)s)")
    args = parser.parse_args(argv)
    config = load_config()
    if not answers(config.url):
        hint = ("`make viewer` starts the emulator first (or start it with `make emulator`)"
                if config.starts_emulator else "check DICOMWEB_URL")
        print(f"Nothing answers at {config.url}: {hint}.", file=sys.stderr)
        return 1
    try:
        dist = install_ohif()
    except (NpmMissing, OhifInstallFailed) as problem:
        print(problem, file=sys.stderr)
        return 1
    token = token_source(config)
    try:
        token()  # fail here, with the reason, rather than in the browser as 401s
    except Exception as problem:  # noqa: BLE001 - azure-identity raises several kinds
        print(f"No token for {config.url} ({config.auth} auth): {problem}", file=sys.stderr)
        return 1
    server = ViewerServer(args.port, ViewerSite(dist, config.url, token))
    print(f"OHIF viewer {OHIF_VERSION} on {config.url}: {server.url}/  (Ctrl+C stops it)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
