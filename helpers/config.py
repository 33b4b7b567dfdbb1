"""Which DICOMweb service the notebooks talk to, read from environment variables.

| variable | meaning |
|---|---|
| ``DICOMWEB_URL`` | base URL including the API version; unset = the local emulator |
| ``DICOMWEB_AUTH`` | ``emulator``, ``azure``, ``token`` or ``none`` |
| ``DICOMWEB_TOKEN`` | a bearer token, for ``DICOMWEB_AUTH=token`` |
| ``DICOMWEB_SERVER`` | ``azure``, ``orthanc`` or ``generic``: which features to expect |
| ``DICOMWEB_EMULATOR_DATA_DIR`` | where the emulator keeps its files and token secret |
| ``DICOMWEB_EMULATOR_PORT`` | the emulator's port when ``DICOMWEB_URL`` is unset |
| ``DICOMWEB_PARTITION`` | an Azure data partition to work in (or end ``DICOMWEB_URL`` with ``/partitions/<name>``) |

With a data partition, STOW, WADO, QIDO and DELETE go to ``<base URL>/partitions/<name>`` and the
change feed stays at the base URL, as on Azure (``Config.partition_url``; ``DicomWeb.url`` chooses).
A URL ending in ``/v<n>/partitions/<name>`` names an Azure DICOM service (partitions are Azure's).
"""

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

AUTH_MODES = ("emulator", "azure", "token", "none")
SERVERS = ("azure", "orthanc", "generic")
AZURE_HOST_SUFFIX = ".azurehealthcareapis.com"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


# Azure's PartitionNameValidator: 1-64 letters, digits, "_", "." or "-" (checked here too, so a typo in
# the variable is reported with the rule before any request).
_PARTITION_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_PARTITION_URL = re.compile(r"^(?P<base>.*/v[0-9][^/]*)/partitions/(?P<name>[^/]+)$", re.IGNORECASE)


class ConfigError(ValueError):
    """An environment variable has a value the helpers cannot use."""


@dataclass(frozen=True)
class Config:
    """The resolved configuration: where the service is, how to authenticate, what it supports."""

    url: str
    auth: str
    server: str
    token: str | None
    emulator_data_dir: Path
    emulator_port: int
    partition: str | None = None

    @property
    def partition_url(self) -> str:
        """Where STOW, WADO, QIDO and DELETE go: the partition's base URL, or ``url`` without one."""
        return f"{self.url}/partitions/{self.partition}" if self.partition else self.url

    @property
    def starts_emulator(self) -> bool:
        """True when connect() should start the emulator if nothing answers at the URL."""
        return self.auth == "emulator" and urlsplit(self.url).hostname in LOOPBACK_HOSTS


def _get(environ: Mapping[str, str], name: str) -> str | None:
    # An empty variable counts as unset, so `DICOMWEB_URL= jupyter lab` means "the default".
    value = environ.get(name, "").strip()
    return value or None


def _choice(environ: Mapping[str, str], name: str, allowed: tuple[str, ...]) -> str | None:
    value = _get(environ, name)
    if value is not None and value.lower() not in allowed:
        raise ConfigError(f"{name}={value!r} is not valid; use one of: {', '.join(allowed)}")
    return value.lower() if value else None


def _port(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 65535:
        raise ConfigError(f"DICOMWEB_EMULATOR_PORT={value!r} is not a port number (1-65535)")
    return int(value)


def _check_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"DICOMWEB_URL={url!r} is not an http(s) URL, "
                          "e.g. https://myws-mydicom.dicom.azurehealthcareapis.com/v2")
    if parts.query or parts.fragment:
        raise ConfigError(f"DICOMWEB_URL={url!r} must not have a query or fragment")
    try:
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as exc:
        raise ConfigError(f"DICOMWEB_URL={url!r}: {exc}") from None
    return url.rstrip("/")


def _partition(url: str, environ: Mapping[str, str]) -> tuple[str, str | None]:
    """(base URL, partition): from ``DICOMWEB_PARTITION`` or a URL ending in ``/partitions/<name>``."""
    named = _get(environ, "DICOMWEB_PARTITION")
    match = _PARTITION_URL.match(url)
    if match:
        url, in_url = match["base"], match["name"]
        if named is not None and named.lower() != in_url.lower():
            raise ConfigError(f"DICOMWEB_PARTITION={named!r} and DICOMWEB_URL (partition {in_url!r}) disagree; "
                              "set one of them")
        named = in_url
    if named is not None and not _PARTITION_NAME.fullmatch(named):
        raise ConfigError(f"DICOMWEB_PARTITION={named!r} is not a partition name: 1 to 64 letters, digits, "
                          "'_', '.' or '-'")
    return url, named


def load_config(environ: Mapping[str, str] = os.environ) -> Config:
    """Read the ``DICOMWEB_*`` variables; raise ConfigError with the fix when one is wrong."""
    import mock_server  # only for its defaults; the emulator itself runs in another process

    port_text = _get(environ, "DICOMWEB_EMULATOR_PORT")
    port = _port(port_text) if port_text else mock_server.DEFAULT_PORT
    data_dir_text = _get(environ, "DICOMWEB_EMULATOR_DATA_DIR")
    data_dir = (Path(data_dir_text).expanduser().resolve() if data_dir_text
                else mock_server.DEFAULT_DATA_DIR)
    token = _get(environ, "DICOMWEB_TOKEN")
    auth = _choice(environ, "DICOMWEB_AUTH", AUTH_MODES)
    url = _get(environ, "DICOMWEB_URL")

    emulator = url is None or auth == "emulator"
    if url is None:
        url = f"http://127.0.0.1:{port}/v2"
        on_azure = False
        auth = auth or "emulator"
    else:
        url = _check_url(url)
        parts = urlsplit(url)
        on_azure = (parts.hostname or "").endswith(AZURE_HOST_SUFFIX)  # _check_url: never empty
        if auth is None:
            auth = "azure" if on_azure else "token" if token else "none"
        on_azure = on_azure or bool(_PARTITION_URL.match(url))  # Azure's API, wherever it runs
        if auth == "emulator" and parts.hostname in LOOPBACK_HOSTS:
            if not parts.port:
                raise ConfigError(f"DICOMWEB_URL={url!r} needs the emulator's port, "
                                  f"e.g. http://127.0.0.1:{mock_server.DEFAULT_PORT}/v2")
            port = parts.port  # the emulator to start is the one the URL names
    if auth == "token" and not token:
        raise ConfigError("DICOMWEB_AUTH=token needs the token in DICOMWEB_TOKEN")

    server = _choice(environ, "DICOMWEB_SERVER", SERVERS)
    if server is None:
        server = "azure" if emulator or on_azure else "generic"
    url, partition = _partition(url, environ)
    if partition is not None and server != "azure":
        raise ConfigError(f"DICOMWEB_PARTITION needs Azure's DICOM service or its emulator; this server is "
                          f"{server!r} (DICOMWEB_SERVER)")

    return Config(url=url, auth=auth, server=server, token=token if auth == "token" else None,
                  emulator_data_dir=data_dir, emulator_port=port, partition=partition)
