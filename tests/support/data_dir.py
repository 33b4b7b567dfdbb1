"""What an emulator's data directory holds on disk: its index rows and the files no row names."""

import sqlite3
from pathlib import Path


def index_rows(data_dir: Path) -> list[tuple[str, str, int]]:
    """(SOP instance UID, file name under ``files/``, file size) of every indexed instance."""
    with sqlite3.connect(Path(data_dir) / "index.sqlite") as conn:
        return conn.execute("SELECT sop_uid, file_name, file_size FROM instances").fetchall()


def index_count(data_dir: Path) -> int:
    """Instances in the index."""
    with sqlite3.connect(Path(data_dir) / "index.sqlite") as conn:
        return conn.execute("SELECT COUNT(*) FROM instances").fetchone()[0]


def unindexed_files(data_dir: Path) -> list[str]:
    """Files under ``files/`` that no index row names (parts of a request not, or not yet, stored)."""
    files_dir = Path(data_dir) / "files"
    named = {name for _, name, _ in index_rows(data_dir)}
    return sorted(p.relative_to(files_dir).as_posix() for p in files_dir.rglob("*")
                  if p.is_file() and p.relative_to(files_dir).as_posix() not in named)
