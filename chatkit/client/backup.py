"""Backups and restores of client.db (and server.db) that are safe while chatkit runs.

Both directions use SQLite's online backup API: a backup is one consistent
snapshot even while `sync --watch` or the server keeps writing (WAL readers
do not block writers), and a restore writes the live file under SQLite's own
locks rather than copying bytes under a running program. A backup is written
to a temporary name, checked, and renamed into place; a restore checks the
file first (PRAGMA integrity_check, and that it is a chatkit database) and
keeps the database it replaces beside it.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from ..errors import StoreError, UsageError
from .schema_version import SCHEMA_VERSION
from .store import BUSY_TIMEOUT_MS, store_error

KINDS = ("client", "server")


@dataclass
class Copied:
    source: Path
    target: Path
    kind: str
    size: int
    kept: Path | None = None  # the database a restore replaced, saved beside it


def default_backup_path(source: Path, now: datetime | None = None) -> Path:
    """`<data-dir>/client-backup-20261204T161717Z.db`, made unique if taken."""
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%SZ")
    return _unique(source.parent / f"{source.stem}-backup-{stamp}.db")


def backup_database(source: Path, target: Path | None = None) -> Copied:
    """A consistent copy of `source` at `target` (default: timestamped, beside it)."""
    source = Path(source)
    if not source.is_file():
        raise StoreError(f"There is no {source} to back up.")
    target = Path(target) if target is not None else default_backup_path(source)
    if target.exists():
        raise StoreError(f"{target} already exists; choose another name with --to, or remove it.")
    kind = database_kind(source)
    _copy(source, target)
    return Copied(source=source, target=target, kind=kind, size=target.stat().st_size)


def restore_database(file: Path, data_dir: Path, force: bool = False) -> Copied:
    """Put a checked backup in place of `<data-dir>/client.db` (or server.db).

    Which one follows from the file itself. Refuses to replace an existing
    database unless `force`; the replaced one is first backed up beside it.
    """
    file = Path(file)
    if not file.is_file():
        raise UsageError(f"Cannot read {file}: no such file.")
    kind = check_backup(file)
    target = Path(data_dir) / f"{kind}.db"
    kept = None
    if target.exists():
        if target.resolve() == file.resolve():
            raise UsageError(f"{file} is the database itself; restore from a backup copy.")
        if not force:
            raise StoreError(f"{target} already exists; add --force to replace it "
                             "(it is backed up beside it first).")
        kept = _unique(target.parent / f"{kind}-before-restore-"
                       f"{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}.db")
        _copy(target, kept)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        src = _connect(file, readonly=True)
        dst = _connect(target)
        try:
            src.backup(dst)
            _check_integrity(dst, target)
        finally:
            src.close()
            dst.close()
    except sqlite3.DatabaseError as exc:
        raise store_error(target, exc) from None
    except OSError as exc:
        raise StoreError(f"Cannot write {target}: {exc.strerror}; check the data dir.") from None
    return Copied(source=file, target=target, kind=kind, size=target.stat().st_size, kept=kept)


def check_backup(file: Path) -> str:
    """'client' or 'server' if `file` is a sound chatkit database this chatkit can use."""
    kind = database_kind(file)
    try:
        conn = _connect(file, readonly=True)
        try:
            _check_integrity(conn, file)
            version = conn.execute("PRAGMA user_version").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise store_error(file, exc) from None
    if kind == "client" and version > SCHEMA_VERSION:
        raise StoreError(f"{file} was written by a newer chatkit (schema {version}, this one "
                         f"knows {SCHEMA_VERSION}); upgrade chatkit to restore it.")
    return kind


def database_kind(path: Path) -> str:
    """Tell a client.db from a server.db by its tables; StoreError for anything else."""
    try:
        conn = _connect(path, readonly=True)
        try:
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            sets = set()
            if "_sqlite_migrations" in tables:
                sets = {row[0] for row in conn.execute("SELECT migration_set FROM _sqlite_migrations")}
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise store_error(path, exc) from None
    if "chatkit-client" in sets and {"messages", "conversations", "outbox"} <= tables:
        return "client"
    if {"users", "credentials", "sessions", "messages", "schema_migrations"} <= tables:
        return "server"
    raise StoreError(f"{path} is an SQLite file but not a chatkit database; nothing was changed.")


def _copy(source: Path, target: Path) -> None:
    """Online backup of `source` into a temporary file, checked, then renamed to `target`."""
    tmp = target.with_name(f".{target.name}.tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp.unlink(missing_ok=True)
        src = _connect(source, readonly=True)
        dst = _connect(tmp)
        try:
            src.backup(dst)  # all pages in one step: one consistent snapshot
            dst.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
            _check_integrity(dst, source)
        finally:
            src.close()
            dst.close()
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except sqlite3.DatabaseError as exc:
        _discard(tmp)
        raise store_error(source, exc) from None
    except OSError as exc:
        _discard(tmp)
        raise StoreError(f"Cannot write {target}: {exc.strerror}; choose another place with --to.") from None


def _connect(path: Path, readonly: bool = False) -> sqlite3.Connection:
    if readonly:
        conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True,
                               timeout=BUSY_TIMEOUT_MS / 1000)
    else:
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    return conn


def _check_integrity(conn: sqlite3.Connection, path: Path) -> None:
    problems = [row[0] for row in conn.execute("PRAGMA integrity_check")]
    if problems != ["ok"]:
        raise StoreError(f"{path} fails SQLite's integrity check ({problems[0]}); "
                         "it was not used. Try an older backup.")


def _discard(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError:
        pass


def _unique(path: Path) -> Path:
    candidate, n = path, 2
    while candidate.exists():
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
        n += 1
    return candidate
