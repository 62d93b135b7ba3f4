"""Brute-force throttling from the login_events table (DESIGN.md section 4).

Counting rows in the database rather than in memory means a restart does not
reset the count and several processes share it. A username may have at most
`per_user` wrong passwords (default 5) and an address at most `per_addr`
(default 50) in any 15-minute window; the next attempt is refused with the
seconds until the oldest counted failure leaves the window. Throttled and
malformed attempts are not failures, so waiting always ends the block.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from pony.orm import desc

WINDOW = timedelta(minutes=15)


@dataclass(frozen=True)
class Limits:
    per_user: int = 5
    per_addr: int = 50
    window: timedelta = WINDOW


def seconds_blocked(store, user_id: int | None, remote_addr: str | None,
                    now: datetime, limits: Limits = Limits()) -> int | None:
    """Seconds until another attempt is allowed, or None if it is allowed now.

    Call inside a db_session (ServerStore.run).
    """
    since = now - limits.window
    E = store.LoginEvent
    waits = []
    if user_id is not None:
        query = E.select(lambda e: e.user.id == user_id and e.kind == "login_failed" and e.at > since)
        waits.append(_wait(query, limits.per_user, now, limits.window))
    if remote_addr:
        query = E.select(lambda e: e.remote_addr == remote_addr and e.kind == "login_failed"
                         and e.at > since)
        waits.append(_wait(query, limits.per_addr, now, limits.window))
    waits = [w for w in waits if w]
    return max(waits) if waits else None


def _wait(query, limit, now, window):
    recent = query.order_by(lambda e: desc(e.at)).limit(limit)[:]
    if len(recent) < limit:
        return None
    frees_at = recent[limit - 1].at + window
    return max(1, math.ceil((frees_at - now).total_seconds()))
