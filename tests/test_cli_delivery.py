"""The delivery commands in-process against the real Flask app (injected transport).

login / logout / users / send / sync / outbox: exit codes, one-line errors,
JSON shapes, and the outbox surviving every network failure the Switchboard
can stage.
"""

from __future__ import annotations

import os
import stat

import pytest

from chatkit.client.shapes import OUTBOX_KEYS, USER_KEYS
from delivery_support import (  # noqa: F401 - `relay` is a fixture
    PASSWORD,
    SERVER_URL,
    as_json,
    client_rows,
    login,
    one_line_error,
    relay,
    run,
)


@pytest.fixture
def alice(isolated_data_dir, relay):
    login(isolated_data_dir, "alice")
    return isolated_data_dir


@pytest.fixture
def bob(tmp_path, relay):
    data = tmp_path / "bob"
    login(data, "bob")
    return data


def history(data_dir, peer):
    return as_json(run(data_dir, "history", peer, "--json"))


# --- login / logout -------------------------------------------------------------

def test_first_login_creates_the_account_then_logs_in(isolated_data_dir, relay):
    first = login(isolated_data_dir, "Alice")
    assert first.stdout == f"Created the account Alice on {SERVER_URL}; you are logged in.\n"
    again = login(isolated_data_dir, "alice")  # names match case-insensitively, shown as first written
    assert again.stdout == f"Logged in as Alice on {SERVER_URL}.\n"
    path = isolated_data_dir / "session.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in isolated_data_dir.iterdir()] == ["session.json"]  # no temp file left behind


