"""`chatkit conversations`, `history`, `day`, `export`, `import`, `backup`, `restore` in process."""

import json
import sqlite3
import subprocess
import sys
import uuid

import pytest
from fixtures_client import add_message, login_as
from typer.testing import CliRunner

from chatkit.client.shapes import CONVERSATION_KEYS, MESSAGE_KEYS
from chatkit_cli.main import app

runner = CliRunner()


def run(*args, input=None):
    return runner.invoke(app, list(args), input=input)


def one_error_line(result, code):
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert "Traceback" not in result.output
    return lines[0]


def exported(*args):
    result = run("export", *args)
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


# --- reading --------------------------------------------------------------------------

def test_conversations_json_is_exactly_the_design_shape(client_store, logged_in):
    add_message(client_store, "bob", "Hallo", sent_at="2026-12-01T10:00:00Z")
    add_message(client_store, "carol", "Grüße 🎉", sent_at="2026-12-01T11:00:00Z", direction="out")
    result = run("conversations", "--json")
    assert result.exit_code == 0
    rows = json.loads(result.stdout)
    assert [tuple(r) for r in rows] == [CONVERSATION_KEYS] * 2
    assert rows[0] == {"peer": "carol", "last_message_at": "2026-12-01T11:00:00Z", "last_body": "Grüße 🎉",
                       "message_count": 1, "unread_count": 0}
    assert rows[1]["peer"] == "bob" and rows[1]["unread_count"] == 1


def test_conversations_table_for_people(client_store, logged_in, monkeypatch):
    monkeypatch.setenv("CHATKIT_TZ", "Europe/Berlin")
    add_message(client_store, "bob", "Hallo Alice, wie geht es dir heute? " * 3, sent_at="2026-01-15T08:30:00Z")
    result = run("conversations")
    assert result.exit_code == 0
    out = result.stdout
    assert "Peer" in out and "Unread" in out and "bob" in out
    assert "2026-01-15 09:30" in out  # local time, humanised for an old message
    assert "…" in out  # the preview is shortened
    assert "\x1b[" not in out  # NO_COLOR / not a terminal


def test_conversation_order_changes_when_a_new_message_arrives(client_store, logged_in):
    add_message(client_store, "bob", "1")
    add_message(client_store, "carol", "2")
    assert [r["peer"] for r in json.loads(run("conversations", "--json").stdout)] == ["carol", "bob"]
    add_message(client_store, "bob", "3")
    assert [r["peer"] for r in json.loads(run("conversations", "--json").stdout)] == ["bob", "carol"]


def test_no_conversations_yet(logged_in):
    result = run("conversations")
    assert result.exit_code == 0 and "No conversations yet" in result.stderr
    assert json.loads(run("conversations", "--json").stdout) == []


def test_history_json_marks_read_and_unread_counts_stay_exact(client_store, logged_in):
    for i in range(5):
        add_message(client_store, "bob", f"m{i}", direction="in" if i % 2 == 0 else "out")
    result = run("history", "bob", "--limit", "3", "--json")
    assert result.exit_code == 0
    shown = json.loads(result.stdout)
    assert [m["body"] for m in shown] == ["m2", "m3", "m4"]
    assert all(tuple(m) == MESSAGE_KEYS for m in shown)
    assert [m["status"] for m in shown] == ["read", "sent", "read"]
    conv = json.loads(run("conversations", "--json").stdout)[0]
    assert conv["unread_count"] == 1  # m0 was not shown
    run("history", "bob")
    assert json.loads(run("conversations", "--json").stdout)[0]["unread_count"] == 0


def test_history_table(client_store, logged_in, monkeypatch):
    monkeypatch.setenv("CHATKIT_TZ", "UTC")
    add_message(client_store, "bob", "Straße", sent_at="2026-12-01T10:00:00Z")
    result = run("history", "bob")
    assert result.exit_code == 0
    assert "2026-12-01 10:00" in result.stdout and "Straße" in result.stdout and "bob" in result.stdout
    assert "No messages with nobody yet." in run("history", "nobody").stderr


@pytest.mark.parametrize("limit", ["0", "-3", "many"])
def test_history_bad_limit_is_a_usage_error(logged_in, limit):
    line = one_error_line(run("history", "bob", "--limit", limit), 2)
    assert "Invalid value for '--limit'" in line


def test_day_json_across_the_spring_dst_change(client_store, logged_in):
    for at in ("2026-03-28T22:59:59Z", "2026-03-28T23:00:00Z", "2026-03-29T21:59:59Z", "2026-03-29T22:00:00Z"):
        add_message(client_store, "bob", at, sent_at=at)
    result = run("day", "2026-03-29", "--tz", "Europe/Berlin", "--json")
    assert result.exit_code == 0
    assert [m["body"] for m in json.loads(result.stdout)] == ["2026-03-28T23:00:00Z", "2026-03-29T21:59:59Z"]
    utc = json.loads(run("day", "2026-03-29", "--tz", "UTC", "--json").stdout)
    assert [m["body"] for m in utc] == ["2026-03-29T21:59:59Z", "2026-03-29T22:00:00Z"]


