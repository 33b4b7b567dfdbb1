"""Command line: ``python -m mock_server [options]`` serves; ``python -m mock_server token`` prints a token."""

import argparse
import contextlib
import ipaddress
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import uvicorn

from . import BANNER, DEFAULT_DATA_DIR, DEFAULT_PORT
from .app import DEFAULT_MAX_REQUEST_BYTES, create_app
from .cors import ENV_VAR as CORS_ENV_VAR
from .cors import CorsPolicy, origins_from
from .connections import HEADER_TIMEOUT, protocol_class
from .partitions import CANNOT_DISABLE, enabled_from_env
from .partitions import ENV_VAR as PARTITIONS_ENV_VAR
from .storage import Store
from .transcode import MAX_TRANSCODE_BYTES
from .tokens import CLAIM_SHAPES, ROLES, load_secret, make_token


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` keeps the emulator on this machine (``localhost``, 127.0.0.0/8, ``::1``)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


class _Server(uvicorn.Server):
    """uvicorn's server, printing the base URLs once it is accepting connections (then ``on_started``)."""

    on_started: Callable[[int], None] | None = None

    async def startup(self, sockets=None) -> None:
        await super().startup(sockets=sockets)
        if not self.started or not self.servers:
            return
        port = self.servers[0].sockets[0].getsockname()[1]
        root = f"http://{_url_host(self.config.host)}:{port}"
        print(f"{BANNER} {root}\n  {root}/v1\n  {root}/v2", flush=True)
        if self.on_started is not None:
            self.on_started(port)


@contextlib.contextmanager
def _exclusive(data_dir: Path) -> Iterator[None]:
    """Hold a lock on ``data_dir`` so two emulators never share one index."""
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks; rely on SQLite's own locking
        yield
        return
    fd = os.open(data_dir / "emulator.lock", os.O_WRONLY | os.O_CREAT, 0o600)
    with os.fdopen(fd, "w") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            sys.exit(f"error: another emulator is already using {data_dir}")
        yield


def serve(host: str, port: int, data_dir: Path, in_memory: bool, max_request_bytes: int,
          cors_origins: list[str] | None = None, header_timeout: float = HEADER_TIMEOUT,
          max_connections: int | None = None, max_transcode_bytes: int = MAX_TRANSCODE_BYTES,
          partitions_enabled: bool = False, on_started: Callable[[int], None] | None = None) -> None:
    """Run the emulator in the foreground until interrupted; ``on_started(port)`` once it listens."""
    data_dir = Path(data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(data_dir, 0o700)  # private whatever the umask: it holds the token secret
    secret = load_secret(data_dir)  # in-memory mode too, so `token --data-dir` works against it
    if not is_loopback(host):
        print(f"WARNING: binding {host}: the emulator is then reachable from other machines. It is a "
              "development tool with test tokens and no TLS; bind 127.0.0.1 unless you mean it.",
              file=sys.stderr, flush=True)
    storage_dir = Path(tempfile.mkdtemp(prefix="dicom-emulator-")) if in_memory else data_dir
    with contextlib.ExitStack() as stack:
        if in_memory:
            stack.callback(shutil.rmtree, storage_dir, True)
        else:
            stack.enter_context(_exclusive(data_dir))
        store = Store(storage_dir)
        stack.callback(store.close)
        if not partitions_enabled:
            with store.snapshot() as snap:
                if len(snap.partitions()) > 1:
                    # Azure's DataPartitionFeatureValidatorService refuses to start in this case.
                    sys.exit(f"error: {CANNOT_DISABLE} {data_dir} holds data partitions: start with "
                             "--enable-data-partitions.")
        app = create_app(store, secret, max_request_bytes, CorsPolicy(origins=origins_from(cors_origins)),
                         max_transcode_bytes, partitions_enabled)
        config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False,
                                lifespan="off", timeout_graceful_shutdown=5,
                                http=protocol_class(header_timeout, max_connections=max_connections),
                                server_header=False)  # Azure names no server software
        server = _Server(config)
        server.on_started = on_started
        server.run()


def main(argv: list[str] | None = None) -> None:
    """``python -m mock_server``: serve, or with ``token`` first, print a token."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["classroom"]:
        from .classroom import main as classroom_main
        classroom_main(argv[1:])
        return
    if argv[:1] == ["token"]:
        parser = argparse.ArgumentParser(prog="python -m mock_server token",
                                         description="Print a bearer token the emulator accepts.")
        parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
        parser.add_argument("--role", choices=sorted(ROLES), default="owner")
        parser.add_argument("--expires-in", type=int, default=3600, metavar="SECONDS")
        parser.add_argument("--claims", choices=CLAIM_SHAPES, default=CLAIM_SHAPES[0],
                            help="entra: the claims Microsoft Entra ID sends (aud, iss, tid, oid, roles, "
                                 "exp, nbf, iat; synthetic IDs); minimal: aud, iat, exp, roles")
        parser.add_argument("--partition", metavar="NAME",
                            help="restrict the token to this data partition (the emulator's restriction; "
                                 "Azure's roles grant every partition)")
        args = parser.parse_args(argv[1:])
        print(make_token(args.data_dir, args.role, args.expires_in, args.claims, args.partition)[0])
        return
    parser = argparse.ArgumentParser(
        prog="python -m mock_server",
        description="Serve a local emulator of the Azure DICOM service. "
                    "Use `python -m mock_server token --help` to mint tokens, "
                    "`python -m mock_server classroom --help` to serve a workshop.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="0 picks a free port")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--in-memory", action="store_true",
                        help="keep instances only until the emulator stops (tokens still use --data-dir)")
    parser.add_argument("--max-request-size", type=int, default=DEFAULT_MAX_REQUEST_BYTES, metavar="BYTES",
                        help="largest STOW request body accepted (413 above it)")
    parser.add_argument("--cors-origin", action="append", metavar="ORIGIN", dest="cors_origins",
                        help="a browser origin allowed by CORS (repeatable; `scheme://host:*` allows any port; "
                             "`*` any origin; `none` switches CORS off). Default: $" + CORS_ENV_VAR
                             + ", else http://localhost:* and http://127.0.0.1:*")
    parser.add_argument("--header-timeout", type=float, default=HEADER_TIMEOUT, metavar="SECONDS",
                        help="close a connection whose request headers take longer (408)")
    parser.add_argument("--max-connections", type=int, default=None, metavar="N",
                        help="open connections served at once; more get 503 (default: from the file limit)")
    parser.add_argument("--max-transcode-size", type=int, default=MAX_TRANSCODE_BYTES, metavar="BYTES",
                        help="largest stored file transcoded on retrieve (406 above it; Azure's 100 MiB)")
    parser.add_argument("--enable-data-partitions", action="store_true", default=None,
                        help="Azure's data partitions: STOW, WADO, QIDO and DELETE under /v{n}/partitions/{name}/ "
                             "(default: $" + PARTITIONS_ENV_VAR + ", Azure's own setting; else off)")
    args = parser.parse_args(argv)
    partitions_enabled = args.enable_data_partitions or enabled_from_env()
    serve(args.host, args.port, args.data_dir, args.in_memory, args.max_request_size, args.cors_origins,
          args.header_timeout, args.max_connections, args.max_transcode_size, partitions_enabled)


if __name__ == "__main__":
    main()
