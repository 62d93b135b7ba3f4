"""Schema changes of client.db, applied in order and recorded by name.

sqlite-utils' `Migrations` records each applied function in
`_sqlite_migrations`; `PRAGMA user_version` mirrors the count so the fast
read path can check it without importing sqlite-utils. Never edit a migration
that has shipped: add a new one.

Datetimes are TEXT in Pony's format (see chatkit.timefmt) so that bulk SQL,
Pony and sqlite-utils' `transform()` all keep them as text.
"""

from __future__ import annotations

from sqlite_utils import Database, Migrations

from .schema_version import SCHEMA_VERSION

migrations = Migrations("chatkit-client")


@migrations()
def m001_core(db: Database):
    db.executescript(
        """
        CREATE TABLE messages (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            uuid TEXT NOT NULL,
            account TEXT NOT NULL,
            peer TEXT NOT NULL,
            direction TEXT NOT NULL CHECK (direction IN ('out', 'in')),
            sender TEXT NOT NULL,
            recipient TEXT NOT NULL,
            body TEXT NOT NULL,
            sent_at TEXT NOT NULL,
            received_at TEXT,
            status TEXT NOT NULL
                CHECK (status IN ('pending', 'sent', 'failed', 'unread', 'read'))
        );
        CREATE UNIQUE INDEX messages_account_sender_uuid ON messages (account, sender, uuid);
        CREATE INDEX messages_account_peer_sent ON messages (account, peer, sent_at);
        CREATE INDEX messages_account_sent ON messages (account, sent_at);

        CREATE TABLE outbox (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            message INTEGER NOT NULL UNIQUE REFERENCES messages (id) ON DELETE CASCADE,
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            last_attempt_at TEXT,
            next_attempt_at TEXT,
            state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'failed'))
        );
        CREATE INDEX outbox_state_next ON outbox (state, next_attempt_at);

        CREATE TABLE conversations (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            account TEXT NOT NULL,
            peer TEXT NOT NULL,
            last_message_at TEXT,
            last_body TEXT,
            message_count INTEGER NOT NULL DEFAULT 0,
            unread_count INTEGER NOT NULL DEFAULT 0
        );
        CREATE UNIQUE INDEX conversations_account_peer ON conversations (account, peer);
        CREATE INDEX conversations_account_recent ON conversations (account, last_message_at DESC);

        -- The delivery cursor per account and server: advanced only after the
        -- fetched messages are committed here.
        CREATE TABLE sync_state (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            account TEXT NOT NULL,
            server TEXT NOT NULL,
            cursor INTEGER NOT NULL DEFAULT 0
        );
        CREATE UNIQUE INDEX sync_state_account_server ON sync_state (account, server);
        """
    )
    create_conversation_triggers(db)


@migrations()
def m002_search(db: Database):
    """Full-text index; its set-up lives with the query language."""
    from chatkit.search import enable_search

    enable_search(db)


CONVERSATION_TRIGGERS = ("messages_conv_ai", "messages_conv_ad", "messages_conv_au")


