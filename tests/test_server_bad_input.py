"""Table-driven bad input: every case is a JSON error of the DESIGN.md shape,
with a fitting 4xx status, and the server keeps answering afterwards."""

import json
import uuid

import pytest

from fixtures_server import bearer, login

JSON = "application/json"
GOOD_MSG = {"id": "123e4567-e89b-12d3-a456-426614174000", "to": "bob", "body": "hi",
            "sent_at": "2026-12-04T10:00:00Z"}


def raw(obj) -> bytes:
    return json.dumps(obj).encode()


def msg(**change):
    return raw({**GOOD_MSG, **change})


def login_body(**change):
    return raw({"username": "alice", "password": "password1", **change})


# (name, method, path, body bytes, content type, authenticated, status, code)
CASES = [
    ("malformed json", "POST", "/api/login", b'{"username":', JSON, False, 400, "bad_request"),
    ("text/plain", "POST", "/api/login", login_body(), "text/plain", False, 415, "unsupported_media_type"),
    ("no content type", "POST", "/api/login", login_body(), None, False, 415, "unsupported_media_type"),
    ("form encoded", "POST", "/api/messages", b"id=1&to=bob", "application/x-www-form-urlencoded", True, 415,
     "unsupported_media_type"),
    ("json array", "POST", "/api/login", b"[]", JSON, False, 400, "bad_request"),
    ("json string", "POST", "/api/login", b'"alice"', JSON, False, 400, "bad_request"),
    ("json null", "POST", "/api/messages", b"null", JSON, True, 400, "bad_request"),
    ("empty body", "POST", "/api/login", b"", JSON, False, 400, "bad_request"),
    ("NaN", "POST", "/api/login", b'{"username": "alice", "password": NaN}', JSON, False, 400, "bad_request"),
    ("Infinity", "POST", "/api/messages", b'{"id": Infinity}', JSON, True, 400, "bad_request"),
    ("-Infinity", "POST", "/api/login", b'{"username": -Infinity}', JSON, False, 400, "bad_request"),
    ("deep arrays", "POST", "/api/login", b"[" * 60000, JSON, False, 400, "bad_request"),
    ("deep objects", "POST", "/api/messages", b'{"a":' * 10000 + b"1" + b"}" * 10000, JSON, True, 400,
     "bad_request"),
    ("over 64 KiB", "POST", "/api/messages", msg(body="x" * 70000), JSON, True, 413, "payload_too_large"),
    ("over 64 KiB login", "POST", "/api/login", login_body(password="p" * 66000), JSON, False, 413,
     "payload_too_large"),
    ("invalid utf-8", "POST", "/api/login", b'{"username": "al\xffice", "password": "password1"}', JSON, False,
     400, "bad_request"),
    ("utf-8 BOM", "POST", "/api/login", b"\xef\xbb\xbf" + login_body(), JSON, False, 400, "bad_request"),
    ("duplicate keys", "POST", "/api/login", b'{"username": "a", "username": "b", "password": "password1"}',
     JSON, False, 400, "bad_request"),
    ("NUL in username", "POST", "/api/login", login_body(username="al\x00ice"), JSON, False, 400, "bad_request"),
    ("lone surrogate in password", "POST", "/api/login", b'{"username": "alice", "password": "\\ud800password"}',
     JSON, False, 400, "bad_request"),
    ("lone surrogate in body", "POST", "/api/messages", msg(body="\ud83d").replace(b"\\ud83d", b"\\ud83d"), JSON,
     True, 400, "bad_request"),
    ("NUL in body", "POST", "/api/messages", msg(body="a\x00b"), JSON, True, 400, "bad_request"),
    ("username is a number", "POST", "/api/login", login_body(username=123), JSON, False, 400, "bad_request"),
    ("username is null", "POST", "/api/login", login_body(username=None), JSON, False, 400, "bad_request"),
    ("password is a list", "POST", "/api/login", login_body(password=["password1"]), JSON, False, 400,
     "bad_request"),
    ("password missing", "POST", "/api/login", raw({"username": "alice"}), JSON, False, 400, "bad_request"),
    ("password too short", "POST", "/api/login", login_body(password="seven77"), JSON, False, 400, "bad_request"),
    ("password too long", "POST", "/api/login", login_body(password="p" * 1025), JSON, False, 400, "bad_request"),
    ("username with space", "POST", "/api/login", login_body(username="al ice"), JSON, False, 400, "bad_request"),
    ("username too long", "POST", "/api/login", login_body(username="a" * 33), JSON, False, 400, "bad_request"),
    ("username starts with dot", "POST", "/api/login", login_body(username=".alice"), JSON, False, 400,
     "bad_request"),
    ("username trailing newline", "POST", "/api/login", login_body(username="alice\n"), JSON, False, 400,
     "bad_request"),
    ("id not a uuid", "POST", "/api/messages", msg(id="not-a-uuid"), JSON, True, 400, "bad_request"),
    ("id is an int", "POST", "/api/messages", msg(id=42), JSON, True, 400, "bad_request"),
    ("id braces", "POST", "/api/messages", msg(id="{123e4567-e89b-12d3-a456-426614174000}"), JSON, True, 400,
     "bad_request"),
    ("body empty", "POST", "/api/messages", msg(body=""), JSON, True, 400, "bad_request"),
    ("body 10001 chars", "POST", "/api/messages", msg(body="x" * 10001), JSON, True, 400, "bad_request"),
    ("body is an object", "POST", "/api/messages", msg(body={"text": "hi"}), JSON, True, 400, "bad_request"),
    ("sent_at garbage", "POST", "/api/messages", msg(sent_at="yesterday"), JSON, True, 400, "bad_request"),
    ("sent_at number", "POST", "/api/messages", msg(sent_at=1733306400), JSON, True, 400, "bad_request"),
    ("sent_at overflows", "POST", "/api/messages", msg(sent_at="9999-12-31T23:59:59-23:59"), JSON, True, 400,
     "bad_request"),
    ("to missing", "POST", "/api/messages", raw({k: v for k, v in GOOD_MSG.items() if k != "to"}), JSON, True,
     400, "bad_request"),
    ("to is a list", "POST", "/api/messages", msg(to=["bob"]), JSON, True, 400, "bad_request"),
    ("send without token", "POST", "/api/messages", msg(), JSON, False, 401, "unauthorized"),
    ("fetch without token", "GET", "/api/messages?after=0", None, None, False, 401, "unauthorized"),
    ("wait 31", "GET", "/api/messages?wait=31", None, None, True, 400, "bad_request"),
    ("wait -1", "GET", "/api/messages?wait=-1", None, None, True, 400, "bad_request"),
    ("wait word", "GET", "/api/messages?wait=soon", None, None, True, 400, "bad_request"),
    ("wait 1.5", "GET", "/api/messages?wait=1.5", None, None, True, 400, "bad_request"),
    ("wait empty", "GET", "/api/messages?wait=", None, None, True, 400, "bad_request"),
    ("after negative", "GET", "/api/messages?after=-1", None, None, True, 400, "bad_request"),
    ("after beyond int64", "GET", "/api/messages?after=99999999999999999999", None, None, True, 400,
     "bad_request"),
    ("after NUL", "GET", "/api/messages?after=%00", None, None, True, 400, "bad_request"),
    ("after plus sign", "GET", "/api/messages?after=+5", None, None, True, 400, "bad_request"),
    ("unknown api route", "GET", "/api/nothing-here", None, None, False, 404, "not_found"),
    ("root", "GET", "/", None, None, False, 404, "not_found"),
    ("static", "GET", "/static/app.js", None, None, False, 404, "not_found"),
    ("DELETE messages", "DELETE", "/api/messages", None, None, True, 405, "method_not_allowed"),
    ("GET login", "GET", "/api/login", None, None, False, 405, "method_not_allowed"),
    ("PUT health", "PUT", "/api/health", None, None, False, 405, "method_not_allowed"),
    ("GET logout", "GET", "/api/logout", None, None, True, 405, "method_not_allowed"),
]


