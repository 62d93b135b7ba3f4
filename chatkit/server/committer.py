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
import time

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
        self.batches = self.jobs_done = 0  # for the log at shutdown and the benchmark
        self.busy_seconds = 0.0
        self.thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self.thread.start()

    def submit(self, fn, *args, timeout=30.0):
        """Run `fn(*args)` in the next batch; return its result once committed.

        `fn` must raise a ChatkitError before writing anything, or not at all.
        If `fn.many(first_arg, [args, ...])` exists, consecutive jobs of `fn` are
        handed to it together; it returns one result or ChatkitError per job.
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
        if self.batches:
            log.debug("committer: %d writes in %d transactions (%.1f per commit), %.1f s busy",
                      self.jobs_done, self.batches, self.jobs_done / self.batches, self.busy_seconds)

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
            started = time.perf_counter()
            self._run_batch(batch)
            self.busy_seconds += time.perf_counter() - started
            self.batches += 1
            self.jobs_done += len(batch)

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
        """Run the jobs in order; a run of jobs whose fn has `.many` goes in one call."""
        i = 0
        while i < len(batch):
            many = getattr(batch[i].fn, "many", None)
            j = i + 1
            while many is not None and j < len(batch) and batch[j].fn is batch[i].fn:
                j += 1
            if many is not None:
                for job, result in zip(batch[i:j], many(batch[i].args[0], [b.args for b in batch[i:j]])):
                    if isinstance(result, ChatkitError):
                        job.error = result
                    else:
                        job.result = result
            else:
                try:
                    batch[i].result = batch[i].fn(*batch[i].args)
                except ChatkitError as exc:
                    batch[i].error = exc
            i = j

    @staticmethod
    def _fail(job, exc):
        error = exc if isinstance(exc, ChatkitError) else storage_error(exc)
        if not isinstance(error, ChatkitError):
            log.error("write failed", exc_info=exc)
            error = ServiceUnavailable(retry_after=5)
        job.error = error
