"""The archive as pandas frames: messages, per-day counts, rhythms, partners, logins.

Used by `chatkit stats`, the notebooks and the README plot. Both databases
store naive UTC text ('YYYY-MM-DD HH:MM:SS.ffffff'); every frame here carries
tz-aware datetimes in the reader's zone, parsed with an explicit format so a
bad value is an error rather than a silent NaT. Reads use plain sqlite3 and
only the columns asked for, in chunks that are typed as they arrive, so a
million-message archive never holds its raw text twice (bench/analytics.py).
pandas and matplotlib are imported here, never by the CLI at start-up.
"""

from __future__ import annotations

import os
import re
import sqlite3
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from pathlib import Path

import numpy as np
import pandas as pd

from . import config
from .errors import StoreError, UsageError

MESSAGE_COLUMNS = ("id", "uuid", "account", "peer", "direction", "sender", "recipient",
                   "body", "sent_at", "received_at", "status")
DIRECTIONS = ("out", "in")
STATUSES = ("pending", "sent", "failed", "unread", "read")
LOGIN_KINDS = ("register", "login", "login_failed", "throttled", "logout")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
BY = ("day", "hour", "peer")
CHUNK_ROWS = 100_000


# --- zones and dates ---------------------------------------------------------------

def resolve_zone(tz: str | tzinfo | None = None) -> tzinfo:
    """`tz`, else CHATKIT_TZ, else TZ, else the system's named zone (so DST is right)."""
    if isinstance(tz, tzinfo):
        return tz
    if config.tz_name(tz):
        return config.local_zone(tz)
    from zoneinfo import ZoneInfo

    link = os.path.realpath("/etc/localtime")
    if "zoneinfo/" in link:
        try:
            return ZoneInfo(link.split("zoneinfo/", 1)[1])
        except (ValueError, OSError):
            pass
    return config.local_zone(None)


def parse_day(value: str | date | None) -> date | None:
    """'YYYY-MM-DD' (or a date) as a date; UsageError for anything else."""
    if value is None or isinstance(value, date):
        return value
    text = str(value).strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise UsageError(f"Invalid date {value!r}; use YYYY-MM-DD.")


def day_start_utc(day: date, zone: tzinfo) -> str:
    """Where local `day` begins, as the databases write UTC times."""
    start = datetime.combine(day, time(0), tzinfo=zone).astimezone(timezone.utc)
    return start.strftime("%Y-%m-%d %H:%M:%S.%f")


# --- reading ----------------------------------------------------------------------------

def _connect(path: Path, what: str) -> sqlite3.Connection:
    """A read-only connection; a missing file is a sentence, not a new empty database."""
    if not path.exists():
        raise StoreError(f"No {what} at {path} yet; run `chatkit demo` to build a demo one.")
    try:
        return sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    except sqlite3.DatabaseError as exc:
        from .client.store import store_error

        raise store_error(path, exc) from None


def _current_client_db(path: Path) -> None:
    """Refuse a newer file; upgrade an older one (the only write analytics may cause)."""
    from .client.schema_version import SCHEMA_VERSION
    from .client.store import check_version, open_client_store

    version = check_version(path)
    if version is None:
        raise StoreError(f"No archive at {path} yet; run `chatkit demo` to build a demo one.")
    if version < SCHEMA_VERSION:
        open_client_store(path).close()


def _times(values: pd.Series, zone: tzinfo, column: str, path: Path) -> pd.Series:
    try:
        parsed = pd.to_datetime(values, format="ISO8601", utc=True)
    except (ValueError, TypeError):
        coerced = pd.to_datetime(values, format="ISO8601", utc=True, errors="coerce")
        bad = values[coerced.isna() & values.notna()]
        raise StoreError(f"{path}: {column} holds {bad.iloc[0]!r}, which is not a time; "
                         "fix or delete that row.") from None
    return parsed.dt.tz_convert(zone)


def _typed(chunk: pd.DataFrame, zone: tzinfo, path: Path) -> pd.DataFrame:
    for column in ("sent_at", "received_at", "at"):
        if column in chunk:
            chunk[column] = _times(chunk[column], zone, column, path)
    for column, categories in (("direction", DIRECTIONS), ("status", STATUSES), ("kind", LOGIN_KINDS)):
        if column in chunk:
            chunk[column] = pd.Categorical(chunk[column], categories=categories)
    return chunk