@pytest.fixture
def tokens(client):
    login(client, "bob")
    return bearer(login(client, "alice"))


@pytest.mark.parametrize("name,method,path,body,ctype,auth,status,code", CASES, ids=[c[0] for c in CASES])
def test_bad_input(client, tokens, name, method, path, body, ctype, auth, status, code):
    headers = dict(tokens) if auth else {}
    if ctype:
        headers["Content-Type"] = ctype
    reply = client.open(path, method=method, data=body, headers=headers)
    assert reply.status_code == status, reply.data
    assert reply.mimetype == "application/json"
    payload = reply.get_json()
    assert set(payload) == {"error"} and set(payload["error"]) == {"code", "message"}
    assert payload["error"]["code"] == code
    assert payload["error"]["message"] and "Traceback" not in payload["error"]["message"]
    assert b"<html" not in reply.data.lower()
    # and the server still answers, including a real authenticated request
    assert client.get("/api/health").get_json() == {"status": "ok"}
    assert client.get("/api/messages?after=0", headers=tokens).status_code == 200
    ok = client.post("/api/messages", json={**GOOD_MSG, "id": str(uuid.uuid4())}, headers=tokens)
    assert ok.status_code == 201


def test_there_are_at_least_thirty_cases():
    assert len(CASES) >= 30


def test_405_names_the_allowed_methods(client):
    reply = client.delete("/api/login")
    assert "POST" in reply.headers["Allow"]