def test_day_uses_chatkit_tz_and_prints_local_times(client_store, logged_in, monkeypatch):
    monkeypatch.setenv("CHATKIT_TZ", "Europe/Berlin")
    add_message(client_store, "bob", "kurz nach Mitternacht", sent_at="2026-10-24T22:05:00Z", direction="out")
    result = run("day", "2026-10-25")
    assert result.exit_code == 0
    assert "00:05" in result.stdout and "kurz nach Mitternacht" in result.stdout and "→" in result.stdout
    assert "No messages on 2026-10-24." in run("day", "2026-10-24").stderr


@pytest.mark.parametrize("args, expected", [
    (["day", "2026-02-30"], "Error: Invalid date '2026-02-30'; use YYYY-MM-DD."),
    (["day", "tomorrow"], "Error: Invalid date 'tomorrow'; use YYYY-MM-DD."),
    (["day", "2026-12-04", "--tz", "Mars/Base"], "Error: Unknown time zone 'Mars/Base'; use a name like Europe/Berlin or UTC."),
])
def test_day_bad_input_is_one_line_exit_2(logged_in, args, expected):
    assert one_error_line(run(*args), 2) == expected


@pytest.mark.parametrize("args", [["conversations"], ["conversations", "--json"], ["history", "bob"],
                                  ["day", "2026-12-04"], ["export"], ["import", "-"]])
def test_not_logged_in_is_exit_3(args):
    line = one_error_line(run(*args, input=""), 3)
    assert "chatkit login" in line


def test_a_corrupt_client_db_is_one_line_exit_1(logged_in, isolated_data_dir):
    (isolated_data_dir / "client.db").write_bytes(b"garbage " * 1000)
    line = one_error_line(run("conversations"), 1)
    assert "client.db is not a usable chatkit database" in line and "chatkit restore" in line


def test_a_client_db_from_a_newer_chatkit_is_one_line_exit_1(logged_in, isolated_data_dir):
    with sqlite3.connect(isolated_data_dir / "client.db") as conn:
        conn.execute("PRAGMA user_version = 42")
    line = one_error_line(run("history", "bob"), 1)
    assert "newer chatkit" in line and "upgrade chatkit" in line


def test_an_unusable_data_dir_is_one_line_exit_1(tmp_path):
    login_as(tmp_path / "elsewhere")  # a session, but a client.db that cannot be opened
    (tmp_path / "elsewhere" / "client.db").mkdir()
    line = one_error_line(run("--data-dir", str(tmp_path / "elsewhere"), "conversations"), 1)
    assert "client.db" in line

    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    line = one_error_line(run("--data-dir", str(blocker / "data"), "import", "-", "--account", "alice",
                             input=""), 1)
    assert line.startswith(f"Error: Cannot create the data dir {blocker / 'data'}")


def test_read_commands_do_not_import_heavy_libraries(client_store, logged_in, isolated_data_dir):
    add_message(client_store, "bob", "hi")
    probe = (
        "import sys\n"
        "sys.argv = ['chatkit'] + sys.argv[1:]\n"
        "from chatkit_cli.main import app\n"
        "try:\n    app()\n"
        "except SystemExit:\n    pass\n"
        "heavy = ['pony', 'sqlite_utils', 'httpx', 'flask', 'pandas', 'datasette', 'pydantic']\n"
        "sys.stderr.write('LOADED ' + ' '.join(m for m in heavy if m in sys.modules) + '\\n')\n"
    )
    for args in (["conversations", "--json"], ["history", "bob", "--limit", "5", "--json"],
                 ["day", "2026-12-01", "--tz", "UTC", "--json"], ["export"]):
        result = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True)
        assert result.stderr.strip().splitlines()[-1] == "LOADED", (args, result.stderr)


# --- export / import ----------------------------------------------------------------------

def test_export_then_import_into_a_fresh_data_dir_reproduces_history(client_store, logged_in, tmp_path):
    for i in range(12):
        add_message(client_store, ["bob", "carol"][i % 2], f"Nachricht {i} — ß, ü, 😀",
                    direction="in" if i % 3 else "out")
    run("history", "bob", "--limit", "2")
    dump = tmp_path / "archive.jsonl"
    result = run("export")
    dump.write_text(result.stdout, encoding="utf-8")
    assert len(result.stdout.splitlines()) == 12

    other = tmp_path / "other"
    login_as(other, "alice")
    result = run("--data-dir", str(other), "import", str(dump))
    assert result.exit_code == 0
    assert result.stdout.strip() == "Imported 12 messages into alice's archive; 0 already present."
    for args in (["export"], ["conversations", "--json"]):
        assert run("--data-dir", str(other), *args).stdout == run(*args).stdout
    for peer in ("bob", "carol"):
        mine = run("history", peer, "--json").stdout
        assert run("--data-dir", str(other), "history", peer, "--json").stdout == mine

    again = run("--data-dir", str(other), "import", str(dump))
    assert again.stdout.strip() == "Imported 0 messages into alice's archive; 12 already present."


