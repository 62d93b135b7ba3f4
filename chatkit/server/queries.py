"""The hot paths in plain, portable SQL (SQLite >= 3.35 and PostgreSQL accept it).

Pony's entity layer costs ~0.8 ms per message and per token check on this
kind of machine; these statements, run through Pony's own `db.select` /
`db.execute` (which adapt `$name` parameters to each driver), cost ~0.1 ms.
They touch only the tables and columns of entities.py; timestamps are passed
as the text Pony itself stores (chatkit.timefmt.to_db), which PostgreSQL also
reads as a timestamp literal. SQLite-only SQL does not belong here: see sqlite.py.
"""

from __future__ import annotations

from .. import timefmt


def session_by_token_hash(db, digest: str):
    """(session id, user id, username, expires_at, revoked_at, last_seen_at) or None."""
    rows = db.select(
        'SELECT s.id, s."user", u.username, s.expires_at, s.revoked_at, s.last_seen_at'
        ' FROM sessions s JOIN users u ON u.id = s."user" WHERE s.token_hash = $digest',
        {}, {"digest": digest})
    if not rows:
        return None
    sid, uid, name, expires, revoked, seen = rows[0]
    return sid, uid, name, timefmt.from_db(expires), timefmt.from_db(revoked), timefmt.from_db(seen)


def message_by_sender_uuid(db, sender_id: int, uuid: str):
    """(seq, digest, received_at) of the sender's message with this id, or None."""
    rows = db.select("SELECT seq, digest, received_at FROM messages"
                     " WHERE sender = $sender_id AND uuid = $uuid",
                     {}, {"sender_id": sender_id, "uuid": uuid})
    if not rows:
        return None
    seq, digest, received = rows[0]
    return seq, digest, timefmt.from_db(received)


def insert_message(db, uuid, sender_id, recipient_id, sent_at, received_at, body, digest) -> int:
    """Insert one message row; return its seq."""
    params = {"uuid": uuid, "sender": sender_id, "recipient": recipient_id,
              "sent_at": timefmt.to_db(sent_at), "received_at": timefmt.to_db(received_at),
              "body": body, "digest": digest}
    cursor = db.execute(
        "INSERT INTO messages (uuid, sender, recipient, sent_at, received_at, body, digest)"
        " VALUES ($uuid, $sender, $recipient, $sent_at, $received_at, $body, $digest) RETURNING seq",
        {}, params)
    return cursor.fetchone()[0]
