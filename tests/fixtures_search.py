"""Fixtures for the search tests (a pytest plugin loaded by conftest).

- `search_archive`: alice's archive (logged in) seeded through Pony with the
  messages in SEEDED, keyed by a short name, so tests can say which ones a
  query must find. Times are UTC; the tests read them in Europe/Berlin.
- `found(hits)`: the seeded keys of a search result, in result order.
"""

from __future__ import annotations

import pytest

from fixtures_client import add_message, login_as

TZ = "Europe/Berlin"

# key: (peer, direction, body, sent_at UTC)
SEEDED = {
    "gruesse_sz": ("bob", "in", "Viele Grüße aus München!", "2026-12-01T08:00:00"),
    "gruesse_caps": ("bob", "out", "GRÜSSE zurück, und über alles.", "2026-12-01T09:00:00"),
    "gruesse_ss": ("carol", "in", "grüsse von carol", "2026-12-02T10:00:00"),
    "nachricht": ("carol", "out", "Deine Nachricht kam an.", "2026-12-02T11:00:00"),
    "nachrichten": ("dave", "in", "Nachrichten von gestern", "2026-12-02T22:30:00"),  # 23:30 Berlin
    "email": ("dave", "out", "Send me an e-mail at 12:30, don't forget", "2026-12-02T23:30:00"),  # 00:30 next day
    "cpp": ("bob", "in", "C++ or Rust? AND/OR NOT NEAR", "2026-12-03T07:00:00"),
    "hello_world": ("bob", "out", "hello world", "2026-12-03T08:00:00"),
    "hello_there": ("carol", "in", "hello there, world", "2026-12-03T09:00:00"),
    "quote": ("carol", "out", 'she said "hello" twice', "2026-12-03T10:00:00"),
    "strasse": ("dave", "in", "Die Straße ist gesperrt", "2026-12-03T11:00:00"),
}


@pytest.fixture
def search_archive(client_store, isolated_data_dir):
    """Seed SEEDED through Pony and log in as alice; returns {key: message dict}."""
    login_as(isolated_data_dir, "alice")
    seeded = {}
    for key, (peer, direction, body, sent_at) in SEEDED.items():
        seeded[key] = add_message(client_store, peer, body, direction=direction, sent_at=sent_at)
    # Another account's message in the same file must never show up.
    add_message(client_store, "bob", "Grüße an mallory", account="mallory", sent_at="2026-12-01T08:30:00")
    return seeded


@pytest.fixture
def found(search_archive):
    by_id = {message["id"]: key for key, message in search_archive.items()}

    def keys(hits):
        return [by_id[(hit.message if hasattr(hit, "message") else hit)["id"]] for hit in hits]

    return keys
