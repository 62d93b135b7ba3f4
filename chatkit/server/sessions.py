"""Sessions: tokens handed out once, checked on every request, revoked on logout.

A token is `secrets.token_urlsafe(32)` (256 random bits); only its SHA-256 is
stored, so a copy of server.db lets no one act as anyone. `last_seen_at` is
written at most once a minute per session, so checking a token stays a read.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from .. import timefmt
from ..errors import ServiceUnavailable, Unauthorized
from . import queries

log = logging.getLogger("chatkit.server")

TOKEN_LIFETIME = timedelta(days=30)
TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class Caller:
    """Who a valid token belongs to."""
    user_id: int
    username: str
    session_id: int


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def open_session(store, user_id, who, kind, rehash):
    """New token for `user_id` plus its login event (inside a write transaction)."""
    now = timefmt.utcnow()
    user = store.User[user_id]
    if rehash:
        user.credential.password_hash = rehash
    token = secrets.token_urlsafe(32)
    expires = now + TOKEN_LIFETIME
    store.Session(user=user, token_hash=token_hash(token), created_at=now,
                  expires_at=expires, last_seen_at=now)
    record_event(store, kind, user_id, who)
    return {"token": token, "username": user.username, "created": kind == "register",
            "expires_at": timefmt.iso_z(expires)}


def record_event(store, kind, user_id, who):
    """One login_events row (call inside a write transaction)."""
    store.LoginEvent(at=timefmt.utcnow(), kind=kind, user=user_id, **who)


def authenticate(store, token: str) -> Caller:
    """The caller behind a Bearer token; Unauthorized if unknown, expired or revoked."""
    found = store.run(_find_session, store, token_hash(token))
    if found is None:
        raise Unauthorized()
    caller, last_seen = found
    now = timefmt.utcnow()
    if last_seen is None or now - last_seen >= TOUCH_EVERY:
        try:
            store.run(_touch, store, caller.session_id, now, write=True)
        except ServiceUnavailable:  # a courtesy record: reads go on while the disk is full
            log.debug("last_seen_at not recorded for session %d (storage trouble)", caller.session_id)
    return caller


def _find_session(store, digest):
    found = queries.session_by_token_hash(store.db, digest)
    if found is None:
        return None
    session_id, user_id, username, expires_at, revoked_at, last_seen = found
    if revoked_at is not None or expires_at <= timefmt.utcnow():
        return None
    return Caller(user_id, username, session_id), last_seen


def _touch(store, session_id, now):
    store.Session[session_id].last_seen_at = now


def logout(store, caller: Caller, remote_addr=None, user_agent=None) -> None:
    """Revoke the caller's token and record the logout."""
    who = dict(username=caller.username, remote_addr=remote_addr,
               user_agent=(user_agent or "")[:256] or None)
    store.run(_revoke, store, caller, who, write=True)
    log.info("logged out %s", caller.username)


def _revoke(store, caller, who):
    store.Session[caller.session_id].revoked_at = timefmt.utcnow()
    record_event(store, "logout", caller.user_id, who)
