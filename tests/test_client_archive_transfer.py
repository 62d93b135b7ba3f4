"""Export and import: exact round trips, all-or-nothing, idempotent, bulk bookkeeping exact."""

import json
import sqlite3
import uuid

import pytest
from fixtures_client import add_message

from chatkit.client import archive, transfer
from chatkit.client.shapes import MESSAGE_KEYS
from chatkit.client.store import open_client_store


def message(i, peer="bob", direction="in", account="alice", **changes):
    m = {
        "id": str(uuid.UUID(int=i, version=4)),
        "peer": peer,
        "direction": direction,
        "sender": peer if direction == "in" else account,
        "recipient": account if direction == "in" else peer,
        "body": f"Grüße Nummer {i} 🎉",
        "sent_at": f"2026-11-{1 + i % 28:02d}T{i % 24:02d}:15:00Z",
        "status": "unread" if direction == "in" else "sent",
    }
    m.update(changes)
    return m


def lines_of(messages):
    return [json.dumps(m, ensure_ascii=False) + "\n" for m in messages]


def do_import(path, lines, account="alice", **kw):
    with archive.open_archive(path) as conn:
        return transfer.import_messages(conn, lines, account, **kw)


def do_export(path, account="alice", peer=None):
    with archive.open_archive(path) as conn:
        return list(transfer.export_messages(conn, account, peer))


def snapshot(path):
    """Everything an import could touch, to prove a failed one touched nothing."""
    conn = sqlite3.connect(path)
    try:
        return {
            "messages": conn.execute("SELECT * FROM messages ORDER BY id").fetchall(),
            "conversations": conn.execute("SELECT * FROM conversations ORDER BY id").fetchall(),
            "outbox": conn.execute("SELECT * FROM outbox ORDER BY id").fetchall(),
            "fts": conn.execute("SELECT rowid, * FROM messages_fts ORDER BY rowid").fetchall(),
            "schema": conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall(),
        }
    finally:
        conn.close()


def exact_conversations(path, account="alice"):
    """(stored conversations, the same recomputed from messages) for comparison."""
    conn = sqlite3.connect(path)
    try:
        stored = conn.execute(
            "SELECT peer, last_message_at, last_body, message_count, unread_count FROM conversations "
            "WHERE account = ? ORDER BY peer", (account,)).fetchall()
        computed = conn.execute(
            "SELECT peer, max(sent_at), (SELECT body FROM messages m2 WHERE m2.account = m.account "
            "AND m2.peer = m.peer ORDER BY sent_at DESC, id DESC LIMIT 1), count(*), "
            "sum(direction = 'in' AND status = 'unread') FROM messages m WHERE account = ? "
            "GROUP BY peer ORDER BY peer", (account,)).fetchall()
        return stored, computed
    finally:
        conn.close()


def test_export_is_the_archive_in_design_shape_oldest_first(client_store):
    late = add_message(client_store, "carol", "später", sent_at="2026-12-02T10:00:00.5Z", direction="out")
    early = add_message(client_store, "bob", "früher", sent_at="2026-12-01T10:00:00Z")
    add_message(client_store, "bob", "not mine", account="erin")
    exported = do_export(client_store.path)
    assert exported == [early, late]
    assert all(tuple(m) == MESSAGE_KEYS for m in exported)
    assert late["sent_at"] == "2026-12-02T10:00:00.500000Z"
    assert do_export(client_store.path, peer="BOB") == [early]


def test_export_then_import_into_a_fresh_data_dir_reproduces_the_history(client_store, tmp_path):
    for i in range(30):
        add_message(client_store, ["bob", "carol", "dave"][i % 3], f"Nachricht {i}: Straße ß",
                    direction="in" if i % 4 else "out")
    with archive.open_archive(client_store.path) as conn:
        archive.history(conn, "alice", "bob", limit=3)  # some read, some unread
    exported = do_export(client_store.path)

    fresh = tmp_path / "other" / "client.db"
    result = do_import(fresh, lines_of(exported))
    assert (result.imported, result.already_present) == (30, 0)
    assert do_export(fresh) == exported
    with archive.open_archive(client_store.path) as a, archive.open_archive(fresh) as b:
        assert archive.list_conversations(a, "alice") == archive.list_conversations(b, "alice")
        for peer in ("bob", "carol", "dave"):
            assert archive.history(a, "alice", peer, limit=100) == archive.history(b, "alice", peer, limit=100)


def test_reimport_is_idempotent(client_store):
    lines = lines_of([message(i) for i in range(10)])
    assert do_import(client_store.path, lines).imported == 10
    before = snapshot(client_store.path)
    again = do_import(client_store.path, lines)
    assert (again.imported, again.already_present) == (0, 10)
    assert snapshot(client_store.path) == before


