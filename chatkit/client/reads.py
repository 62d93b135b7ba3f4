"""The fast way into client.db for the commands that mostly read.

`chatkit conversations` must start about as fast as Python with typer, rich
and sqlite3 alone, so these commands do not import Pony or sqlite-utils: they
open a plain sqlite3 connection, check `PRAGMA user_version` on it, and only
go through `open_client_store` (which creates or upgrades the file, and
refuses newer ones) when the file is missing or older than this chatkit.
Every sqlite3 failure becomes a StoreError that names the file.
"""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from pathlib import Path

from . import store as _store
from .schema_version import SCHEMA_VERSION


def iso_sql(column: str) -> str:
    """SQL that turns a stored time ('YYYY-MM-DD HH:MM:SS.ffffff') into timefmt.iso_z's text.

    Done in SQL so a listing of a thousand rows costs no Python per value
    (NULL stays NULL: every branch concatenates the column).
    """
    return (f"CASE WHEN substr({column}, 21) IN ('', '000000') "
            f"THEN substr({column}, 1, 10) || 'T' || substr({column}, 12, 8) || 'Z' "
            f"ELSE substr({column}, 1, 10) || 'T' || substr({column}, 12) || 'Z' END")


def connect(path: Path) -> sqlite3.Connection:
    """A connection with the store's PRAGMAs, in autocommit mode (explicit BEGIN)."""
    conn = sqlite3.connect(path, timeout=_store.BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                           check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {_store.BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA synchronous = FULL")
    return conn


def _open_current(path: Path) -> sqlite3.Connection:
    """One connection to a file at this chatkit's schema version, creating or upgrading it."""
    if path.exists():
        conn = connect(path)
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
        except BaseException:
            conn.close()
            raise
        if version == SCHEMA_VERSION:
            return conn
        conn.close()
    _store.open_client_store(path).close()  # creates, upgrades, or refuses a newer file
    return connect(path)


@contextmanager
def reading(path):
    """Yield a connection to an up-to-date client.db; close it afterwards."""
    path = Path(path)
    try:
        conn = _open_current(path)
    except sqlite3.DatabaseError as exc:
        raise _store.store_error(path, exc) from None
    try:
        yield conn
    except sqlite3.DatabaseError as exc:
        raise _store.store_error(path, exc) from None
    finally:
        conn.close()


@contextmanager
def transaction(conn: sqlite3.Connection):
    """BEGIN IMMEDIATE ... COMMIT, rolled back on any error, so nothing is half-written."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
