"""The server store: schema, PRAGMAs, migrations, and database trouble as JSON 503s."""

import logging
import re
import sqlite3
import threading
import uuid

import pytest
from pony.orm import db_session

from chatkit.server import create_app, sqlite as sqlite_module
from chatkit.server.passwords import FAST_PARAMS
from chatkit.server.store import open_server_store
from fixtures_server import bearer, login

TABLES = {"users", "credentials", "sessions", "login_events", "messages", "schema_migrations"}


def message(**extra):
    return {"id": str(uuid.uuid4()), "to": "bob", "body": "hello", "sent_at": "2026-12-04T10:00:00Z", **extra}


def make_app(path, **config):
    return create_app({"DATABASE": str(path), "ARGON2": FAST_PARAMS, "TESTING": True, **config})


def test_tables_have_the_contract_names(tmp_path):
    store = open_server_store(tmp_path / "server.db")
    names = {r[0] for r in sqlite3.connect(tmp_path / "server.db").execute(
        "select name from sqlite_master where type = 'table'")}
    assert TABLES <= names
    assert {e._table_ for e in (store.User, store.Credential, store.Session, store.LoginEvent, store.Message)} \
        == TABLES - {"schema_migrations"}
    store.close()


def test_every_connection_gets_the_pragmas(tmp_path):
    store = open_server_store(tmp_path / "server.db")
    seen = {}

    def read():
        with db_session:
            conn = store.db.get_connection()
            seen[threading.get_ident()] = tuple(
                conn.execute(f"PRAGMA {p}").fetchone()[0]
                for p in ("journal_mode", "synchronous", "busy_timeout", "foreign_keys"))

    threads = [threading.Thread(target=read) for _ in range(3)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert set(seen.values()) == {("wal", 2, sqlite_module.BUSY_TIMEOUT_MS, 1)}  # 2 = FULL
    store.close()


def test_migrations_are_recorded_and_reopening_is_a_no_op(tmp_path):
    open_server_store(tmp_path / "server.db").close()
    open_server_store(tmp_path / "server.db").close()
    rows = sqlite3.connect(tmp_path / "server.db").execute("select name from schema_migrations").fetchall()
    assert rows == [("m001_initial_schema",)]


def test_datetimes_are_stored_as_naive_utc_text(client, app):
    login(client, "alice")
    (created,) = sqlite3.connect(app.config["DATABASE"]).execute("select created_at from users").fetchone()
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}", created)


def test_database_locked_is_retried_then_503_busy(tmp_path, monkeypatch):
    monkeypatch.setattr(sqlite_module, "BUSY_TIMEOUT_MS", 50)
    app = make_app(tmp_path / "server.db")
    try:
        client = app.test_client()
        alice = bearer(login(client, "alice"))
        login(client, "bob")
        blocker = sqlite3.connect(tmp_path / "server.db", isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")
        reply = client.post("/api/messages", json=message(), headers=alice)
        assert reply.status_code == 503
        assert reply.get_json()["error"]["code"] == "busy" and reply.headers["Retry-After"] == "1"
        assert client.post("/api/login", json={"username": "carol", "password": "password1"}).status_code == 503
        blocker.execute("ROLLBACK")
        assert client.post("/api/messages", json=message(), headers=alice).status_code == 201
    finally:
        app.extensions["chatkit"].close()


def test_lock_released_during_retries_succeeds(tmp_path, monkeypatch):
    monkeypatch.setattr(sqlite_module, "BUSY_TIMEOUT_MS", 100)
    app = make_app(tmp_path / "server.db")
    try:
        client = app.test_client()
        alice = bearer(login(client, "alice"))
        login(client, "bob")
        blocker = sqlite3.connect(tmp_path / "server.db", isolation_level=None, check_same_thread=False)
        blocker.execute("BEGIN IMMEDIATE")
        threading.Timer(0.15, lambda: blocker.execute("ROLLBACK")).start()
        assert client.post("/api/messages", json=message(), headers=alice).status_code == 201
    finally:
        app.extensions["chatkit"].close()


def test_disk_full_is_503_with_retry_after(tmp_path, monkeypatch):
    path = tmp_path / "server.db"
    first = make_app(path)
    alice = bearer(login(first.test_client(), "alice"))
    login(first.test_client(), "bob")
    first.extensions["chatkit"].close()
    normal = sqlite_module.pragmas
    monkeypatch.setattr(sqlite_module, "pragmas", lambda: normal() + ["PRAGMA max_page_count = 1"])
    app = make_app(path)
    try:
        client = app.test_client()
        replies = [client.post("/api/messages", json=message(body="x" * 9000), headers=alice) for _ in range(3)]
        full = [r for r in replies if r.status_code == 503]
        assert full, [r.status_code for r in replies]
        assert full[0].get_json()["error"]["code"] == "unavailable"
        assert int(full[0].headers["Retry-After"]) > 0
        assert client.get("/api/health").status_code == 200
    finally:
        app.extensions["chatkit"].close()


def test_read_only_database_is_503_with_retry_after(client, app):
    alice = bearer(login(client, "alice"))
    login(client, "bob")
    srv = app.extensions["chatkit"]
    srv.committer.submit(lambda: srv.store.db.execute("PRAGMA query_only = 1"))
    reply = client.post("/api/messages", json=message(), headers=alice)
    assert reply.status_code == 503 and reply.headers["Retry-After"]
    assert reply.get_json()["error"]["code"] == "unavailable"


def test_unexpected_error_is_a_json_500_without_details(tmp_path, caplog):
    app = make_app(tmp_path / "server.db")
    app.config["TESTING"] = False

    @app.get("/api/boom")
    def boom():
        raise RuntimeError("internal detail 12345")

    try:
        with caplog.at_level(logging.ERROR, logger="chatkit.server"):
            reply = app.test_client().get("/api/boom")
        assert reply.status_code == 500
        assert reply.get_json() == {"error": {"code": "internal_error",
                                              "message": "The server hit an unexpected problem. It has been logged."}}
        assert "internal detail 12345" not in reply.get_data(as_text=True)
        assert "internal detail 12345" in caplog.text
        assert app.test_client().get("/api/health").status_code == 200
    finally:
        app.extensions["chatkit"].close()