def test_import_skips_messages_already_there_from_sync(client_store):
    existing = add_message(client_store, "bob", "schon da")
    result = do_import(client_store.path, lines_of([existing, message(1)]))
    assert (result.imported, result.already_present) == (1, 1)
    stored, computed = exact_conversations(client_store.path)
    assert stored == computed and stored[0][3] == 2


def test_the_same_id_from_another_sender_is_another_message(client_store):
    same = str(uuid.uuid4())
    result = do_import(client_store.path, lines_of([
        message(1, peer="bob", id=same), message(2, peer="carol", id=same),
        message(3, peer="bob", direction="out", id=same)]))
    assert result.imported == 3


def test_bulk_bookkeeping_is_exact_when_merging_into_existing_conversations(client_store):
    add_message(client_store, "bob", "newest of all", sent_at="2026-12-31T23:00:00Z")
    add_message(client_store, "carol", "old", sent_at="2020-01-01T00:00:00Z", direction="out")
    lines = lines_of([message(i, peer=["bob", "carol", "dave"][i % 3],
                              direction="in" if i % 2 else "out") for i in range(60)])
    do_import(client_store.path, lines)
    stored, computed = exact_conversations(client_store.path)
    assert stored == computed
    assert dict((r[0], r[2]) for r in stored)["bob"] == "newest of all"


def test_imported_messages_are_searchable_and_the_triggers_still_work(client_store):
    do_import(client_store.path, lines_of([message(1, body="Schöne Grüße aus der Straße")]))
    conn = sqlite3.connect(client_store.path)
    find = "SELECT count(*) FROM messages_fts WHERE messages_fts MATCH ?"
    assert conn.execute(find, ("body_folded: grusse",)).fetchone()[0] == 1
    assert conn.execute(find, ("body_folded: strasse",)).fetchone()[0] == 1
    triggers = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    assert set(transfer.BULK_TRIGGERS) <= triggers
    conn.close()
    # A write after the import is indexed and counted by the re-created triggers.
    store = open_client_store(client_store.path)
    try:
        add_message(store, "bob", "Weißbier danach")
    finally:
        store.close()
    conn = sqlite3.connect(client_store.path)
    assert conn.execute(find, ("body_folded: weissbier",)).fetchone()[0] == 1
    assert conn.execute("SELECT message_count, unread_count FROM conversations").fetchone() == (2, 2)
    conn.close()


