"""Reading the local archive: partners by recency, a conversation, a local day.

What `chatkit conversations`, `history` and `day` show, as DESIGN.md's JSON
dicts. These run on a plain sqlite3 connection (chatkit.client.reads) so the
commands start fast; marking messages read is one UPDATE in a transaction,
and the store's triggers keep `conversations.unread_count` exact.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone

from .. import config
from ..errors import UsageError
from .reads import iso_sql, reading, transaction
from .shapes import CONVERSATION_KEYS, MESSAGE_KEYS

open_archive = reading  # `with open_archive(path) as conn:` reads client.db

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

MESSAGE_COLUMNS = f"uuid, peer, direction, sender, recipient, body, {iso_sql('sent_at')}, status"


def current_account(data_dir, explicit: str | None = None) -> str:
    """The account whose archive commands show: `explicit`, else the logged-in user.

    Raises NotLoggedIn (exit 3) when nobody is logged in.
    """
    if explicit:
        return explicit
    from .session import current_account as session_account

    return session_account(data_dir).username


def list_conversations(conn, account: str) -> list[dict]:
    """Every partner of `account`, most recent first (one read along an index)."""
    rows = conn.execute(
        f"SELECT peer, {iso_sql('last_message_at')}, last_body, message_count, unread_count "
        "FROM conversations WHERE account = ? ORDER BY last_message_at DESC",
        (account,),
    ).fetchall()
    return [dict(zip(CONVERSATION_KEYS, row)) for row in rows]


def resolve_peer(conn, account: str, peer: str) -> str | None:
    """The peer as stored, matched case-insensitively (DESIGN.md section 4); None if unknown."""
    row = conn.execute(
        "SELECT peer FROM conversations WHERE account = ? AND peer = ? COLLATE NOCASE "
        "ORDER BY peer = ? DESC, last_message_at DESC LIMIT 1", (account, peer, peer)
    ).fetchone()
    return row[0] if row else None


HISTORY_SQL = (f"SELECT id, {MESSAGE_COLUMNS} FROM messages WHERE account = ? AND peer = ? "
               "ORDER BY sent_at DESC, id DESC LIMIT ?")


def history(conn, account: str, peer: str, limit: int = 50) -> list[dict]:
    """The newest `limit` messages with `peer`, oldest first; marks the shown incoming ones read.

    The dicts carry each message's status after this call (shown means read).
    Nothing is written when none of them was unread.
    """
    if limit < 1:
        raise UsageError(f"Invalid limit {limit}; use a whole number of 1 or more.")
    rows = conn.execute(HISTORY_SQL, (account, peer, limit)).fetchall()
    if not rows:  # perhaps spelt differently: usernames match case-insensitively
        stored = resolve_peer(conn, account, peer)
        if stored is None or stored == peer:
            return []
        rows = conn.execute(HISTORY_SQL, (account, stored, limit)).fetchall()
    rows.reverse()
    unread = [row[0] for row in rows if row[8] == "unread"]
    if unread:
        with transaction(conn):
            conn.execute(
                f"UPDATE messages SET status = 'read' WHERE status = 'unread' "
                f"AND id IN ({','.join('?' * len(unread))})",
                unread,
            )
    shown = []
    for row in rows:
        message = dict(zip(MESSAGE_KEYS, row[1:]))
        if message["status"] == "unread":
            message["status"] = "read"
        shown.append(message)
    return shown


def parse_day(text: str) -> date:
    """'YYYY-MM-DD' as a date; anything else is a usage error (exit 2)."""
    try:
        if not _DATE.fullmatch(text):
            raise ValueError
        return date.fromisoformat(text)
    except (TypeError, ValueError):
        raise UsageError(f"Invalid date {text!r}; use YYYY-MM-DD.") from None


def day_bounds(day: date | str, tz=None) -> tuple[datetime, datetime]:
    """[start, end) of a local day as naive UTC: local midnight of D and of D+1.

    Computed in the zone, so days around a DST change are 23 or 25 hours long.
    `tz` is a zone name (None: CHATKIT_TZ, TZ, the system zone) or a tzinfo.
    """
    if isinstance(day, str):
        day = parse_day(day)
    zone = tz if tz is not None and not isinstance(tz, str) else config.local_zone(tz)

    def midnight(d: date) -> datetime:
        local = datetime.combine(d, time(0), tzinfo=zone)
        return local.astimezone(timezone.utc).replace(tzinfo=None)

    return midnight(day), midnight(day + timedelta(days=1))


def messages_on_day(conn, account: str, day: date | str, tz=None) -> list[dict]:
    """Every message of `account` sent on local day `day`, oldest first."""
    start, end = day_bounds(day, tz)
    rows = conn.execute(
        f"SELECT {MESSAGE_COLUMNS} FROM messages "
        "WHERE account = ? AND sent_at >= ? AND sent_at < ? ORDER BY sent_at, id",
        (account, _db_time(start), _db_time(end)),
    ).fetchall()
    return [dict(zip(MESSAGE_KEYS, row)) for row in rows]


def _db_time(value: datetime) -> str:
    return value.isoformat(" ", "microseconds")
