"""chatkit.analytics on a small archive whose numbers can be checked by hand (fixtures_analytics)."""

import sqlite3
from datetime import timedelta

import pandas as pd
import pytest

from chatkit import analytics
from chatkit.errors import StoreError, UsageError

BERLIN = "Europe/Berlin"


def frame(path, **kwargs):
    return analytics.messages_frame(path, tz=kwargs.pop("tz", BERLIN), account=kwargs.pop("account", "alice"),
                                    **kwargs)


def test_messages_frame_types_and_order(small_archive):
    df = frame(small_archive)
    assert list(df.columns) == list(analytics.MESSAGE_COLUMNS)
    assert str(df["sent_at"].dtype) == "datetime64[us, Europe/Berlin]"
    assert str(df["received_at"].dtype) == "datetime64[us, Europe/Berlin]"
    assert isinstance(df["direction"].dtype, pd.CategoricalDtype)
    assert list(df["direction"].cat.categories) == ["out", "in"]
    assert list(df["status"].cat.categories) == ["pending", "sent", "failed", "unread", "read"]
    # inserted newest first, returned oldest first; the DST jump is applied
    assert df["sent_at"].is_monotonic_increasing
    assert [t.strftime("%m-%d %H:%M %Z") for t in df["sent_at"][2:4]] == ["03-29 00:30 CET", "03-29 03:30 CEST"]
    # outgoing rows have no received_at until the server answers: NaT, not an error
    assert df.loc[df["direction"] == "out", "received_at"].isna().all()


def test_messages_frame_reads_only_the_columns_asked_for(small_archive):
    df = frame(small_archive, columns=["sent_at", "direction"])
    assert list(df.columns) == ["sent_at", "direction"]
    with pytest.raises(UsageError, match="Unknown message column.*'password'"):
        frame(small_archive, columns=["sent_at", "password"])


def test_account_filter_and_all_accounts(small_archive):
    assert len(frame(small_archive)) == 7
    assert len(frame(small_archive, account="zed")) == 1
    assert len(frame(small_archive, account=None)) == 8
    assert len(frame(small_archive, account="nobody")) == 0


def test_since_is_a_local_day(small_archive):
    # 2026-03-29 starts at 03-28 23:00 UTC in Berlin, so carol's 23:30 UTC message is in
    df = frame(small_archive, since="2026-03-29")
    assert len(df) == 5
    assert len(frame(small_archive, since="2026-03-29", tz="UTC")) == 4
    with pytest.raises(UsageError, match=r"Invalid date '29\.03\.2026'; use YYYY-MM-DD\."):
        frame(small_archive, since="29.03.2026")


def test_per_day_in_berlin_counts_by_local_date(small_archive):
    daily = analytics.per_day(frame(small_archive, columns=["sent_at", "direction"]))
    assert daily.index.name == "date"
    assert [d.strftime("%m-%d") for d in daily.index] == ["03-28", "03-29", "03-30", "03-31", "04-01"]
    assert daily.to_dict("list") == {
        "sent":     [1, 0, 1, 0, 1],
        "received": [1, 2, 0, 0, 1],
        "total":    [2, 2, 1, 0, 2],
    }
    assert daily.loc["2026-03-31"].tolist() == [0, 0, 0]  # a quiet day is a row of zeros
    assert all(str(t) == "int64" for t in daily.dtypes)


def test_per_day_in_utc_differs(small_archive):
    daily = analytics.per_day(frame(small_archive, tz="UTC"))
    assert daily["total"].to_dict() == {
        pd.Timestamp("2026-03-28"): 3, pd.Timestamp("2026-03-29"): 2, pd.Timestamp("2026-03-30"): 0,
        pd.Timestamp("2026-03-31"): 0, pd.Timestamp("2026-04-01"): 2,
    }


def test_per_day_widens_to_start_and_end(small_archive):
    daily = analytics.per_day(frame(small_archive), start="2026-03-26", end="2026-04-03")
    assert len(daily) == 9
    assert daily["total"].sum() == 7
    assert daily.loc["2026-03-26", "total"] == 0 and daily.loc["2026-04-03", "total"] == 0


def test_per_day_of_an_empty_archive(client_store):
    daily = analytics.per_day(frame(client_store.path))
    assert daily.empty and list(daily.columns) == ["sent", "received", "total"]