def test_export_one_peer(client_store, logged_in):
    add_message(client_store, "bob", "für bob")
    add_message(client_store, "carol", "für carol")
    assert [m["body"] for m in exported("--peer", "bob")] == ["für bob"]


def test_import_from_stdin_and_for_a_named_account(logged_in):
    line = json.dumps({"id": str(uuid.uuid4()), "peer": "bob", "direction": "in", "sender": "bob",
                       "recipient": "erin", "body": "für Erin", "sent_at": "2026-12-01T10:00:00Z",
                       "status": "unread"})
    result = run("import", "-", "--account", "erin", input=line + "\n")
    assert result.exit_code == 0, result.output
    assert "Imported 1 message into erin's archive" in result.stdout
    assert exported() == []  # alice's archive is untouched


def test_a_bad_import_file_changes_nothing_and_names_the_line(client_store, logged_in, tmp_path):
    add_message(client_store, "bob", "vorher")
    before = run("export").stdout
    good = [json.dumps({"id": str(uuid.uuid4()), "peer": "bob", "direction": "out", "sender": "alice",
                        "recipient": "bob", "body": f"neu {i}", "sent_at": "2026-12-01T10:00:00Z",
                        "status": "sent"}) for i in range(4)]
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(good[:2] + ['{"id": "x"}'] + good[2:]) + "\n")
    line = one_error_line(run("import", str(bad)), 1)
    assert line.startswith(f"Error: {bad}, line 3: missing keys")
    assert "Nothing was imported" in line
    assert run("export").stdout == before


@pytest.mark.parametrize("args, code, text", [
    (["import", "/no/such/file.jsonl"], 2, "Cannot read /no/such/file.jsonl"),
    (["import", "-", "--account", "no spaces"], 2, "Invalid account name 'no spaces'"),
])
def test_import_usage_errors(logged_in, args, code, text):
    assert text in one_error_line(run(*args, input=""), code)


def test_import_shows_a_progress_bar_on_a_terminal(logged_in, isolated_data_dir, tmp_path):
    pexpect = pytest.importorskip("pexpect")
    big = tmp_path / "big.jsonl"
    with open(big, "w") as handle:
        for i in range(6000):
            handle.write(json.dumps({"id": str(uuid.UUID(int=i + 1, version=4)), "peer": "bob",
                                     "direction": "in", "sender": "bob", "recipient": "alice",
                                     "body": "Lange Nachricht " * 4, "sent_at": "2026-12-01T10:00:00Z",
                                     "status": "read"}) + "\n")
    assert big.stat().st_size > 512 * 1024
    child = pexpect.spawn(sys.executable, ["-m", "chatkit_cli", "import", str(big)],
                          env={"CHATKIT_DATA_DIR": str(isolated_data_dir), "TERM": "xterm", "COLUMNS": "100",
                               "PATH": "/usr/bin:/bin"},
                          encoding="utf-8", timeout=120, dimensions=(24, 100))
    child.expect("Importing")
    child.expect("Imported 6,000 messages into alice's archive; 0 already present.")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


# --- backup / restore ---------------------------------------------------------------------

def test_backup_and_restore_commands(client_store, logged_in, isolated_data_dir, tmp_path):
    add_message(client_store, "bob", "gesichert")
    client_store.close()
    target = tmp_path / "copy.db"
    result = run("backup", "--to", str(target))
    assert result.exit_code == 0 and f"to {target}" in result.stdout
    add_message_later = run("import", "-", input=json.dumps({
        "id": str(uuid.uuid4()), "peer": "bob", "direction": "out", "sender": "alice", "recipient": "bob",
        "body": "später", "sent_at": "2026-12-31T10:00:00Z", "status": "sent"}) + "\n")
    assert add_message_later.exit_code == 0

    refused = one_error_line(run("restore", str(target)), 1)
    assert "already exists; add --force" in refused
    result = run("restore", str(target), "--force")
    assert result.exit_code == 0, result.output
    assert "Kept the replaced database as" in result.stdout and "Restored" in result.stdout
    assert [m["body"] for m in exported()] == ["gesichert"]

    default = run("backup")
    assert default.exit_code == 0 and "client-backup-" in default.stdout


def test_backup_errors(logged_in, tmp_path, isolated_data_dir):
    assert "There is no" in one_error_line(run("backup", "--server"), 1)
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 50)
    assert str(junk) in one_error_line(run("restore", str(junk)), 1)
