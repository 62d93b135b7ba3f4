"""The FTS5 index: kept exact by the triggers on Pony writes, and added to old files on open."""

import sqlite3
from datetime import datetime

import pytest
import sqlite_utils
from pony.orm import db_session

from chatkit.client import migrations
from chatkit.client.store import open_client_store
from chatkit.search import SEARCH_TRIGGERS, search_messages
from fixtures_client import add_message


def integrity_ok(path) -> None:
    """FTS5's own check, comparing the index with the content table (rank 1)."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)")
    finally:
        conn.close()


def bodies(store, query):
    return [hit.message["body"] for hit in search_messages(store, query, "alice")]


def fts_data_rows(path) -> int:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT count(*), total(length(block)) FROM messages_fts_data").fetchone()
    finally:
        conn.close()


def test_pony_insert_edit_delete_keep_the_index_exact(client_store):
    message = add_message(client_store, "bob", "Grüße aus Köln")
    integrity_ok(client_store.path)
    assert bodies(client_store, "grusse koln") == ["Grüße aus Köln"]

    Message = client_store.entities.Message
    with db_session:
        row = Message.get(uuid=message["id"])
        row.body = "Schöne Straße"
    integrity_ok(client_store.path)
    assert bodies(client_store, "grusse") == []
    assert bodies(client_store, "STRASSE schone") == ["Schöne Straße"]
    with db_session:
        assert Message.get(uuid=message["id"]).body_folded == "schöne strasse"

    with db_session:
        Message.get(uuid=message["id"]).delete()
    integrity_ok(client_store.path)
    assert bodies(client_store, "strasse") == []


def test_marking_read_does_not_reindex(client_store):
    message = add_message(client_store, "bob", "unread words here")
    before = fts_data_rows(client_store.path)
    with db_session:
        client_store.entities.Message.get(uuid=message["id"]).status = "read"
    assert fts_data_rows(client_store.path) == before
    integrity_ok(client_store.path)
    assert bodies(client_store, "unread words") == ["unread words here"]


def m001_only_file(path):
    """A client.db as chatkit made it before the search migration existed."""
    db = sqlite_utils.Database(path)
    migrations.migrations.apply(db, stop_before="m002_search")
    db.execute("PRAGMA user_version = 1")
    rows = [
        ("u1", "alice", "bob", "in", "bob", "alice", "Liebe Grüße, Bob", "2026-11-30 08:00:00.000000", "read"),
        ("u2", "alice", "bob", "out", "alice", "bob", "Danke, GRÜSSE zurück", "2026-11-30 09:00:00.123456", "sent"),
        ("u3", "alice", "carol", "in", "carol", "alice", "Nachricht aus München", "2026-11-30 10:00:00.000000", "unread"),
    ]
    with db.conn:
        db.conn.executemany(
            "INSERT INTO messages (uuid, account, peer, direction, sender, recipient, body, sent_at, status) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    db.close()


def test_an_m001_file_is_upgraded_on_first_open(isolated_data_dir):
    path = isolated_data_dir / "client.db"
    m001_only_file(path)
    assert "messages_fts" not in sqlite_utils.Database(path).table_names()

    store = open_client_store(path)
    try:
        integrity_ok(path)
        assert sorted(bodies(store, "grusse")) == ["Danke, GRÜSSE zurück", "Liebe Grüße, Bob"]
        assert bodies(store, "munchen") == ["Nachricht aus München"]
        add_message(store, "carol", "Neue Grüße nach dem Upgrade")
        assert len(bodies(store, "grüße")) == 3
        integrity_ok(path)
    finally:
        store.close()

    db = sqlite_utils.Database(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == 2
    assert db["messages"].detect_fts() == "messages_fts"  # what Datasette's search box uses
    triggers = {t.name for t in db["messages"].triggers}
    assert set(SEARCH_TRIGGERS) <= triggers and set(migrations.CONVERSATION_TRIGGERS) <= triggers
    assert db.execute("SELECT DISTINCT typeof(sent_at) FROM messages").fetchall() == [("text",)]
    assert db.execute("SELECT sent_at FROM messages WHERE uuid = 'u2'").fetchone()[0] == "2026-11-30 09:00:00.123456"
    assert db["messages"].columns_dict["sent_at"] is str
    assert db["conversations"].count == 2


def test_the_read_path_upgrades_an_old_file_too(isolated_data_dir):
    path = isolated_data_dir / "client.db"
    m001_only_file(path)
    hits = search_messages(path, "liebe", "alice")
    assert [hit.snippet for hit in hits] == ["[Liebe] Grüße, Bob"]
    integrity_ok(path)


def test_a_newer_file_is_refused_with_its_name(isolated_data_dir, client_store):
    from chatkit.errors import StoreError

    conn = sqlite3.connect(client_store.path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(StoreError) as info:
        search_messages(client_store.path, "hello", "alice")
    assert str(client_store.path) in info.value.message and "newer chatkit" in info.value.message


def test_search_does_not_write(client_store):
    add_message(client_store, "bob", "nothing changes", sent_at=datetime(2026, 12, 1, 12, 0))
    conn = sqlite3.connect(client_store.path)
    before = conn.execute("SELECT total_changes()").fetchone()
    dump_before = list(conn.iterdump())
    search_messages(client_store, "nothing", "alice")
    assert list(conn.iterdump()) == dump_before
    conn.close()
    assert before is not None


@pytest.mark.parametrize("query, sort", [("grüße with:bob", "rank"), ("grüße with:bob", "date"),
                                         ("hallo from:bob on:2026-12-01", "rank")])
def test_the_fts_table_drives_the_join(client_store, query, sort):
    """A with:/from: filter must not turn the plan round (MATCH per row of a peer's index)."""
    from chatkit.search import parse_query, ranked_sql

    for i in range(30):
        add_message(client_store, "bob" if i % 3 else "carol", f"Grüße Nummer {i}")
    conn = sqlite3.connect(client_store.path)
    conn.execute("ANALYZE")
    sql, params = ranked_sql(parse_query(query, tz="UTC"), "alice", 20, sort)
    plan = [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params)]
    conn.close()
    assert plan[0].startswith("SCAN f VIRTUAL TABLE"), plan
    assert any(step.startswith("SEARCH m USING INTEGER PRIMARY KEY") for step in plan), plan


