"""Persistent storage of the emulator: Part 10 files on disk plus the SQLite index of ``schema.py``.

``Store`` is the only module that speaks SQL. Handlers read through ``Store.snapshot()``, which
gives a ``Snapshot``: every read of one request sees the same committed state (one SQLite read
transaction in WAL mode), and answers are small frozen dataclasses, never rows. Every method takes
the data partition (``Microsoft.Default`` unless data partitions are used).

A store is atomic: the parts of one STOW request are written straight into one directory of
``files/``, where no index row names them yet; each file and that directory are fsynced before the
one transaction that writes their instance, study and series rows and ``Create`` change-feed rows
commits. A crash at any point leaves either nothing visible or the whole instance; files that no
row points to are removed at start-up.

The data directory is private to its owner (0700, files 0600) whatever the umask.
"""

import contextlib
import errno
import functools
import json
import os
import queue
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any, Literal, overload

from .binding import round_trip, ticks, timestamp_ticks
from .index_values import (
    COLUMN_OF, SERIES_COLUMNS, STUDY_COLUMNS, Column, IndexedValue, first_value, instance_values, match_key, name_words,
)
from .qido_tags import FilterKind, Level
from .schema import DROPPED_INDEXES, SCHEMA, SCHEMA_VERSION, V2_COLUMNS

INDEX_FILE = "index.sqlite"
DEFAULT_PARTITION = "Microsoft.Default"
DIR_MODE, FILE_MODE = 0o700, 0o600
# Kept free in the data dir so that DELETE (which writes to the index) works on a full disk.
RESERVE_FILE = "space-reserve"
RESERVE_BYTES = 4 * 1024 * 1024
_LAST_CHAR = "\U0010ffff"  # word < prefix + this: the words that begin with prefix
_COMMON_WORD = 2000  # name words a fuzzy prefix must begin to count as common
_MAX_PARAMS = 500  # values per IN (...), well under SQLite's parameter limit
# fsyncs quicker than this, on average, are quicker than handing a small STOW to a worker thread
# and back (about 0.1 ms, more on a busy machine): stow.py then stores it in place.
_QUICK_SYNC_SECONDS = 0.002


class DuplicateInstance(Exception):
    """The (study, series, SOP instance) is already stored (Azure failure code 45070)."""


class StorageFull(OSError):
    """The disk (or the index) has no space left for this write."""


@dataclass(frozen=True)
class FrameLayout:
    """Where the frames of native, not deflated pixel data lie: from ``offset``, ``frame_bytes`` each."""

    offset: int
    frame_bytes: int


@dataclass
class StagedInstance:
    """A validated instance whose file is complete in ``files/`` (no row names it yet), ready to be committed."""

    study_uid: str
    series_uid: str
    sop_uid: str
    sop_class_uid: str
    transfer_syntax: str
    path: Path
    file_size: int
    frame_count: int
    metadata: str
    frame_layout: FrameLayout | None = None
    # ``metadata`` as parsed, when the caller has it (saves parsing it back to index it).
    elements: dict[str, Any] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class InstanceRecord:
    """One stored instance version."""

    watermark: int
    study_uid: str
    series_uid: str
    sop_uid: str
    sop_class_uid: str
    transfer_syntax: str
    file_name: str
    file_size: int
    frame_count: int
    pixel_offset: int | None
    frame_bytes: int | None
    metadata: str | None = None  # the DICOM JSON text, when asked for

    @property
    def frame_layout(self) -> FrameLayout | None:
        """The stored frame layout (None: read the file to find the frames)."""
        if self.pixel_offset is None or not self.frame_bytes:
            return None
        return FrameLayout(self.pixel_offset, self.frame_bytes)


@dataclass(frozen=True)
class StudyValues:
    """A study's index row: its indexed elements (JSON key -> element) and computed attributes."""

    uid: str
    elements: dict[str, dict]
    instance_count: int
    modalities: tuple[str, ...]


@dataclass(frozen=True)
class SeriesValues:
    """A series' index row."""

    study_uid: str
    uid: str
    elements: dict[str, dict]
    instance_count: int


@dataclass(frozen=True)
class SearchHit:
    """One result of a search: its study and series rows, instance UID and the metadata asked for."""

    study: StudyValues
    series: SeriesValues | None
    sop_uid: str | None
    metadata: dict[str, Any] | None


@dataclass(frozen=True)
class Condition:
    """A search condition on an indexed attribute (JSON key ``tag``).

    ``kind``: ``exact`` (``values``: one or more, any matches), ``fuzzy`` (``values[0]``), ``date``
    (``low``/``high`` as ``yyyyMMdd``, either may be None) or ``modality`` (ModalitiesInStudy).
    """

    tag: str
    kind: FilterKind
    values: tuple[str, ...] = ()
    low: str | None = None
    high: str | None = None


@dataclass(frozen=True)
class Partition:
    """A data partition: Azure's PartitionKey, PartitionName and CreatedDate."""

    key: int
    name: str
    created: str


@dataclass(frozen=True)
class FeedEntry:
    """A change-feed row with the instance's current watermark (None once deleted)."""

    sequence: int
    partition: str
    study_uid: str
    series_uid: str
    sop_uid: str
    action: str
    timestamp: str
    watermark: int | None
    current: int | None
    metadata: str | None


STUDY_UID_TAG, SERIES_UID_TAG, SOP_UID_TAG = "0020000D", "0020000E", "00080018"
MODALITY_TAG = "00080060"
_UID_COLUMN = {STUDY_UID_TAG: "st.study_uid", SERIES_UID_TAG: "se.series_uid", SOP_UID_TAG: "i.sop_uid"}
_STUDY_TAGS = {c.tag for c in STUDY_COLUMNS}


