"""Persistent storage of the emulator: Part 10 files on disk plus the SQLite index of ``schema.py``.

A store is atomic: the file is written to ``tmp/``, fsynced and renamed into ``files/``; only then
are its ``instances`` row and its ``Create`` change-feed row inserted, in one transaction. A crash
at any point leaves either nothing visible or the whole instance; stray temp files and files that
no row points to are removed at start-up.
"""

import contextlib
import os
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TypeVar

from .schema import SCHEMA

INDEX_FILE = "index.sqlite"
T = TypeVar("T")


class DuplicateInstance(Exception):
    """The (study, series, SOP instance) is already stored (Azure failure code 45070)."""


@dataclass
class StagedInstance:
    """A validated instance whose file is complete in ``tmp/``, ready to be committed."""

    study_uid: str
    series_uid: str
    sop_uid: str
    sop_class_uid: str
    transfer_syntax: str
    temp_path: Path
    file_size: int
    frame_count: int
    metadata: str


def _fsync_dir(path: Path) -> None:
    # Makes a rename durable; not possible (nor needed) on every platform.
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def instance_filter(study_uid: str, series_uid: str | None = None,
                    sop_uid: str | None = None) -> tuple[str, list[str]]:
    """(SQL condition, arguments) selecting the ``instances`` rows under a study, series or instance."""
    where, args = "study_uid=?", [study_uid]
    if series_uid is not None:
        where, args = where + " AND series_uid=?", args + [series_uid]
    if sop_uid is not None:
        where, args = where + " AND sop_uid=?", args + [sop_uid]
    return where, args


def chunks(items: list[T], size: int = 500) -> Iterator[list[T]]:
    """``items`` in slices of ``size``, to keep each ``IN (?, ...)`` under SQLite's parameter limit."""
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _dotnet_timestamp(moment: datetime) -> str:
    """ISO 8601 UTC with seven fractional digits, as .NET writes a DateTimeOffset."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0+00:00"


class Store:
    """The files and index of one data directory. Safe to share between threads."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self.files_dir = self.data_dir / "files"
        self.tmp_dir = self.data_dir / "tmp"
        self.index_path = self.data_dir / INDEX_FILE
        for d in (self.data_dir, self.files_dir, self.tmp_dir):
            d.mkdir(parents=True, exist_ok=True)
        self._write_lock = threading.Lock()
        self._last_timestamp = ""
        self._writer = self._connect()
        self._writer.execute("PRAGMA journal_mode=WAL")
        self._writer.executescript(SCHEMA)
        self.cleanup()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.index_path, timeout=30, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        # FULL: a commit that was acknowledged survives a crash of the process or the machine.
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA busy_timeout=30000")
        return conn

    def close(self) -> None:
        with self._write_lock:
            self._writer.close()

    @contextlib.contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A connection for reads (row_factory ``sqlite3.Row``), closed on exit."""
        conn = self._connect()
        try:
            yield conn
        finally:
            conn.close()

    def cleanup(self) -> None:
        """Remove temp files of interrupted requests and files no index row points to."""
        with self._write_lock:
            for path in self.tmp_dir.iterdir():
                with contextlib.suppress(OSError):
                    path.unlink()
            known = {row[0] for row in self._writer.execute("SELECT file_name FROM instances")}
            for path in self.files_dir.rglob("*"):
                if path.is_file() and path.relative_to(self.files_dir).as_posix() not in known:
                    with contextlib.suppress(OSError):
                        path.unlink()

    def new_temp_path(self, suffix: str = ".part") -> Path:
        """A fresh path in ``tmp/`` for spooling request data."""
        return self.tmp_dir / f"{uuid.uuid4().hex}{suffix}"

    def file_path(self, file_name: str) -> Path:
        return self.files_dir / file_name

    def _timestamp(self) -> str:
        # Never go backwards, so change-feed order by time matches order by sequence.
        stamp = max(_dotnet_timestamp(datetime.now(timezone.utc)), self._last_timestamp)
        self._last_timestamp = stamp
        return stamp

    def add(self, staged: StagedInstance) -> int:
        """Commit a staged instance; return its watermark. Raises DuplicateInstance."""
        file_name = f"{uuid.uuid4().hex[:2]}/{uuid.uuid4().hex}.dcm"
        final = self.files_dir / file_name
        with self._write_lock:
            stamp = self._timestamp()
            try:
                self._writer.execute("BEGIN IMMEDIATE")
                # Checked inside the transaction; the UNIQUE constraint is the backstop.
                exists = self._writer.execute(
                    "SELECT 1 FROM instances WHERE study_uid=? AND series_uid=? AND sop_uid=?",
                    (staged.study_uid, staged.series_uid, staged.sop_uid)).fetchone()
                if exists:
                    raise DuplicateInstance(staged.sop_uid)
                final.parent.mkdir(exist_ok=True)
                os.replace(staged.temp_path, final)
                _fsync_dir(final.parent)
                cur = self._writer.execute(
                    "INSERT INTO instances (study_uid, series_uid, sop_uid, sop_class_uid, transfer_syntax,"
                    " file_name, file_size, frame_count, created, metadata) VALUES (?,?,?,?,?,?,?,?,?,?)",
                    (staged.study_uid, staged.series_uid, staged.sop_uid, staged.sop_class_uid,
                     staged.transfer_syntax, file_name, staged.file_size, staged.frame_count, stamp,
                     staged.metadata))
                watermark = cur.lastrowid
                self._writer.execute(
                    "INSERT INTO changefeed (study_uid, series_uid, sop_uid, action, timestamp, watermark)"
                    " VALUES (?,?,?,'Create',?,?)",
                    (staged.study_uid, staged.series_uid, staged.sop_uid, stamp, watermark))
                self._writer.execute("COMMIT")
            except BaseException as exc:
                if self._writer.in_transaction:
                    self._writer.execute("ROLLBACK")
                with contextlib.suppress(OSError):
                    final.unlink()
                if isinstance(exc, sqlite3.IntegrityError):
                    raise DuplicateInstance(staged.sop_uid) from None
                raise
            return watermark

    def delete(self, study_uid: str, series_uid: str | None = None, sop_uid: str | None = None) -> int:
        """Delete the matching instances with a ``Delete`` change-feed entry each; return how many."""
        where, args = instance_filter(study_uid, series_uid, sop_uid)
        with self._write_lock:
            try:
                self._writer.execute("BEGIN IMMEDIATE")
                rows = self._writer.execute(
                    f"SELECT study_uid, series_uid, sop_uid, file_name FROM instances WHERE {where}"
                    " ORDER BY watermark", args).fetchall()
                stamp = self._timestamp()
                for row in rows:
                    self._writer.execute(
                        "INSERT INTO changefeed (study_uid, series_uid, sop_uid, action, timestamp, watermark)"
                        " VALUES (?,?,?,'Delete',?,NULL)",
                        (row["study_uid"], row["series_uid"], row["sop_uid"], stamp))
                self._writer.execute(f"DELETE FROM instances WHERE {where}", args)
                self._writer.execute("COMMIT")
            except BaseException:
                if self._writer.in_transaction:
                    self._writer.execute("ROLLBACK")
                raise
        # After the commit: a crash here leaves orphan files, which start-up removes.
        for row in rows:
            with contextlib.suppress(OSError):
                (self.files_dir / row["file_name"]).unlink()
        return len(rows)
