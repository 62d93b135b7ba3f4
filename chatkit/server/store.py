"""Open server.db and run work in short, retried transactions.

`open_server_store(path)` follows Pony's advice: PRAGMAs registered with
`@db.on_connect` before `bind`, bind late, map, then apply the named
migrations recorded in the database. `ServerStore.run` is the one place where
lock contention is retried and storage trouble becomes a 503, so no view ever
meets a raw `sqlite3.OperationalError`.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from pony.orm import Database, db_session

from .. import timefmt
from ..errors import ChatkitError, ServiceUnavailable
from . import sqlite
from .entities import define_entities

log = logging.getLogger("chatkit.server")


def m001_initial_schema(db):
    """Create every table, key and index the entities declare (DESIGN.md section 4).

    Later migrations must be safe on a file this one just created.
    """
    db.create_tables()


MIGRATIONS = [m001_initial_schema]


class ServerStore:
    """A bound, mapped Database plus its entities (`store.User`, `store.Message`, ...)."""

    def __init__(self, db, entities, path):
        self.db = db
        self.path = Path(path)
        for name, entity in entities.items():
            setattr(self, name, entity)

    def run(self, fn, *args, write=False, retries=4, **kwargs):
        """Call `fn` inside one db_session; return its result (plain data only).

        `write=True` starts the transaction immediately (BEGIN IMMEDIATE), so
        writers queue on SQLite's lock instead of failing optimistic checks.
        """
        delay = 0.02
        for attempt in range(retries + 1):
            try:
                with db_session(optimistic=not write, immediate=write):
                    return fn(*args, **kwargs)
            except ChatkitError:
                raise
            except Exception as exc:
                kind = sqlite.classify(exc)
                if kind == "locked" and attempt < retries:
                    time.sleep(delay)
                    delay *= 2
                    continue
                raise storage_error(exc, kind) from exc

    def close(self):
        self.db.disconnect()


def storage_error(exc, kind=None):
    """Map a database failure to the error a person sees; re-raise anything else."""
    kind = kind or sqlite.classify(exc)
    if kind == "locked":
        return ServiceUnavailable("The server is busy. Try again in a moment.",
                                  retry_after=1, code="busy")
    if kind == "storage":
        log.error("storage trouble: %s", sqlite.root_cause(exc))
        return ServiceUnavailable(retry_after=30)
    return exc


def open_server_store(path) -> ServerStore:
    """Open (creating or upgrading) server.db at `path`."""
    path = Path(path).resolve()  # Pony reads a relative filename against its caller's module dir
    path.parent.mkdir(parents=True, exist_ok=True)
    db = Database()
    entities = define_entities(db)
    sqlite.register_pragmas(db)
    sqlite.bind(db, path)
    db.generate_mapping(create_tables=False, check_tables=False)
    store = ServerStore(db, entities, path)
    _migrate(store)
    return store


def _migrate(store):
    """Apply, in order, each migration not yet recorded in schema_migrations."""
    db = store.db
    with db_session:
        known = db.provider.table_exists(db.get_connection(), store.Migration._table_)
        done = {m.name for m in store.Migration.select()} if known else set()
    for migration in MIGRATIONS:
        if migration.__name__ not in done:
            migration(db)  # each migration opens its own (DDL) db_session
            with db_session:
                store.Migration(name=migration.__name__, applied_at=timefmt.utcnow())
    with db_session:
        db.check_tables()
