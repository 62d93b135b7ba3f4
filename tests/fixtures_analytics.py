"""Fixtures for the analytics, stats, demo and notebook tests (a pytest plugin loaded by conftest).

- `small_archive`: alice's client.db with seven messages whose counts a person
  can check by hand (the table below), plus one message of another account.
- `demo_dir`: one data dir built by `chatkit demo` (a real process: 60 days,
  6 people, and half the default 3,000 messages to keep the suite quick) for
  the whole session; tests that use it only read it (or a copy).
  What the command printed is in `demo_dir.parent / "demo-stdout.txt"`.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

# alice's messages, UTC. In Europe/Berlin (CET +1 until 2026-03-29 01:00 UTC,
# then CEST +2) they fall on these local days and hours:
SMALL_ARCHIVE = [
    # peer,   direction, sent_at (UTC),           Berlin day and time
    ("bob",   "in",  "2026-03-28T09:00:00Z"),  # Sat 03-28 10:00
    ("bob",   "out", "2026-03-28T09:05:00Z"),  # Sat 03-28 10:05  (alice replies in 5 min)
    ("carol", "in",  "2026-03-28T23:30:00Z"),  # Sun 03-29 00:30  (next day in Berlin)
    ("carol", "in",  "2026-03-29T01:30:00Z"),  # Sun 03-29 03:30  (after the DST jump)
    ("bob",   "out", "2026-03-29T22:30:00Z"),  # Mon 03-30 00:30  (next day in Berlin)
    # nothing on Tue 03-31
    ("bob",   "in",  "2026-04-01T10:00:00Z"),  # Wed 04-01 12:00
    ("bob",   "out", "2026-04-01T10:20:00Z"),  # Wed 04-01 12:20  (alice replies in 20 min)
]
DEMO_TZ = "Europe/Berlin"
DEMO_MESSAGES = 1500
OTHER_ACCOUNT = ("zed", "dora", "in", "2026-03-31T12:00:00Z")


@pytest.fixture
def small_archive(client_store):
    """client.db with SMALL_ARCHIVE for alice (inserted newest first) and one row of zed's."""
    from fixtures_client import add_message

    for peer, direction, sent_at in reversed(SMALL_ARCHIVE):
        add_message(client_store, peer, f"{direction} {sent_at}", direction=direction, sent_at=sent_at,
                    status="read" if direction == "in" else None)
    account, peer, direction, sent_at = OTHER_ACCOUNT
    add_message(client_store, peer, "zed's own", direction=direction, account=account, sent_at=sent_at)
    return client_store.path


def run_chatkit(*args, data_dir, env=None, timeout=180, input=None):
    """`chatkit ARGS` as a real process with CHATKIT_DATA_DIR=data_dir."""
    environment = dict(os.environ, CHATKIT_DATA_DIR=str(data_dir), NO_COLOR="1", **(env or {}))
    return subprocess.run([sys.executable, "-m", "chatkit_cli", *args], capture_output=True, text=True,
                          env=environment, timeout=timeout, input=input)


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory):
    """What `chatkit demo --seed 7 --messages 1500 --tz Europe/Berlin` builds (read it, do not change it)."""
    data = tmp_path_factory.mktemp("demo") / "data"
    result = run_chatkit("demo", "--seed", "7", "--messages", str(DEMO_MESSAGES), "--tz", DEMO_TZ, data_dir=data)
    assert result.returncode == 0, result.stderr
    (data.parent / "demo-stdout.txt").write_text(result.stdout, encoding="utf-8")
    return data