def _read(conn, sql: str, params, path: Path, zone: tzinfo, columns) -> pd.DataFrame:
    parts = [_typed(chunk, zone, path)
             for chunk in pd.read_sql(sql, conn, params=params, chunksize=CHUNK_ROWS)]
    if not parts:
        empty = pd.DataFrame({c: pd.Series([], dtype=object) for c in columns})
        return _typed(empty, zone, path)
    frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    return frame


def _account_filter(conn, account: str | None, since: str | None) -> tuple[list[str], list]:
    """WHERE terms; the (account, sent_at) index is used only when it skips most rows.

    Walking the index for 95% of a big table costs three times a plain scan
    (a random page read per row), so a broad filter is applied during the scan.
    """
    if account is None:
        return (["sent_at >= ?"], [since]) if since else ([], [])
    low, high = conn.execute("SELECT (SELECT min(account) FROM messages), "
                             "(SELECT max(account) FROM messages)").fetchone()
    if low == high == account and since is None:
        return [], []
    where, params = ["account = ?"], [account]
    if since:
        where.append("sent_at >= ?")
        params.append(since)
    matching = conn.execute(f"SELECT count(*) FROM messages WHERE {' AND '.join(where)}", params).fetchone()[0]
    total = conn.execute("SELECT max(rowid) FROM messages").fetchone()[0] or 0
    if matching * 4 > total:
        where = ["+" + term for term in where]
    return where, params


def messages_frame(path=None, tz=None, columns=None, *, account: str | None = None,
                   since: str | date | None = None) -> pd.DataFrame:
    """One row per message of client.db, oldest first (when `sent_at` is read).

    `path` defaults to client.db in the data dir (CHATKIT_DATA_DIR); `tz` to
    the local zone; `columns` to all of MESSAGE_COLUMNS (read only those asked
    for: the body is most of the file). `account` keeps one local account,
    `since` ('YYYY-MM-DD', local) drops earlier days. `sent_at`/`received_at`
    are tz-aware; `direction` and `status` are categoricals.
    """
    path = Path(path) if path is not None else config.client_db_path()
    zone = resolve_zone(tz)
    columns = list(MESSAGE_COLUMNS if columns is None else columns)
    unknown = [c for c in columns if c not in MESSAGE_COLUMNS]
    if unknown or not columns:
        raise UsageError(f"Unknown message column(s) {', '.join(map(repr, unknown)) or '(none)'}; "
                         f"choose from {', '.join(MESSAGE_COLUMNS)}.")
    since_day = parse_day(since)
    _current_client_db(path)
    conn = _connect(path, "archive")
    try:
        where, params = _account_filter(conn, account, since_day and day_start_utc(since_day, zone))
        sql = f"SELECT {', '.join(columns)} FROM messages"
        if where:
            sql += " WHERE " + " AND ".join(where)
        frame = _read(conn, sql, params, path, zone, columns)
    except sqlite3.DatabaseError as exc:
        from .client.store import store_error

        raise store_error(path, exc) from None
    finally:
        conn.close()
    if "sent_at" in frame and not frame["sent_at"].is_monotonic_increasing:
        frame = frame.sort_values("sent_at", kind="stable", ignore_index=True)
    return frame


def login_events_frame(path=None, tz=None) -> pd.DataFrame:
    """One row per login attempt, logout or registration in server.db, oldest first.

    Columns: at (tz-aware), username (as typed), account (the account's own
    spelling, None for a name that has no account), kind (categorical),
    remote_addr, user_agent.
    """
    path = Path(path) if path is not None else config.server_db_path()
    zone = resolve_zone(tz)
    columns = ["at", "username", "account", "kind", "remote_addr", "user_agent"]
    conn = _connect(path, "server database")
    try:
        frame = _read(conn, "SELECT e.at, e.username, u.username AS account, e.kind, e.remote_addr, "
                            "e.user_agent FROM login_events e LEFT JOIN users u ON u.id = e.user "
                            "ORDER BY e.at, e.id", (), path, zone, columns)
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path} is not a chatkit server database ({exc}).") from None
    finally:
        conn.close()
    return frame


# --- shaping --------------------------------------------------------------------------------

def _need(df: pd.DataFrame, *columns: str) -> None:
    missing = [c for c in columns if c not in df]
    if missing:
        raise ValueError(f"this needs the column(s) {', '.join(missing)}; "
                         "read them with messages_frame(columns=[...])")


def local_days(times: pd.Series) -> pd.Series:
    """Each tz-aware time's local calendar day, as a naive midnight."""
    return times.dt.tz_localize(None).dt.normalize()


