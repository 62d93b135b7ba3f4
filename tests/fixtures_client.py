"""Fixtures for the client tests (a pytest plugin loaded by conftest).

Shared by the archive, delivery, search and analytics tests, so the names and
signatures here stay stable:

- `client_store`: a ClientStore on `<data-dir>/client.db` (the test's own data dir).
- `add_message(store, peer, body, ...)`: seed one message through Pony, exactly
  as a send or a sync would write it; returns DESIGN.md's message dict.
- `logged_in`: a session.json for "alice" in the test's data dir.
- `login_as(data_dir, username)`: the same for any name and data dir.
"""

from __future__ import annotations

import uuid as uuidlib
from datetime import datetime, timedelta

import pytest

ACCOUNT = "alice"
_clock = datetime(2026, 12, 1, 9, 0, 0)


def login_as(data_dir, username: str = ACCOUNT, server: str = "http://127.0.0.1:9"):
    """Write a session.json as `chatkit login` would (no server is contacted)."""
    from chatkit.client.session import save_session

    return save_session(data_dir, server=server, username=username, token=f"test-token-{username}")


def add_message(store, peer: str, body: str = "Hallo!", *, direction: str = "in",
                account: str = ACCOUNT, sent_at: datetime | str | None = None,
                status: str | None = None, id: str | None = None) -> dict:
    """Insert one message through Pony (triggers keep `conversations` exact).

    `sent_at` is naive UTC or ISO text; by default each call is one minute
    after the previous one, so the order of calls is the order of messages.
    `status` defaults to 'unread' for incoming and 'sent' for outgoing.
    """
    global _clock
    from pony.orm import db_session

    from chatkit.client.shapes import message_shape
    from chatkit.timefmt import parse_iso

    if sent_at is None:
        _clock += timedelta(minutes=1)
        sent_at = _clock
    elif isinstance(sent_at, str):
        sent_at = parse_iso(sent_at)
    sender, recipient = (peer, account) if direction == "in" else (account, peer)
    status = status or ("unread" if direction == "in" else "sent")
    with db_session:
        row = store.entities.Message(
            uuid=id or str(uuidlib.uuid4()), account=account, peer=peer, direction=direction,
            sender=sender, recipient=recipient, body=body, sent_at=sent_at,
            received_at=sent_at if direction == "in" else None, status=status,
        )
        row.flush()
        return message_shape(row)


@pytest.fixture
def client_store(isolated_data_dir):
    """An opened (created, migrated) client.db in this test's data dir."""
    from chatkit.client.store import open_client_store

    store = open_client_store(isolated_data_dir / "client.db")
    yield store
    store.close()


@pytest.fixture
def logged_in(isolated_data_dir):
    """session.json for "alice" in this test's data dir; returns the Session."""
    return login_as(isolated_data_dir, ACCOUNT)
