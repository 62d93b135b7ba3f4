"""Fixtures for the search tests (a pytest plugin loaded by conftest).

- `search_archive`: alice's archive (logged in) seeded through Pony with the
  messages in SEEDED, keyed by a short name, so tests can say which ones a
  query must find. Times are UTC; the tests read them in Europe/Berlin.
- `seeded_archive`: the same messages in one file per test module, for
  read-only tests: (path, {key: message}).
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


@pytest.fixture(scope="module")
def seeded_archive(tmp_path_factory):
    """SEEDED in a client.db shared by a module's read-only tests; returns (path, {key: message})."""
    from chatkit.client.store import open_client_store

    path = tmp_path_factory.mktemp("search") / "client.db"
    store = open_client_store(path)
    try:
        seeded = {key: add_message(store, peer, body, direction=direction, sent_at=sent_at)
                  for key, (peer, direction, body, sent_at) in SEEDED.items()}
        add_message(store, "bob", "Grüße an mallory", account="mallory", sent_at="2026-12-01T08:30:00")
    finally:
        store.close()
    return path, seeded


@pytest.fixture
def found(request):
    """found(hits) -> the SEEDED keys of the hits, from whichever archive the test uses."""
    name = "search_archive" if "search_archive" in request.fixturenames else "seeded_archive"
    archive = request.getfixturevalue(name)
    seeded = archive if name == "search_archive" else archive[1]
    by_id = {message["id"]: key for key, message in seeded.items()}

    def keys(hits):
        return [by_id[(hit.message if hasattr(hit, "message") else hit)["id"]] for hit in hits]

    return keys


# --- Datasette (`chatkit browse`) -------------------------------------------------

BROWSE_MESSAGES = [  # peer, direction, body, sent_at UTC
    ("bob", "in", "Viele Grüße aus München!", "2026-12-03T08:00:00"),
    ("bob", "out", "GRÜSSE zurück nach München", "2026-12-03T09:15:00"),
    ("carol", "in", "grüsse von carol", "2026-12-02T10:00:00"),
    ("carol", "out", "Kommst du morgen?", "2026-12-02T10:05:00"),
    ("dave", "in", "Die Straße ist gesperrt", "2026-12-01T17:00:00"),
]


def build_browse_data_dir(data_dir):
    """A small demo-like data dir: alice's client.db and a server.db with logins, made by the real code."""
    import httpx
    from pony.orm import db_session

    from chatkit.client.store import open_client_store
    from chatkit.server import create_app
    from chatkit.server.passwords import FAST_PARAMS

    store = open_client_store(data_dir / "client.db")
    try:
        for peer, direction, body, sent_at in BROWSE_MESSAGES:
            add_message(store, peer, body, direction=direction, sent_at=sent_at)
        failed = add_message(store, "nobody", "Hallo? Gibt es dich?", direction="out", status="failed")
        pending = add_message(store, "bob", "Bis gleich", direction="out", status="pending")
        with db_session:
            Message, Outbox = store.entities.Message, store.entities.Outbox
            Outbox(message=Message.get(uuid=failed["id"]), attempts=1, state="failed",
                   last_error="No user named nobody on the server.")
            Outbox(message=Message.get(uuid=pending["id"]), attempts=3, state="pending",
                   last_error="The server cannot be reached.")
    finally:
        store.close()

    app = create_app({"TESTING": True, "DATABASE": str((data_dir / "server.db").resolve()),
                      "ARGON2": FAST_PARAMS, "LOGIN_LIMITS": (2, 50)})
    try:
        with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://chatkit.test") as http:
            tokens = {}
            for name in ("alice", "bob", "carol"):
                tokens[name] = http.post("/api/login", json={"username": name, "password": "password-" + name}).json()["token"]
            for _ in range(3):  # the third is throttled
                http.post("/api/login", json={"username": "bob", "password": "not-his-password"})
            http.post("/api/login", json={"username": "mallory", "password": "x" * 8})  # registers mallory
            http.post("/api/login", json={"username": "mallory", "password": "y" * 8})
            http.post("/api/messages", json={"id": "0b0e3c52-41b6-4c4e-8d9a-1f1f3e1b2a01", "to": "bob",
                                             "body": "Grüße vom Server", "sent_at": "2026-12-03T10:00:00Z"},
                      headers={"Authorization": "Bearer " + tokens["alice"]})
            http.post("/api/logout", headers={"Authorization": "Bearer " + tokens["carol"]})
    finally:
        app.extensions["chatkit"].close()
    return data_dir


class BrowseProcess:
    """A real `chatkit browse` child on a free loopback port."""

    def __init__(self, data_dir, port=None, extra_args=()):
        import subprocess
        import sys

        from fixtures_server import free_port

        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log_path = data_dir.parent / f"browse-{self.port}.log"
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "chatkit_cli", "--data-dir", str(data_dir), "browse",
             "--port", str(self.port), *extra_args],
            stdout=self._log, stderr=subprocess.STDOUT)

    def log_text(self) -> str:
        return self.log_path.read_text("utf-8", errors="replace")

    def wait_ready(self, timeout=30.0):
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if "Datasette is serving" in self.log_text():
                return self
            if self.proc.poll() is not None:
                raise RuntimeError(f"chatkit browse exited {self.proc.returncode}:\n{self.log_text()}")
            time.sleep(0.05)
        raise RuntimeError(f"chatkit browse did not start:\n{self.log_text()}")

    def stop(self, timeout=15.0):
        """Ctrl-C (SIGINT to this process only); returns its exit code."""
        import signal
        import subprocess

        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return self.proc.returncode


@pytest.fixture(scope="module")
def browse_data_dir(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("browse") / "data"
    data_dir.mkdir()
    return build_browse_data_dir(data_dir)


@pytest.fixture(scope="module")
def browse(browse_data_dir):
    """One `chatkit browse` for a module's tests; stopped (Ctrl-C) at the end."""
    process = BrowseProcess(browse_data_dir).wait_ready()
    yield process
    process.stop()
