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


def _read(db, sql: str, params: dict) -> list[tuple]:
    """Rows of a read-only statement, without starting a write transaction.

    `db.select` would do, but it builds a new row class on every call (cyclic
    garbage for the collector on the busiest path); Pony's own helper beneath
    it returns the plain cursor. Falls back to `db.select` if that ever moves.
    """
    exec_raw = getattr(db, "_exec_raw_sql", None)
    if exec_raw is None:  # pragma: no cover - a future Pony
        return [tuple(r) for r in db.select(sql, {}, params)]
    return exec_raw(sql, {}, params, frame_depth=0).fetchall()


def session_by_token_hash(db, digest: str):
    """(session id, user id, username, expires_at, revoked_at, last_seen_at) or None."""
    rows = _read(
        db, 'SELECT s.id, s."user", u.username, s.expires_at, s.revoked_at, s.last_seen_at'
        ' FROM sessions s JOIN users u ON u.id = s."user" WHERE s.token_hash = $digest',
        {"digest": digest})
    if not rows:
        return None
    sid, uid, name, expires, revoked, seen = rows[0]
    return sid, uid, name, timefmt.from_db(expires), timefmt.from_db(revoked), timefmt.from_db(seen)


# --- batch forms, for the committer's shared transaction ----------------------------
# Run inside a write transaction (db.execute). IN-lists are padded to powers of two so
# Pony's cache of adapted statements stays small.

def _padded(values: list) -> list:
    size = 1
    while size < len(values):
        size *= 2
    return values + [values[-1]] * (size - len(values))


def messages_by_sender_uuids(db, keys) -> dict:
    """{(sender_id, uuid): (seq, digest, received_at)} for those of `keys` already stored."""
    keys = set(keys)
    if not keys:
        return {}
    senders = _padded(sorted({s for s, _ in keys}))
    uuids = _padded(sorted({u for _, u in keys}))
    params = {f"s{i}": v for i, v in enumerate(senders)} | {f"u{i}": v for i, v in enumerate(uuids)}
    sql = ("SELECT sender, uuid, seq, digest, received_at FROM messages"
           f" WHERE sender IN ({', '.join(f'$s{i}' for i in range(len(senders)))})"
           f" AND uuid IN ({', '.join(f'$u{i}' for i in range(len(uuids)))})")
    rows = db.execute(sql, {}, params).fetchall()
    return {(s, u): (seq, d, timefmt.from_db(r)) for s, u, seq, d, r in rows if (s, u) in keys}


def insert_messages(db, rows) -> dict:
    """Insert (uuid, sender, recipient, sent_at, received_at, body, digest) rows in one
    statement; return {(sender_id, uuid): seq}."""
    params, values = {}, []
    for i, (uuid, sender, recipient, sent_at, received_at, body, digest) in enumerate(rows):
        params.update({f"a{i}": uuid, f"b{i}": sender, f"c{i}": recipient, f"d{i}": timefmt.to_db(sent_at),
                       f"e{i}": timefmt.to_db(received_at), f"f{i}": body, f"g{i}": digest})
        values.append(f"($a{i}, $b{i}, $c{i}, $d{i}, $e{i}, $f{i}, $g{i})")
    cursor = db.execute("INSERT INTO messages (uuid, sender, recipient, sent_at, received_at, body, digest)"
                        f" VALUES {', '.join(values)} RETURNING seq, sender, uuid", {}, params)
    return {(sender, uuid): seq for seq, sender, uuid in cursor.fetchall()}
