"""The archive's read side: conversations, history (marks read), local days, opening files."""

import sqlite3
from datetime import datetime

import pytest
from fixtures_client import add_message

from chatkit.client import archive
from chatkit.client.shapes import CONVERSATION_KEYS, MESSAGE_KEYS
from chatkit.errors import StoreError, UsageError


def conversations(store, account="alice"):
    with archive.open_archive(store.path) as conn:
        return archive.list_conversations(conn, account)


def history(store, peer, limit=50, account="alice"):
    with archive.open_archive(store.path) as conn:
        return archive.history(conn, account, peer, limit=limit)


def on_day(store, day, tz, account="alice"):
    with archive.open_archive(store.path) as conn:
        return archive.messages_on_day(conn, account, day, tz)


def recomputed(store, account="alice"):
    """What `conversations` must say, computed the slow way from `messages`."""
    conn = sqlite3.connect(store.path)
    rows = conn.execute(
        "SELECT peer, count(*), sum(direction = 'in' AND status = 'unread') FROM messages "
        "WHERE account = ? GROUP BY peer", (account,)).fetchall()
    conn.close()
    return {peer: (count, unread) for peer, count, unread in rows}


# --- conversations -------------------------------------------------------------------

def test_conversations_most_recent_first_with_exact_shape(client_store):
    add_message(client_store, "bob", "Hallo Alice", sent_at="2026-12-01T10:00:00Z")
    add_message(client_store, "carol", "Grüße!", sent_at="2026-12-01T11:00:00Z")
    add_message(client_store, "bob", "bist du da?", sent_at="2026-12-01T09:00:00Z")
    rows = conversations(client_store)
    assert [tuple(r) for r in rows] == [CONVERSATION_KEYS] * 2
    assert rows == [
        {"peer": "carol", "last_message_at": "2026-12-01T11:00:00Z", "last_body": "Grüße!",
         "message_count": 1, "unread_count": 1},
        {"peer": "bob", "last_message_at": "2026-12-01T10:00:00Z", "last_body": "Hallo Alice",
         "message_count": 2, "unread_count": 2},
    ]


def test_order_changes_when_a_new_message_arrives(client_store):
    add_message(client_store, "bob", "eins", sent_at="2026-12-01T10:00:00Z")
    add_message(client_store, "carol", "zwei", sent_at="2026-12-01T11:00:00Z")
    assert [r["peer"] for r in conversations(client_store)] == ["carol", "bob"]
    add_message(client_store, "bob", "drei", direction="out", sent_at="2026-12-01T12:00:00.250000Z")
    rows = conversations(client_store)
    assert [r["peer"] for r in rows] == ["bob", "carol"]
    assert rows[0]["last_body"] == "drei" and rows[0]["last_message_at"] == "2026-12-01T12:00:00.250000Z"


def test_accounts_never_mix(client_store):
    add_message(client_store, "bob", "for alice", account="alice")
    add_message(client_store, "dave", "for erin", account="erin")
    assert [r["peer"] for r in conversations(client_store, "alice")] == ["bob"]
    assert [r["peer"] for r in conversations(client_store, "erin")] == ["dave"]
    assert history(client_store, "dave", account="alice") == []


def test_a_missing_file_is_created_and_empty(isolated_data_dir):
    path = isolated_data_dir / "client.db"
    with archive.open_archive(path) as conn:
        assert archive.list_conversations(conn, "alice") == []
    assert path.exists()


# --- history -------------------------------------------------------------------------

def test_history_newest_n_oldest_first_and_marks_them_read(client_store):
    sent = [add_message(client_store, "bob", f"Nachricht {i}", direction="in" if i % 2 else "out")
            for i in range(6)]
    shown = history(client_store, "bob", limit=4)
    assert [m["body"] for m in shown] == [f"Nachricht {i}" for i in range(2, 6)]
    assert all(tuple(m) == MESSAGE_KEYS for m in shown)
    assert [m["status"] for m in shown] == ["sent", "read", "sent", "read"]
    assert shown[1] == {**sent[3], "status": "read"}
    # The two older incoming messages were not shown, so they are still unread.
    assert conversations(client_store)[0]["unread_count"] == 1 == recomputed(client_store)["bob"][1]
    history(client_store, "bob")
    assert conversations(client_store)[0]["unread_count"] == 0
    assert recomputed(client_store)["bob"] == (6, 0)


