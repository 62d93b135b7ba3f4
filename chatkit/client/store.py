"""Opening client.db: checks, upgrades, PRAGMAs, and the Pony mapping.

`open_client_store(path)` is the one way in. It refuses files it cannot
trust (not a database, written by a newer chatkit, locked) with an error
that names the file, and upgrades older files by running the migrations.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

from ..errors import StoreError
from .schema_version import SCHEMA_VERSION

BUSY_TIMEOUT_MS = 5000
PRAGMAS = (
    "PRAGMA journal_mode = WAL",
    f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}",
    "PRAGMA synchronous = FULL",
    "PRAGMA foreign_keys = ON",
)


@dataclass
class ClientStore:
    """A bound Pony database and its entities for one client.db file."""

    path: Path
    db: object
    entities: SimpleNamespace

    def close(self) -> None:
        self.db.disconnect()
        self.db.provider.disconnect() if self.db.provider else None


def schema_version(path: Path) -> int | None:
    """The file's `user_version`, or None if there is no file yet."""
    if not path.exists():
        return None
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
        try:
            return conn.execute("PRAGMA user_version").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise store_error(path, exc) from None


def store_error(path: Path, exc: Exception) -> StoreError:
    """Turn a sqlite3 failure into a sentence that names the file and a way out."""
    text = str(exc)
    if "not a database" in text or "malformed" in text:
        return StoreError(f"{path} is not a usable chatkit database ({text}); "
                          "restore it from a backup (`chatkit restore FILE`) or move it away.")
    if "locked" in text or "busy" in text:
        return StoreError(f"{path} is locked by another program; close it and try again.")
    if "readonly" in text or "read-only" in text or "unable to open" in text:
        return StoreError(f"{path} cannot be written ({text}); check the permissions of the data dir.")
    if "disk is full" in text or "disk I/O" in text:
        return StoreError(f"{path}: {text}; free some disk space and try again.")
    return StoreError(f"{path}: {text}")


def check_version(path: Path) -> int | None:
    version = schema_version(path)
    if version is not None and version > SCHEMA_VERSION:
        raise StoreError(
            f"{path} was written by a newer chatkit (schema {version}, this one knows {SCHEMA_VERSION}); "
            "upgrade chatkit to use it."
        )
    return version


def upgrade(path: Path) -> None:
    """Run pending migrations; the only place client code imports sqlite-utils."""
    import sqlite_utils

    from . import migrations

    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000)
    try:
        for pragma in PRAGMAS:
            conn.execute(pragma)
        migrations.apply(sqlite_utils.Database(conn))
    finally:
        conn.close()


def open_client_store(path: str | Path) -> ClientStore:
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"Cannot create the data dir {path.parent}: {exc.strerror}.") from None
    try:
        version = check_version(path)
        if version is None or version < SCHEMA_VERSION:
            upgrade(path)
        return _bind(path)
    except sqlite3.DatabaseError as exc:
        raise store_error(path, exc) from None


def _bind(path: Path) -> ClientStore:
    from pony.orm import Database

    from .schema import define_entities

    db = Database()

    @db.on_connect(provider="sqlite")
    def _pragmas(_db, connection):
        cursor = connection.cursor()
        for pragma in PRAGMAS:
            cursor.execute(pragma)

    entities = define_entities(db)
    db.bind(provider="sqlite", filename=str(path.resolve()), create_db=False)
    db.generate_mapping(create_tables=False, check_tables=True)
    return ClientStore(path=path, db=db, entities=entities)
