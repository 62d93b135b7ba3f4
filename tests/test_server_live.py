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


def test_sigkill_during_a_burst_loses_and_duplicates_nothing(live_server):
    """Every 201 survives SIGKILL exactly once; retries of unanswered sends stay safe."""
    url = live_server.url
    alice, bob = _login(url, "alice"), _login(url, "bob")
    outcomes = {}  # id -> status code, or None if the reply never came
    bodies = {}
    lock = threading.Lock()
    started = threading.Event()

    def sender(n):
        with httpx.Client(base_url=url, headers=alice, timeout=5) as http:
            for i in range(100_000):
                mid = str(uuid.uuid4())
                body = f"burst {n}-{i}"
                with lock:
                    outcomes[mid], bodies[mid] = None, body
                try:
                    r = http.post("/api/messages", json={"id": mid, "to": "bob", "body": body,
                                                         "sent_at": "2026-12-04T10:00:00Z"})
                except httpx.HTTPError:
                    return
                with lock:
                    outcomes[mid] = r.status_code
                started.set()

    threads = [threading.Thread(target=sender, args=(n,)) for n in range(16)]
    [t.start() for t in threads]
    assert started.wait(10)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:  # kill mid-burst, once a fair number got their 201
        with lock:
            if sum(status == 201 for status in outcomes.values()) >= 40:
                break
        time.sleep(0.02)
    live_server.kill()
    [t.join(10) for t in threads]
    acked = {mid for mid, status in outcomes.items() if status == 201}
    unknown = {mid for mid, status in outcomes.items() if status is None}
    assert len(acked) >= 40 and set(outcomes.values()) <= {201, None}

    live_server.restart()
    got = _fetch_all(url, bob)
    ids = [m["id"] for m in got]
    assert len(ids) == len(set(ids)), "a message was stored twice"
    assert acked <= set(ids), f"{len(acked - set(ids))} acknowledged messages were lost"
    assert set(ids) <= acked | unknown
    assert all(m["body"] == bodies[m["id"]] for m in got)

    # tokens issued before the kill still work; retrying the unanswered sends is safe
    for mid in unknown:
        r = httpx.post(url + "/api/messages", headers=alice, json={
            "id": mid, "to": "bob", "body": bodies[mid], "sent_at": "2026-12-04T10:00:00Z"})
        assert r.status_code == (200 if mid in ids else 201)
    live_server.stop()
    import sqlite3
    conn = sqlite3.connect(live_server.db_path)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    rows = conn.execute("select uuid, count(*) from messages group by uuid having count(*) > 1").fetchall()
    assert rows == []
    assert conn.execute("select count(*) from messages").fetchone()[0] == len(acked | unknown)


def _fetch_all(url, headers):
    """Read bob's inbox page by page without acknowledging (after stays at 0 until the end)."""
    got, after = [], 0
    while True:
        page = httpx.get(url + f"/api/messages?after={after}", headers=headers).json()
        if not page["messages"]:
            return got
        got += page["messages"]
        after = page["next"]


def test_ctrl_c_stops_cleanly_even_with_long_polls_waiting(live_server):
    bob = _login(live_server.url, "bob")
    t = threading.Thread(target=lambda: httpx.get(
        live_server.url + "/api/messages?wait=30", headers=bob, timeout=40))
    t.start()
    time.sleep(0.5)
    start = time.monotonic()
    assert live_server.stop() == 0
    assert time.monotonic() - start < 8
    assert "chatkit server stopped" in live_server.log_text()
    assert "Traceback" not in live_server.log_text()


def test_event_lines_in_the_process_log_without_secrets(live_server):
    url = live_server.url
    r = httpx.post(url + "/api/login", json={"username": "alice", "password": "s3cret-pass"})
    token = r.json()["token"]
    httpx.post(url + "/api/login", json={"username": "bob", "password": "s3cret-pass"})
    httpx.post(url + "/api/messages", headers={"Authorization": f"Bearer {token}"}, json={
        "id": str(uuid.uuid4()), "to": "bob", "body": "private words", "sent_at": "2026-12-04T10:00:00Z"})
    httpx.post(url + "/api/login", json={"username": "alice", "password": "wrong-pass"})
    httpx.post(url + "/api/logout", headers={"Authorization": f"Bearer {token}"})
    live_server.stop()
    log = live_server.log_text()
    for expected in ("registered alice", "registered bob", "message relayed alice → bob (13 chars)",
                     "login failed alice", "logged out alice"):
        assert expected in log
    for secret in ("s3cret-pass", "wrong-pass", token, "private words", "$argon2"):
        assert secret not in log


def test_port_in_use_is_a_one_line_error(live_server):
    import subprocess
    import sys
    result = subprocess.run([sys.executable, "-m", "chatkit_cli", "--data-dir", str(live_server.data_dir),
                             "server", "--port", str(live_server.port)], capture_output=True, text=True,
                            timeout=30)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith(f"Error: Cannot listen on 127.0.0.1:{live_server.port}")
    assert "Traceback" not in result.stderr
