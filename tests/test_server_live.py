"""Real processes: `chatkit server` on loopback, as users run it."""

import time
import uuid
import threading

import httpx

import pytest

pytestmark = pytest.mark.slow


def _login(url, name, password="password1"):
    r = httpx.post(url + "/api/login", json={"username": name, "password": password})
    assert r.status_code in (200, 201), r.text
    return {"Authorization": "Bearer " + r.json()["token"]}


def test_live_server_answers_and_logs_first_line(live_server):
    assert httpx.get(live_server.url + "/api/health").json() == {"status": "ok"}
    first = live_server.log_text().splitlines()[0]
    assert f"listening on {live_server.url}" in first
    assert str(live_server.db_path) in first


def test_long_poll_is_woken_by_a_send_within_a_second(live_server):
    alice, bob = _login(live_server.url, "alice"), _login(live_server.url, "bob")
    result = {}

    def poll():
        r = httpx.get(live_server.url + "/api/messages?after=0&wait=20", headers=bob, timeout=30)
        result["done"] = time.monotonic()
        result["reply"] = r.json()

    t = threading.Thread(target=poll)
    t.start()
    time.sleep(0.5)  # the poll is waiting
    sent = time.monotonic()
    r = httpx.post(live_server.url + "/api/messages", headers=alice, json={
        "id": str(uuid.uuid4()), "to": "bob", "body": "wake up", "sent_at": "2026-12-04T10:00:00Z"})
    assert r.status_code == 201
    t.join(10)
    assert result["reply"]["messages"][0]["body"] == "wake up"
    assert result["done"] - sent < 1.0, result
