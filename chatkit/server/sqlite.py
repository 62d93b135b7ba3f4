"""Everything in the server that only SQLite understands, in one place.

The rest of the server speaks Pony (and portable SQL), so a later issue can
bind the same entities to PostgreSQL by replacing this module: the PRAGMAs set
on every connection, and the reading of SQLite's error messages that decides
whether a failure is lock contention (retry) or storage trouble (503).
"""

from __future__ import annotations

import sqlite3

BUSY_TIMEOUT_MS = 5000
CACHE_KIB = 128  # page cache per connection



def pragmas() -> list[str]:
    """The statements run on every new connection (read at connect time)."""
    return [
        "PRAGMA journal_mode = WAL",
        "PRAGMA synchronous = FULL",  # a 201 must survive power loss, not only a crash
        f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_MS)}",
        "PRAGMA foreign_keys = ON",
        # Every waitress thread keeps its own connection (up to 256): at SQLite's default
        # 2 MiB page cache each, RSS kept climbing for as long as server.db grew
        # (bench.load --soak). The OS caches the file anyway; 128 KiB each bounds all
        # of them at 32 MiB.
        f"PRAGMA cache_size = {-CACHE_KIB}",
    ]

_LOCKED = ("database is locked", "database table is locked", "database schema is locked")
_STORAGE = (
    "database or disk is full",
    "attempt to write a readonly database",
    "disk i/o error",
    "unable to open database file",
    "readonly database",
)


def register_pragmas(db) -> None:
    """Set the PRAGMAs on every new connection (must run before `db.bind`)."""

    @db.on_connect(provider="sqlite")
    def _pragmas(_db, connection):
        cursor = connection.cursor()
        for statement in pragmas():
            cursor.execute(statement)


def bind(db, path) -> None:
    db.bind(provider="sqlite", filename=str(path), create_db=True,
            timeout=BUSY_TIMEOUT_MS / 1000)


def root_cause(exc: BaseException) -> BaseException:
    """Unwrap Pony's exception wrappers down to the driver's exception."""
    seen = set()
    while id(exc) not in seen:
        seen.add(id(exc))
        inner = getattr(exc, "original_exc", None)
        if inner is None and getattr(exc, "exceptions", None):
            first = exc.exceptions[0]
            inner = first[1] if isinstance(first, tuple) else first
        if inner is None:
            inner = exc.__cause__
        if inner is None or not isinstance(inner, BaseException):
            return exc
        exc = inner
    return exc


def classify(exc: BaseException) -> str | None:
    """'locked' (contention: retry), 'storage' (disk full, read-only: 503) or None."""
    cause = root_cause(exc)
    text = str(cause).lower()
    if isinstance(cause, sqlite3.OperationalError) or "OperationalError" in type(cause).__name__:
        if any(marker in text for marker in _LOCKED):
            return "locked"
        if any(marker in text for marker in _STORAGE):
            return "storage"
    if isinstance(cause, (sqlite3.DatabaseError,)) and any(m in text for m in _STORAGE):
        return "storage"
    return None


def is_integrity_error(exc: BaseException) -> bool:
    cause = root_cause(exc)
    return isinstance(cause, sqlite3.IntegrityError) or "IntegrityError" in type(exc).__name__