def test_the_bulk_import_path_leaves_a_complete_index(client_store):
    """chatkit import drops the FTS triggers, indexes new rowids itself, and re-creates them."""
    import json

    from chatkit.client.reads import reading
    from chatkit.client.transfer import import_messages

    lines = [json.dumps({"id": f"00000000-0000-4000-8000-{i:012d}", "peer": "bob", "direction": "in",
                         "sender": "bob", "recipient": "alice", "body": body,
                         "sent_at": f"2026-11-0{1 + i % 9}T10:00:00Z", "status": "read"})
             for i, body in enumerate(["Schöne Grüße", "GRÜSSE aus Köln", "nichts", "Straßenbahn fährt"])]
    with reading(client_store.path) as conn:
        assert import_messages(conn, lines, "alice").imported == 4
    integrity_ok(client_store.path)
    assert sorted(bodies(client_store, "grusse")) == ["GRÜSSE aus Köln", "Schöne Grüße"]
    assert bodies(client_store, "strassen*") == ["Straßenbahn fährt"]
    db = sqlite_utils.Database(client_store.path)
    assert set(SEARCH_TRIGGERS) <= {t.name for t in db["messages"].triggers}
    add_message(client_store, "bob", "Grüße nach dem Import")  # the triggers work again
    assert len(bodies(client_store, "grüße")) == 3
    integrity_ok(client_store.path)


@pytest.mark.parametrize("change", ["CREATE TABLE elsewhere (x)", "import"])
def test_a_live_store_keeps_writing_after_another_connection_changes_the_schema(client_store, change):
    """SQLite 3.40 fails the first write after a schema change when an FTS trigger is the newest trigger."""
    import json

    from chatkit.client.reads import reading
    from chatkit.client.transfer import import_messages

    first = add_message(client_store, "bob", "vorher")
    client_store.close()  # a fresh live connection that has read, but not yet written
    client_store = open_client_store(client_store.path)
    with db_session:
        assert client_store.entities.Message.select().count() == 1
    if change == "import":
        line = json.dumps({"id": "00000000-0000-4000-8000-000000000001", "peer": "carol", "direction": "in",
                           "sender": "carol", "recipient": "alice", "body": "importiert",
                           "sent_at": "2026-11-01T10:00:00Z", "status": "read"})
        with reading(client_store.path) as conn:
            import_messages(conn, [line], "alice")
    else:
        conn = sqlite3.connect(client_store.path)
        conn.execute(change)
        conn.commit()
        conn.close()
    add_message(client_store, "bob", "nachher")  # insert
    with db_session:
        client_store.entities.Message.get(uuid=first["id"]).body = "geändert"  # update
    with db_session:
        client_store.entities.Message.get(uuid=first["id"]).delete()  # delete
    integrity_ok(client_store.path)
    assert bodies(client_store, "nachher") == ["nachher"] and bodies(client_store, "geandert") == []
    client_store.close()