def per_day(df: pd.DataFrame, start: str | date | None = None, end: str | date | None = None) -> pd.DataFrame:
    """Messages per local day: columns sent, received, total; every day present (zeros too).

    The index runs from the first to the last day with a message, widened to
    `start`/`end` when given; it is named `date` and holds naive midnights.
    """
    _need(df, "sent_at", "direction")
    days = local_days(df["sent_at"])
    outgoing = (df["direction"] == "out").to_numpy()
    sent = days[outgoing].value_counts()
    received = days[~outgoing].value_counts()
    bounds = [d for d in (days.min(), days.max()) if pd.notna(d)]
    bounds += [pd.Timestamp(parse_day(d)) for d in (start, end) if d is not None]
    if bounds:
        index = pd.date_range(min(bounds), max(bounds), freq="D", name="date")
    else:
        index = pd.DatetimeIndex([], name="date", freq="D")
    out = pd.DataFrame({"sent": sent.reindex(index, fill_value=0),
                        "received": received.reindex(index, fill_value=0)}, index=index)
    out = out.astype("int64")
    out["total"] = out["sent"] + out["received"]
    return out


def per_hour_weekday(df: pd.DataFrame) -> pd.DataFrame:
    """A 7 x 24 grid of message counts: rows Mon..Sun, columns local hours 0..23."""
    _need(df, "sent_at")
    local = df["sent_at"].dt.tz_localize(None)
    cells = local.dt.day_of_week.to_numpy() * 24 + local.dt.hour.to_numpy()
    counts = np.bincount(cells.astype("int64"), minlength=7 * 24).reshape(7, 24)
    return pd.DataFrame(counts, index=pd.Index(WEEKDAYS, name="weekday"),
                        columns=pd.RangeIndex(24, name="hour"))


def _reply_times(df: pd.DataFrame) -> pd.DataFrame:
    """For each message that answers the other side: peer, who replied, and how long it took."""
    ordered = df.sort_values(["peer", "sent_at"], kind="stable")
    same_peer = ordered["peer"].eq(ordered["peer"].shift())
    turned = ordered["direction"].astype(str).ne(ordered["direction"].astype(str).shift())
    answers = ordered[same_peer & turned]
    delay = answers["sent_at"] - ordered["sent_at"].shift()[same_peer & turned]
    return pd.DataFrame({"peer": answers["peer"], "direction": answers["direction"].astype(str),
                         "delay": delay})


def per_peer(df: pd.DataFrame) -> pd.DataFrame:
    """One row per partner, busiest first.

    Columns: messages, sent, received, share (of all messages), first_contact,
    last_contact, median_reply (how long you take to answer them) and
    their_median_reply (how long they take to answer you); NaT when there
    was no such answer.
    """
    _need(df, "peer", "direction", "sent_at")
    outgoing = (df["direction"] == "out")
    grouped = df.assign(_out=outgoing, _in=~outgoing).groupby("peer", sort=False)
    out = pd.DataFrame({
        "messages": grouped.size(),
        "sent": grouped["_out"].sum(),
        "received": grouped["_in"].sum(),
        "first_contact": grouped["sent_at"].min(),
        "last_contact": grouped["sent_at"].max(),
    })
    total = int(out["messages"].sum())
    out.insert(3, "share", out["messages"] / total if total else 0.0)
    replies = _reply_times(df)
    for column, direction in (("median_reply", "out"), ("their_median_reply", "in")):
        mine = replies[replies["direction"] == direction]
        out[column] = mine.groupby("peer")["delay"].median().reindex(out.index)
        out[column] = out[column].astype("timedelta64[us]")
    out = out.astype({"messages": "int64", "sent": "int64", "received": "int64"})
    out.index.name = "peer"
    return out.reset_index().sort_values(["messages", "peer"], ascending=[False, True]).set_index("peer")


def partners_over_time(df: pd.DataFrame, freq: str = "W", top: int = 5) -> pd.DataFrame:
    """Messages per period (default: weeks from Monday) with the `top` busiest partners
    as columns and 'others' for the rest; the index holds each period's first day."""
    _need(df, "peer", "sent_at")
    busiest = df["peer"].value_counts().index[:top]
    who = df["peer"].where(df["peer"].isin(busiest), "others")
    period = local_days(df["sent_at"]).dt.to_period(freq)
    table = pd.crosstab(period.dt.start_time, who)
    order = [p for p in busiest if p in table] + (["others"] if "others" in table else [])
    table = table[order]
    table.index.name = "period"
    table.columns.name = "peer"
    return table


# --- logins -----------------------------------------------------------------------------------

