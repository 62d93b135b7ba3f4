"""Full-text search: the FTS5 index (set up with sqlite-utils) and the query language.

The index is `messages_fts`, an external-content FTS5 table over `body` and
`body_folded` (the `textfold.fold()` copy that makes `ß` match `ss`). Both
columns are indexed so that Datasette's own search box finds plain words; our
queries are folded and restricted to `body_folded`.

`search_messages()` is the read path of `chatkit search`: it parses the
language of DESIGN.md section 6, runs one query with the
FTS table driving the join (`CROSS JOIN`, so a `with:` filter never makes
SQLite evaluate MATCH row by row), and highlights matches in the original text
in Python. It uses plain sqlite3 once the file's `user_version` is current.
"""

from __future__ import annotations

import re
import sqlite3
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from .errors import BadQuery, UsageError
from .textfold import fold, match_key, snippet_segments, token_spans

FTS_TABLE = "messages_fts"
FTS_TOKENIZE = "unicode61 remove_diacritics 2"
FTS_COLUMNS = ("body", "body_folded")
SEARCH_TRIGGERS = ("messages_ai", "messages_ad", "messages_au")
SORTS = ("rank", "date")
MAX_LIMIT = 1000


# --- the index -----------------------------------------------------------------

def enable_search(db) -> None:
    """Migration body: add the folded body copy and the FTS5 index; index existing rows.

    `db` is a sqlite-utils Database inside the migration's transaction.
    """
    messages = db["messages"]
    if "body_folded" not in messages.columns_dict:
        db.execute("ALTER TABLE messages ADD COLUMN body_folded TEXT")
    rows = db.execute("SELECT id, body FROM messages WHERE body_folded IS NULL").fetchall()
    db.conn.executemany(
        "UPDATE messages SET body_folded = ? WHERE id = ?", [(fold(body), id_) for id_, body in rows]
    )
    messages.enable_fts(
        list(FTS_COLUMNS),
        fts_version="FTS5",
        create_triggers=True,
        tokenize=FTS_TOKENIZE,
        replace=True,
    )
    create_search_triggers(db)


def create_search_triggers(db) -> None:
    """The triggers that keep `messages_fts` exact (sqlite-utils' names and shape).

    The update trigger fires only when the text changes, so marking messages
    read does not re-index them. The conversation triggers are then re-created
    so that they are newer than these: with SQLite 3.40, when an FTS trigger is
    newer than another trigger on `messages`, the first write after another
    connection changed the schema (an import, a migration) fails with "no such
    table: messages". `db` is a sqlite-utils Database; run it in one transaction.
    """
    from .client import migrations

    conn = getattr(db, "conn", db)
    drop_search_triggers(conn)
    cols = ", ".join(FTS_COLUMNS)
    old = ", ".join(f"old.{c}" for c in FTS_COLUMNS)
    new = ", ".join(f"new.{c}" for c in FTS_COLUMNS)
    for sql in (
        f"CREATE TRIGGER messages_ai AFTER INSERT ON messages BEGIN "
        f"INSERT INTO {FTS_TABLE} (rowid, {cols}) VALUES (new.id, {new}); END",
        f"CREATE TRIGGER messages_ad AFTER DELETE ON messages BEGIN "
        f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}, rowid, {cols}) VALUES ('delete', old.id, {old}); END",
        f"CREATE TRIGGER messages_au AFTER UPDATE OF body, body_folded ON messages BEGIN "
        f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}, rowid, {cols}) VALUES ('delete', old.id, {old}); "
        f"INSERT INTO {FTS_TABLE} (rowid, {cols}) VALUES (new.id, {new}); END",
    ):
        conn.execute(sql)
    migrations.drop_conversation_triggers(db)
    migrations.create_conversation_triggers(db)


def drop_search_triggers(db) -> None:
    """Bulk writers may drop these, insert, then index the new rowids in one statement."""
    conn = getattr(db, "conn", db)
    for name in SEARCH_TRIGGERS:
        conn.execute(f"DROP TRIGGER IF EXISTS {name}")


# --- the query language (DESIGN.md section 6) --------------------------------------

FILTERS = ("with", "from", "on", "before", "after")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
MAX_TERMS = 64
_SYNTAX_NOTE = 'type a word, a "phrase", word* or a filter such as with:NAME'


@dataclass
class Query:
    """A parsed query: an FTS5 expression plus SQL filters, all values bound as parameters.

    `match` is None when the query has filters only. `since`/`until` are UTC
    bounds in the database's text format. The keys drive highlighting.
    """

    match: str | None = None
    exclude: str | None = None
    peer_groups: list[list[str]] = field(default_factory=list)
    sender_groups: list[list[str]] = field(default_factory=list)
    since: str | None = None
    until: str | None = None
    exact_keys: frozenset[str] = frozenset()
    prefix_keys: tuple[str, ...] = ()


