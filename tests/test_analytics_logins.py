"""login_events_frame and the login summaries, on login events written by the real server app."""

import pandas as pd
import pytest

from chatkit import analytics
from chatkit.errors import StoreError


def attempt(client, username, password, addr="10.0.0.1"):
    return client.post("/api/login", json={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": addr}, headers={"User-Agent": "test-agent"})


@pytest.fixture
def server_db(app, client):
    """alice registers, logs in, mistypes once then logs in; mallory guesses bob's password 7 times."""
    assert attempt(client, "alice", "password1").status_code == 201
    assert attempt(client, "bob", "bobs-password", addr="10.0.0.2").status_code == 201
    assert attempt(client, "Alice", "password1").status_code == 200
    assert attempt(client, "alice", "passwrod1").status_code == 401
    assert attempt(client, "alice", "password1").status_code == 200
    codes = [attempt(client, "BOB", f"guess-{n:03d}", addr="203.0.113.9").status_code for n in range(7)]
    assert codes == [401] * 5 + [429] * 2
    token = attempt(client, "alice", "password1").get_json()["token"]
    assert client.post("/api/logout", headers={"Authorization": f"Bearer {token}"}).status_code == 204
    return app.config["DATABASE"]


def test_login_events_frame(server_db):
    events = analytics.login_events_frame(server_db, tz="Europe/Berlin")
    assert list(events.columns) == ["at", "username", "account", "kind", "remote_addr", "user_agent"]
    assert str(events["at"].dtype) == "datetime64[us, Europe/Berlin]"
    assert list(events["kind"].cat.categories) == list(analytics.LOGIN_KINDS)
    assert events["at"].is_monotonic_increasing
    assert events["kind"].astype(str).tolist() == (
        ["register", "register", "login", "login_failed", "login"] + ["login_failed"] * 5
        + ["throttled"] * 2 + ["login", "logout"])
    # as typed, and the account's own spelling beside it
    assert events.loc[2, ["username", "account"]].tolist() == ["Alice", "alice"]
    assert events.loc[5, ["username", "account", "remote_addr"]].tolist() == ["BOB", "bob", "203.0.113.9"]
    assert set(events["user_agent"][:-1]) == {"test-agent"}


def test_logins_per_day_has_a_column_per_kind(server_db):
    daily = analytics.logins_per_day(analytics.login_events_frame(server_db, tz="UTC"))
    assert list(daily.columns) == list(analytics.LOGIN_KINDS)
    assert daily.sum().to_dict() == {"register": 2, "login": 3, "login_failed": 6, "throttled": 2, "logout": 1}


def test_failure_streaks_tell_a_typo_from_a_guessing_run(server_db):
    streaks = analytics.failure_streaks(analytics.login_events_frame(server_db))
    typo, guessing = streaks.to_dict("records")
    assert (typo["username"], typo["failed"], typo["throttled"], typo["then_logged_in"]) == ("alice", 1, 0, True)
    assert (guessing["username"], guessing["failed"], guessing["throttled"]) == ("BOB", 5, 2)
    assert guessing["addresses"] == "203.0.113.9" and guessing["then_logged_in"] is False


def test_logins_by_hour_counts_successful_logins_per_account(server_db):
    table = analytics.logins_by_hour(analytics.login_events_frame(server_db))
    assert table.shape[1] == 24
    assert table.sum(axis=1).to_dict() == {"alice": 4, "bob": 1}


def test_failure_streaks_split_on_the_gap():
    at = pd.to_datetime(["2026-05-01 10:00", "2026-05-01 10:10", "2026-05-01 11:00"]).tz_localize("UTC")
    events = pd.DataFrame({"at": at, "username": ["eve"] * 3, "kind": ["login_failed"] * 3,
                           "remote_addr": ["a", "b", "a"]})
    streaks = analytics.failure_streaks(events)
    assert streaks["failed"].tolist() == [2, 1]
    assert streaks.loc[0, "addresses"] == "a, b"


def test_missing_server_db(isolated_data_dir):
    with pytest.raises(StoreError, match="No server database at .*server.db yet"):
        analytics.login_events_frame()