def test_login_prompts_for_a_hidden_password(isolated_data_dir, relay):
    result = run(isolated_data_dir, "login", "alice", "--server", SERVER_URL, input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    assert "Password" in result.output


def test_wrong_password_exits_3(isolated_data_dir, relay):
    login(isolated_data_dir, "alice")
    result = run(isolated_data_dir, "login", "alice", "--password-stdin", input="wrong-password\n")
    assert result.exit_code == 3
    assert one_line_error(result) == "Error: Wrong username or password."


@pytest.mark.parametrize("args, stdin, message", [
    (["login", "bad name!"], "password1\n", "'bad name!' is not a valid user name"),
    (["login", "alice", "--password-stdin"], "short\n", "A password has 8 to 1024 characters."),
    (["login", "alice", "--server", "ftp://x", "--password-stdin"], "password1\n", "is not a server URL"),
])
def test_bad_login_input_is_a_usage_error(isolated_data_dir, relay, args, stdin, message):
    result = run(isolated_data_dir, *args, input=stdin)
    assert result.exit_code == 2, result.output
    assert message in one_line_error(result)
    assert not (isolated_data_dir / "session.json").exists()


def test_server_defaults_to_the_saved_one_then_chatkit_server(isolated_data_dir, relay, tmp_path):
    login(isolated_data_dir, "alice")
    again = run(isolated_data_dir, "login", "alice", "--password-stdin", input=PASSWORD + "\n")
    assert again.exit_code == 0 and SERVER_URL in again.stdout
    other = tmp_path / "other"
    via_env = run(other, "login", "carol", "--password-stdin", input=PASSWORD + "\n",
                  env={"CHATKIT_SERVER": SERVER_URL + "/"})
    assert via_env.exit_code == 0, via_env.output
    assert relay.board.requests[-1] == ("POST", "/api/login")


def test_server_unreachable_at_login_is_exit_1(isolated_data_dir, relay):
    relay.board.mode = "down"
    result = run(isolated_data_dir, "login", "alice", "--server", SERVER_URL, "--password-stdin",
                 input=PASSWORD + "\n")
    assert result.exit_code == 1
    assert one_line_error(result) == f"Error: Cannot reach the server at {SERVER_URL} (connection refused)."


def test_logout_revokes_the_token_and_forgets_it(alice, relay):
    import json

    token = json.loads((alice / "session.json").read_text())["token"]
    result = run(alice, "logout")
    assert result.exit_code == 0
    assert result.stdout == f"Logged out alice from {SERVER_URL}.\n"
    assert not (alice / "session.json").exists()
    import httpx

    with httpx.Client(transport=relay.board, base_url=SERVER_URL) as http:
        assert http.get("/api/users", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert run(alice, "sync").exit_code == 3


def test_logout_while_the_server_is_down_still_forgets(alice, relay):
    relay.board.mode = "down"
    result = run(alice, "logout")
    assert result.exit_code == 0
    assert "not revoked on the server" in result.stdout
    assert not (alice / "session.json").exists()
    assert "Not logged in" in run(alice, "logout").stdout


def test_logout_mentions_messages_left_in_the_outbox(alice, relay):
    relay.board.mode = "down"
    assert run(alice, "send", "bob", "later").exit_code == 75
    result = run(alice, "logout")
    assert "1 unsent message stays in the outbox" in result.stderr


# --- not logged in, expired sessions ---------------------------------------------------

@pytest.mark.parametrize("args", [["send", "bob", "hi"], ["sync"], ["outbox"], ["outbox", "retry"],
                                  ["users"], ["chat", "bob"], ["outbox", "drop", "abcdef", "--yes"]])
def test_every_delivery_command_needs_a_session(isolated_data_dir, relay, args):
    result = run(isolated_data_dir, *args)
    assert result.exit_code == 3
    assert one_line_error(result) == "Error: Not logged in. Run `chatkit login USER` first."


def test_revoked_token_is_exit_3_and_keeps_the_message(alice, relay, tmp_path):
    twin = tmp_path / "twin"
    twin.mkdir()
    (twin / "session.json").write_text((alice / "session.json").read_text())
    assert run(twin, "logout").exit_code == 0  # revokes the token alice's data dir still holds
    synced = run(alice, "sync")
    assert synced.exit_code == 3
    assert "run chatkit login" in one_line_error(synced)
    sent = run(alice, "send", "bob", "still here")
    assert sent.exit_code == 3
    assert "run chatkit login" in one_line_error(sent)
    [entry] = as_json(run(alice, "outbox", "--json"))
    assert entry["body"] == "still here" and entry["state"] == "pending"


# --- send ---------------------------------------------------------------------------

def test_send_delivers_and_the_recipient_gets_it(alice, bob, relay):
    result = run(alice, "send", "bob", "Grüße", "aus", "Berlin")
    assert result.exit_code == 0, result.output
    assert result.stdout == "Delivered to bob.\n"
    assert as_json(run(alice, "outbox", "--json")) == []
    [mine] = history(alice, "bob")
    assert (mine["body"], mine["status"], mine["direction"]) == ("Grüße aus Berlin", "sent", "out")
    synced = run(bob, "sync")
    assert synced.exit_code == 0, synced.output
    assert "alice: Grüße aus Berlin" in synced.stdout
    [theirs] = history(bob, "alice")
    assert theirs["id"] == mine["id"] and theirs["direction"] == "in" and theirs["sender"] == "alice"
    assert client_rows(alice, "SELECT received_at IS NOT NULL FROM messages") == [(1,)]


@pytest.mark.parametrize("mode, reason", [
    ("down", f"cannot reach {SERVER_URL}: connection refused"),
    ("timeout", f"cannot reach {SERVER_URL}: timed out"),
    ("503", f"{SERVER_URL} answered 503: The disk is full."),
])
def test_send_during_trouble_exits_75_and_keeps_the_message(alice, bob, relay, mode, reason):
    relay.board.mode = mode
    result = run(alice, "send", "bob", "are you there?")
    assert result.exit_code == 75
    assert one_line_error(result) == f"Error: Not delivered yet: kept in the outbox, will retry ({reason})."
    [entry] = as_json(run(alice, "outbox", "--json"))
    assert entry == {"id": entry["id"], "recipient": "bob", "body": "are you there?", "state": "pending",
                     "attempts": 1, "last_error": reason}
    assert history(alice, "bob")[0]["status"] == "pending"
    relay.board.mode = "up"
    synced = run(alice, "sync")
    assert synced.exit_code == 0, synced.output
    assert "Delivered to bob: are you there?" in synced.stdout
    assert as_json(run(alice, "outbox", "--json")) == []
    run(bob, "sync")
    assert [m["body"] for m in history(bob, "alice")] == ["are you there?"]


def test_a_lost_reply_is_retried_without_a_second_copy(alice, bob, relay):
    relay.board.mode = "lose_reply"
    result = run(alice, "send", "bob", "only once")
    assert result.exit_code == 75  # the server committed it, but the client cannot know
    assert relay.server_rows("SELECT count(*) FROM messages") == [(1,)]
    relay.board.mode = "up"
    assert run(alice, "sync").exit_code == 0
    assert relay.server_rows("SELECT count(*) FROM messages") == [(1,)]
    assert history(alice, "bob")[0]["status"] == "sent"
    run(bob, "sync")
    assert [m["body"] for m in history(bob, "alice")] == ["only once"]


def test_unknown_recipient_exits_4_and_parks_the_message(alice, relay):
    result = run(alice, "send", "nobody", "hello?")
    assert result.exit_code == 4
    line = one_line_error(result)
    assert line.startswith("Error: Not delivered: There is no user named 'nobody' on this server.")
    [entry] = as_json(run(alice, "outbox", "--json"))
    assert (entry["state"], entry["attempts"]) == ("failed", 1)
    assert entry["last_error"] == "There is no user named 'nobody' on this server."
    assert history(alice, "nobody")[0]["status"] == "failed"
    assert run(alice, "sync").exit_code == 0  # sync leaves refused entries for `outbox retry`
    assert as_json(run(alice, "outbox", "--json"))[0]["attempts"] == 1


def test_another_refusal_exits_1(alice, relay):
    relay.board.mode = "reject"
    result = run(alice, "send", "bob", "hm")
    assert result.exit_code == 1
    assert "Field 'body' is odd." in one_line_error(result)
    assert as_json(run(alice, "outbox", "--json"))[0]["state"] == "failed"


@pytest.mark.parametrize("args, message", [
    (["send", "bob", " "], "The message is empty"),
    (["send", "bob", "x" * 10_001], "the limit is 10,000"),
    (["send", "bob/../x", "hi"], "is not a valid recipient"),
])
def test_bad_send_input_is_a_usage_error_and_stores_nothing(alice, relay, args, message):
    result = run(alice, *args)
    assert result.exit_code == 2
    assert message in one_line_error(result)
    assert not (alice / "client.db").exists()


def test_send_uses_the_partner_spelling_already_in_the_archive(alice, bob, relay):
    run(bob, "send", "alice", "hi")
    run(alice, "sync")
    assert run(alice, "send", "BOB", "hello").exit_code == 0
    assert [c["peer"] for c in as_json(run(alice, "conversations", "--json"))] == ["bob"]


def test_send_delivers_older_waiting_messages_first(alice, bob, relay):
    relay.board.mode = "down"
    run(alice, "send", "bob", "one")
    relay.board.mode = "up"
    result = run(alice, "send", "bob", "two")
    assert result.exit_code == 0
    assert "Also delivered 1 earlier message from the outbox." in result.stderr
    run(bob, "sync")
    assert [m["body"] for m in history(bob, "alice")] == ["one", "two"]


# --- sync ---------------------------------------------------------------------------

def test_sync_orders_conversations_and_counts_unread(alice, bob, relay, tmp_path):
    carol = tmp_path / "carol"
    login(carol, "carol")
    run(bob, "send", "alice", "from bob 1")
    run(bob, "send", "alice", "from bob 2")
    run(carol, "send", "alice", "from carol")
    result = run(alice, "sync")
    assert result.exit_code == 0
    assert result.stderr == "Received 3 new messages.\n"
    convs = as_json(run(alice, "conversations", "--json"))
    assert [(c["peer"], c["unread_count"], c["message_count"]) for c in convs] == [("carol", 1, 1), ("bob", 2, 2)]
    run(bob, "send", "alice", "bob again")
    run(alice, "sync")
    convs = as_json(run(alice, "conversations", "--json"))
    assert [(c["peer"], c["unread_count"], c["last_body"]) for c in convs] == [
        ("bob", 3, "bob again"), ("carol", 1, "from carol")]
    again = run(alice, "sync")
    assert again.stderr == "No new messages.\n"
    assert client_rows(alice, "SELECT count(*) FROM messages") == [(4,)]


def test_sync_acknowledges_so_the_server_forgets_bodies(alice, bob, relay):
    run(bob, "send", "alice", "secret")
    run(alice, "sync")
    assert relay.server_rows("SELECT body, delivered_at IS NOT NULL FROM messages") == [(None, 1)]


def test_sync_cursor_is_kept_per_account_and_server(alice, bob, relay):
    run(bob, "send", "alice", "one")
    run(alice, "sync")
    login(alice, "alice2")
    run(bob, "send", "alice2", "two")
    run(alice, "sync")
    rows = client_rows(alice, "SELECT account, server, cursor FROM sync_state ORDER BY account")
    assert rows == [("alice", SERVER_URL, 1), ("alice2", SERVER_URL, 2)]
    login(alice, "alice")
    assert as_json(run(alice, "conversations", "--json"))[0]["peer"] == "bob"
    assert run(alice, "sync").stderr == "No new messages.\n"


def test_sync_while_down_exits_75_when_messages_wait_else_1(alice, relay):
    relay.board.mode = "down"
    nothing = run(alice, "sync")
    assert nothing.exit_code == 1
    assert one_line_error(nothing) == f"Error: Cannot reach the server at {SERVER_URL} (connection refused)."
    run(alice, "send", "bob", "x")
    waiting = run(alice, "sync")
    assert waiting.exit_code == 75
    assert "1 message kept in the outbox, will retry" in one_line_error(waiting)


# --- outbox -----------------------------------------------------------------------

def test_outbox_lists_shapes_and_a_table(alice, relay):
    relay.board.mode = "down"
    run(alice, "send", "bob", "first")
    run(alice, "send", "carol", "second")
    entries = as_json(run(alice, "outbox", "--json"))
    assert [tuple(e) for e in entries] == [OUTBOX_KEYS, OUTBOX_KEYS]
    assert [e["body"] for e in entries] == ["first", "second"]  # oldest first
    # the second send tried the older message first, and stopped at the first refusal to connect
    assert [e["attempts"] for e in entries] == [2, 0]
    table = run(alice, "outbox")
    assert table.exit_code == 0
    assert entries[0]["id"][:8] in table.stdout and "connection refused" in table.stdout
    assert " now " in table.stdout  # the untried one is due at once


def test_outbox_retry_tries_refused_ones_and_one_never_blocks_the_others(alice, bob, relay, tmp_path):
    run(alice, "send", "nobody", "lost")
    relay.board.mode = "down"
    run(alice, "send", "bob", "waiting")
    relay.board.mode = "up"
    login(tmp_path / "nobody", "nobody")  # now the name exists
    result = run(alice, "outbox", "retry")
    assert result.exit_code == 0, result.output
    assert result.stdout == "Delivered to nobody.\nDelivered to bob.\n"
    assert run(alice, "outbox", "retry").stdout == "The outbox is empty: nothing to retry.\n"


def test_outbox_retry_reports_refusals_after_delivering_the_rest(alice, bob, relay):
    run(alice, "send", "nobody", "lost")
    relay.board.mode = "down"
    run(alice, "send", "bob", "waiting")
    relay.board.mode = "up"
    result = run(alice, "outbox", "retry")
    assert result.exit_code == 4
    assert "Delivered to bob." in result.stdout
    [entry] = as_json(run(alice, "outbox", "--json"))
    assert (entry["recipient"], entry["state"], entry["attempts"]) == ("nobody", "failed", 2)


def test_outbox_drop_by_prefix(alice, relay):
    run(alice, "send", "nobody", "typo")
    [entry] = as_json(run(alice, "outbox", "--json"))
    result = run(alice, "outbox", "drop", entry["id"][:6].upper(), "--yes")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"Dropped the message to nobody ({entry['id'][:8]}).\n"
    assert as_json(run(alice, "outbox", "--json")) == []
    assert as_json(run(alice, "conversations", "--json")) == []


def test_outbox_drop_refuses_without_a_terminal_or_yes(alice, relay):
    run(alice, "send", "nobody", "typo")
    [entry] = as_json(run(alice, "outbox", "--json"))
    result = run(alice, "outbox", "drop", entry["id"])
    assert result.exit_code == 2
    assert "no terminal to ask on; add --yes" in one_line_error(result)
    assert len(as_json(run(alice, "outbox", "--json"))) == 1


@pytest.mark.parametrize("ident, code, message", [
    ("abc", 2, "Give at least 6 characters of the message id"),
    ("ffffffff", 1, "No waiting message has an id starting with 'ffffffff'"),
    ("aaaaaa", 2, "'aaaaaa' matches 2 waiting messages; give more characters"),
])
def test_outbox_drop_needs_one_clear_match(alice, relay, ident, code, message):
    from chatkit.client.outbox import record_outgoing
    from chatkit.client.store import open_client_store

    store = open_client_store(alice / "client.db")
    for suffix in ("1", "2"):
        record_outgoing(store, "alice", "bob", "x", uuid=f"aaaaaaaa-0000-4000-8000-00000000000{suffix}")
    store.close()
    result = run(alice, "outbox", "drop", ident, "--yes")
    assert result.exit_code == code
    assert message in one_line_error(result)


def test_outbox_when_empty(alice, relay):
    assert run(alice, "outbox").stdout == "The outbox is empty: everything you wrote has been delivered.\n"


# --- users, secrets ---------------------------------------------------------------

def test_users_lists_people_with_exact_keys(alice, bob, relay):
    people = as_json(run(alice, "users", "--json"))
    assert [p["username"] for p in people] == ["alice", "bob"]
    assert all(tuple(p) == USER_KEYS for p in people)
    table = run(alice, "users")
    assert "alice (you)" in table.stdout and "bob" in table.stdout


def test_the_token_never_reaches_client_db(alice, bob, relay):
    import json

    token = json.loads((alice / "session.json").read_text())["token"]
    run(alice, "send", "bob", "hi")
    run(bob, "send", "alice", "hey")
    run(alice, "sync")
    for name in os.listdir(alice):
        if name.startswith("client.db"):
            assert token.encode() not in (alice / name).read_bytes(), name


# --- a local database in trouble ------------------------------------------------------

@pytest.mark.parametrize("args", [["send", "bob", "hi"], ["sync"], ["outbox"], ["outbox", "retry"]])
def test_a_corrupt_client_db_is_one_line_and_nothing_is_sent(alice, relay, args):
    (alice / "client.db").write_bytes(b"this is not a database" * 100)
    relay.board.requests.clear()
    result = run(alice, *args)
    assert result.exit_code == 1
    assert "is not a usable chatkit database" in one_line_error(result)
    assert relay.board.requests == []  # the store is checked before any network call


def test_a_locked_client_db_is_one_line(alice, relay, monkeypatch):
    import sqlite3

    import chatkit.client.store as store_module

    run(alice, "sync")  # creates client.db
    monkeypatch.setattr(store_module, "PRAGMAS", store_module.PRAGMAS + ("PRAGMA busy_timeout = 50",))
    blocker = sqlite3.connect(alice / "client.db")
    blocker.execute("BEGIN IMMEDIATE")
    try:
        result = run(alice, "send", "bob", "hi")
    finally:
        blocker.rollback()
        blocker.close()
    assert result.exit_code == 1
    assert "is locked by another program; close it and try again." in one_line_error(result)
    assert client_rows(alice, "SELECT count(*) FROM messages") == [(0,)]


def test_outbox_listing_does_not_import_the_heavy_libraries(alice, relay):
    import subprocess
    import sys

    run(alice, "send", "nobody", "x")
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from chatkit_cli.main import app\n"
        f"r = CliRunner().invoke(app, ['--data-dir', {str(alice)!r}, 'outbox', '--json'])\n"
        "assert r.exit_code == 0, r.output\n"
        "print(sorted(m for m in ('pony', 'httpx', 'sqlite_utils', 'flask', 'pandas', 'datasette')"
        " if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_send_takes_every_word_even_ones_that_look_like_options(alice, bob, relay):
    result = run(alice, "send", "bob", "-1", "for", "that,", "--really")
    assert result.exit_code == 0, result.output
    assert [m["body"] for m in history(alice, "bob")] == ["-1 for that, --really"]
    missing = run(alice, "send", "bob")
    assert missing.exit_code == 2
    assert one_line_error(missing) == "Error: Missing argument 'TEXT...'. See 'chatkit send --help'."
