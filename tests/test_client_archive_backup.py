"""Backups while chatkit writes, and restores that check the file first."""

import sqlite3
import subprocess
import sys
import textwrap
import time
from datetime import datetime, timezone

import pytest
from fixtures_client import add_message

from chatkit.client.backup import backup_database, default_backup_path, restore_database
from chatkit.errors import StoreError, UsageError

WRITER = textwrap.dedent("""
    import sqlite3, sys, uuid
    conn = sqlite3.connect(sys.argv[1], timeout=5, isolation_level=None)
    conn.execute("PRAGMA busy_timeout = 5000")
    print("ready", flush=True)
    n = 0
    while True:
        conn.execute("BEGIN IMMEDIATE")
        for _ in range(20):
            n += 1
            peer = "peer%d" % (n % 7)
            conn.execute(
                "INSERT INTO messages (uuid, account, peer, direction, sender, recipient, body, "
                "body_folded, sent_at, status) VALUES (?, 'alice', ?, 'in', ?, 'alice', ?, ?, ?, 'unread')",
                (str(uuid.uuid4()), peer, peer, "Nachricht %d" % n, "nachricht %d" % n,
                 "2026-12-01 10:00:%02d.%06d" % (n % 60, n)))
        conn.execute("COMMIT")
""")


def consistent(path):
    """The copy is a snapshot: conversations agree exactly with messages, FTS has every row."""
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        stored = dict(((p, (c, u)) for p, c, u in conn.execute(
            "SELECT peer, message_count, unread_count FROM conversations")))
        counted = dict(((p, (c, u)) for p, c, u in conn.execute(
            "SELECT peer, count(*), sum(status = 'unread') FROM messages GROUP BY peer")))
        assert stored == counted
        total = conn.execute("SELECT count(*) FROM messages").fetchone()[0]
        indexed = conn.execute("SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'nachricht'").fetchone()[0]
        assert indexed == total
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        return total
    finally:
        conn.close()


def test_backup_while_another_process_writes_is_a_consistent_snapshot(client_store, tmp_path):
    add_message(client_store, "bob", "Nachricht null")
    client_store.close()
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(client_store.path)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "ready"
        totals = []
        for i in range(4):
            time.sleep(0.2)
            done = backup_database(client_store.path, tmp_path / f"copy{i}.db")
            assert done.kind == "client" and done.size == (tmp_path / f"copy{i}.db").stat().st_size
            totals.append(consistent(done.target))
        assert writer.poll() is None, "the writer must still be running during the backups"
    finally:
        writer.kill()
        writer.wait()
    assert totals == sorted(totals) and totals[-1] > totals[0] > 1
    assert not list(tmp_path.glob(".*.tmp"))


def test_default_backup_name_is_timestamped_in_the_data_dir(client_store, isolated_data_dir):
    add_message(client_store, "bob", "hi")
    first = backup_database(client_store.path)
    second = backup_database(client_store.path)
    assert first.target.parent == isolated_data_dir
    assert first.target.name.startswith("client-backup-") and first.target.suffix == ".db"
    assert second.target != first.target
    when = datetime(2026, 12, 4, 16, 17, 18, tzinfo=timezone.utc)
    assert default_backup_path(client_store.path, when).name == "client-backup-20261204T161718Z.db"


def test_backup_refuses_to_overwrite_and_needs_a_source(client_store, tmp_path, isolated_data_dir):
    target = tmp_path / "taken.db"
    target.write_text("mine")
    with pytest.raises(StoreError, match="already exists"):
        backup_database(client_store.path, target)
    assert target.read_text() == "mine"
    with pytest.raises(StoreError, match="There is no .*server.db to back up"):
        backup_database(isolated_data_dir / "server.db")


def test_backup_into_a_place_that_cannot_be_written(client_store, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="Cannot write"):
        backup_database(client_store.path, blocker / "copy.db")


def test_restore_refuses_to_replace_without_force_then_keeps_the_old_one(client_store, tmp_path):
    add_message(client_store, "bob", "im Backup")
    saved = backup_database(client_store.path, tmp_path / "saved.db").target
    add_message(client_store, "bob", "nach dem Backup")
    with pytest.raises(StoreError, match="already exists; add --force"):
        restore_database(saved, client_store.path.parent)
    assert count(client_store.path) == 2

    done = restore_database(saved, client_store.path.parent, force=True)
    assert done.target == client_store.path and done.kind == "client"
    assert count(client_store.path) == 1
    assert done.kept is not None and count(done.kept) == 2


def test_restore_into_an_empty_data_dir(client_store, tmp_path):
    add_message(client_store, "bob", "hallo")
    saved = backup_database(client_store.path, tmp_path / "saved.db").target
    fresh = tmp_path / "fresh"
    done = restore_database(saved, fresh)
    assert done.target == fresh / "client.db" and done.kept is None
    assert count(fresh / "client.db") == 1


def test_restore_refuses_a_damaged_file_and_changes_nothing(client_store, tmp_path):
    for i in range(300):
        add_message(client_store, "bob", f"Nachricht {i} " + "x" * 200)
    saved = backup_database(client_store.path, tmp_path / "saved.db").target
    data = bytearray(saved.read_bytes())
    for offset in range(4096 * 3, len(data) - 4096, 4096):  # scribble over every page but the first ones
        data[offset + 100: offset + 140] = b"\xde\xad\xbe\xef" * 10
    damaged = tmp_path / "damaged.db"
    damaged.write_bytes(bytes(data))
    before = client_store.path.read_bytes()
    with pytest.raises(StoreError) as info:
        restore_database(damaged, client_store.path.parent, force=True)
    assert str(damaged) in info.value.message
    assert client_store.path.read_bytes() == before


@pytest.mark.parametrize("content", [b"", b"hello, not a database" * 100])
def test_restore_refuses_files_that_are_not_databases(client_store, tmp_path, content):
    bogus = tmp_path / "bogus.db"
    bogus.write_bytes(content)
    with pytest.raises(StoreError):
        restore_database(bogus, client_store.path.parent, force=True)


def test_restore_refuses_an_sqlite_file_that_is_not_chatkits(client_store, tmp_path):
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE messages (x)")
    with pytest.raises(StoreError, match="not a chatkit database"):
        restore_database(other, client_store.path.parent, force=True)


def test_restore_refuses_a_missing_file_and_the_database_itself(client_store, tmp_path):
    with pytest.raises(UsageError, match="no such file"):
        restore_database(tmp_path / "nope.db", client_store.path.parent)
    with pytest.raises(UsageError, match="is the database itself"):
        restore_database(client_store.path, client_store.path.parent, force=True)


def test_server_db_backup_and_restore_go_to_server_db(isolated_data_dir, tmp_path):
    from chatkit.server.store import open_server_store

    open_server_store(isolated_data_dir / "server.db").close()
    saved = backup_database(isolated_data_dir / "server.db", tmp_path / "server-copy.db")
    assert saved.kind == "server"
    (isolated_data_dir / "server.db").unlink()
    done = restore_database(saved.target, isolated_data_dir)
    assert done.target == isolated_data_dir / "server.db" and done.kind == "server"


def count(path):
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT count(*) FROM messages").fetchone()[0]
    finally:
        conn.close()
