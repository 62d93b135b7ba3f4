"""`chatkit search` as people and scripts use it: output, JSON shape, exit codes, start-up cost."""

import json
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from chatkit_cli.main import app
from fixtures_search import TZ

runner = CliRunner()
SEARCH_KEYS = ["id", "peer", "direction", "sender", "recipient", "body", "sent_at", "status", "snippet", "rank"]


def search(*args, env=None):
    return runner.invoke(app, ["search", *args], env=env)


def test_json_is_the_message_shape_plus_snippet_and_rank(search_archive):
    result = search("grüsse", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert len(rows) == 3
    for row in rows:
        assert list(row) == SEARCH_KEYS
        assert row["sent_at"].endswith("Z") and isinstance(row["rank"], float)
        assert "[" in row["snippet"] and "]" in row["snippet"]
    by_id = {row["id"]: row for row in rows}
    sz = by_id[search_archive["gruesse_sz"]["id"]]
    assert sz == {**search_archive["gruesse_sz"], "snippet": "Viele [Grüße] aus München!", "rank": sz["rank"]}
    assert [row["rank"] for row in rows] == sorted(row["rank"] for row in rows)


def test_words_with_a_dash_are_exclusions_not_options(search_archive):
    for args in (["hello", "-there"], ["-there", "hello"], ["hello -there"]):
        result = search(*args, "--json", "--sort", "date")
        assert result.exit_code == 0, result.output
        assert [row["body"] for row in json.loads(result.stdout)] == ['she said "hello" twice', "hello world"]


def test_options_narrow_and_order(search_archive):
    result = search("hello", "--with", "carol", "--sort", "date", "--limit", "1", "--json")
    assert result.exit_code == 0, result.output
    assert [row["body"] for row in json.loads(result.stdout)] == ['she said "hello" twice']


def test_people_see_peer_local_time_and_the_message(search_archive):
    result = search("on:2026-12-02", "nachrichten", "--tz", TZ)
    assert result.exit_code == 0, result.output
    assert "← dave" in result.stdout
    assert "2026-12-02 23:30" in result.stdout  # 22:30 UTC is 23:30 in Berlin
    assert "Nachrichten von gestern" in result.stdout
    assert "[" not in result.stdout  # markers are for JSON; people get bold on a terminal


def test_matches_are_bold_on_a_terminal_even_without_colour(search_archive):
    result = search("munchen", env={"FORCE_COLOR": "1", "NO_COLOR": "1", "COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    assert "\x1b[1mMünchen\x1b[0m" in result.stdout
    assert "\x1b[3" not in result.stdout  # NO_COLOR: no colours, bold only


def test_nothing_found_is_not_an_error(search_archive):
    result = search("zebra")
    assert result.exit_code == 0 and result.stdout == ""
    assert "No messages match." in result.stderr
    result = search("zebra", "--json")
    assert result.exit_code == 0 and json.loads(result.stdout) == []


@pytest.mark.parametrize("args, code, message", [
    ([""], 2, 'Error: Nothing to search for; type a word, a "phrase", word* or a filter such as with:NAME.'),
    (["*", "--json"], 2, "Error: Nothing to search for"),
    (["-hello"], 2, "Error: Exclusions alone would match everything"),
    (["on:2026-13-01", "x"], 2, "Error: on:2026-13-01 is not a date; use YYYY-MM-DD, today or yesterday."),
    (["x", "--tz", "Mars/Base"], 2, "Error: Unknown time zone 'Mars/Base'"),
    (["x", "--sort", "best"], 2, "Error: Unknown sort 'best'; use rank or date."),
    (["x", "--limit", "0"], 2, "Error: Invalid value for '--limit'"),
    (["x", "--limt", "3"], 2, "Error: No such option: --limt. See 'chatkit search --help'."),
    ([], 2, "Error: Nothing to search for"),
])
def test_bad_input_is_one_line_and_exit_2(search_archive, args, code, message):
    result = search(*args)
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message), lines
    assert "Traceback" not in result.output


def test_not_logged_in_is_exit_3(client_store):
    result = search("hello")
    assert result.exit_code == 3
    assert result.stderr.strip() == "Error: Not logged in. Run `chatkit login USER` first."


def test_a_real_process_imports_no_heavy_library(search_archive, isolated_data_dir):
    """The read path stays plain sqlite3: no Pony, sqlite-utils, httpx, flask, pandas or datasette."""
    env = dict(os.environ, CHATKIT_DATA_DIR=str(isolated_data_dir))
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "chatkit_cli", "search", "grüße", "--json"],
                          capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    assert len(json.loads(proc.stdout)) == 3
    imported = {line.split("|")[-1].strip().split(".")[0] for line in proc.stderr.splitlines() if "|" in line}
    assert "chatkit" in imported
    assert not imported & {"pony", "sqlite_utils", "httpx", "flask", "pandas", "datasette", "waitress", "pydantic"}
