"""The JSON shapes of DESIGN.md section 5, built in one place.

Every listing the CLI prints with `--json`, and every line `export` writes,
comes from these functions, so the keys cannot drift between commands.
"""

from __future__ import annotations

from ..timefmt import iso_z

MESSAGE_KEYS = ("id", "peer", "direction", "sender", "recipient", "body", "sent_at", "status")
CONVERSATION_KEYS = ("peer", "last_message_at", "last_body", "message_count", "unread_count")
OUTBOX_KEYS = ("id", "recipient", "body", "state", "attempts", "last_error")
USER_KEYS = ("username", "created_at", "last_seen_at")


def message_shape(row) -> dict:
    """A message row (mapping or entity with uuid/peer/...) as DESIGN.md's JSON."""
    get = row.get if isinstance(row, dict) else (lambda k: getattr(row, k))
    return {
        "id": get("uuid"),
        "peer": get("peer"),
        "direction": get("direction"),
        "sender": get("sender"),
        "recipient": get("recipient"),
        "body": get("body"),
        "sent_at": iso_z(get("sent_at")),
        "status": get("status"),
    }


def conversation_shape(row) -> dict:
    get = row.get if isinstance(row, dict) else (lambda k: getattr(row, k))
    return {
        "peer": get("peer"),
        "last_message_at": iso_z(get("last_message_at")),
        "last_body": get("last_body"),
        "message_count": get("message_count"),
        "unread_count": get("unread_count"),
    }


def outbox_shape(row) -> dict:
    get = row.get if isinstance(row, dict) else (lambda k: getattr(row, k))
    return {
        "id": get("uuid"),
        "recipient": get("recipient"),
        "body": get("body"),
        "state": get("state"),
        "attempts": get("attempts"),
        "last_error": get("last_error"),
    }


def user_shape(row: dict) -> dict:
    return {
        "username": row["username"],
        "created_at": row.get("created_at"),
        "last_seen_at": row.get("last_seen_at"),
    }
