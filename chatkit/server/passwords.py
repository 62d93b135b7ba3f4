"""Password hashing: argon2id, bounded, with the same work for every attempt.

Each hash takes ~19 MiB and tens of milliseconds of CPU, so a semaphore bounds
how many run at once (a burst of logins cannot exhaust memory or starve
message traffic). A login for an unknown account still does one full hash, so
response time does not tell whether a name exists.
"""

from __future__ import annotations

import os
import threading

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from ..errors import ServiceUnavailable

# OWASP's minimum for argon2id: m=19456 KiB, t=2, p=1.
PRODUCTION_PARAMS = {"time_cost": 2, "memory_cost": 19456, "parallelism": 1}
# Only for tests (create_app({"ARGON2": FAST_PARAMS})): same algorithm, tiny cost.
FAST_PARAMS = {"time_cost": 1, "memory_cost": 8, "parallelism": 1}


class Passwords:
    """argon2id hashing behind a semaphore of `max(2, cpu_count)` slots."""

    def __init__(self, params=None, concurrency=None, wait_seconds=15.0):
        self.hasher = PasswordHasher(type=Type.ID, **(params or PRODUCTION_PARAMS))
        self.slots = threading.BoundedSemaphore(concurrency or max(2, os.cpu_count() or 2))
        self.wait_seconds = wait_seconds
        self._dummy = self.hasher.hash("chatkit-dummy-password")

    def _slot(self):
        if not self.slots.acquire(timeout=self.wait_seconds):
            raise ServiceUnavailable("The server is busy checking passwords. Try again shortly.",
                                     retry_after=2, code="busy")

    def hash(self, password: str) -> str:
        self._slot()
        try:
            return self.hasher.hash(password)
        finally:
            self.slots.release()

    def verify(self, stored_hash: str | None, password: str) -> bool:
        """True if `password` matches; with no hash, burn the same work and say no."""
        self._slot()
        try:
            try:
                return self.hasher.verify(stored_hash or self._dummy, password) and stored_hash is not None
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                return False
        finally:
            self.slots.release()

    def needs_rehash(self, stored_hash: str) -> bool:
        return self.hasher.check_needs_rehash(stored_hash)