@dataclass
class _Term:
    text: str
    negative: bool
    prefix: bool


def parse_query(text: str, tz=None, now=None) -> Query:
    """Turn what a person typed into a safe FTS5 expression and filters.

    Every term is folded like the index and emitted as a quoted FTS5 string of
    its tokens, so nothing typed can be FTS5 syntax: `AND`, `e-mail`, `C++`,
    `12:30` and an unterminated `"` are literal words. Raises BadQuery when
    nothing is left to search for, or for a date that is not one.
    """
    terms, filters = _lex(_clean(text))
    q = Query()
    dates = []
    peers, senders = [], []
    for key, value in filters:  # several with: (or from:) mean any of them, as in Slack
        if key == "with":
            peers.append(value)
        elif key == "from":
            senders.append(value)
        else:
            dates.append((key, value))
    q.peer_groups = [peers] if peers else []
    q.sender_groups = [senders] if senders else []
    q.since, q.until = _date_bounds(dates, tz, now)
    positive, negative, exact, prefixes = [], [], set(), []
    for term in terms:
        tokens = [t for t in _tokens(term.text) if match_key(t)]
        if not tokens:
            continue
        fts = '"' + " ".join(tokens) + '"' + ("*" if term.prefix else "")
        (negative if term.negative else positive).append(fts)
        if not term.negative:
            keys = [match_key(t) for t in tokens]
            exact.update(keys[:-1] if term.prefix else keys)
            if term.prefix:
                prefixes.append(keys[-1])
    if len(positive) + len(negative) > MAX_TERMS:
        raise BadQuery(f"A search can use at most {MAX_TERMS} words and phrases.")
    if not positive and not (q.peer_groups or q.sender_groups or dates):
        if negative:
            raise BadQuery(f"Exclusions alone would match everything; {_SYNTAX_NOTE}.")
        raise BadQuery(f"Nothing to search for; {_SYNTAX_NOTE}.")
    column = "{body_folded} : "
    if positive:
        words = " AND ".join(positive)
        q.match = column + (f"(({words}) NOT ({' OR '.join(negative)}))" if negative else f"({words})")
    elif negative:
        q.exclude = column + f"({' OR '.join(negative)})"
    q.exact_keys, q.prefix_keys = frozenset(exact), tuple(prefixes)
    return q


def _clean(text) -> str:
    """Control characters and lone surrogates become spaces; they can never match."""
    if not isinstance(text, str):
        raise BadQuery(f"Nothing to search for; {_SYNTAX_NOTE}.")
    return "".join(" " if unicodedata.category(ch) in ("Cc", "Cs") else ch for ch in text)


def _tokens(text: str) -> list[str]:
    """The folded tokens of a term, as the index holds them (before diacritics removal)."""
    folded = fold(text)
    return [folded[a:b] for a, b in token_spans(folded)]


def _lex(text: str) -> tuple[list[_Term], list[tuple[str, str]]]:
    """Split into terms (words, "phrases", -exclusions, prefix*) and key:value filters."""
    if text.count('"') % 2:  # an unterminated quote is not syntax: drop it
        cut = text.rindex('"')
        text = text[:cut] + " " + text[cut + 1:]
    terms, filters, i, n = [], [], 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        negative = text[i] == "-" and i + 1 < n and not text[i + 1].isspace()
        if negative:
            i += 1
        if text[i] == '"':
            end = text.index('"', i + 1)
            phrase, i = text[i + 1:end], end + 1
            prefix = i < n and text[i] == "*"
            while i < n and text[i] == "*":
                i += 1
            terms.append(_Term(phrase, negative, prefix))
            continue
        start = i
        while i < n and not text[i].isspace() and text[i] != '"':
            i += 1
        word = text[start:i]
        key, sep, value = word.partition(":")
        if sep and key.lower() in FILTERS and not negative:
            if not value and i < n and text[i] == '"':  # with:"bob"
                end = text.index('"', i + 1)
                value, i = text[i + 1:end].strip(), end + 1
            if value:
                filters.append((key.lower(), value.lstrip("@")))
                continue
        terms.append(_Term(word.rstrip("*"), negative, word.endswith("*")))
    return terms, filters


