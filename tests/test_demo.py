"""`chatkit demo`: what the issue promises of the demo data, checked on one real build.

`demo_dir` (fixtures_analytics) is built once per session by a real `chatkit
demo --seed 7 --messages 1500 --tz Europe/Berlin` process (60 days, 6 people);
the tests below read it with chatkit.analytics, plain sqlite3 and other
chatkit commands. That the defaults are 3,000 messages over 60 days is
checked on the command itself, and that a build relays exactly the number
of messages asked for on every build here.
"""

import json
import os
import re
import shutil
import sqlite3
import stat
from datetime import datetime, timedelta

import pandas as pd
import pytest

from chatkit import analytics
from chatkit.demo import build_demo
from chatkit.errors import UsageError
from fixtures_analytics import DEMO_MESSAGES, DEMO_TZ, run_chatkit


def rows(path, sql, *params):
    with sqlite3.connect(path) as conn:
        return conn.execute(sql, params).fetchall()


@pytest.fixture(scope="module")
def archive(demo_dir):
    return analytics.messages_frame(demo_dir / "client.db", tz=DEMO_TZ, account="anna")


def test_files_and_session(demo_dir):
    assert {p.name for p in demo_dir.iterdir()} >= {"server.db", "client.db", "session.json"}
    session = json.loads((demo_dir / "session.json").read_text())
    assert session["username"] == "anna" and session["server"] == "http://127.0.0.1:8000"
    assert stat.S_IMODE((demo_dir / "session.json").stat().st_mode) == 0o600
    # the token lives in session.json only, never in the archive Datasette serves
    with open(demo_dir / "client.db", "rb") as handle:
        assert session["token"].encode() not in handle.read()
    assert not list(demo_dir.glob("*.demo-partial"))


def test_defaults_are_three_thousand_messages_six_people_sixty_days():
    import typer.main

    from chatkit_cli.main import app

    params = {p.name: p.default for p in typer.main.get_command(app).commands["demo"].params}
    assert (params["messages"], params["people"], params["days"]) == (3000, 6, 60)


def test_server_relayed_the_messages_over_sixty_days(demo_dir):
    (count, first, last), = rows(demo_dir / "server.db", "SELECT count(*), min(sent_at), max(sent_at) FROM messages")
    assert count == DEMO_MESSAGES
    assert datetime.fromisoformat(last) - datetime.fromisoformat(first) >= timedelta(days=59)
    assert datetime.fromisoformat(last) > datetime.utcnow() - timedelta(hours=2)  # it ends now
    users = [u for u, in rows(demo_dir / "server.db", "SELECT username FROM users ORDER BY id")]
    assert users == ["anna", "ben", "clara", "david", "emma", "felix"]
    # delivered messages lose their body on the server: it is a relay, the client is the archive
    (kept,), = rows(demo_dir / "server.db", "SELECT count(*) FROM messages WHERE body IS NOT NULL")
    assert kept < 20


def test_logins_failures_one_throttled_streak_and_logouts(demo_dir):
    events = analytics.login_events_frame(demo_dir / "server.db", tz=DEMO_TZ)
    kinds = events["kind"].value_counts()
    assert kinds["register"] == 6
    assert kinds["login"] >= 10 and kinds["login_failed"] >= 5 and kinds["logout"] >= 1
    streaks = analytics.failure_streaks(events)
    throttled = streaks[streaks["throttled"] > 0]
    assert len(throttled) == 1
    attack = throttled.iloc[0]
    assert attack["failed"] == 5 and attack["addresses"] == "198.51.100.23" and not attack["then_logged_in"]
    typos = streaks[streaks["throttled"] == 0]
    assert len(typos) >= 3 and typos["then_logged_in"].all()
    # logins happen at human hours, from more than one address per person
    assert events.loc[events["kind"] == "login", "at"].dt.hour.between(7, 23).mean() > 0.9
    assert events.loc[events["account"] == "anna", "remote_addr"].nunique() >= 2


