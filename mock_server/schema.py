"""The SQLite index of the emulator, shaped like Azure's (Study, Series, Instance, ChangeFeed tables).

Files live under ``<data_dir>/files``; the index is ``<data_dir>/index.sqlite``. A row in
``instances`` exists only once its file is fully written and renamed into place, and the
instance row, its study and series rows and its change-feed entry are written in one transaction,
so a crash never leaves a half-stored instance visible.

Every table carries the data partition (Azure's PartitionName, ``Microsoft.Default`` unless data
partitions are used). The study and series rows hold the attributes Azure indexes for QIDO-RS,
each twice: ``*_json`` is the DICOM JSON element answered (first value only), ``*_key`` the folded
form matched (case-folded strings, accent-folded person names, ``yyyyMMdd`` dates).

``PRAGMA user_version`` is ``SCHEMA_VERSION``; a data directory of version 0 (one ``instances``
table holding everything, as the emulator wrote it before) is migrated by ``storage.Store``, and one of
version 1 gets the columns of version 2: the frame layout (empty for the instances it holds, whose
frames are then found by reading the file, as before) and the change feed's places, numbered from the
entries it holds.
"""

SCHEMA_VERSION = 2

_STUDY_FIELDS = ("patient_id", "patient_name", "referring_physician", "study_date", "study_description",
                 "accession_number", "patient_birth_date")
_SERIES_FIELDS = ("modality", "pps_start_date", "manufacturer_model")


# Indexes of older versions that no query uses any more, dropped when a data dir opens (each costs
# every STOW and DELETE an index write): the change feed's (study, series, SOP instance) one.
DROPPED_INDEXES = ("changefeed_instance",)

# Version 1 to 2: the frame layout of ``instances`` and the places of ``changefeed`` (numbered by
# ``storage.Store`` when it migrates).
V2_COLUMNS = {"instances": ("pixel_offset INTEGER", "frame_bytes INTEGER"),
              "changefeed": ("position INTEGER", "all_position INTEGER")}


def _columns(fields: tuple[str, ...]) -> str:
    return "".join(f"    {f}_json TEXT,\n    {f}_key TEXT,\n" for f in fields)


def _indexes(table: str, fields: tuple[str, ...]) -> str:
    # (partition): an unfiltered page walks it in primary-key order. (partition, key): equality
    # filters use it and, the rowid being the last index column, so does Azure's ORDER BY
    # StudyKey/SeriesKey DESC; date ranges scan the same index.
    return (f"CREATE INDEX IF NOT EXISTS {table}_partition ON {table} (partition);\n"
            + "".join(f"CREATE INDEX IF NOT EXISTS {table}_{f} ON {table} (partition, {f}_key);\n" for f in fields))