def trigger_order(path):
    conn = sqlite3.connect(path)
    try:
        return [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY rowid")]
    finally:
        conn.close()


def test_triggers_come_back_fts_first_so_other_open_connections_keep_working(client_store):
    """SQLite 3.40 fails an open connection's next INSERT after a schema change when the
    conversation triggers precede the FTS ones; the import leaves them FTS first."""
    do_import(client_store.path, lines_of([message(1)]))
    assert trigger_order(client_store.path) == list(transfer.BULK_TRIGGERS)
    from pony.orm import db_session

    store = open_client_store(client_store.path)  # a long-running process, e.g. `chatkit chat`
    try:
        with db_session:  # it has read, but not yet written through the FTS triggers
            assert store.entities.Message.select().count() == 1
        do_import(client_store.path, lines_of([message(2)]))  # drops and re-creates the triggers
        add_message(store, "bob", "nach dem Import")  # same Pony connection, stale schema
        with sqlite3.connect(client_store.path) as conn:
            assert conn.execute("SELECT message_count FROM conversations").fetchone() == (3,)
    finally:
        store.close()


def test_pending_and_failed_outgoing_messages_get_outbox_rows(client_store):
    do_import(client_store.path, lines_of([
        message(1, direction="out", status="pending"), message(2, direction="out", status="failed"),
        message(3, direction="out", status="sent"), message(4, direction="in", status="read")]))
    conn = sqlite3.connect(client_store.path)
    rows = conn.execute("SELECT m.status, o.state, o.attempts FROM outbox o JOIN messages m ON m.id = o.message "
                        "ORDER BY m.status DESC").fetchall()
    conn.close()
    assert rows == [("pending", "pending", 0), ("failed", "failed", 0)]


BAD_LINES = [
    ("{not json", "not valid JSON"),
    ("[1, 2, 3]", "not a JSON object"),
    (json.dumps({k: v for k, v in message(9).items() if k != "status"}), "missing key 'status'"),
    (json.dumps({**message(9), "received_at": None}), "unexpected key 'received_at'"),
    (json.dumps(message(9, id="not-a-uuid")), "'id' must be a UUID"),
    (json.dumps(message(9, direction="sideways")), "'direction' must be 'in' or 'out'"),
    (json.dumps(message(9, sender="mallory")), "an incoming message must have sender 'bob'"),
    (json.dumps(message(9, direction="out", sender="bob", recipient="alice")),
     "an outgoing message must have sender 'alice'"),
    (json.dumps(message(9, status="sent")), "'status' of an incoming message must be 'unread' or 'read'"),
    (json.dumps(message(9, direction="out", status="read")), "must be 'pending' or 'sent' or 'failed'"),
    (json.dumps(message(9, sent_at="yesterday")), "'sent_at' must be an ISO 8601 time"),
    (json.dumps(message(9, sent_at="2026-02-30T10:00:00Z")), "is not a valid ISO 8601 time"),
    (json.dumps(message(9, body="")), "'body' must be text of 1 to 10,000 characters"),
    (json.dumps(message(9, body="x" * 10_001)), "'body' must be text"),
    (json.dumps(message(9, body=42)), "'body' must be text"),
    (json.dumps(message(9, peer="bad name", sender="bad name")), "'peer' must be a username"),
    (json.dumps(message(9, peer=["bob"], sender=["bob"])), "'peer' must be a username"),
]


@pytest.mark.parametrize("bad, reason", BAD_LINES, ids=[r for _, r in BAD_LINES])
def test_a_bad_line_in_the_middle_changes_nothing_and_is_named(client_store, bad, reason):
    add_message(client_store, "bob", "vorher")
    before = snapshot(client_store.path)
    lines = lines_of([message(i) for i in range(1, 6)]) + [bad + "\n"] + lines_of([message(i) for i in range(6, 9)])
    with pytest.raises(transfer.ImportRejected) as info:
        do_import(client_store.path, lines, source="chat.jsonl")
    assert info.value.message.startswith("chat.jsonl, line 6: ")
    assert reason in info.value.message
    assert "Nothing was imported" in info.value.message
    assert info.value.exit_code == 1
    assert snapshot(client_store.path) == before


def test_a_bad_last_line_of_a_large_file_changes_nothing(client_store):
    before = snapshot(client_store.path)
    lines = lines_of([message(i) for i in range(25_000)]) + ["\n", "{}\n"]
    with pytest.raises(transfer.ImportRejected) as info:
        do_import(client_store.path, lines)
    assert "line 25002:" in info.value.message
    assert snapshot(client_store.path) == before


def test_invalid_utf8_is_named(client_store):
    good = json.dumps(message(1)).encode()
    with pytest.raises(transfer.ImportRejected) as info:
        do_import(client_store.path, [good + b"\n", b'{"id": "\xff\xfe"}\n'])
    assert "line 2: not valid JSON (not UTF-8 text)" in info.value.message


def test_blank_lines_bytes_and_other_time_forms_are_accepted(client_store):
    lines = [json.dumps(message(1, sent_at="2026-11-02T11:15:00+01:00")).encode() + b"\n", b"\n", b"   \n",
             (json.dumps(message(2, sent_at="2026-11-02T10:16:00.123Z")) + "\r\n").encode()]
    assert do_import(client_store.path, lines).imported == 2
    assert [m["sent_at"] for m in do_export(client_store.path)] == [
        "2026-11-02T10:15:00Z", "2026-11-02T10:16:00.123000Z"]


def test_uuids_are_stored_in_canonical_lower_case(client_store):
    upper = str(uuid.uuid4()).upper()
    do_import(client_store.path, lines_of([message(1, id=upper)]))
    assert do_export(client_store.path)[0]["id"] == upper.lower()
    assert do_import(client_store.path, lines_of([message(1, id=upper.lower())])).already_present == 1


def test_import_into_another_account(client_store):
    lines = lines_of([message(i, account="erin") for i in range(3)])
    with pytest.raises(transfer.ImportRejected):
        do_import(client_store.path, lines, account="alice")
    assert do_import(client_store.path, lines, account="erin").imported == 3
    assert do_export(client_store.path, "alice") == []
    assert len(do_export(client_store.path, "erin")) == 3


def test_progress_is_reported_while_reading_and_before_indexing(client_store):
    seen = []
    do_import(client_store.path, lines_of([message(i) for i in range(25_000)]),
              progress=lambda stage, n, nbytes: seen.append((stage, n, nbytes)))
    assert [s for s in seen if s[0] == "reading"][:2] == [
        ("reading", 10_000, seen[0][2]), ("reading", 20_000, seen[1][2])]
    assert seen[-1][:2] == ("indexing", 25_000)
    assert seen[0][2] < seen[1][2] < seen[-1][2]


def test_a_pony_store_opened_after_a_bulk_import_sees_everything(client_store):
    from pony.orm import db_session

    do_import(client_store.path, lines_of([message(i) for i in range(5)]))
    store = open_client_store(client_store.path)
    try:
        with db_session:
            assert store.entities.Message.select().count() == 5
            assert store.entities.Conversation.get(account="alice", peer="bob").message_count == 5
    finally:
        store.close()
