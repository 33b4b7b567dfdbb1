"""The SQLite index of the emulator: one table of stored instances, one of change-feed entries.

Files live under ``<data_dir>/files``; the index is ``<data_dir>/index.sqlite``. A row in
``instances`` exists only once its file is fully written and renamed into place, and the
instance row and its change-feed entry are written in the same transaction, so a crash never
leaves a half-stored instance visible.
"""

SCHEMA = """
CREATE TABLE IF NOT EXISTS instances (
    -- A version number that grows with every store; Azure calls it the watermark.
    watermark        INTEGER PRIMARY KEY AUTOINCREMENT,
    study_uid        TEXT NOT NULL,
    series_uid       TEXT NOT NULL,
    sop_uid          TEXT NOT NULL,
    sop_class_uid    TEXT NOT NULL,
    transfer_syntax  TEXT NOT NULL,
    -- Path of the stored Part 10 file, relative to <data_dir>/files.
    file_name        TEXT NOT NULL,
    file_size        INTEGER NOT NULL,
    -- Number of frames (1 when NumberOfFrames is absent; 0 when there is no pixel data).
    frame_count      INTEGER NOT NULL,
    -- When the instance was stored: ISO 8601 UTC, e.g. 2026-11-28T06:09:24.1234567+00:00.
    created          TEXT NOT NULL,
    -- The instance's DICOM JSON as WADO metadata returns it (no bulk-data VRs), one object.
    metadata         TEXT NOT NULL,
    UNIQUE (study_uid, series_uid, sop_uid)
);
CREATE INDEX IF NOT EXISTS instances_series ON instances (study_uid, series_uid);
CREATE INDEX IF NOT EXISTS instances_sop ON instances (sop_uid);

CREATE TABLE IF NOT EXISTS changefeed (
    sequence         INTEGER PRIMARY KEY AUTOINCREMENT,
    study_uid        TEXT NOT NULL,
    series_uid       TEXT NOT NULL,
    sop_uid          TEXT NOT NULL,
    -- 'Create' or 'Delete', as Azure spells them.
    action           TEXT NOT NULL,
    -- ISO 8601 UTC with seven fractional digits, as .NET writes a DateTimeOffset.
    timestamp        TEXT NOT NULL,
    -- For a 'Create' entry, the watermark of the instance version it created.
    watermark        INTEGER
);
CREATE INDEX IF NOT EXISTS changefeed_instance ON changefeed (study_uid, series_uid, sop_uid);
"""