SCHEMA = f"""
-- Azure's Partition table: a name, a key and the date of its first STOW (Partition.sql).
-- NOCASE: Azure looks names up in SQL Server, whose default collation ignores case; assumed, since
-- the DICOM schema names no collation for PartitionName.
CREATE TABLE IF NOT EXISTS partitions (
    partition_key    INTEGER PRIMARY KEY AUTOINCREMENT,
    name             TEXT NOT NULL UNIQUE COLLATE NOCASE,
    -- ISO 8601 UTC with seven fractional digits, as .NET writes a DateTimeOffset.
    created          TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS study (
    -- Azure's StudyKey: grows with each new study, and /studies pages by it, newest first.
    study_key        INTEGER PRIMARY KEY AUTOINCREMENT,
    partition        TEXT NOT NULL,
    study_uid        TEXT NOT NULL,
{_columns(_STUDY_FIELDS)}    instance_count   INTEGER NOT NULL DEFAULT 0,
    UNIQUE (partition, study_uid)
);
{_indexes("study", _STUDY_FIELDS)}
CREATE TABLE IF NOT EXISTS series (
    -- Azure's SeriesKey: /series pages by it, newest first.
    series_key       INTEGER PRIMARY KEY AUTOINCREMENT,
    study_key        INTEGER NOT NULL REFERENCES study (study_key),
    partition        TEXT NOT NULL,
    series_uid       TEXT NOT NULL,
{_columns(_SERIES_FIELDS)}    instance_count   INTEGER NOT NULL DEFAULT 0,
    UNIQUE (study_key, series_uid)
);
CREATE INDEX IF NOT EXISTS series_uid ON series (partition, series_uid);
{_indexes("series", _SERIES_FIELDS)}
CREATE INDEX IF NOT EXISTS series_study_modality ON series (study_key, modality_key);

-- Words of the person names (accent- and case-folded), for fuzzy matching by word prefix.
CREATE TABLE IF NOT EXISTS name_words (
    field            TEXT NOT NULL,
    word             TEXT NOT NULL,
    study_key        INTEGER NOT NULL,
    PRIMARY KEY (field, word, study_key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS name_words_study ON name_words (study_key, field, word);

CREATE TABLE IF NOT EXISTS instances (
    -- A version number that grows with every store: Azure calls it the watermark.
    watermark        INTEGER PRIMARY KEY AUTOINCREMENT,
    partition        TEXT NOT NULL,
    study_key        INTEGER NOT NULL,
    series_key       INTEGER NOT NULL,
    study_uid        TEXT NOT NULL,
    series_uid       TEXT NOT NULL,
    sop_uid          TEXT NOT NULL,
    sop_class_uid    TEXT NOT NULL,
    transfer_syntax  TEXT NOT NULL,
    -- Path of the stored Part 10 file, relative to <data_dir>/files.
    file_name        TEXT NOT NULL,
    file_size        INTEGER NOT NULL,
    -- Number of frames (1 when NumberOfFrames is absent; 0 when there is no pixel data); for native
    -- pixel data, only the frames its Pixel Data holds in full.
    frame_count      INTEGER NOT NULL,
    -- Native, not deflated pixel data: where its value starts in the file and the bytes of one frame,
    -- so frames are read as byte ranges without parsing the file (Azure keeps the frame ranges it
    -- works out at STOW too). NULL otherwise, or for an instance stored by schema version 1.
    pixel_offset     INTEGER,
    frame_bytes      INTEGER,
    -- When the instance was stored: ISO 8601 UTC, e.g. 2026-11-28T06:09:24.1234567+00:00.
    created          TEXT NOT NULL,
    -- The instance's DICOM JSON as WADO metadata returns it (no bulk-data VRs), one object.
    metadata         TEXT NOT NULL,
    UNIQUE (partition, study_uid, series_uid, sop_uid)
);
CREATE INDEX IF NOT EXISTS instances_partition ON instances (partition);
CREATE INDEX IF NOT EXISTS instances_study ON instances (study_key, watermark);
CREATE INDEX IF NOT EXISTS instances_series ON instances (series_key, watermark);
CREATE INDEX IF NOT EXISTS instances_sop ON instances (partition, sop_uid);

CREATE TABLE IF NOT EXISTS changefeed (
    sequence         INTEGER PRIMARY KEY AUTOINCREMENT,
    partition        TEXT NOT NULL,
    study_uid        TEXT NOT NULL,
    series_uid       TEXT NOT NULL,
    sop_uid          TEXT NOT NULL,
    -- 'Create' or 'Delete', as Azure spells them.
    action           TEXT NOT NULL,
    -- ISO 8601 UTC with seven fractional digits, as .NET writes a DateTimeOffset.
    timestamp        TEXT NOT NULL,
    -- The same moment in 100 ns ticks since 0001-01-01 UTC: the v2 feed's time window and order.
    ticks            INTEGER NOT NULL,
    -- For a 'Create' entry, the watermark of the instance version it created.
    watermark        INTEGER,
    -- The entry's place, from 0, in the v2 feed's order (time, then sequence): among its partition's
    -- entries, and among all. The feed only grows, and a new entry is never older than the newest
    -- (Store._timestamp), so the places are dense and a page at any offset is a range lookup.
    position         INTEGER,
    all_position     INTEGER
);
CREATE INDEX IF NOT EXISTS changefeed_time ON changefeed (partition, ticks, sequence);
-- With data partitions on, the change feed (at the base URL) reads every partition.
CREATE INDEX IF NOT EXISTS changefeed_all_time ON changefeed (ticks, sequence);
CREATE INDEX IF NOT EXISTS changefeed_position ON changefeed (partition, position);
CREATE INDEX IF NOT EXISTS changefeed_all_position ON changefeed (all_position);
"""
