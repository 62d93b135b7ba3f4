"""Accounts and sessions: first login registers, later logins must match.

Expensive hashing happens outside any transaction; each database step is one
short `store.run`. Tokens are 256 random bits handed out once; only their
SHA-256 is stored. Every attempt leaves a login_events row and one log line
(never a password, token or hash).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from pony.orm import max as pony_max, select

from .. import timefmt
from ..errors import BadCredentials, ServiceUnavailable, TooManyAttempts, Unauthorized
from . import queries, sqlite
from .throttle import Limits, seconds_blocked

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


def login(store, passwords, username, password, remote_addr=None, user_agent=None,
          limits: Limits = Limits()) -> dict:
    """Register or log in; return the reply of POST /api/login."""
    now = timefmt.utcnow()
    who = dict(username=username, remote_addr=remote_addr, user_agent=(user_agent or "")[:256] or None)
    user = store.run(_find_user, store, username.lower())
    wait = store.run(seconds_blocked, store, user and user["id"], remote_addr, now, limits)
    if wait:
        store.run(_event, store, "throttled", user and user["id"], who, write=True)
        log.warning("throttled %s from %s (retry in %ds)", username, remote_addr, wait)
        raise TooManyAttempts(wait)
    if user is None:
        reply = _register(store, passwords, password, who)
        if reply:
            log.info("registered %s from %s", reply["username"], remote_addr)
            return reply
        user = store.run(_find_user, store, username.lower())  # lost a race for the name
    elif passwords.verify(user["hash"], password):
        rehash = passwords.hash(password) if passwords.needs_rehash(user["hash"]) else None
        reply = store.run(_open_session, store, user["id"], who, "login", rehash, write=True)
        log.info("logged in %s from %s", reply["username"], remote_addr)
        return reply
    store.run(_event, store, "login_failed", user and user["id"], who, write=True)
    log.warning("login failed %s from %s", username, remote_addr)
    raise BadCredentials()


def _register(store, passwords, password, who):
    new_hash = passwords.hash(password)
    try:
        return store.run(_create_user, store, who, new_hash, write=True, retries=4)
    except Exception as exc:
        if sqlite.is_integrity_error(exc):
            return None
        raise


def _find_user(store, key):
    user = store.User.get(username_key=key)
    if user is None:
        return None
    return {"id": user.id, "username": user.username,
            "hash": user.credential.password_hash if user.credential else None}


def _create_user(store, who, password_hash):
    if store.User.exists(username_key=who["username"].lower()):
        return None
    user = store.User(username=who["username"], username_key=who["username"].lower(),
                      created_at=timefmt.utcnow())
    store.Credential(user=user, password_hash=password_hash)
    store.db.flush()
    return _open_session(store, user.id, who, "register", None)


def _open_session(store, user_id, who, kind, rehash):
    now = timefmt.utcnow()
    user = store.User[user_id]
    if rehash:
        user.credential.password_hash = rehash
    token = secrets.token_urlsafe(32)
    expires = now + TOKEN_LIFETIME
    store.Session(user=user, token_hash=token_hash(token), created_at=now,
                  expires_at=expires, last_seen_at=now)
    _event(store, kind, user_id, who)
    return {"token": token, "username": user.username, "created": kind == "register",
            "expires_at": timefmt.iso_z(expires)}


def _event(store, kind, user_id, who):
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
    _event(store, "logout", caller.user_id, who)


def list_users(store) -> list[dict]:
    """Everyone on the server: username, created_at, last_seen_at (ISO 8601 Z)."""
    return store.run(_list_users, store)


def _list_users(store):
    rows = select((u.username, u.created_at, pony_max(s.last_seen_at for s in u.sessions))
                  for u in store.User).order_by(lambda: u.username_key)[:]
    return [{"username": name, "created_at": timefmt.iso_z(created),
             "last_seen_at": timefmt.iso_z(seen)} for name, created, seen in rows]