def test_german_and_english_of_varied_length(archive):
    bodies = archive["body"]
    assert bodies.str.contains("ß").any() and bodies.str.contains("[äöüÄÖÜ]").any()
    assert bodies.str.contains(r"\bthe\b").any() and bodies.str.contains(r"\bich\b", case=False).any()
    assert bodies.str.contains("https://").any()
    assert bodies.str.contains("[\U0001F300-\U0001FAFF]").any()  # emoji
    lengths = bodies.str.len()
    assert lengths.min() <= 5 and lengths.max() >= 300 and 15 <= lengths.median() <= 80


def test_daily_rhythm_and_quieter_weekends(archive):
    hours = archive["sent_at"].dt.hour
    assert (hours < 6).mean() < 0.05
    assert hours.between(18, 22).mean() > 0.3
    daily = analytics.per_day(archive)
    weekend = daily.index.day_of_week >= 5
    assert daily.loc[weekend, "total"].mean() < 0.85 * daily.loc[~weekend, "total"].mean()
    assert len(daily) >= 60


def test_very_different_volumes_and_replies_within_minutes(archive):
    peers = analytics.per_peer(archive)
    partners = peers[peers["messages"] > 1]  # jannik only got the one failed message
    assert len(partners) == 5
    assert partners["messages"].iloc[0] >= 3 * partners["messages"].iloc[-1]
    assert (partners["median_reply"] < pd.Timedelta(minutes=10)).all()
    assert (partners["their_median_reply"] < pd.Timedelta(minutes=10)).all()


def test_statuses_unread_and_the_failed_message(demo_dir, archive):
    statuses = archive["status"].value_counts()
    assert statuses["sent"] > 300 and statuses["read"] > 300
    assert 1 <= statuses["unread"] <= 10 and statuses["pending"] == 0 and statuses["failed"] == 1
    outbox = rows(demo_dir / "client.db", "SELECT o.state, m.recipient, o.last_error FROM outbox o "
                                          "JOIN messages m ON m.id = o.message")
    assert outbox == [("failed", "jannik", "There is no user named 'jannik' on this server.")]


def test_an_outage_piled_up_messages_that_were_delivered_later(demo_dir):
    late = rows(demo_dir / "server.db", "SELECT sent_at, received_at FROM messages")
    delays = [(datetime.fromisoformat(r) - datetime.fromisoformat(s), s) for s, r in late]
    held = [s for delay, s in delays if delay > timedelta(minutes=10)]
    assert len(held) >= 3  # typed while the server was down, relayed when it came back
    assert len({s[:10] for s in held}) == 1  # all on one evening
    assert max(delay for delay, _ in delays) < timedelta(hours=3)


def test_the_archive_works_with_the_other_commands(demo_dir, archive, tmp_path):
    data = tmp_path / "copy"
    shutil.copytree(demo_dir, data)
    conversations = json.loads(run_chatkit("conversations", "--json", data_dir=data).stdout)
    assert [c["peer"] for c in conversations][:1] != ["jannik"] and len(conversations) == 6
    assert sum(c["message_count"] for c in conversations) == len(archive)
    found = json.loads(run_chatkit("search", "grüsse", "--json", data_dir=data).stdout)
    assert found and all("grüße" in m["body"].lower() for m in found)
    days = json.loads(run_chatkit("stats", "--json", "--tz", DEMO_TZ, data_dir=data).stdout)
    assert sum(d["total"] for d in days) == len(archive)


def test_the_session_works_against_a_real_server_on_the_demo_database(demo_dir, tmp_path, live_server_factory):
    server_dir = tmp_path / "server"
    server_dir.mkdir()
    shutil.copy(demo_dir / "server.db", server_dir / "server.db")
    server = live_server_factory(data_dir=server_dir)
    client_dir = tmp_path / "anna"
    shutil.copytree(demo_dir, client_dir)
    session = json.loads((client_dir / "session.json").read_text())
    session["server"] = server.url
    (client_dir / "session.json").write_text(json.dumps(session))
    result = run_chatkit("users", "--json", data_dir=client_dir)
    assert result.returncode == 0, result.stderr
    assert [u["username"] for u in json.loads(result.stdout)] == ["anna", "ben", "clara", "david", "emma", "felix"]
    assert run_chatkit("sync", data_dir=client_dir).returncode == 0


