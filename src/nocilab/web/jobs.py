"""Long work of the web app (the report, the power grid) off the request threads.

A request that would take a minute (``nocilab analyze``, ``nocilab power``) starts a job
and returns at once; the page polls the job's status fragment (HTMX) until it is done.
The jobs of an app run one after another in one worker thread, so two analyses never
compete for the lab PC's cores with each other, and the request threads stay free for
the bench: entering a reading never waits for a report. Each kind of job
(``report``, ``power``) runs at most once at a time: starting it while it is queued or
running is refused.

A job's library error (:class:`~nocilab.errors.NocilabError`) becomes its failure
message; anything else is logged with its traceback and shown as an internal error.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from nocilab.errors import NocilabError

log = logging.getLogger("nocilab.web")

ACTIVE = ("queued", "running")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class JobStatus:
    """Where a kind of job stands: ``state`` idle, queued, running, done or failed; who
    started it and when; on failure the message; on success what the job returned."""

    kind: str
    state: str = "idle"
    by: str = ""
    started_at: str = ""
    finished_at: str = ""
    message: str = ""
    result: Any = None

    @property
    def active(self) -> bool:
        return self.state in ACTIVE


class Jobs:
    """The job queue of one app (one study): one worker thread, one job per kind."""

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nocilab-job")
        self._lock = threading.Lock()
        self._status: dict[str, JobStatus] = {}
        self._futures: dict[str, Future[None]] = {}

    def status(self, kind: str) -> JobStatus:
        """The status of the last job of ``kind`` (``idle``: none yet)."""
        with self._lock:
            return self._status.get(kind, JobStatus(kind))

    def start(self, kind: str, work: Callable[[], Any], *, by: str) -> bool:
        """Queue ``work`` as the job of ``kind``; False (nothing queued) while one of that
        kind is queued or running."""
        with self._lock:
            if self._status.get(kind, JobStatus(kind)).active:
                return False
            self._status[kind] = JobStatus(kind, "queued", by=by, started_at=_now())
            self._futures[kind] = self._executor.submit(self._run, kind, work)
        return True

    def wait(self, kind: str, timeout: float | None = None) -> JobStatus:
        """Wait for the job of ``kind`` to end (tests, shutdown); its status."""
        future = self._futures.get(kind)
        if future is not None:
            future.result(timeout=timeout)
        return self.status(kind)

    def close(self) -> None:
        """Finish the job running now, drop the queued ones, stop the worker."""
        self._executor.shutdown(wait=True, cancel_futures=True)

    def _set(self, kind: str, **changes: Any) -> None:
        with self._lock:
            self._status[kind] = replace(self._status[kind], **changes)

    def _run(self, kind: str, work: Callable[[], Any]) -> None:
        self._set(kind, state="running")
        try:
            result = work()
        except NocilabError as exc:
            self._set(kind, state="failed", finished_at=_now(), message=exc.render())
        except Exception:
            log.exception("the %s job failed", kind)
            self._set(kind, state="failed", finished_at=_now(),
                      message="Something went wrong on the server; nothing was changed. "
                              "The details are in the server's log.")
        else:
            self._set(kind, state="done", finished_at=_now(), result=result)
