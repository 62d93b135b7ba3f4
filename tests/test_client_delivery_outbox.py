"""The outbox rows: written with the message, backed off, parked, revived, dropped."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta

import pytest

from chatkit.client import outbox
from chatkit.errors import NotFoundLocally, StoreError, UsageError

NOW = datetime(2026, 12, 4, 10, 0, 0)


def rows(store, sql):
    conn = sqlite3.connect(store.path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_record_outgoing_writes_message_and_outbox_together(client_store):
    entry = outbox.record_outgoing(client_store, "alice", "bob", "hi", now=NOW)
    assert rows(client_store, "SELECT uuid, account, peer, direction, sender, recipient, body, status FROM messages") == [
        (entry["uuid"], "alice", "bob", "out", "alice", "bob", "hi", "pending")]
    assert rows(client_store, "SELECT attempts, state, next_attempt_at FROM outbox") == [
        (0, "pending", "2026-12-04 10:00:00.000000")]
    assert rows(client_store, "SELECT peer, message_count, unread_count FROM conversations") == [("bob", 1, 0)]


def test_record_outgoing_is_all_or_nothing(client_store, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("disk gone mid-transaction")

    monkeypatch.setattr(client_store.entities, "Outbox", broken)
    with pytest.raises(RuntimeError):
        outbox.record_outgoing(client_store, "alice", "bob", "hi")
    assert rows(client_store, "SELECT count(*) FROM messages") == [(0,)]
    assert rows(client_store, "SELECT count(*) FROM conversations") == [(0,)]


def test_backoff_doubles_and_is_capped():
    delays = [outbox.backoff(n).total_seconds() for n in range(1, 10)]
    assert delays == [2, 4, 8, 16, 32, 64, 120, 120, 120]


def test_mark_retry_counts_and_backs_off(client_store):
    entry = outbox.record_outgoing(client_store, "alice", "bob", "hi", now=NOW)
    first = outbox.mark_retry(client_store, entry["message_id"], "refused", now=NOW)
    second = outbox.mark_retry(client_store, entry["message_id"], "timed out", now=NOW + timedelta(seconds=2))
    assert (first["attempts"], first["next_attempt_at"]) == (1, NOW + timedelta(seconds=2))
    assert (second["attempts"], second["last_error"]) == (2, "timed out")
    assert second["next_attempt_at"] == NOW + timedelta(seconds=2 + 4)
    assert second["last_attempt_at"] == NOW + timedelta(seconds=2)
    assert second["status"] == "pending" and second["state"] == "pending"


def test_mark_delivered_removes_the_row_and_marks_sent(client_store):
    entry = outbox.record_outgoing(client_store, "alice", "bob", "hi", now=NOW)
    outbox.mark_delivered(client_store, entry["message_id"], NOW + timedelta(seconds=1))
    assert rows(client_store, "SELECT status, received_at FROM messages") == [("sent", "2026-12-04 10:00:01.000000")]
    assert rows(client_store, "SELECT count(*) FROM outbox") == [(0,)]
    outbox.mark_delivered(client_store, entry["message_id"], None)  # twice is harmless


def test_mark_failed_parks_until_retry_all(client_store):
    entry = outbox.record_outgoing(client_store, "alice", "nobody", "hi", now=NOW)
    failed = outbox.mark_failed(client_store, entry["message_id"], "There is no user named 'nobody'.", now=NOW)
    assert (failed["state"], failed["status"], failed["next_attempt_at"]) == ("failed", "failed", None)
    assert outbox.pending_entries(client_store, "alice") == []
    assert outbox.retry_all(client_store, "alice") == 1
    [again] = outbox.pending_entries(client_store, "alice")
    assert (again["state"], again["status"], again["attempts"]) == ("pending", "pending", 1)


def test_pending_entries_are_oldest_first_and_per_account(client_store):
    outbox.record_outgoing(client_store, "alice", "bob", "second", now=NOW + timedelta(minutes=1))
    outbox.record_outgoing(client_store, "alice", "carol", "first", now=NOW)
    outbox.record_outgoing(client_store, "alice2", "bob", "not mine", now=NOW)
    assert [e["body"] for e in outbox.pending_entries(client_store, "alice")] == ["first", "second"]
    assert [e["body"] for e in outbox.list_outbox(client_store.path, "alice")] == ["first", "second"]
    assert outbox.next_due(client_store, "alice") == NOW


def test_drop_removes_message_and_outbox_row(client_store):
    keep = outbox.record_outgoing(client_store, "alice", "bob", "keep")
    gone = outbox.record_outgoing(client_store, "alice", "bob", "typo")
    dropped = outbox.drop(client_store, "alice", gone["uuid"])
    assert dropped["body"] == "typo"
    assert rows(client_store, "SELECT body FROM messages") == [("keep",)]
    assert rows(client_store, "SELECT message_count, last_body FROM conversations") == [(1, "keep")]
    with pytest.raises(NotFoundLocally):
        outbox.drop(client_store, "alice", gone["uuid"])
    with pytest.raises(NotFoundLocally):
        outbox.drop(client_store, "bob", keep["uuid"])  # another account's message


def test_find_entry_by_unique_prefix(client_store):
    a = outbox.record_outgoing(client_store, "alice", "bob", "a", uuid="12345678-aaaa-4000-8000-000000000001")
    outbox.record_outgoing(client_store, "alice", "bob", "b", uuid="12345678-bbbb-4000-8000-000000000002")
    assert outbox.find_entry(client_store.path, "alice", "12345678-A")["body"] == "a"
    assert outbox.find_entry(client_store.path, "alice", a["uuid"].upper())["body"] == "a"
    with pytest.raises(UsageError, match="matches 2 waiting messages"):
        outbox.find_entry(client_store.path, "alice", "123456")
    with pytest.raises(UsageError, match="at least 6 characters"):
        outbox.find_entry(client_store.path, "alice", "12345")
    with pytest.raises(NotFoundLocally):
        outbox.find_entry(client_store.path, "alice", "999999")


def test_list_outbox_on_a_missing_file_is_empty_and_a_newer_file_is_refused(tmp_path):
    assert outbox.list_outbox(tmp_path / "client.db", "alice") == []
    newer = tmp_path / "newer.db"
    conn = sqlite3.connect(newer)
    conn.execute("PRAGMA user_version = 999")
    conn.close()
    with pytest.raises(StoreError, match="written by a newer chatkit"):
        outbox.list_outbox(newer, "alice")


def test_a_locked_database_is_a_clear_error(isolated_data_dir, monkeypatch):
    import chatkit.client.store as store_module

    monkeypatch.setattr(store_module, "PRAGMAS", store_module.PRAGMAS + ("PRAGMA busy_timeout = 50",))
    store = store_module.open_client_store(isolated_data_dir / "client.db")
    blocker = sqlite3.connect(store.path)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreError, match="is locked by another program; close it and try again"):
            outbox.record_outgoing(store, "alice", "bob", "hi")
    finally:
        blocker.rollback()
        blocker.close()
    outbox.record_outgoing(store, "alice", "bob", "hi")  # and works once the lock is gone
    store.close()