def logins_per_day(events: pd.DataFrame) -> pd.DataFrame:
    """Login events per local day, one column per kind, every day present."""
    _need(events, "at", "kind")
    if events.empty:
        return pd.DataFrame(columns=list(LOGIN_KINDS), dtype="int64")
    days = local_days(events["at"])
    table = pd.crosstab(days, events["kind"]).reindex(columns=list(LOGIN_KINDS), fill_value=0)
    index = pd.date_range(days.min(), days.max(), freq="D", name="date")
    table = table.reindex(index, fill_value=0).astype("int64")
    table.columns.name = None
    return table


def failure_streaks(events: pd.DataFrame, gap: str | timedelta = "15min") -> pd.DataFrame:
    """Runs of failed or throttled logins for one name, each within `gap` of the one before.

    One row per streak: username (as first typed), start, end, failed,
    throttled, addresses, and then_logged_in (a successful login followed
    within `gap`: a typo rather than a guess).
    """
    _need(events, "at", "kind", "username", "remote_addr")
    gap = pd.Timedelta(gap)
    rows = []
    ordered = events.assign(_key=events["username"].str.lower(), _kind=events["kind"].astype(str))
    for _, group in ordered.sort_values("at", kind="stable").groupby("_key", sort=False):
        streak = None
        for at, kind, addr, name in zip(group["at"], group["_kind"], group["remote_addr"], group["username"]):
            bad = kind in ("login_failed", "throttled")
            if streak is not None and (not bad or at - streak["end"] > gap):
                streak["then_logged_in"] = kind == "login" and at - streak["end"] <= gap
                rows.append(streak)
                streak = None
            if not bad:
                continue
            if streak is None:
                streak = {"username": name, "start": at, "end": at, "failed": 0, "throttled": 0,
                          "addresses": set(), "then_logged_in": False}
            streak["end"] = at
            streak["failed" if kind == "login_failed" else "throttled"] += 1
            if isinstance(addr, str):
                streak["addresses"].add(addr)
        if streak is not None:
            rows.append(streak)
    out = pd.DataFrame(rows, columns=["username", "start", "end", "failed", "throttled",
                                      "addresses", "then_logged_in"])
    out["addresses"] = out["addresses"].map(lambda a: ", ".join(sorted(a)))
    return out.sort_values("start", ignore_index=True)


def logins_by_hour(events: pd.DataFrame) -> pd.DataFrame:
    """Successful logins per account and local hour (rows accounts, columns 0..23)."""
    _need(events, "at", "kind", "account")
    ok = events[events["kind"].isin(["login", "register"]) & events["account"].notna()]
    table = pd.crosstab(ok["account"], ok["at"].dt.hour)
    table = table.reindex(columns=range(24), fill_value=0)
    table.columns.name = "hour"
    return table


# --- `chatkit stats` --------------------------------------------------------------------------

def stats(path=None, by: str = "day", *, account: str | None = None,
          since: str | date | None = None, tz=None) -> pd.DataFrame:
    """What `chatkit stats --by day|hour|peer` shows, as a frame."""
    if by not in BY:
        raise UsageError(f"Invalid --by {by!r}; use day, hour or peer.")
    columns = {"day": ["sent_at", "direction"], "hour": ["sent_at"],
               "peer": ["peer", "direction", "sent_at"]}[by]
    df = messages_frame(path, tz=tz, columns=columns, account=account, since=since)
    if by == "day":
        return per_day(df, start=since)
    if by == "hour":
        return per_hour_weekday(df)
    return per_peer(df)


def _iso(value) -> str | None:
    if value is None or pd.isna(value):
        return None
    return value.isoformat()


def _seconds(value) -> float | None:
    if value is None or pd.isna(value):
        return None
    return round(value.total_seconds(), 1)


def stats_records(frame: pd.DataFrame, by: str) -> list[dict]:
    """The frame of `stats()` as JSON-ready dicts (what `chatkit stats --json` prints).

    day: {date, sent, received, total}; hour: {weekday, hour, messages} for all
    168 cells; peer: {peer, messages, sent, received, share, first_contact,
    last_contact, median_reply_seconds, their_median_reply_seconds}.
    """
    if by == "day":
        return [{"date": day.date().isoformat(), "sent": int(row.sent), "received": int(row.received),
                 "total": int(row.total)} for day, row in frame.iterrows()]
    if by == "hour":
        return [{"weekday": weekday, "hour": int(hour), "messages": int(frame.loc[weekday, hour])}
                for weekday in frame.index for hour in frame.columns]
    return [{"peer": peer, "messages": int(row.messages), "sent": int(row.sent),
             "received": int(row.received), "share": round(float(row.share), 4),
             "first_contact": _iso(row.first_contact), "last_contact": _iso(row.last_contact),
             "median_reply_seconds": _seconds(row.median_reply),
             "their_median_reply_seconds": _seconds(row.their_median_reply)}
            for peer, row in frame.iterrows()]


