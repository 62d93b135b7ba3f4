"""The server's tables (DESIGN.md section 4) as Pony entities.

Declared inside `define_entities(db)` so each app (and each test) gets its own
`Database`, bound late. Datetimes are naive UTC (chatkit.timefmt). Two columns
go beyond the contract, both for correctness: `users.username_key` (the
lower-cased name, unique, so two spellings cannot make two accounts) and
`messages.digest` (HMAC-SHA-256 of recipient, sent_at and body under the key in
`server.key`, beside server.db, so a retried send can
be compared with the original even after its body was delivered and erased).
"""

from __future__ import annotations

from datetime import datetime

from pony.orm import Optional, PrimaryKey, Required, Set, composite_index, composite_key

LOGIN_EVENT_KINDS = ("register", "login", "login_failed", "throttled", "logout")


def define_entities(db):
    """Declare the entities on `db`; return them by name."""

    class User(db.Entity):
        _table_ = "users"
        id = PrimaryKey(int, auto=True)
        username = Required(str, 32, unique=True)
        username_key = Required(str, 32, unique=True)
        created_at = Required(datetime, precision=6)
        credential = Optional("Credential", cascade_delete=True)
        sessions = Set("Session")
        login_events = Set("LoginEvent")
        sent = Set("Message", reverse="sender")
        received = Set("Message", reverse="recipient")

    class Credential(db.Entity):
        _table_ = "credentials"
        user = PrimaryKey(User)
        password_hash = Required(str)

    class Session(db.Entity):
        _table_ = "sessions"
        id = PrimaryKey(int, auto=True)
        user = Required(User, index=True)
        token_hash = Required(str, 64, unique=True)
        created_at = Required(datetime, precision=6)
        expires_at = Required(datetime, precision=6)
        revoked_at = Optional(datetime, precision=6, volatile=True)
        last_seen_at = Optional(datetime, precision=6, volatile=True)

    class LoginEvent(db.Entity):
        _table_ = "login_events"
        id = PrimaryKey(int, auto=True)
        at = Required(datetime, precision=6, index=True)
        username = Required(str, 64)
        user = Optional(User)
        kind = Required(str, 16, py_check=lambda k: k in LOGIN_EVENT_KINDS)
        remote_addr = Optional(str, 64, nullable=True)
        user_agent = Optional(str, 256, nullable=True)
        composite_index(user, kind, at)
        composite_index(remote_addr, kind, at)

    class Message(db.Entity):
        _table_ = "messages"
        seq = PrimaryKey(int, auto=True)
        uuid = Required(str, 36)
        sender = Required(User, reverse="sent")
        recipient = Required(User, reverse="received")
        sent_at = Required(datetime, precision=6)
        received_at = Required(datetime, precision=6)
        delivered_at = Optional(datetime, precision=6, volatile=True)
        body = Optional(str, nullable=True, volatile=True, autostrip=False)  # Pony strips str by default
        digest = Required(str, 64)
        composite_key(sender, uuid)
        composite_index(recipient, seq)

    class Migration(db.Entity):
        _table_ = "schema_migrations"
        name = PrimaryKey(str, 100)
        applied_at = Required(datetime, precision=6)

    return {e.__name__: e for e in (User, Credential, Session, LoginEvent, Message, Migration)}
