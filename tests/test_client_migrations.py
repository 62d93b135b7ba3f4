"""Migrations of client.db: order, recorded names, the cheap version mirror."""

import sqlite3

from chatkit.client import migrations
from chatkit.client.schema_version import SCHEMA_VERSION
from chatkit.client.store import open_client_store


def trigger_order(path):
    conn = sqlite3.connect(path)
    try:
        return [name for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY rowid")]
    finally:
        conn.close()


def test_new_file_records_every_migration_and_mirrors_the_count(tmp_path):
    path = tmp_path / "client.db"
    open_client_store(path).close()
    conn = sqlite3.connect(path)
    names = [n for (n,) in conn.execute("SELECT name FROM _sqlite_migrations ORDER BY id")]
    assert names == [m.name for m in migrations.migrations._migrations]
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == len(names)


def test_conversation_triggers_come_after_the_fts_triggers(tmp_path):
    """The order that avoids SQLite 3.40's 'no such table' after a schema change elsewhere."""
    path = tmp_path / "client.db"
    open_client_store(path).close()
    order = trigger_order(path)
    assert max(order.index(t) for t in ("messages_ai", "messages_ad", "messages_au")) < min(
        order.index(t) for t in migrations.CONVERSATION_TRIGGERS)


def test_an_open_connection_can_insert_after_another_connection_upgrades(tmp_path):
    """The SQLite 3.40 'no such table' after a schema change elsewhere must not happen."""
    from datetime import datetime

    from pony.orm import db_session

    path = tmp_path / "client.db"
    store = open_client_store(path)
    with db_session:
        store.entities.Message(uuid="u1", account="ann", peer="bob", direction="in", sender="bob",
                               recipient="ann", body="eins", sent_at=datetime(2026, 1, 1), status="unread")
    other = sqlite3.connect(path)
    other.execute("CREATE TABLE unrelated (x)")  # any schema change by another connection
    other.commit()
    other.close()
    with db_session:
        store.entities.Message(uuid="u2", account="ann", peer="bob", direction="in", sender="bob",
                               recipient="ann", body="zwei", sent_at=datetime(2026, 1, 2), status="unread")
    with db_session:
        assert store.db.select("SELECT message_count FROM conversations")[0] == 2
    store.close()