# --- figures (matplotlib, Agg) -------------------------------------------------------------

def _figure(width=10.0, height=4.0):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    return fig, fig.add_subplot()


def plot_per_day(daily: pd.DataFrame, title: str = "Messages per day", window: int = 7):
    """Stacked bars (sent, received) per day and the `window`-day rolling mean of the total."""
    fig, ax = _figure()
    x = daily.index
    ax.bar(x, daily["sent"], width=0.85, label="sent", color="#4C78A8")
    ax.bar(x, daily["received"], width=0.85, bottom=daily["sent"], label="received", color="#9ECAE9")
    rolling = daily["total"].rolling(window, min_periods=1).mean()
    ax.plot(x, rolling, color="#E45756", linewidth=2, label=f"{window}-day mean")
    ax.set_title(title)
    ax.set_ylabel("messages")
    ax.legend(loc="upper left", frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    fig.autofmt_xdate()
    return fig


def plot_heatmap(grid: pd.DataFrame, title: str = "When messages are written (local time)"):
    """The weekday x hour grid of `per_hour_weekday` as a heatmap."""
    fig, ax = _figure(10.0, 3.6)
    image = ax.imshow(grid.to_numpy(), aspect="auto", cmap="viridis")
    ax.set_yticks(range(len(grid.index)), list(grid.index))
    ax.set_xticks(range(0, 24, 2), [f"{h:02d}" for h in range(0, 24, 2)])
    ax.set_xlabel("hour")
    ax.set_title(title)
    fig.colorbar(image, ax=ax, label="messages")
    return fig


def plot_peers(peers: pd.DataFrame, top: int = 10, title: str = "Top partners"):
    """Horizontal bars of messages sent and received with the `top` busiest partners."""
    head = peers.head(top).iloc[::-1]
    fig, ax = _figure(8.0, max(2.5, 0.45 * len(head) + 1.2))
    ax.barh(head.index, head["sent"], label="sent", color="#4C78A8")
    ax.barh(head.index, head["received"], left=head["sent"], label="received", color="#9ECAE9")
    ax.set_xlabel("messages")
    ax.set_title(title)
    ax.legend(loc="lower right", frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return fig


def plot_partners_over_time(table: pd.DataFrame, title: str = "Messages per week and partner"):
    """Stacked areas of `partners_over_time`: who the messages were with, period by period."""
    fig, ax = _figure()
    ax.stackplot(table.index, table.to_numpy().T, labels=list(table.columns), alpha=0.85)
    ax.set_title(title)
    ax.set_ylabel("messages")
    ax.legend(loc="upper left", frameon=False, ncols=min(6, len(table.columns)))
    ax.spines[["top", "right"]].set_visible(False)
    fig.autofmt_xdate()
    return fig


def plot_logins_per_day(daily: pd.DataFrame, title: str = "Login events per day"):
    """Stacked bars of `logins_per_day`, one colour per kind of event."""
    fig, ax = _figure()
    colours = {"register": "#72B7B2", "login": "#4C78A8", "login_failed": "#F58518", "throttled": "#E45756",
               "logout": "#BAB0AC"}
    bottom = np.zeros(len(daily))
    for kind in daily.columns:
        ax.bar(daily.index, daily[kind], bottom=bottom, width=0.85, label=kind, color=colours.get(kind))
        bottom += daily[kind].to_numpy()
    ax.set_title(title)
    ax.set_ylabel("events")
    ax.legend(loc="upper right", frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    fig.autofmt_xdate()
    return fig


def plot_stats(frame: pd.DataFrame, by: str, path) -> Path:
    """Write the figure for `chatkit stats --by ... --plot FILE.png` with the Agg canvas."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    path = Path(path)
    if path.suffix.lower() != ".png":
        raise UsageError(f"Invalid --plot {str(path)!r}; the file name must end in .png.")
    if by == "day":
        fig = plot_per_day(frame)
    elif by == "hour":
        fig = plot_heatmap(frame)
    else:
        fig = plot_peers(frame)
    FigureCanvasAgg(fig)
    try:
        fig.savefig(path, format="png")
    except OSError as exc:
        raise StoreError(f"Cannot write {path}: {exc.strerror or exc}.") from None
    return path