def create_conversation_triggers(db: Database):
    """Keep `conversations` exact inside every transaction that writes `messages`.

    Triggers rather than Python bookkeeping, so that Pony writes, bulk imports
    and any other writer keep listing partners one indexed read.
    """
    db.executescript(
        """
        CREATE TRIGGER IF NOT EXISTS messages_conv_ai AFTER INSERT ON messages BEGIN
            INSERT INTO conversations (account, peer, last_message_at, last_body, message_count, unread_count)
            VALUES (NEW.account, NEW.peer, NEW.sent_at, NEW.body, 1,
                    CASE WHEN NEW.direction = 'in' AND NEW.status = 'unread' THEN 1 ELSE 0 END)
            ON CONFLICT (account, peer) DO UPDATE SET
                message_count = message_count + 1,
                unread_count = unread_count + excluded.unread_count,
                last_body = CASE WHEN excluded.last_message_at >= coalesce(last_message_at, '')
                                 THEN excluded.last_body ELSE last_body END,
                last_message_at = max(coalesce(last_message_at, ''), excluded.last_message_at);
        END;

        CREATE TRIGGER IF NOT EXISTS messages_conv_ad AFTER DELETE ON messages BEGIN
            UPDATE conversations SET
                message_count = message_count - 1,
                unread_count = unread_count
                    - CASE WHEN OLD.direction = 'in' AND OLD.status = 'unread' THEN 1 ELSE 0 END,
                last_message_at = (SELECT m.sent_at FROM messages m
                                   WHERE m.account = OLD.account AND m.peer = OLD.peer
                                   ORDER BY m.sent_at DESC, m.id DESC LIMIT 1),
                last_body = (SELECT m.body FROM messages m
                             WHERE m.account = OLD.account AND m.peer = OLD.peer
                             ORDER BY m.sent_at DESC, m.id DESC LIMIT 1)
            WHERE account = OLD.account AND peer = OLD.peer;
            DELETE FROM conversations
            WHERE account = OLD.account AND peer = OLD.peer AND message_count <= 0;
        END;

        CREATE TRIGGER IF NOT EXISTS messages_conv_au
        AFTER UPDATE OF status, body, sent_at, direction ON messages BEGIN
            UPDATE conversations SET
                unread_count = unread_count
                    - CASE WHEN OLD.direction = 'in' AND OLD.status = 'unread' THEN 1 ELSE 0 END
                    + CASE WHEN NEW.direction = 'in' AND NEW.status = 'unread' THEN 1 ELSE 0 END,
                last_message_at = (SELECT m.sent_at FROM messages m
                                   WHERE m.account = NEW.account AND m.peer = NEW.peer
                                   ORDER BY m.sent_at DESC, m.id DESC LIMIT 1),
                last_body = (SELECT m.body FROM messages m
                             WHERE m.account = NEW.account AND m.peer = NEW.peer
                             ORDER BY m.sent_at DESC, m.id DESC LIMIT 1)
            WHERE account = NEW.account AND peer = NEW.peer;
        END;
        """
    )


def drop_conversation_triggers(db: Database):
    for name in CONVERSATION_TRIGGERS:
        db.execute(f"DROP TRIGGER IF EXISTS {name}")


def rebuild_conversations(db: Database, account: str, peers: list[str] | None = None):
    """Recompute conversation rows from `messages` in one statement per call.

    The bulk import path drops the per-row triggers, inserts, then calls this
    for the peers it touched, all inside one transaction.
    """
    where, params = "account = ?", [account]
    if peers is not None:
        db.execute("CREATE TEMP TABLE IF NOT EXISTS _peers (peer TEXT PRIMARY KEY)")
        db.execute("DELETE FROM _peers")
        db.conn.executemany("INSERT OR IGNORE INTO _peers VALUES (?)", [(p,) for p in peers])
        where += " AND peer IN (SELECT peer FROM _peers)"
    db.execute(f"DELETE FROM conversations WHERE {where}", params)
    db.execute(
        f"""
        INSERT INTO conversations (account, peer, last_message_at, last_body, message_count, unread_count)
        SELECT account, peer, max(sent_at),
               (SELECT m2.body FROM messages m2 WHERE m2.account = m.account AND m2.peer = m.peer
                ORDER BY m2.sent_at DESC, m2.id DESC LIMIT 1),
               count(*),
               sum(direction = 'in' AND status = 'unread')
        FROM messages m WHERE {where} GROUP BY account, peer
        """,
        params,
    )


def apply(db: Database) -> None:
    """Bring the file up to date; each migration is its own transaction."""
    if len(migrations._migrations) != SCHEMA_VERSION:  # keep the cheap check honest
        raise RuntimeError("SCHEMA_VERSION does not match the number of migrations")
    migrations.apply(db)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
