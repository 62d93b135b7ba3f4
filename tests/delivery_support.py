"""Helpers for the delivery tests: the real Flask app in-process, a switchable network, a CLI runner.

`relay` injects `httpx.WSGITransport(app=create_app(...))` (the `app` fixture
of fixtures_server, with cheap argon2) behind a `Switchboard`, so CLI tests
run the real server code in-process and can still make the network fail in
each way the client must survive: refused, timed out, 5xx, or a reply lost
after the server committed.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from chatkit_cli.main import app as cli_app

SERVER_URL = "http://chatkit.test"
PASSWORD = "password1"


class Switchboard(httpx.BaseTransport):
    """Forwards to the in-process app, or fails the way `mode` says."""

    def __init__(self, inner: httpx.BaseTransport):
        self.inner = inner
        self.mode = "up"  # up | down | timeout | 503 | lose_reply | reject
        self.requests: list[tuple[str, str]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append((request.method, request.url.path))
        if self.mode == "down":
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        if self.mode == "timeout":
            raise httpx.ReadTimeout("timed out", request=request)
        if self.mode == "503":
            return httpx.Response(503, headers={"Retry-After": "5"},
                                  json={"error": {"code": "unavailable", "message": "The disk is full."}})
        if self.mode == "reject":
            return httpx.Response(400, json={"error": {"code": "bad_request", "message": "Field 'body' is odd."}})
        response = self.inner.handle_request(request)
        if self.mode == "lose_reply":
            response.read()  # the server has done (and committed) the work ...
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)
        return response


class Relay:
    """The in-process server as the CLI sees it."""

    def __init__(self, app, board: Switchboard):
        self.app, self.board, self.url = app, board, SERVER_URL

    def server_rows(self, sql: str, params=()) -> list[tuple]:
        """Read server.db directly (what the server really stored)."""
        conn = sqlite3.connect(self.app.config["DATABASE"])
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()


@pytest.fixture
def relay(app):
    from chatkit.client import transport

    board = Switchboard(httpx.WSGITransport(app=app))
    previous = transport.inject_transport(board)
    yield Relay(app, board)
    transport.inject_transport(previous)


_runner = CliRunner()


def run(data_dir, *args, input: str | None = None, env: dict | None = None):
    """`chatkit --data-dir DATA_DIR ARGS...` in-process; returns the click Result."""
    return _runner.invoke(cli_app, ["--data-dir", str(data_dir), *map(str, args)], input=input, env=env)


def login(data_dir, name: str, password: str = PASSWORD, server: str = SERVER_URL):
    result = run(data_dir, "login", name, "--server", server, "--password-stdin", input=password + "\n")
    assert result.exit_code == 0, result.output
    return result


def as_json(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def client_rows(data_dir, sql: str, params=()) -> list[tuple]:
    conn = sqlite3.connect(Path(data_dir) / "client.db")
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def one_line_error(result) -> str:
    """The whole stderr must be one 'Error: ...' line (no traceback, no usage panel)."""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    assert "Traceback" not in result.output
    return lines[0]
