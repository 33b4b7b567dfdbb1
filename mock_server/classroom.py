"""``python -m mock_server classroom``: one emulator for a workshop, one Azure data partition per learner.

The teacher runs one emulator with data partitions on. Before it serves, the command prints, for each
learner, a partition name and the two lines to paste (``DICOMWEB_URL`` ending in
``/partitions/<name>``, and ``DICOMWEB_TOKEN``); the tokens expire at the end of the workshop
(``--expires-in``). A partition appears in ``GET /v2/partitions`` with its first upload, as on
Azure, so that list shows who has started.

The learners' tokens carry the emulator's own restriction to their partition (``tokens.PARTITION_CLAIM``):
a request in another learner's partition gets 403. Azure has no such restriction (its roles grant a
token every partition); ``--unrestricted`` mints tokens as Azure would.
"""

import argparse
import re
from datetime import datetime, timezone
from pathlib import Path

from . import DEFAULT_PORT
from .app import DEFAULT_MAX_REQUEST_BYTES
from .partitions import MAX_NAME_LENGTH
from .tokens import make_token

DEFAULT_CLASSROOM_DIR = Path(__file__).resolve().parent.parent / ".classroom-data"
"""The classroom's own data dir (git-ignored): a data dir with partitions cannot go back to serving
without them, so the classroom does not use the everyday ``.emulator-data``."""
_DURATION = re.compile(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s?)?", re.IGNORECASE)
_NAME = re.compile(r"[A-Za-z0-9_.-]+")
_ANY_ADDRESS = ("0.0.0.0", "::", "[::]")


def parse_duration(text: str) -> int:
    """Seconds in ``4h``, ``90m``, ``1h30m``, ``45s`` or ``3600``."""
    match = _DURATION.fullmatch(text.strip())
    if not text.strip() or not match or not any(match.groups()):
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration such as 4h, 90m, 1h30m or 3600")
    hours, minutes, seconds = (int(g or 0) for g in match.groups())
    total = hours * 3600 + minutes * 60 + seconds
    if total <= 0:
        raise argparse.ArgumentTypeError("the duration must be more than 0")
    return total


def learner_names(count: int, names: str | None) -> list[str]:
    """``learner-01`` … or the given comma-separated names, checked against Azure's partition-name rule."""
    if names:
        chosen = [n.strip() for n in names.split(",") if n.strip()]
    else:
        chosen = [f"learner-{n:0{max(2, len(str(count)))}d}" for n in range(1, count + 1)]
    for name in chosen:
        if len(name) > MAX_NAME_LENGTH or not _NAME.fullmatch(name):
            raise SystemExit(f"error: {name!r} is not a partition name: 1 to {MAX_NAME_LENGTH} letters, digits, "
                             "'_', '.' or '-'")
    folded = [n.lower() for n in chosen]
    if len(set(folded)) != len(folded):
        raise SystemExit("error: two learners have the same name (partition names ignore case)")
    if "microsoft.default" in folded:
        raise SystemExit("error: Microsoft.Default is the partition of data stored without one; pick another name")
    return chosen


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def learner_sheet(root_url: str, tokens: dict[str, str], teacher_token: str, expires_on: int,
                  restricted: bool) -> str:
    """What the command prints: per learner a partition and its two lines, then how to see who started."""
    until = datetime.fromtimestamp(expires_on, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"Classroom: {len(tokens)} learners, one data partition each; the tokens expire at {until}.",
             "Each learner pastes their two lines into the terminal where they then run `make lab`:", ""]
    for name, token in tokens.items():
        lines += [f"{name}",
                  f"  export DICOMWEB_URL={root_url}/v2/partitions/{name}",
                  f"  export DICOMWEB_TOKEN={token}", ""]
    if restricted:
        lines.append("Each token works in its own partition only: the emulator's restriction (Azure's roles do "
                     "not restrict a token to a partition). --unrestricted mints tokens as Azure would.")
    lines += ["Who has started (a partition appears with its first upload):",
              f'  curl -s -H "Authorization: Bearer {teacher_token}" {root_url}/v2/partitions', ""]
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    """Parse the classroom options, mint the tokens and serve until interrupted."""
    from .__main__ import is_loopback, serve  # the CLI module imports this one lazily

    parser = argparse.ArgumentParser(
        prog="python -m mock_server classroom",
        description="Serve one emulator for a workshop with Azure's data partitions on, and print each "
                    "learner's partition, token and the two lines to paste.")
    parser.add_argument("--learners", type=int, default=10, metavar="N", help="how many learners (default 10)")
    parser.add_argument("--names", metavar="A,B,…", help="the learners' partition names instead of learner-01…")
    parser.add_argument("--expires-in", type=parse_duration, default=parse_duration("4h"), metavar="DURATION",
                        help="how long the tokens last: 4h, 90m, 1h30m, 3600 (default 4h)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to bind; the room's LAN address (or 0.0.0.0 with --advertise) to reach "
                             "other machines (default 127.0.0.1: this machine only)")
    parser.add_argument("--advertise", metavar="HOST",
                        help="the address the learners use in their URL (default: --host)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="0 picks a free port")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_CLASSROOM_DIR)
    parser.add_argument("--in-memory", action="store_true", help="forget the uploads when the emulator stops")
    parser.add_argument("--unrestricted", action="store_true",
                        help="tokens valid in every partition, as on Azure (default: each learner's token "
                             "works in their own partition only, the emulator's restriction)")
    args = parser.parse_args(argv)
    if args.learners < 1 and not args.names:
        parser.error("--learners must be at least 1")
    names = learner_names(args.learners, args.names)
    advertise = args.advertise or args.host
    if advertise in _ANY_ADDRESS:
        parser.error(f"--host {args.host} binds every address: give the one learners use with --advertise")
    if is_loopback(args.host) and not is_loopback(advertise):
        parser.error(f"--advertise {advertise} but --host {args.host} accepts this machine only")

    restricted = not args.unrestricted
    tokens = {name: make_token(args.data_dir, "owner", args.expires_in,
                               partition=name if restricted else None)[0] for name in names}
    teacher_token, expires_on = make_token(args.data_dir, "reader", args.expires_in)

    def started(port: int) -> None:
        root_url = f"http://{_url_host(advertise)}:{port}"
        print(learner_sheet(root_url, tokens, teacher_token, expires_on, restricted), flush=True)

    # serve() prints the non-loopback warning when --host reaches other machines.
    serve(args.host, args.port, args.data_dir, args.in_memory, DEFAULT_MAX_REQUEST_BYTES,
          partitions_enabled=True, on_started=started)
