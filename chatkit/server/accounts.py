"""Accounts: the first login of a name registers it, later logins must match.

Expensive hashing happens outside any transaction; each database step is one
short `store.run`. Every attempt leaves a login_events row and one log line
(never a password, token or hash). Tokens live in sessions.py.
"""

from __future__ import annotations

import logging

from pony.orm import max as pony_max, select

from .. import timefmt
from ..errors import BadCredentials, TooManyAttempts
from . import sqlite
from .sessions import open_session, record_event
from .throttle import Limits, seconds_blocked

log = logging.getLogger("chatkit.server")


def login(store, passwords, username, password, remote_addr=None, user_agent=None,
          limits: Limits = Limits()) -> dict:
    """Register or log in; return the reply of POST /api/login."""
    now = timefmt.utcnow()
    who = dict(username=username, remote_addr=remote_addr, user_agent=(user_agent or "")[:256] or None)
    user = store.run(_find_user, store, username.lower())
    wait = store.run(seconds_blocked, store, user and user["id"], remote_addr, now, limits)
    if wait:
        store.run(record_event, store, "throttled", user and user["id"], who, write=True)
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
        reply = store.run(open_session, store, user["id"], who, "login", rehash, write=True)
        log.info("logged in %s from %s", reply["username"], remote_addr)
        return reply
    store.run(record_event, store, "login_failed", user and user["id"], who, write=True)
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
    return open_session(store, user.id, who, "register", None)


def list_users(store) -> list[dict]:
    """Everyone on the server: username, created_at, last_seen_at (ISO 8601 Z)."""
    return store.run(_list_users, store)


def _list_users(store):
    rows = select((u.username, u.created_at, pony_max(s.last_seen_at for s in u.sessions))
                  for u in store.User).order_by(lambda: u.username_key)[:]
    return [{"username": name, "created_at": timefmt.iso_z(created),
             "last_seen_at": timefmt.iso_z(seen)} for name, created, seen in rows]
