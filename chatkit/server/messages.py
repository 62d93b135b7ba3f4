"""Messages over HTTP: POST /api/messages (send), GET /api/messages (fetch, long poll)."""

from __future__ import annotations

from flask import Blueprint, jsonify

from .. import timefmt
from ..errors import BadRequest
from .context import caller, server
from .inputs import MAX_SEQ, UUID_RE, int_arg, json_object, text_field, username_field
from .relay import Outgoing

bp = Blueprint("messages", __name__, url_prefix="/api")

MAX_WAIT = 30
MAX_BODY = 10_000


@bp.post("/messages")
def send():
    who = caller()
    msg = _outgoing(json_object())
    reply, created = server().relay.send_message(who, msg)
    return jsonify(reply), 201 if created else 200


@bp.get("/messages")
def fetch():
    after = int_arg("after", 0, 0, MAX_SEQ)
    wait = int_arg("wait", 0, 0, MAX_WAIT)
    who = caller()
    return jsonify(server().relay.fetch_messages(who, after, wait))


def _outgoing(body: dict) -> Outgoing:
    message_id = text_field(body, "id", max_len=36)
    if not UUID_RE.fullmatch(message_id):
        raise BadRequest("Field 'id' must be a UUID like 123e4567-e89b-12d3-a456-426614174000.")
    to = username_field(body, "to")
    text = text_field(body, "body", min_len=1, max_len=MAX_BODY)
    sent_raw = text_field(body, "sent_at", max_len=40)
    try:
        sent_at = timefmt.parse_iso(sent_raw)
    except (ValueError, OverflowError):
        raise BadRequest("Field 'sent_at' must be an ISO 8601 time like 2026-12-04T10:00:00Z.") from None
    return Outgoing(id=message_id.lower(), to=to, body=text, sent_at=sent_at)