def test_summary_says_what_to_try_next(demo_dir):
    printed = (demo_dir.parent / "demo-stdout.txt").read_text()
    assert re.search(r"Built the demo in .* in \d+ s:", printed)
    for hint in ("chatkit conversations", "chatkit search grüsse", "chatkit browse", "datasette ",
                 "notebooks/", "chatkit stats"):
        assert hint in printed


# --- the builder itself, small and fast -------------------------------------------------------

END = datetime(2026, 11, 30, 18, 0)


def small(path, **kwargs):
    options = dict(seed=3, days=4, people=3, messages=40, tz=DEMO_TZ, end=END)
    return build_demo(path, **{**options, **kwargs})


def content(path):
    server = rows(path / "server.db", "SELECT uuid, s.username, r.username, sent_at, received_at, delivered_at "
                                      "FROM messages m JOIN users s ON s.id = m.sender "
                                      "JOIN users r ON r.id = m.recipient ORDER BY seq")
    client = rows(path / "client.db", "SELECT uuid, peer, direction, body, sent_at, received_at, status "
                                      "FROM messages ORDER BY sent_at, uuid")
    events = rows(path / "server.db", "SELECT at, username, kind, remote_addr FROM login_events ORDER BY id")
    return server, client, events


def test_same_seed_same_demo_other_seed_other_demo(tmp_path):
    first, second, third = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    summary = small(first)
    small(second)
    small(third, seed=4)
    assert summary.messages == 40 and summary.people == ["anna", "ben", "clara"]
    assert content(first) == content(second)
    assert content(first)[1] != content(third)[1]


def test_refuses_to_overwrite_without_force(tmp_path):
    data = tmp_path / "built"
    small(data)
    before = {p.name: p.read_bytes() for p in data.iterdir()}
    result = run_chatkit("demo", "--messages", "50", data_dir=data)
    assert result.returncode == 1
    assert result.stderr == (f"Error: {data} already holds server.db, client.db, session.json; "
                             "use `chatkit demo --force` to replace them with the demo.\n")
    assert {p.name: p.read_bytes() for p in data.iterdir()} == before
    result = run_chatkit("demo", "--messages", "25", "--days", "3", "--people", "2", "--force", data_dir=data)
    assert result.returncode == 0, result.stderr
    (count,), = rows(data / "server.db", "SELECT count(*) FROM messages")
    assert count == 25, result.stdout


def test_an_interrupted_demo_leaves_the_data_dir_as_it_was(tmp_path):
    data = tmp_path / "fresh"

    def stop(done, total):
        if done == 40:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        small(data, progress=stop)
    assert not data.exists() or not any(data.iterdir())


@pytest.mark.parametrize("args, message", [
    (["--people", "1"], "Error: Invalid --people 1; use 2 to 16.\n"),
    (["--people", "17"], "Error: Invalid --people 17; use 2 to 16.\n"),
    (["--days", "0"], "Error: Invalid --days 0; use 1 to 3650.\n"),
    (["--messages", "0"], "Error: Invalid --messages 0; use 1 to 1000000.\n"),
    (["--tz", "Mars/Base"], "Error: Unknown time zone 'Mars/Base'; use a name like Europe/Berlin or UTC.\n"),
])
def test_bad_options(tmp_path, args, message):
    result = run_chatkit("demo", *args, data_dir=tmp_path / "fresh")
    assert result.returncode == 2
    assert result.stderr == message
    assert not (tmp_path / "fresh").exists()


def test_library_validates_too(tmp_path):
    with pytest.raises(UsageError):
        build_demo(tmp_path, people=1)
