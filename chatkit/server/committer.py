"""Group commit: one writer thread, one transaction and one fsync per batch.

With `synchronous=FULL` every commit waits for the disk. Request threads hand
their write to this thread and wait; it takes every job queued at that moment,
runs them in one transaction, commits once, then answers each job. A reply
therefore still means "committed", but sixteen concurrent sends cost one
fsync instead of sixteen. If a batch fails as a whole (a constraint hit from
another process, say), each job is retried in a transaction of its own, so one
bad job cannot sink the others.
"""

from __future__ import annotations

import logging
import queue
import threading

from pony.orm import db_session

from ..errors import ChatkitError, ServiceUnavailable
from .store import storage_error

log = logging.getLogger("chatkit.server")

MAX_BATCH = 256


class _Job:
    __slots__ = ("fn", "args", "done", "result", "error")

    def __init__(self, fn, args):
        self.fn, self.args = fn, args
        self.done = threading.Event()
        self.result = self.error = None


class Committer:
    """Runs submitted functions on one thread, batched into shared transactions."""

    def __init__(self, store, name="chatkit-committer"):
        self.store = store
        self.jobs: queue.SimpleQueue = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self.thread.start()

    def submit(self, fn, *args, timeout=30.0):
        """Run `fn(*args)` in the next batch; return its result once committed.

        `fn` must raise a ChatkitError before writing anything, or not at all.
        """
        job = _Job(fn, args)
        self.jobs.put(job)
        if not job.done.wait(timeout):
            raise ServiceUnavailable("The server is busy. Try again in a moment.",
                                     retry_after=1, code="busy")
        if job.error is not None:
            raise job.error
        return job.result

    def close(self):
        self.jobs.put(None)
        self.thread.join(timeout=10)

    def _loop(self):
        while True:
            first = self.jobs.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < MAX_BATCH:
                try:
                    job = self.jobs.get_nowait()
                except queue.Empty:
                    break
                if job is None:
                    self.jobs.put(None)
                    break
                batch.append(job)
            self._run_batch(batch)

    def _run_batch(self, batch):
        try:
            self.store.run(self._apply, batch, write=True)
        except Exception as exc:
            if len(batch) == 1:
                self._fail(batch[0], exc)
            else:
                for job in batch:
                    job.result = job.error = None
                    try:
                        self.store.run(self._apply, [job], write=True)
                    except Exception as one:
                        self._fail(job, one)
        for job in batch:
            job.done.set()

    @staticmethod
    def _apply(batch):
        for job in batch:
            try:
                job.result = job.fn(*job.args)
            except ChatkitError as exc:
                job.error = exc

    @staticmethod
    def _fail(job, exc):
        error = exc if isinstance(exc, ChatkitError) else storage_error(exc)
        if not isinstance(error, ChatkitError):
            log.error("write failed", exc_info=exc)
            error = ServiceUnavailable(retry_after=5)
        job.error = error