def _date_bounds(dates: list[tuple[str, str]], tz, now) -> tuple[str | None, str | None]:
    """UTC bounds for on:/before:/after: local days, as in Slack; several narrow further."""
    if not dates:
        return None, None
    from datetime import date, datetime, time, timedelta, timezone

    from .config import local_zone

    zone = local_zone(tz)
    today = (now or datetime.now(timezone.utc)).astimezone(zone).date()

    def day_of(key, value):
        word = value.lower()
        if word == "today":
            return today
        if word == "yesterday":
            return today - timedelta(days=1)
        try:
            if _ISO_DATE.fullmatch(value):
                return date.fromisoformat(value)
        except ValueError:
            pass
        raise BadQuery(f"{key}:{value} is not a date; use YYYY-MM-DD, today or yesterday.")

    def start_of(day):
        moment = datetime.combine(day, time(0), tzinfo=zone).astimezone(timezone.utc)
        return moment.strftime("%Y-%m-%d %H:%M:%S")  # no fraction: compares right with stored text

    since, until = [], []
    for key, value in dates:
        day = day_of(key, value)
        try:
            if key in ("on", "after"):
                since.append(start_of(day if key == "on" else day + timedelta(days=1)))
            if key in ("on", "before"):
                until.append(start_of(day + timedelta(days=1) if key == "on" else day))
        except OverflowError:
            raise BadQuery(f"{key}:{value} is too far from today to search by.") from None
    return (max(since) if since else None), (min(until) if until else None)


# --- searching -------------------------------------------------------------------

@dataclass
class SearchHit:
    """One result: the message (DESIGN.md shape), its snippet and bm25 rank."""

    message: dict
    snippet: str
    rank: float | None
    segments: list[tuple[str, bool]] = field(default_factory=list)

    def to_json(self) -> dict:
        return {**self.message, "snippet": self.snippet, "rank": self.rank}


def search_messages(store_or_path, query: str, account: str, with_peer: str | None = None,
                    limit: int = 20, sort: str = "rank", tz=None) -> list[SearchHit]:
    """Messages of `account` matching `query`, best first (bm25) or newest first.

    Each hit's `rank` is its bm25 score (lower is better) when sorted by rank,
    and None when sorted by date or when the query has filters only.

    `store_or_path` is a ClientStore, the path of client.db, or an open sqlite3
    connection to a current one. Raises BadQuery for a query with nothing to
    search for or a bad date, and UsageError for a bad limit or sort. A missing
    archive has no matches (and is not created).
    """
    if sort not in SORTS:
        raise UsageError(f"Unknown sort {sort!r}; use rank or date.")
    if not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise UsageError(f"The limit must be a whole number from 1 to {MAX_LIMIT}.")
    parsed = parse_query(query, tz=tz)
    if with_peer is not None:
        parsed.peer_groups.append([with_peer.lstrip("@")])
    if isinstance(store_or_path, sqlite3.Connection):
        return _run(store_or_path, parsed, account, limit, sort)
    path = Path(getattr(store_or_path, "path", store_or_path))
    from .client.store import store_error

    try:
        conn = _connect(path)
        if conn is None:
            return []
        try:
            return _run(conn, parsed, account, limit, sort)
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise store_error(path, exc) from None


def _connect(path: Path) -> sqlite3.Connection | None:
    """One plain sqlite3 connection to a current client.db, upgrading an old file first.

    The version check is one PRAGMA on the same connection, so a search costs
    a single open; Pony and sqlite-utils load only when the file needs upgrading.
    """
    from .client.schema_version import SCHEMA_VERSION
    from .client.store import BUSY_TIMEOUT_MS, check_version, open_client_store

    if not path.exists():
        return None
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000)
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version != SCHEMA_VERSION:
            conn.close()
            check_version(path)  # a newer file is refused with its name
            open_client_store(path).close()
            conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000)
        conn.execute("PRAGMA query_only = ON")  # whatever is typed, a search never writes
        return conn
    except BaseException:
        conn.close()
        raise


def _filters(q: Query, account: str) -> tuple[list[str], list]:
    """SQL conditions on `m` (messages) for the account and the query's filters."""
    where, params = ["m.account = ?"], [account]
    for column, groups in (("peer", q.peer_groups), ("sender", q.sender_groups)):
        for names in groups:
            marks = ", ".join("?" * len(names))
            where.append(f"m.{column} COLLATE NOCASE IN ({marks})")
            params.extend(names)
    if q.since is not None:
        where.append("m.sent_at >= ?")
        params.append(q.since)
    if q.until is not None:
        where.append("m.sent_at < ?")
        params.append(q.until)
    return where, params


