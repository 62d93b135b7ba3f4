"""Pony entities of client.db, mapped onto tables that the migrations create.

Entities are defined per Database (`define_entities(db)`), so a process may
open several client stores (tests, two accounts) without sharing state.
Datetimes are naive UTC with `sql_type="TEXT"` so that sqlite-utils never
rewrites them as REAL.
"""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace

from pony.orm import Database, Optional, PrimaryKey, Required, composite_key

from ..textfold import fold


def define_entities(db: Database) -> SimpleNamespace:
    class Message(db.Entity):
        _table_ = "messages"
        id = PrimaryKey(int, auto=True)
        uuid = Required(str)
        account = Required(str)
        peer = Required(str)
        direction = Required(str)
        sender = Required(str)
        recipient = Required(str)
        body = Required(str, autostrip=False)  # Pony strips str by default; keep what was typed
        body_folded = Optional(str, nullable=True, autostrip=False)
        sent_at = Required(datetime, sql_type="TEXT")
        received_at = Optional(datetime, sql_type="TEXT")
        status = Required(str)
        outbox = Optional("Outbox")
        composite_key(account, sender, uuid)

        def before_insert(self):
            self.body_folded = fold(self.body)

        def before_update(self):
            folded = fold(self.body)
            if self.body_folded != folded:  # assigning anyway would make the FTS trigger re-index
                self.body_folded = folded

    class Outbox(db.Entity):
        _table_ = "outbox"
        id = PrimaryKey(int, auto=True)
        message = Required(Message, column="message", unique=True)
        attempts = Required(int, default=0)
        last_error = Optional(str, nullable=True)
        last_attempt_at = Optional(datetime, sql_type="TEXT")
        next_attempt_at = Optional(datetime, sql_type="TEXT")
        state = Required(str, default="pending")

    class Conversation(db.Entity):
        """Maintained by triggers; read-only from Python."""

        _table_ = "conversations"
        id = PrimaryKey(int, auto=True)
        account = Required(str)
        peer = Required(str)
        last_message_at = Optional(datetime, sql_type="TEXT")
        last_body = Optional(str, nullable=True)
        message_count = Required(int, default=0)
        unread_count = Required(int, default=0)
        composite_key(account, peer)

    class SyncState(db.Entity):
        _table_ = "sync_state"
        id = PrimaryKey(int, auto=True)
        account = Required(str)
        server = Required(str)
        cursor = Required(int, default=0)
        composite_key(account, server)

    return SimpleNamespace(Message=Message, Outbox=Outbox, Conversation=Conversation, SyncState=SyncState)