def test_per_hour_weekday(small_archive):
    grid = analytics.per_hour_weekday(frame(small_archive))
    assert grid.shape == (7, 24)
    assert grid.to_numpy().sum() == 7
    assert grid.loc["Sat", 10] == 2      # 10:00 and 10:05 local
    assert grid.loc["Sun", 0] == 1       # 23:30 UTC on Saturday
    assert grid.loc["Sun", 3] == 1       # 01:30 UTC after the jump to CEST
    assert grid.loc["Mon", 0] == 1
    assert grid.loc["Wed", 12] == 2
    assert analytics.per_hour_weekday(frame(small_archive, tz="UTC")).loc["Sat", 23] == 1


def test_per_peer(small_archive):
    peers = analytics.per_peer(frame(small_archive))
    assert list(peers.index) == ["bob", "carol"]
    bob, carol = peers.loc["bob"], peers.loc["carol"]
    assert (bob.messages, bob.sent, bob.received) == (5, 3, 2)
    assert bob.share == pytest.approx(5 / 7) and carol.share == pytest.approx(2 / 7)
    assert bob.first_contact == pd.Timestamp("2026-03-28 10:00", tz=BERLIN)
    assert bob.last_contact == pd.Timestamp("2026-04-01 12:20", tz=BERLIN)
    assert bob.median_reply == timedelta(minutes=12, seconds=30)   # median of 5 and 20 minutes
    assert bob.their_median_reply == timedelta(days=2, hours=11, minutes=30)  # 03-29 22:30 -> 04-01 10:00
    assert pd.isna(carol.median_reply) and pd.isna(carol.their_median_reply)


def test_partners_over_time(small_archive):
    weeks = analytics.partners_over_time(frame(small_archive), top=1)
    assert list(weeks.columns) == ["bob", "others"]
    # weeks start on Monday: 03-23 holds Sat 28 and Sun 29, 03-30 the rest
    assert weeks.to_dict("index") == {pd.Timestamp("2026-03-23"): {"bob": 2, "others": 2},
                                      pd.Timestamp("2026-03-30"): {"bob": 3, "others": 0}}


def test_stats_records_shapes(small_archive):
    day = analytics.stats_records(analytics.stats(small_archive, "day", account="alice", tz=BERLIN), "day")
    assert day[0] == {"date": "2026-03-28", "sent": 1, "received": 1, "total": 2}
    hour = analytics.stats_records(analytics.stats(small_archive, "hour", account="alice", tz=BERLIN), "hour")
    assert len(hour) == 168 and {"weekday": "Wed", "hour": 12, "messages": 2} in hour
    peer = analytics.stats_records(analytics.stats(small_archive, "peer", account="alice", tz=BERLIN), "peer")
    assert peer[0] == {"peer": "bob", "messages": 5, "sent": 3, "received": 2, "share": 0.7143,
                       "first_contact": "2026-03-28T10:00:00+01:00", "last_contact": "2026-04-01T12:20:00+02:00",
                       "median_reply_seconds": 750.0, "their_median_reply_seconds": 214200.0}
    assert peer[1]["median_reply_seconds"] is None


def test_bad_stored_time_is_an_error_not_nat(small_archive):
    with sqlite3.connect(small_archive) as conn:
        conn.execute("UPDATE messages SET sent_at = 'last tuesday' WHERE peer = 'carol'")
    with pytest.raises(StoreError, match="sent_at holds 'last tuesday', which is not a time"):
        frame(small_archive)


def test_missing_archive_is_an_error_and_creates_nothing(isolated_data_dir):
    with pytest.raises(StoreError, match="No archive at .*client.db yet; run `chatkit demo`"):
        analytics.messages_frame()
    assert not (isolated_data_dir / "client.db").exists()


def test_newer_archive_is_refused(small_archive):
    with sqlite3.connect(small_archive) as conn:
        conn.execute("PRAGMA user_version = 99")
    with pytest.raises(StoreError, match="written by a newer chatkit"):
        frame(small_archive)


def test_bad_zone_is_a_usage_error(small_archive):
    with pytest.raises(UsageError, match="Unknown time zone 'Mars/Base'"):
        frame(small_archive, tz="Mars/Base")


def test_default_path_and_zone_come_from_the_environment(small_archive, monkeypatch):
    monkeypatch.setenv("CHATKIT_TZ", "America/New_York")
    df = analytics.messages_frame(columns=["sent_at"])
    assert str(df["sent_at"].dtype) == "datetime64[us, America/New_York]"
    assert len(df) == 8
