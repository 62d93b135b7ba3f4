"""What a person typed arrives exactly as typed, through both stores.

Regression: Pony strips leading and trailing whitespace from every `str`
attribute unless told not to (`autostrip=True` is its default), so indented
code lost its indentation, a trailing space vanished, and a body of only
spaces became '' on the server — which the recipient's sync then skipped as
"already acknowledged": a message answered 201 and never delivered. Both
`messages.body` columns now keep what was typed (`autostrip=False`).
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import uuid
from datetime import datetime, timezone

import httpx
import pytest

pytestmark = pytest.mark.slow

PASSWORD = "exact-pass-1"
TYPED = ["    def f():\n        return 1\n", "trailing space ", " \t ", "\n\nblank lines first",
         "  Grüße  🙂  "]


def cli(data_dir, *args, input=None):
    result = subprocess.run([sys.executable, "-m", "chatkit_cli", "--data-dir", str(data_dir), *args],
                            input=input, capture_output=True, text=True, timeout=60,
                            env=dict(os.environ, NO_COLOR="1"))
    assert result.returncode == 0, result.stderr
    return result


def test_bodies_keep_their_whitespace_from_sender_to_recipient_archive(live_server, tmp_path):
    alice, bob = tmp_path / "alice", tmp_path / "bob"
    for who, data in (("alice", alice), ("bob", bob)):
        cli(data, "login", who, "--server", live_server.url, "--password-stdin", input=PASSWORD + "\n")
    for body in TYPED[:2]:
        cli(alice, "send", "bob", body)  # through the CLI: record_outgoing (Pony) and the server
    token = json.loads((alice / "session.json").read_text())["token"]
    for body in TYPED[2:]:  # through the API, as any client may send them
        reply = httpx.post(live_server.url + "/api/messages", headers={"Authorization": f"Bearer {token}"},
                           json={"id": str(uuid.uuid4()), "to": "bob", "body": body,
                                 "sent_at": datetime.now(timezone.utc).isoformat()})
        assert reply.status_code == 201, reply.text

    conn = sqlite3.connect(live_server.db_path)
    try:
        on_server = [row[0] for row in conn.execute("SELECT body FROM messages ORDER BY seq")]
    finally:
        conn.close()
    assert on_server == TYPED

    sent = json.loads(cli(alice, "history", "bob", "--json").stdout)
    assert [m["body"] for m in sent] == TYPED[:2]
    cli(bob, "sync")
    received = json.loads(cli(bob, "history", "alice", "--json").stdout)
    assert [m["body"] for m in received] == TYPED
    exported = [json.loads(line)["body"] for line in cli(bob, "export").stdout.splitlines()]
    assert exported == TYPED
