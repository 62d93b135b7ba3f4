"""The per-app server objects, reachable from views without globals."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, g

from .sessions import Caller, authenticate
from .inputs import bearer_token


@dataclass
class Server:
    """Everything one app instance owns; `close()` stops its threads."""
    store: object
    passwords: object
    committer: object
    waiters: object
    relay: object
    limits: object

    def close(self):
        self.committer.close()
        self.waiters.close()
        self.store.close()


def server() -> Server:
    return current_app.extensions["chatkit"]


def caller() -> Caller:
    """The authenticated caller of this request (401 unless a valid Bearer token)."""
    if "caller" not in g:
        g.caller = authenticate(server().store, bearer_token())
    return g.caller