ROW = "m.uuid, m.peer, m.direction, m.sender, m.recipient, m.body, m.sent_at, m.status"
ROW_KEYS = ("uuid", "peer", "direction", "sender", "recipient", "body", "sent_at", "status")


def ranked_sql(q: Query, account: str, limit: int, sort: str) -> tuple[str, list]:
    """The one statement that picks a page of (id, rank, message...): the FTS table drives.

    `CROSS JOIN` fixes the loop order, so SQLite walks the FTS matches and looks
    each row up by rowid, instead of walking a peer's index and evaluating
    MATCH per row (seconds for a big peer). Filters only: messages' own indexes.
    """
    where, params = _filters(q, account)
    if q.match is None:
        if q.exclude is not None:
            where.append(f"m.id NOT IN (SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH ?)")
            params.append(q.exclude)
        return (f"SELECT m.id, NULL, {ROW} FROM messages AS m WHERE {' AND '.join(where)} "
                "ORDER BY m.sent_at DESC, m.id DESC LIMIT ?", [*params, limit])
    order = "f.rank" if sort == "rank" else "m.sent_at DESC, m.id DESC"
    rank = "f.rank" if sort == "rank" else "NULL"
    return (f"SELECT f.rowid, {rank}, {ROW} FROM {FTS_TABLE} AS f CROSS JOIN messages AS m ON m.id = f.rowid "
            f"WHERE f.{FTS_TABLE} MATCH ? AND {' AND '.join(where)} ORDER BY {order} LIMIT ?",
            [q.match, *params, limit])


def newest_sql(q: Query, account: str, limit: int, since: str, min_id: int) -> tuple[str, list]:
    """ranked_sql for sort=date, narrowed to the messages as new as `since` (all have id >= min_id)."""
    where, params = _filters(q, account)
    return (f"SELECT f.rowid, NULL, {ROW} FROM {FTS_TABLE} AS f CROSS JOIN messages AS m ON m.id = f.rowid "
            f"WHERE f.{FTS_TABLE} MATCH ? AND f.rowid >= ? AND m.sent_at >= ? AND {' AND '.join(where)} "
            "ORDER BY m.sent_at DESC, m.id DESC LIMIT ?", [q.match, min_id, since, *params, limit])


def _newest(conn: sqlite3.Connection, q: Query, account: str, limit: int) -> list[tuple]:
    """The newest `limit` matches without sorting every match by time.

    FTS5 walks matches newest rowid first and stops at `limit`. Rowid order is
    nearly time order, so the oldest time among those (T) bounds the answer:
    when no message sent at T or later has a smaller id, they are the answer;
    otherwise the exact top is the matches from the smallest such id on,
    sorted by time. Never more work than sorting every match.
    """
    where, params = _filters(q, account)
    first = conn.execute(
        f"SELECT f.rowid, NULL, {ROW} FROM {FTS_TABLE} AS f CROSS JOIN messages AS m ON m.id = f.rowid "
        f"WHERE f.{FTS_TABLE} MATCH ? AND {' AND '.join(where)} ORDER BY f.rowid DESC LIMIT ?",
        [q.match, *params, limit]).fetchall()
    by_time = sorted(first, key=lambda row: (row[8], row[0]), reverse=True)
    if len(first) < limit:  # that is every match
        return by_time
    since = by_time[-1][8]
    (min_id,) = conn.execute(  # +id: walk the (account, sent_at) index, not the whole table
        "SELECT min(+id) FROM messages WHERE account = ? AND sent_at >= ?", (account, since)).fetchone()
    if min_id >= first[-1][0]:  # every message that new is in the id range already read
        return by_time
    return conn.execute(*newest_sql(q, account, limit, since, min_id)).fetchall()


def _run(conn: sqlite3.Connection, q: Query, account: str, limit: int, sort: str) -> list[SearchHit]:
    """A page of hits; `rank` is bm25 when sorted by rank and None when sorted by time.

    (FTS5 pays a scan of every match to rank even one row, so newest-first
    results do not carry a rank.)
    """
    if q.match is not None and sort == "date":
        rows = _newest(conn, q, account, limit)
    else:
        rows = conn.execute(*ranked_sql(q, account, limit, sort)).fetchall()
    return [_hit(q, row) for row in rows]


def _hit(q: Query, row: tuple) -> SearchHit:
    from .client.shapes import message_shape

    message = message_shape(dict(zip(ROW_KEYS, row[2:])))
    segments = snippet_segments(message["body"], q.exact_keys, q.prefix_keys)
    snippet = "".join(f"[{text}]" if hit else text for text, hit in segments)
    return SearchHit(message, snippet, row[1], segments)