def test_history_marks_only_that_peer_and_account(client_store):
    add_message(client_store, "bob", "1")
    add_message(client_store, "carol", "2")
    add_message(client_store, "bob", "3", account="erin")
    history(client_store, "bob")
    unread = {r["peer"]: r["unread_count"] for r in conversations(client_store)}
    assert unread == {"bob": 0, "carol": 1}
    assert conversations(client_store, "erin")[0]["unread_count"] == 1


def test_history_matches_the_peer_case_insensitively(client_store):
    add_message(client_store, "Bob", "Hi")
    assert [m["peer"] for m in history(client_store, "bob")] == ["Bob"]


def test_history_with_nobody_is_empty_and_writes_nothing(client_store):
    assert history(client_store, "nobody") == []
    assert conversations(client_store) == []


def test_history_limit_must_be_positive(client_store):
    with pytest.raises(UsageError):
        history(client_store, "bob", limit=0)


def test_history_orders_equal_times_by_insertion(client_store):
    for body in ("a", "b", "c"):
        add_message(client_store, "bob", body, sent_at="2026-12-01T10:00:00Z")
    assert [m["body"] for m in history(client_store, "bob", limit=2)] == ["b", "c"]


# --- days ----------------------------------------------------------------------------

@pytest.mark.parametrize("day, start, end", [
    ("2026-12-04", datetime(2026, 12, 3, 23), datetime(2026, 12, 4, 23)),   # CET, 24 h
    ("2026-03-29", datetime(2026, 3, 28, 23), datetime(2026, 3, 29, 22)),   # spring forward, 23 h
    ("2026-10-25", datetime(2026, 10, 24, 22), datetime(2026, 10, 25, 23)),  # fall back, 25 h
    ("2026-07-01", datetime(2026, 6, 30, 22), datetime(2026, 7, 1, 22)),    # CEST, 24 h
])
def test_day_bounds_are_local_midnights_in_utc(day, start, end):
    assert archive.day_bounds(day, "Europe/Berlin") == (start, end)


def test_day_bounds_follow_chatkit_tz(monkeypatch):
    monkeypatch.setenv("CHATKIT_TZ", "America/New_York")
    assert archive.day_bounds("2026-12-04") == (datetime(2026, 12, 4, 5), datetime(2026, 12, 5, 5))


def test_messages_around_midnight_in_berlin(client_store):
    for at in ("2026-12-03T22:59:59.999999Z",   # 23:59:59.999999 on the 3rd
               "2026-12-03T23:00:00Z",          # 00:00 on the 4th
               "2026-12-04T22:59:59Z",          # 23:59:59 on the 4th
               "2026-12-04T23:00:00Z"):         # 00:00 on the 5th
        add_message(client_store, "bob", at, sent_at=at)
    shown = on_day(client_store, "2026-12-04", "Europe/Berlin")
    assert [m["body"] for m in shown] == ["2026-12-03T23:00:00Z", "2026-12-04T22:59:59Z"]
    assert [m["body"] for m in on_day(client_store, "2026-12-04", "UTC")] == [
        "2026-12-04T22:59:59Z", "2026-12-04T23:00:00Z"]


@pytest.mark.parametrize("day, inside, outside", [
    ("2026-03-29", ["2026-03-28T23:00:00Z", "2026-03-29T00:59:59Z", "2026-03-29T01:00:00Z", "2026-03-29T21:59:59Z"],
     ["2026-03-28T22:59:59Z", "2026-03-29T22:00:00Z"]),
    ("2026-10-25", ["2026-10-24T22:00:00Z", "2026-10-25T00:30:00Z", "2026-10-25T01:30:00Z", "2026-10-25T22:59:59Z"],
     ["2026-10-24T21:59:59Z", "2026-10-25T23:00:00Z"]),
])
def test_days_across_a_dst_change(client_store, day, inside, outside):
    for at in sorted(inside + outside):
        add_message(client_store, "bob", at, sent_at=at, direction="out")
    shown = on_day(client_store, day, "Europe/Berlin")
    assert [m["body"] for m in shown] == inside
    assert all(m["status"] == "sent" for m in shown)