def _chunks(items: Sequence, size: int = _MAX_PARAMS) -> Iterator[Sequence]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


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


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` says the disk (or the index) has no space left."""
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return True
    return isinstance(exc, sqlite3.OperationalError) and "full" in str(exc).lower()


def _private_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):
        os.chmod(path, DIR_MODE)


def _instance_where(partition: str, study_uid: str, series_uid: str | None,
                    sop_uid: str | None) -> tuple[str, list[str]]:
    where, args = "partition=? AND study_uid=?", [partition, study_uid]
    if series_uid is not None:
        where, args = where + " AND series_uid=?", args + [series_uid]
    if sop_uid is not None:
        where, args = where + " AND sop_uid=?", args + [sop_uid]
    return where, args


_RECORD = ("watermark, study_uid, series_uid, sop_uid, sop_class_uid, transfer_syntax, file_name, file_size, "
           "frame_count, pixel_offset, frame_bytes")


def _elements(row: sqlite3.Row, columns) -> dict[str, dict]:
    return {c.tag: json.loads(row[f"{c.name}_json"]) for c in columns if row[f"{c.name}_json"] is not None}


class Snapshot:
    """The reads of one request, all against one committed state of the index."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    # --- instances ---------------------------------------------------------------------------

    def instances(self, study_uid: str, series_uid: str | None = None, sop_uid: str | None = None, *,
                  with_metadata: bool = False, partition: str = DEFAULT_PARTITION) -> list[InstanceRecord]:
        """The stored instances under a study/series/instance, oldest first."""
        where, args = _instance_where(partition, study_uid, series_uid, sop_uid)
        metadata = "metadata" if with_metadata else "NULL"
        rows = self._conn.execute(
            f"SELECT {_RECORD}, {metadata} FROM instances WHERE {where} ORDER BY watermark", args)
        return [InstanceRecord(*row) for row in rows]

    # --- QIDO-RS -----------------------------------------------------------------------------

    def search(self, level: Level, conditions: Sequence[Condition], limit: int, offset: int, *,
               with_metadata: bool = False, partition: str = DEFAULT_PARTITION) -> list[SearchHit]:
        """One page of studies, series or instances matching every condition, in Azure's order.

        Azure pages studies by StudyKey, series by SeriesKey and instances by Watermark, newest first
        (SqlQueryGenerator.AppendFilterPaging). With ``with_metadata`` each hit carries the metadata
        of its newest instance (its own, for instances), as Azure's CROSS APPLY TOP 1 picks it.
        """
        if level == "study":
            source, own, order = "study st", "st", "st.study_key"
        elif level == "series":
            source, own, order = "series se JOIN study st ON st.study_key = se.study_key", "se", "se.series_key"
        else:
            source = ("instances i JOIN series se ON se.series_key = i.series_key "
                      "JOIN study st ON st.study_key = i.study_key")
            own, order = "i", "i.watermark"
        # Exact and date conditions come with their table's partition, so their (partition, key) index
        # (or UNIQUE) is the plan, and the page's own partition is then a plain check ("+": no index).
        # Without such a condition (none, or only subqueries: fuzzy names, ModalitiesInStudy) the
        # page walks its table's (partition) index, whose entries are in primary-key order, newest
        # first, and stops at the limit; an offset then skips index entries, not rows.
        indexed = {_alias(cond) for cond in conditions if cond.kind in ("exact", "date")}
        where, args = [f"{own}.partition = ?" if not indexed else f"+{own}.partition = ?"], [partition]
        for alias in sorted(indexed):
            where.append(f"{alias}.partition = ?")
            args.append(partition)
        for cond in conditions:
            sql, values = _condition_sql(cond, self._common_words(cond))
            where.append(sql)
            args += values
        if offset >= 2**63:  # beyond any row; SQLite's OFFSET is a 64-bit integer
            return []
        sql = (f"SELECT {order} FROM {source} WHERE {' AND '.join(where)} "
               f"ORDER BY {order} DESC LIMIT ? OFFSET ?")
        keys = [row[0] for row in self._conn.execute(sql, args + [limit, offset])]
        return self._hits(level, keys, with_metadata)

    def _common_words(self, cond: Condition) -> frozenset[str]:
        """The words of a fuzzy condition that begin at least ``_COMMON_WORD`` name words."""
        if cond.kind != "fuzzy":
            return frozenset()
        field = COLUMN_OF[cond.tag].name
        common = set()
        for word in name_words(cond.values[0]):
            count = self._conn.execute(
                "SELECT COUNT(*) FROM (SELECT 1 FROM name_words WHERE field = ? AND word >= ? AND word < ? LIMIT ?)",
                (field, word, word + _LAST_CHAR, _COMMON_WORD)).fetchone()[0]
            if count >= _COMMON_WORD:
                common.add(word)
        return frozenset(common)

    def _hits(self, level: Level, keys: list[int], with_metadata: bool) -> list[SearchHit]:
        if not keys:
            return []
        marks = ",".join("?" * len(keys))
        sops: dict[int, str] = {}
        metadata: dict[int, str] = {}
        # (study_key, series_key, watermark): the series and instance keys as far as the level has them.
        refs: list[tuple[int, int | None, int | None]]
        if level == "study":
            # Azure answers a study's series-level attributes (an includefield=Modality, say) from the
            # series of the instance that stands for the study, its newest (QueryService merges
            # GetSeriesResultAsync for that instance's version).
            newest = dict(self._conn.execute(
                f"SELECT study_key, series_key FROM instances WHERE watermark IN (SELECT MAX(watermark) "
                f"FROM instances WHERE study_key IN ({marks}) GROUP BY study_key)", keys).fetchall())
            refs = [(k, newest.get(k), None) for k in keys]
        elif level == "series":
            order = {k: n for n, k in enumerate(keys)}
            series_rows = sorted(self._conn.execute(
                f"SELECT series_key, study_key FROM series WHERE series_key IN ({marks})", keys),
                key=lambda r: order[r[0]])
            refs = [(r[1], r[0], None) for r in series_rows]
        else:
            text = "metadata" if with_metadata else "NULL"
            rows = {r[0]: r for r in self._conn.execute(
                f"SELECT watermark, study_key, series_key, sop_uid, {text} FROM instances "
                f"WHERE watermark IN ({marks})", keys)}
            refs = [(rows[k][1], rows[k][2], k) for k in keys if k in rows]
            sops = {k: r[3] for k, r in rows.items()}
            metadata = {k: r[4] for k, r in rows.items() if r[4] is not None}
        studies = self._studies(sorted({r[0] for r in refs}))
        series = self._series(sorted({r[1] for r in refs if r[1] is not None}))
        hits = []
        for study_key, series_key, watermark in refs:
            meta_text = None
            if with_metadata:
                if watermark is not None:  # the instance level
                    meta_text = metadata.get(watermark)
                else:
                    column, value = ("study_key", study_key) if level == "study" else ("series_key", series_key)
                    row = self._conn.execute(
                        f"SELECT metadata FROM instances WHERE {column} = ? ORDER BY watermark DESC LIMIT 1",
                        (value,)).fetchone()
                    meta_text = row[0] if row else None
            hits.append(SearchHit(
                study=studies[study_key], series=series.get(series_key) if series_key is not None else None,
                sop_uid=sops.get(watermark) if watermark is not None else None,
                metadata=_metadata_dict(meta_text) if meta_text is not None else None))
        return hits

    def _studies(self, keys: list[int]) -> dict[int, StudyValues]:
        out: dict[int, StudyValues] = {}
        modalities: dict[int, set[str]] = {}
        for chunk in _chunks(keys):
            marks = ",".join("?" * len(chunk))
            for study_key, text in self._conn.execute(
                    f"SELECT study_key, modality_json FROM series WHERE study_key IN ({marks}) "
                    "AND modality_json IS NOT NULL", chunk):
                value = first_value(json.loads(text))
                if value:
                    modalities.setdefault(study_key, set()).add(value)
            for row in self._conn.execute(f"SELECT * FROM study WHERE study_key IN ({marks})", chunk):
                out[row["study_key"]] = StudyValues(
                    row["study_uid"], _elements(row, STUDY_COLUMNS), row["instance_count"],
                    tuple(sorted(modalities.get(row["study_key"], ()))))
        return out

    def _series(self, keys: list[int]) -> dict[int, SeriesValues]:
        out: dict[int, SeriesValues] = {}
        for chunk in _chunks(keys):
            marks = ",".join("?" * len(chunk))
            for row in self._conn.execute(
                    f"SELECT se.*, st.study_uid FROM series se JOIN study st ON st.study_key = se.study_key "
                    f"WHERE se.series_key IN ({marks})", chunk):
                out[row["series_key"]] = SeriesValues(row["study_uid"], row["series_uid"],
                                                      _elements(row, SERIES_COLUMNS), row["instance_count"])
        return out

    # --- data partitions ---------------------------------------------------------------------

    def partition(self, name: str) -> Partition | None:
        """The partition called ``name`` (case ignored, see schema.py), or None."""
        row = self._conn.execute("SELECT partition_key, name, created FROM partitions WHERE name = ?",
                                 (name,)).fetchone()
        return Partition(*row) if row else None

    def partitions(self) -> list[Partition]:
        """Every partition, ``Microsoft.Default`` first, then in the order they were created."""
        rows = self._conn.execute("SELECT partition_key, name, created FROM partitions ORDER BY partition_key")
        return [Partition(*row) for row in rows]

    # --- change feed -------------------------------------------------------------------------

    def _feed_select(self, include_metadata: bool) -> str:
        # The instance's current watermark decides the state of every entry about it.
        metadata = "i.metadata" if include_metadata else "NULL"
        return ("SELECT c.sequence, c.partition, c.study_uid, c.series_uid, c.sop_uid, c.action, c.timestamp, "
                f"c.watermark, i.watermark, {metadata} FROM changefeed c LEFT JOIN instances i "
                "ON i.partition = c.partition AND i.study_uid = c.study_uid "
                "AND i.series_uid = c.series_uid AND i.sop_uid = c.sop_uid")

    def feed_by_sequence(self, after: int, last: int, include_metadata: bool, *,
                         partition: str | None = DEFAULT_PARTITION) -> list[FeedEntry]:
        """Entries with ``after < sequence <= last``, in sequence order (change feed v1).

        ``partition=None``: every partition's entries (the feed with data partitions on).
        """
        rows = self._conn.execute(
            # "+": the sequence range on the primary key is the plan, not the (partition, ticks) index.
            f"{self._feed_select(include_metadata)} WHERE (? IS NULL OR +c.partition = ?) AND c.sequence > ? "
            "AND c.sequence <= ? ORDER BY c.sequence", (partition, partition, after, last))
        return [FeedEntry(*row) for row in rows]

    def feed_by_time(self, start: int | None, end: int | None, offset: int, limit: int, include_metadata: bool, *,
                     partition: str | None = DEFAULT_PARTITION) -> list[FeedEntry]:
        """Entries with ``start <= ticks < end`` ordered by time then sequence, one page (change feed v2)."""
        low = start if start is not None else -(2**63)
        high = end if end is not None else 2**63 - 1
        # The window's first entry is found on the (partition, ticks, sequence) index (or, for every
        # partition, the (ticks, sequence) one); the page is then a range of places after it, so an
        # offset skips no rows however deep it is.
        place = "position" if partition is not None else "all_position"
        scope, args = ("partition = ? AND ", [partition]) if partition is not None else ("", [])
        first = self._conn.execute(
            f"SELECT {place} FROM changefeed WHERE {scope}ticks >= ? ORDER BY ticks, sequence LIMIT 1",
            args + [low]).fetchone()
        if first is None or offset >= 2**62:  # an empty window, or beyond any entry
            return []
        begin = first[0] + offset
        rows = self._conn.execute(
            f"{self._feed_select(include_metadata)} WHERE {scope.replace('partition', 'c.partition')}"
            f"c.{place} >= ? AND c.{place} < ? AND c.ticks < ? ORDER BY c.{place}",
            args + [begin, begin + min(limit, 2**62), high])
        return [FeedEntry(*row) for row in rows]

    def feed_latest(self, by_time: bool, include_metadata: bool, *,
                    partition: str | None = DEFAULT_PARTITION) -> FeedEntry | None:
        """The newest entry: by sequence (v1) or by time then sequence (v2); ``partition=None``: of all."""
        order = "c.ticks DESC, c.sequence DESC" if by_time else "c.sequence DESC"
        scope, args = ("WHERE c.partition = ? ", (partition,)) if partition is not None else ("", ())
        row = self._conn.execute(
            f"{self._feed_select(include_metadata)} {scope}ORDER BY {order} LIMIT 1", args).fetchone()
        return FeedEntry(*row) if row else None


def _metadata_dict(text: str) -> dict[str, Any]:
    data = json.loads(text)
    return {k.upper(): v for k, v in data.items()} if isinstance(data, dict) else {}


def _alias(cond: Condition) -> str:
    """The table alias a condition is on: st (study), se (series) or i (instance)."""
    if cond.tag in _UID_COLUMN:
        return _UID_COLUMN[cond.tag].split(".")[0]
    if cond.kind == "modality" or cond.tag in _STUDY_TAGS:
        return "st"
    return "se"


def _condition_sql(cond: Condition, common: frozenset[str] = frozenset()) -> tuple[str, list[Any]]:
    """(SQL, arguments) of one condition over the aliases st (study), se (series), i (instance).

    ``common``: the words of a fuzzy condition that begin many name words (``Snapshot._common_words``).
    """
    if cond.tag in _UID_COLUMN:
        # UIDs compare exactly; a list matches any of its UIDs.
        values = [v.rstrip(" ") for v in cond.values]
        return f"{_UID_COLUMN[cond.tag]} IN ({','.join('?' * len(values))})", values
    if cond.kind == "modality":
        return ("EXISTS (SELECT 1 FROM series ms WHERE ms.study_key = st.study_key AND ms.modality_key = ?)",
                [match_key(COLUMN_OF[MODALITY_TAG], cond.values[0])])
    column = COLUMN_OF[cond.tag]
    ref = f"{_alias(cond)}.{column.name}_key"
    if cond.kind == "date":
        parts, args = [f"{ref} IS NOT NULL"], []
        if cond.low:
            parts.append(f"{ref} >= ?")
            args.append(cond.low)
        if cond.high:
            parts.append(f"{ref} <= ?")
            args.append(cond.high)
        return " AND ".join(parts), args
    if cond.kind == "fuzzy":
        # Each word of the query is a prefix of some word of the name (Azure: CONTAINS "w*" AND ...).
        # A rare word is a set of studies looked up first; a common one is checked on each study of
        # the walk, which then stops at the limit long before the set would be built.
        parts, args = [f"{ref} IS NOT NULL"], []
        for word in name_words(cond.values[0]):
            if word in common:
                parts.append("EXISTS (SELECT 1 FROM name_words w WHERE w.study_key = st.study_key AND w.field = ? "
                             "AND w.word >= ? AND w.word < ?)")
            else:
                parts.append("st.study_key IN (SELECT study_key FROM name_words WHERE field = ? "
                             "AND word >= ? AND word < ?)")
            args += [column.name, word, word + _LAST_CHAR]
        return " AND ".join(parts), args
    keys = [match_key(column, v) for v in cond.values]
    return f"{ref} IN ({','.join('?' * len(keys))})", keys


class Store:
    """The files and index of one data directory. Safe to share between threads."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self.files_dir = self.data_dir / "files"
        self.index_path = self.data_dir / INDEX_FILE
        for d in (self.data_dir, self.files_dir):
            _private_dir(d)
        self._write_lock = threading.Lock()
        self._sync_seconds: float | None = None  # a moving average of sync_files' time
        self._syncs_lock = threading.Lock()
        self._syncs_running = 0
        self._last_ticks = 0
        self._readers: queue.SimpleQueue[sqlite3.Connection] = queue.SimpleQueue()
        self._writer = self._connect()
        self._writer.execute("PRAGMA journal_mode=WAL")
        self._open_schema()
        # Timestamps go on from the newest stored one, even if the clock went back while it was closed.
        newest = self._writer.execute("SELECT MAX(ticks) FROM changefeed").fetchone()[0]
        self._last_ticks = newest or 0
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(OSError):
                os.chmod(f"{self.index_path}{suffix}", FILE_MODE)
        self.cleanup()
        self.reserve_space()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.index_path, timeout=30, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        # NORMAL in WAL mode, as Orthanc's index: a commit is in the WAL (the OS's cache) before it
        # returns, so it survives a crash of the process; the WAL is fsynced at checkpoints, so a
        # power loss may take the last commits (README, "Durability"). The files they name are
        # fsynced before the commit, so none is ever missing or partial.
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA busy_timeout=30000")
        return conn

    def close(self) -> None:
        with self._write_lock:
            self._writer.close()
        while True:
            try:
                self._readers.get_nowait().close()
            except queue.Empty:
                break

    # --- schema and migration ----------------------------------------------------------------

    def _open_schema(self) -> None:
        w = self._writer
        version = w.execute("PRAGMA user_version").fetchone()[0]
        tables = {r[0] for r in w.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        w.execute("BEGIN IMMEDIATE")
        try:
            if version < 1 and "instances" in tables:
                self._migrate_v0()
            else:
                if version == 1:
                    for table, columns in V2_COLUMNS.items():
                        # An older emulator that opened a version-2 dir wrote version 1 back: add only
                        # what is missing.
                        have = {row[1] for row in w.execute(f"PRAGMA table_info({table})")}
                        for column in columns:
                            if column.split()[0] not in have:
                                w.execute(f"ALTER TABLE {table} ADD COLUMN {column}")
                self._create_schema()  # IF NOT EXISTS: adds what a newer version indexes
            for index in DROPPED_INDEXES:
                w.execute(f"DROP INDEX IF EXISTS {index}")
            if version < 2:
                self._number_feed()
            # Azure's schema creates Microsoft.Default (key 1) with the database; here with the index.
            w.execute("INSERT OR IGNORE INTO partitions (partition_key, name, created) VALUES (1, ?, ?)",
                      (DEFAULT_PARTITION, round_trip(ticks(datetime.now(timezone.utc)))))
            w.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            w.execute("COMMIT")
        except BaseException:
            w.execute("ROLLBACK")
            raise

    def _number_feed(self) -> None:
        """Give every change-feed entry its places in the v2 order (a data dir of an older version).

        Numbered here rather than with SQL window functions and UPDATE … FROM, which SQLite before
        3.33 (still the system one of some Linux releases) lacks.
        """
        w = self._writer
        places: dict[str, int] = {}
        rows = []
        for everywhere, (sequence, partition) in enumerate(
                w.execute("SELECT sequence, partition FROM changefeed ORDER BY ticks, sequence").fetchall()):
            place = places.get(partition, 0)
            places[partition] = place + 1
            rows.append((place, everywhere, sequence))
        w.executemany("UPDATE changefeed SET position = ?, all_position = ? WHERE sequence = ?", rows)

    def _add_feed(self, rows: list[tuple[Any, ...]]) -> None:
        """Append change-feed entries: (sequence or None, partition, study, series, SOP instance, action,
        timestamp, ticks, watermark), each placed after every entry before it (see the schema)."""
        self._writer.executemany(
            "INSERT INTO changefeed (sequence, partition, study_uid, series_uid, sop_uid, action, timestamp, ticks,"
            " watermark, position, all_position) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9,"
            " (SELECT COALESCE(MAX(position) + 1, 0) FROM changefeed WHERE partition = ?2),"
            " (SELECT COALESCE(MAX(all_position) + 1, 0) FROM changefeed))", rows)

    def _create_schema(self) -> None:
        # Statement by statement: executescript would commit the migration's transaction.
        pending = ""
        for line in SCHEMA.splitlines(keepends=True):
            pending += line
            if sqlite3.complete_statement(pending):
                self._writer.execute(pending)
                pending = ""

    def _migrate_v0(self) -> None:
        """Rebuild the index of a data dir written by the previous version (one ``instances`` table)."""
        w = self._writer
        for index in ("instances_series", "instances_sop", "changefeed_instance"):
            w.execute(f"DROP INDEX IF EXISTS {index}")
        w.execute("ALTER TABLE instances RENAME TO instances_v0")
        w.execute("ALTER TABLE changefeed RENAME TO changefeed_v0")
        self._create_schema()
        for row in w.execute("SELECT * FROM instances_v0 ORDER BY watermark").fetchall():
            self._insert(DEFAULT_PARTITION, row["study_uid"], row["series_uid"], row["sop_uid"],
                         row["sop_class_uid"], row["transfer_syntax"], row["file_name"], row["file_size"],
                         row["frame_count"], row["created"], row["metadata"], row["watermark"])
        self._add_feed([(row["sequence"], DEFAULT_PARTITION, row["study_uid"], row["series_uid"], row["sop_uid"],
                         row["action"], row["timestamp"], timestamp_ticks(row["timestamp"]), row["watermark"])
                        for row in w.execute("SELECT * FROM changefeed_v0 ORDER BY sequence").fetchall()])
        # Watermarks and sequences of deleted rows are never handed out again.
        for old, new in (("instances_v0", "instances"), ("changefeed_v0", "changefeed")):
            seq = w.execute("SELECT seq FROM sqlite_sequence WHERE name=?", (old,)).fetchone()
            if seq is not None:
                w.execute("DELETE FROM sqlite_sequence WHERE name=?", (new,))
                w.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", (new, seq[0]))
        w.execute("DROP TABLE instances_v0")
        w.execute("DROP TABLE changefeed_v0")
        self._tighten_files()  # written under the umask by the previous version

    # --- files -------------------------------------------------------------------------------

    def _tighten_files(self) -> None:
        for path in self.files_dir.rglob("*"):
            with contextlib.suppress(OSError):
                os.chmod(path, DIR_MODE if path.is_dir() else FILE_MODE)

    def cleanup(self) -> None:
        """Remove files no index row points to (parts of interrupted requests), and the ``tmp/`` of
        older versions, which spooled parts there."""
        with self._write_lock:
            legacy_tmp = self.data_dir / "tmp"
            if legacy_tmp.is_dir():
                for path in legacy_tmp.iterdir():
                    with contextlib.suppress(OSError):
                        path.unlink()
                with contextlib.suppress(OSError):
                    legacy_tmp.rmdir()
            known = {row[0] for row in self._writer.execute("SELECT file_name FROM instances")}
            # os.scandir, not Path.rglob: at 100,000 files it is seconds faster and builds no Paths.
            with os.scandir(self.files_dir) as top:
                entries = list(top)
            for entry in entries:  # files are kept only in the two-letter subdirectories
                if not entry.is_dir(follow_symlinks=False):
                    with contextlib.suppress(OSError):
                        os.unlink(entry.path)
            for subdir in (e.path for e in entries if e.is_dir(follow_symlinks=False)):
                prefix = os.path.basename(subdir) + "/"
                with os.scandir(subdir) as files:
                    stray = [e.path for e in files if e.is_file(follow_symlinks=False)
                             and prefix + e.name not in known]
                for stray_path in stray:
                    with contextlib.suppress(OSError):
                        os.unlink(stray_path)

    def reserve_space(self) -> None:
        """Keep ``RESERVE_BYTES`` allocated (when the disk has them) for DELETE on a full disk."""
        path = self.data_dir / RESERVE_FILE
        with contextlib.suppress(OSError):
            if path.exists() and path.stat().st_size >= RESERVE_BYTES:
                return
            fd = os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE)
            try:
                os.write(fd, b"\0" * RESERVE_BYTES)
                os.fsync(fd)
            finally:
                os.close(fd)

    def _release_reserve(self) -> None:
        with contextlib.suppress(OSError):
            (self.data_dir / RESERVE_FILE).unlink()

    def spool_directory(self) -> Path:
        """The directory of ``files/`` (one of 256, created if need be) for one request's parts."""
        directory = self.files_dir / uuid.uuid4().hex[:2]
        if not directory.is_dir():
            _private_dir(directory)
            _fsync_dir(self.files_dir)  # its name durable too (once per directory, ever)
        return directory

    def create_file(self, directory: Path) -> tuple[Path, IO[bytes]]:
        """A new file in ``directory`` (from ``spool_directory``), open for writing, readable by the
        owner only. No row names it until ``add_all`` commits it; the caller removes it otherwise."""
        path = directory / f"{uuid.uuid4().hex}.dcm"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        if hasattr(os, "fchmod"):  # not on Windows, where modes mean little
            os.fchmod(fd, FILE_MODE)  # whatever the umask
        return path, os.fdopen(fd, "wb")

    def file_path(self, file_name: str) -> Path:
        return self.files_dir / file_name

    def file_name(self, path: Path) -> str:
        """The name under ``files/`` of a file there, as the index records it (``file_path``'s inverse)."""
        return path.relative_to(self.files_dir).as_posix()

    # --- reads -------------------------------------------------------------------------------

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[Snapshot]:
        """Reads that all see one committed state (a read transaction), for one request."""
        try:
            conn = self._readers.get_nowait()
        except queue.Empty:
            conn = self._connect()
        try:
            conn.execute("BEGIN")
            yield Snapshot(conn)
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            conn.close()
            raise
        else:
            conn.execute("COMMIT")
            self._readers.put(conn)

    # --- writes ------------------------------------------------------------------------------

    def _timestamp(self) -> tuple[str, int]:
        # Never go backwards, so change-feed order by time matches order by sequence.
        moment = max(ticks(datetime.now(timezone.utc)), self._last_ticks)
        self._last_ticks = moment
        return round_trip(moment), moment

    def _insert(self, partition: str, study_uid: str, series_uid: str, sop_uid: str, sop_class_uid: str,
                transfer_syntax: str, file_name: str, file_size: int, frame_count: int, created: str,
                metadata: str, watermark: int | None = None, layout: FrameLayout | None = None,
                elements: dict[str, Any] | None = None) -> int:
        """Index one instance: study and series rows by Azure's rules, then the instance row."""
        data = elements if elements is not None else _metadata_dict(metadata)
        study_values = instance_values(data, STUDY_COLUMNS)
        study_key, changed = self._count_in("study", "study_key", {"partition": partition, "study_uid": study_uid},
                                            study_values)
        self._index_name_words(study_key, [c for c in STUDY_COLUMNS if c.kind == "name" and c.name in changed
                                           and study_values[c.name].json is not None], study_values)
        series_key, _ = self._count_in("series", "series_key", {"study_key": study_key, "partition": partition,
                                                                "series_uid": series_uid},
                                       instance_values(data, SERIES_COLUMNS))
        cur = self._writer.execute(
            "INSERT INTO instances (watermark, partition, study_key, series_key, study_uid, series_uid, sop_uid,"
            " sop_class_uid, transfer_syntax, file_name, file_size, frame_count, created, metadata, pixel_offset,"
            " frame_bytes) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (watermark, partition, study_key, series_key, study_uid, series_uid, sop_uid, sop_class_uid,
             transfer_syntax, file_name, file_size, frame_count, created, metadata,
             layout.offset if layout else None, layout.frame_bytes if layout else None))
        return _inserted_key(cur)

    def _count_in(self, table: str, key_column: str, identity: dict[str, Any],
                  values: dict[str, IndexedValue]) -> tuple[int, tuple[str, ...]]:
        """Count one more instance in its study or series row (created if new); return the row's key
        and the columns written.

        AddInstanceV6.sql: the newest instance's value wins, but a missing or empty one keeps the old
        value (ISNULL(@new, old); PatientID only when not empty, which an empty value never is here).
        Only the columns whose value changes are written, so an instance like the ones before it
        touches none of the row's indexes.
        """
        w = self._writer
        names = tuple(values)
        row = w.execute(_row_sql(table, key_column, tuple(identity), names), tuple(identity.values())).fetchone()
        if row is None:
            args = list(identity.values()) + [v for n in names for v in (values[n].json, values[n].key)]
            key = _inserted_key(w.execute(_insert_row_sql(table, tuple(identity), names), args))
            changed: tuple[str, ...] = names
        else:
            key = row[0]
            changed = tuple(n for i, n in enumerate(names, 1)
                            if values[n].json is not None and values[n].json != row[i])
            w.execute(_count_sql(table, key_column, changed),
                      [v for n in changed for v in (values[n].json, values[n].key)] + [key])
        return key, changed

    def _index_name_words(self, study_key: int, columns: list[Column], values: dict[str, IndexedValue]) -> None:
        """Replace the words of the study's person names that changed (fuzzy matching looks them up)."""
        w = self._writer
        for column in columns:
            w.execute("DELETE FROM name_words WHERE study_key=? AND field=?", (study_key, column.name))
            w.executemany("INSERT OR IGNORE INTO name_words (field, word, study_key) VALUES (?,?,?)",
                          [(column.name, word, study_key) for word in values[column.name].words])

    def get_or_add_partition(self, name: str) -> Partition:
        """The partition called ``name``, created now if there is none (Azure's GetOrAddPartition)."""
        with self._write_lock:
            row = self._writer.execute("SELECT partition_key, name, created FROM partitions WHERE name = ?",
                                       (name,)).fetchone()
            if row is None:
                stamp, _ = self._timestamp()
                try:
                    cur = self._writer.execute("INSERT INTO partitions (name, created) VALUES (?, ?)",
                                               (name, stamp))
                except sqlite3.Error as exc:
                    if is_disk_full(exc):
                        raise StorageFull(errno.ENOSPC, "No space left on the device") from None
                    raise
                row = (cur.lastrowid, name, stamp)
        return Partition(*row)

    def add(self, staged: StagedInstance, partition: str = DEFAULT_PARTITION) -> int:
        """Commit one staged instance; return its watermark. Raises DuplicateInstance, StorageFull."""
        result = self.add_all([staged], partition)[0]
        if isinstance(result, BaseException):
            raise result
        return result

    def sync_files(self, paths: Sequence[Path]) -> None:
        """Make the written and closed files at ``paths`` durable: fsync each, then (once) each of
        their directories, so that their names are durable too."""
        with self._syncs_lock:
            self._syncs_running += 1
        began = time.perf_counter()
        try:
            for path in paths:
                _fsync_file(path)
            for directory in dict.fromkeys(p.parent for p in paths):
                _fsync_dir(directory)
        finally:
            with self._syncs_lock:
                self._syncs_running -= 1
        took = time.perf_counter() - began
        average = self._sync_seconds
        self._sync_seconds = took if average is None else 0.9 * average + 0.1 * took

    @property
    def busy(self) -> bool:
        """Whether a write (a STOW, a DELETE) holds the writer lock, or fsyncs are under way, right now."""
        return self._write_lock.locked() or self._syncs_running > 0

    @property
    def syncs_are_quick(self) -> bool:
        """Whether this disk's fsyncs have been quick (``_QUICK_SYNC_SECONDS``) on average lately."""
        average = self._sync_seconds
        return average is not None and average < _QUICK_SYNC_SECONDS

    @overload
    def add_all(self, staged: Sequence[StagedInstance], partition: str = ..., *, synced: bool = ...,
                wait: Literal[True] = ...) -> list[int | DuplicateInstance | OSError]: ...

    @overload
    def add_all(self, staged: Sequence[StagedInstance], partition: str = ..., *, synced: bool = ...,
                wait: bool) -> list[int | DuplicateInstance | OSError] | None: ...

    def add_all(self, staged: Sequence[StagedInstance], partition: str = DEFAULT_PARTITION, *,
                synced: bool = False, wait: bool = True) -> list[int | DuplicateInstance | OSError] | None:
        """Commit the staged instances of one STOW request in one transaction, in order.

        Each gets its watermark, or the DuplicateInstance or OSError (StorageFull on a full disk)
        that kept it out; the others are stored all the same (a savepoint per instance). Their files
        are made durable (``sync_files``; ``synced``: the caller did it already) before the
        transaction begins, so an index row never names a file that a crash, or a power loss, could
        take away, and other requests' writes go on during the fsyncs. The files of instances not
        stored are left to the caller to remove. Raises StorageFull (nothing stored) when the commit
        itself finds the disk full. ``wait=False``: None, with nothing done but the fsyncs, when
        another write holds the writer lock.
        """
        w = self._writer
        results: list[int | DuplicateInstance | OSError] = []
        if not synced:
            self.sync_files([s.path for s in staged])
        if not self._write_lock.acquire(blocking=wait):
            return None
        try:
            try:
                w.execute("BEGIN IMMEDIATE")
                for s in staged:
                    results.append(self._add_one(s, partition))
                w.execute("COMMIT")
            except BaseException as exc:
                if w.in_transaction:
                    w.execute("ROLLBACK")
                if is_disk_full(exc):
                    raise StorageFull(errno.ENOSPC, "No space left on the device") from None
                raise
        finally:
            self._write_lock.release()
        return results

    def _add_one(self, staged: StagedInstance, partition: str) -> int | DuplicateInstance | OSError:
        """Index one instance inside ``add_all``'s transaction."""
        w = self._writer
        file_name = self.file_name(staged.path)
        stamp, ticks = self._timestamp()
        w.execute("SAVEPOINT instance")
        try:
            # Checked inside the transaction; the UNIQUE constraint is the backstop.
            exists = w.execute(
                "SELECT 1 FROM instances WHERE partition=? AND study_uid=? AND series_uid=? AND sop_uid=?",
                (partition, staged.study_uid, staged.series_uid, staged.sop_uid)).fetchone()
            if exists:
                w.execute("RELEASE instance")
                return DuplicateInstance(staged.sop_uid)
            watermark = self._insert(partition, staged.study_uid, staged.series_uid, staged.sop_uid,
                                     staged.sop_class_uid, staged.transfer_syntax, file_name, staged.file_size,
                                     staged.frame_count, stamp, staged.metadata, layout=staged.frame_layout,
                                     elements=staged.elements)
            self._add_feed([(None, partition, staged.study_uid, staged.series_uid, staged.sop_uid, "Create", stamp,
                             ticks, watermark)])
            w.execute("RELEASE instance")
        except sqlite3.Error as exc:
            w.execute("ROLLBACK TO instance")
            w.execute("RELEASE instance")
            if isinstance(exc, sqlite3.IntegrityError):
                return DuplicateInstance(staged.sop_uid)
            if is_disk_full(exc):
                return StorageFull(errno.ENOSPC, "No space left on the device")
            raise
        return watermark

    def add_many(self, staged: Sequence[StagedInstance], partition: str = DEFAULT_PARTITION) -> None:
        """Commit many staged instances in one transaction (bulk loading, e.g. benchmarks).

        Unlike ``add_all``, no duplicate check, one timestamp for all, and only the directories fsynced.
        """
        with self._write_lock:
            stamp, ticks = self._timestamp()
            try:
                self._writer.execute("BEGIN IMMEDIATE")
                for s in staged:
                    watermark = self._insert(partition, s.study_uid, s.series_uid, s.sop_uid, s.sop_class_uid,
                                             s.transfer_syntax, self.file_name(s.path),
                                             s.file_size, s.frame_count, stamp, s.metadata, layout=s.frame_layout)
                    self._add_feed([(None, partition, s.study_uid, s.series_uid, s.sop_uid, "Create", stamp, ticks,
                                     watermark)])
                for directory in {s.path.parent for s in staged}:
                    _fsync_dir(directory)
                self._writer.execute("COMMIT")
            except BaseException:
                if self._writer.in_transaction:
                    self._writer.execute("ROLLBACK")
                raise

    def delete(self, study_uid: str, series_uid: str | None = None, sop_uid: str | None = None,
               partition: str = DEFAULT_PARTITION) -> int:
        """Delete the matching instances with a ``Delete`` change-feed entry each; return how many.

        On a full disk the space reserve is given up so that the delete (which frees space) can commit.
        """
        try:
            rows = self._delete(partition, study_uid, series_uid, sop_uid)
        except BaseException as exc:
            if not is_disk_full(exc):
                raise
            self._release_reserve()
            rows = self._delete(partition, study_uid, series_uid, sop_uid)
        # After the commit: a crash here leaves orphan files, which start-up removes.
        for file_name in rows:
            with contextlib.suppress(OSError):
                (self.files_dir / file_name).unlink()
        if rows:
            self.reserve_space()
        return len(rows)

    def _delete(self, partition: str, study_uid: str, series_uid: str | None, sop_uid: str | None) -> list[str]:
        where, args = _instance_where(partition, study_uid, series_uid, sop_uid)
        w = self._writer
        with self._write_lock:
            try:
                w.execute("BEGIN IMMEDIATE")
                rows = w.execute(
                    f"SELECT watermark, study_key, series_key, study_uid, series_uid, sop_uid, file_name "
                    f"FROM instances WHERE {where} ORDER BY watermark", args).fetchall()
                stamp, ticks = self._timestamp()
                self._add_feed([(None, partition, r["study_uid"], r["series_uid"], r["sop_uid"], "Delete", stamp,
                                 ticks, None) for r in rows])
                w.executemany("DELETE FROM instances WHERE watermark=?", [(r["watermark"],) for r in rows])
                for series_key in {r["series_key"] for r in rows}:
                    count = sum(1 for r in rows if r["series_key"] == series_key)
                    w.execute("UPDATE series SET instance_count = instance_count - ? WHERE series_key=?",
                              (count, series_key))
                for study_key in {r["study_key"] for r in rows}:
                    count = sum(1 for r in rows if r["study_key"] == study_key)
                    w.execute("UPDATE study SET instance_count = instance_count - ? WHERE study_key=?",
                              (count, study_key))
                # Azure removes a series or study row with its last instance (DeleteInstance.sql);
                # the values of the others stay as they were.
                w.executemany("DELETE FROM series WHERE series_key=? AND instance_count <= 0",
                              [(k,) for k in {r["series_key"] for r in rows}])
                for study_key in {r["study_key"] for r in rows}:
                    if w.execute("SELECT instance_count FROM study WHERE study_key=?", (study_key,)).fetchone()[0] <= 0:
                        w.execute("DELETE FROM name_words WHERE study_key=?", (study_key,))
                        w.execute("DELETE FROM study WHERE study_key=?", (study_key,))
                w.execute("COMMIT")
            except BaseException:
                if w.in_transaction:
                    w.execute("ROLLBACK")
                raise
        return [r["file_name"] for r in rows]


@functools.lru_cache(maxsize=64)
def _row_sql(table: str, key_column: str, identity: tuple[str, ...], names: tuple[str, ...]) -> str:
    """The study or series row's key and indexed values (``Store._count_in``)."""
    return (f"SELECT {key_column}, {', '.join(f'{n}_json' for n in names)} FROM {table} WHERE "
            + " AND ".join(f"{c}=?" for c in identity))


@functools.lru_cache(maxsize=64)
def _insert_row_sql(table: str, identity: tuple[str, ...], names: tuple[str, ...]) -> str:
    columns = list(identity) + [f"{n}_{part}" for n in names for part in ("json", "key")]
    return f"INSERT INTO {table} ({', '.join(columns)}, instance_count) VALUES ({','.join('?' * len(columns))}, 1)"


@functools.lru_cache(maxsize=256)
def _count_sql(table: str, key_column: str, changed: tuple[str, ...]) -> str:
    sets = "".join(f"{n}_json = ?, {n}_key = ?, " for n in changed)
    return f"UPDATE {table} SET {sets}instance_count = instance_count + 1 WHERE {key_column} = ?"


def _inserted_key(cur: sqlite3.Cursor) -> int:
    """The row id an INSERT just assigned (typeshed's ``lastrowid`` is None only before any INSERT)."""
    if cur.lastrowid is None:
        raise RuntimeError("INSERT assigned no row id")
    return cur.lastrowid
