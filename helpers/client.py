"""``connect()``: one configured ``requests.Session`` for the DICOMweb service the notebooks use."""

import os
import re
from collections.abc import Mapping
from urllib.parse import urlsplit, urlunsplit

import requests

from . import changefeed, http
from .auth import BearerAuth, EmulatorCredential, StaticTokenCredential, azure_credential
from .config import Config, load_config
from .emulator import ensure_emulator

# Features of the Azure DICOM service (and its emulator) that are not in the DICOMweb standard.
AZURE_FEATURES = frozenset({"delete", "changefeed", "single-part-stow", "conflict-on-duplicate",
                            "fuzzy-matching"})

# The first path segments of the routes Azure moves under /partitions/<name> (STOW, WADO, QIDO, DELETE);
# the change feed, /partitions and operations stay at the base URL.
PARTITIONED_ROUTES = frozenset({"studies", "series", "instances"})

_ESCAPED_LITERALS = re.compile(r"%(2A|3F|2C)", re.IGNORECASE)
_LITERALS = {"2A": "*", "3F": "?", "2C": ","}


class LiteralQuerySession(requests.Session):
    """A Session that sends ``*``, ``?`` and ``,`` unescaped in query strings.

    Orthanc 1.10 as packaged by Debian does not percent-decode query strings, so the
    ``PatientName=Doe%2A`` that requests makes of ``params={"PatientName": "Doe*"}`` would match
    nothing there; these three characters are safe to send literally after the first ``?``.
    """

    def send(self, request: requests.PreparedRequest, **kwargs) -> requests.Response:
        parts = urlsplit(request.url or "")  # a prepared request always has its URL; typed Optional
        if parts.query:
            query = _ESCAPED_LITERALS.sub(lambda match: _LITERALS[match[1].upper()], parts.query)
            request.url = urlunsplit(parts._replace(query=query))
        return super().send(request, **kwargs)


class DicomWeb:
    """The service the notebooks talk to: its base URL, an authenticated session and its flavor.

    With a data partition (``DICOMWEB_PARTITION``), ``partition_url`` is the partition's base URL and
    ``url()`` sends the DICOMweb routes there; ``base_url`` stays the service's, where the change feed is.
    """

    def __init__(self, config: Config, session: requests.Session,
                 emulator_pid: int | None = None) -> None:
        self.config = config
        self.base_url = config.url
        self.partition = config.partition
        self.partition_url = config.partition_url
        self.session = session
        self.flavor = config.server
        # Set when connect() started the emulator (it keeps running after the notebook ends).
        self.emulator_pid = emulator_pid

    def url(self, path: str) -> str:
        """``base_url/path``, e.g. ``client.url("studies")``; in a partition, ``partition_url/path`` for
        the STOW, WADO, QIDO and DELETE routes (``studies…``, ``series…``, ``instances…``)."""
        path = path.lstrip("/")
        first = re.split(r"[/?]", path, maxsplit=1)[0].lower()
        return f"{self.partition_url if first in PARTITIONED_ROUTES else self.base_url}/{path}"

    def supports(self, feature: str) -> bool:
        """Whether the server has an Azure-only feature (see AZURE_FEATURES)."""
        if feature not in AZURE_FEATURES:
            raise ValueError(f"unknown feature {feature!r}; known: {', '.join(sorted(AZURE_FEATURES))}")
        return self.flavor == "azure"

    def __repr__(self) -> str:
        partition = f", partition={self.partition!r}" if self.partition else ""
        return f"DicomWeb(base_url={self.base_url!r}{partition}, auth={self.config.auth!r}, flavor={self.flavor!r})"


def make_session(config: Config) -> requests.Session:
    """A Session that authenticates the way ``config.auth`` says."""
    session = LiteralQuerySession() if config.server == "orthanc" else requests.Session()
    if config.auth == "emulator":
        session.auth = BearerAuth(EmulatorCredential(config.emulator_data_dir))
    elif config.auth == "azure":
        session.auth = BearerAuth(azure_credential())
    elif config.auth == "token":
        session.auth = BearerAuth(StaticTokenCredential(config.token or ""))
    return session


def connect(environ: Mapping[str, str] | None = None) -> DicomWeb:
    """Connect to the configured DICOMweb service, starting the local emulator if it is needed."""
    config = load_config(os.environ if environ is None else environ)
    pid = ensure_emulator(config) if config.starts_emulator else None
    client = DicomWeb(config, make_session(config), emulator_pid=pid)
    http.set_base_url(client.base_url)
    changefeed.set_partition(client.partition)
    return client