def test_day_covers_every_peer_oldest_first(client_store):
    add_message(client_store, "carol", "später", sent_at="2026-12-04T15:00:00Z")
    add_message(client_store, "bob", "früh", sent_at="2026-12-04T08:00:00Z", direction="out")
    assert [(m["peer"], m["body"]) for m in on_day(client_store, "2026-12-04", "UTC")] == [
        ("bob", "früh"), ("carol", "später")]


@pytest.mark.parametrize("text", ["2026-02-30", "2026-3-1", "20260301", "yesterday", "2026-12-04T00:00", ""])
def test_invalid_dates_are_usage_errors(text):
    with pytest.raises(UsageError) as info:
        archive.parse_day(text)
    assert info.value.message == f"Invalid date {text!r}; use YYYY-MM-DD."
    assert info.value.exit_code == 2


def test_unknown_zone_is_a_usage_error():
    with pytest.raises(UsageError) as info:
        archive.day_bounds("2026-12-04", "Mars/Olympus_Mons")
    assert "Unknown time zone 'Mars/Olympus_Mons'" in info.value.message


# --- opening files -------------------------------------------------------------------

def test_an_m001_only_file_is_upgraded_when_opened(isolated_data_dir):
    import sqlite_utils

    from chatkit.client import migrations

    path = isolated_data_dir / "client.db"
    db = sqlite_utils.Database(path)
    migrations.migrations.apply(db, stop_before="m002_search")
    db.execute("PRAGMA user_version = 1")
    db.execute("INSERT INTO messages (uuid, account, peer, direction, sender, recipient, body, sent_at, status) "
               "VALUES ('6f1c1f2e-8a43-4c1a-9d1e-2b7a0c1d5e3f', 'alice', 'bob', 'in', 'bob', 'alice', "
               "'Grüße aus alter Zeit', '2025-01-02 03:04:05.000000', 'unread')")
    db.conn.commit()
    db.close()
    assert "messages_fts" not in sqlite3.connect(path).execute(
        "SELECT group_concat(name) FROM sqlite_master").fetchone()[0]

    with archive.open_archive(path) as conn:
        assert archive.list_conversations(conn, "alice")[0]["unread_count"] == 1
        assert [m["body"] for m in archive.history(conn, "alice", "bob")] == ["Grüße aus alter Zeit"]
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 2
        assert conn.execute("SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'body_folded: grusse'"
                            ).fetchone()[0] == 1


def test_a_file_from_a_newer_chatkit_is_refused(isolated_data_dir):
    path = isolated_data_dir / "client.db"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(StoreError) as info:
        with archive.open_archive(path):
            pass
    assert str(path) in info.value.message and "newer chatkit" in info.value.message


def test_a_corrupt_file_is_a_store_error_naming_it(isolated_data_dir):
    path = isolated_data_dir / "client.db"
    path.write_bytes(b"this is not a database, just some text " * 200)
    with pytest.raises(StoreError) as info:
        with archive.open_archive(path):
            pass
    assert str(path) in info.value.message and "chatkit restore" in info.value.message
    assert path.read_bytes().startswith(b"this is not a database")


def test_a_locked_file_is_a_store_error(client_store, monkeypatch):
    add_message(client_store, "bob", "unread")
    client_store.close()
    monkeypatch.setattr("chatkit.client.store.BUSY_TIMEOUT_MS", 200)
    holder = sqlite3.connect(client_store.path, isolation_level=None)
    holder.execute("PRAGMA locking_mode = EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreError) as info:
            with archive.open_archive(client_store.path) as conn:
                archive.history(conn, "alice", "bob")
        assert "locked" in info.value.message
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert recomputed_unread(client_store.path) == 1


def recomputed_unread(path):
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT unread_count FROM conversations").fetchone()[0]
    finally:
        conn.close()
