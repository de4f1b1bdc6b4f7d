"""Plan jobs: Generate enqueues a run, and a worker thread of some replica writes the plan to the end
(or to Stop, or to CODEX_PLAN_TIMEOUT) whether or not a browser follows it.

Each app process runs CODEX_PLAN_WORKERS threads, started with the first job it enqueues or at its
first request, that take runs off the bus (app.plans.bus). A worker streams the model's answer,
appends it to the run's events in pieces (followers render them), saves the text so far to the
database every second (a restart loses no finished text). A heartbeat thread renews the leases of the
runs the process writes, four times per lease period, and a watchdog thread ends a run that was
stopped or ran out of time even while its model sends nothing. Whoever ends a run (the worker, or the watchdog) records it
once and appends the `end` event. A stopped process (gunicorn.conf.py) takes no new job and lets the
plans it writes finish for CODEX_PLAN_DRAIN_SECONDS.

The reaper (one per process, every lease period) finds runs the database says are generating but
that no queue holds and no worker leases, twice in a row: their worker died. A run that had streamed
nothing yet is queued again once; any other is marked interrupted, its text kept.

Why not RQ or Dramatiq: both run jobs in worker processes of their own (RQ forks one per job), which
a deployment must run and scale beside the web replicas; a plan is one long streaming HTTP call that
needs this app's model client and database, so threads in the replicas themselves, a Redis list and
lease keys are all it takes, and the embedded default runs the same code on an in-process bus.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from flask import Flask

from app.models import utcnow
from app.plans import runs
from app.plans.bus import END, RESET, TEXT, PlanBus
from app.plans.core.model_client import ModelClient, ModelError, StreamDone, TextDelta
from app.plans.core.vocabulary import RunStatus

FLUSH_SECONDS = 0.1  # text is appended to the run's events at most this often
SAVE_SECONDS = 1.0  # and saved to the database
WATCH_SECONDS = 1.0  # the watchdog looks for Stop and the timeout at least this often
END_RETRY_SECONDS = 30  # a run's end is retried this long (a database restart)
STOPPED = "Stopped by the user."
INTERRUPTED = ("The plan was interrupted: the server writing it stopped before the end. The text so far "
               "is kept; generate again for a whole plan.")
RESTARTED = ("The plan was interrupted: the server writing it was restarted before the end. The text so "
             "far is kept; generate again for a whole plan.")

log = logging.getLogger(__name__)


def end_event(status: str, message: str = "") -> str:
    return json.dumps({"status": str(status), "message": message or ""})


@dataclass
class _Job:
    """A run this process writes: what its worker has so far, and whether it is still its to end."""

    run_id: int
    worker: str  # the lease holder: this process's name and the thread's number
    started: float
    text: str = ""
    first_token_at: datetime | None = None
    ended: bool = False  # recorded (by its worker, or by the watchdog for a stop or a timeout)
    lost: bool = False  # its lease was taken over: another worker writes it now
    lock: threading.Lock = field(default_factory=threading.Lock)


class Workers:
    """This process's worker threads, its watchdog and its reaper, for one app."""

    def __init__(self, app: Flask, bus: PlanBus, model: ModelClient, count: int, lease_seconds: float,
                 timeout_seconds: float):
        self.app, self.bus, self.model, self.count = app, bus, model, count
        self.lease_seconds, self.timeout_seconds = lease_seconds, timeout_seconds
        self.name = ""  # set by start(): gunicorn --preload forks after create_app, each worker its own
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()  # no new jobs
        self._closing = threading.Event()  # the watchdog and the reaper end too
        self._suspects: set[int] = set()
        self._jobs: dict[str, _Job] = {}  # worker -> the run it writes (its lease renewed)
        self._drained = False  # stopped for good (SIGTERM, shutdown): start() starts nothing again

    def start(self) -> None:
        """Start the threads once (idempotent; a forked process starts its own)."""
        with self._lock:
            if self._drained or (self._threads and all(t.is_alive() for t in self._threads)):
                return
            if self._threads:  # one died: stop the others before starting a new set
                self._stopping.set()
                self._closing.set()
                for thread in self._threads:
                    thread.join(2)
            self._stopping.clear()
            self._closing.clear()
            self._suspects = set()
            self.name = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
            self._threads = [threading.Thread(target=self._work, args=(f"{self.name}#{n}",),
                                              name=f"plan-worker-{n}", daemon=True) for n in range(self.count)]
            self._threads.append(threading.Thread(target=self._reap, name="plan-reaper", daemon=True))
            self._threads.append(threading.Thread(target=self._heartbeat, name="plan-heartbeat", daemon=True))
            self._threads.append(threading.Thread(target=self._watch, name="plan-watchdog", daemon=True))
            for thread in self._threads:
                thread.start()

    def drain(self) -> None:
        """Take no new job, for good (a signal handler calls this: it only sets flags)."""
        self._drained = True
        self._stopping.set()

    def stop(self, timeout: float = 5) -> None:
        """Drain, then stop: take no new job (queued ones stay for other replicas), let the plans
        being written finish for up to `timeout` seconds, then end the rest as interrupted at once
        (their text kept) instead of leaving them to another replica's reaper."""
        self.drain()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            if thread.name.startswith("plan-worker"):
                thread.join(max(0.0, deadline - time.monotonic()))
        with self._lock:
            left = list(self._jobs.values())
        for job in left:
            self._end_in_context(job, RunStatus.INTERRUPTED, RESTARTED)
        self._closing.set()
        for thread in self._threads:
            thread.join(1)
        self._threads = []

    # -- one job --------------------------------------------------------------------------------

    def _work(self, worker: str) -> None:
        while not self._stopping.is_set():
            try:
                run_id = self.bus.take(worker, timeout=1)
            except Exception:  # noqa: BLE001 - Redis away: try again shortly, never die
                log.warning("plan worker: the bus cannot be read; retrying", exc_info=True)
                self._stopping.wait(1)
                continue
            if run_id is None:
                continue
            job = _Job(run_id, worker, time.monotonic())
            with self._lock:
                self._jobs[worker] = job
            try:
                with self.app.app_context():
                    self.run(job)
            except Exception:  # noqa: BLE001 - a bug ends this job, not the worker
                log.exception("plan run %s failed in its worker", run_id)
            finally:
                with self._lock:
                    self._jobs.pop(worker, None)
                try:
                    self.bus.release(run_id, worker)
                except Exception:  # noqa: BLE001 - the lease expires by itself
                    pass

    def run(self, job: _Job) -> None:
        """Write one run's plan to its end (inside an app context); see the module docstring."""
        run_id = job.run_id
        messages = runs.start_run(run_id)
        if messages is None:  # stopped, ended, or started by another worker while it was queued
            job.lost = True
            status, message = runs.status_of(run_id)
            if status != RunStatus.STREAMING:
                self.bus.append(run_id, END, end_event(status, message))
            return
        pending, status, error, done = "", RunStatus.STREAMING, None, None
        last_save = time.monotonic()
        last_flush = 0.0  # the first piece goes out at once: it is what a follower waits for
        plan = self.model.stream_plan(messages)
        try:
            for event in plan:
                if job.ended or job.lost:  # the watchdog ended it (Stop, timeout), or it is not ours
                    break
                if isinstance(event, StreamDone):
                    done = event
                    continue
                if isinstance(event, TextDelta) and event.text:
                    with job.lock:
                        job.text += event.text
                        job.first_token_at = job.first_token_at or utcnow()
                    pending += event.text
                now = time.monotonic()
                if pending and now - last_flush >= FLUSH_SECONDS:
                    self._tell(self.bus.append, run_id, TEXT, pending)
                    pending, last_flush = "", now
                if now - last_save >= SAVE_SECONDS:
                    last_save = now
                    self._tell(runs.save_progress, run_id, job.text, job.first_token_at)  # busy: next second
            else:
                status = RunStatus.DONE
        except ModelError as exc:
            status, error = RunStatus.FAILED, exc.user_message
        except Exception:  # noqa: BLE001 - a bug must still end the run cleanly
            log.exception("plan run %s failed", run_id)
            status, error = RunStatus.FAILED, "The plan failed because of an unexpected error. It has been logged."
        finally:
            plan.close()
        if pending and not job.lost:
            self._tell(self.bus.append, run_id, TEXT, pending)
        self._end(job, status, error, done)

    def _end(self, job: _Job, status, error: str | None, done: StreamDone | None = None) -> None:
        """Record a run's end once, whoever comes first (its worker, or the watchdog while the model
        keeps the worker waiting), then tell its followers. The record is worth retrying through a
        database restart; if every try fails the reaper marks the run interrupted."""
        with job.lock:
            if job.ended or job.lost:
                return
            job.ended = True
            text, first_token_at = job.text, job.first_token_at
        deadline = time.monotonic() + END_RETRY_SECONDS
        while True:
            try:
                recorded = runs.finish_run(job.run_id, status, text, error, usage=done.usage if done else None,
                                           model=done.model if done else None, first_token_at=first_token_at,
                                           if_generating=True)
                break
            except Exception:  # noqa: BLE001 - the database restarting: try again for a while
                if time.monotonic() > deadline:
                    log.exception("plan run %s: its end could not be recorded", job.run_id)
                    return
                log.warning("plan run %s: recording its end failed; retrying", job.run_id, exc_info=True)
                time.sleep(1)
        if not recorded:  # something else ended it meanwhile (a revoke, the reaper): tell what it says
            status, error = runs.status_of(job.run_id)
        self._tell(self.bus.append, job.run_id, END, end_event(status, error or ""))

    @staticmethod
    def _tell(call, *args):
        """A call that may fail for a moment (Redis restarting, the database busy) without failing the
        plan: the final record is written at the end, and followers fall back to the saved text."""
        try:
            return call(*args)
        except Exception:  # noqa: BLE001 - redis.ConnectionError, TimeoutError, ...
            log.warning("plan bus: %s failed; the plan goes on", getattr(call, "__name__", call), exc_info=True)
            return None

    def _heartbeat(self) -> None:
        """Renew the lease of every run this process writes, four times per lease period, whether or
        not its model is sending anything (a slow first token is not a dead worker). Redis only: a
        database that hangs must not hold up the renewals (other replicas would reap live runs)."""
        while not self._closing.wait(self.lease_seconds / 4):
            with self._lock:
                jobs = list(self._jobs.values())
            for job in jobs:
                if self._tell(self.bus.renew, job.run_id, job.worker, self.lease_seconds) is False:
                    log.warning("plan run %s: its lease was taken over; this worker lets it go", job.run_id)
                    job.lost = True

    def _watch(self) -> None:
        """The watchdog, at least every second: end a run that was stopped (on the bus, or in the
        database) or ran out of time, even while its model keeps the worker waiting for a chunk."""
        while not self._closing.wait(min(WATCH_SECONDS, self.lease_seconds / 4)):
            with self._lock:
                jobs = list(self._jobs.values())
            if jobs:
                with self.app.app_context():  # one per pass, for the database's stop flags
                    self._judge(jobs)

    def _judge(self, jobs: list[_Job]) -> None:
        """End each run that was stopped or ran out of time (its record on a thread of its own)."""
        for job in jobs:
            if job.ended or job.lost:
                continue
            verdict = None
            if time.monotonic() - job.started > self.timeout_seconds:
                verdict = (RunStatus.FAILED, f"The plan took longer than {self.timeout_seconds:.0f} s and "
                                             "was stopped; the text so far is kept.")
            elif self._tell(self.bus.stopped, job.run_id) or self._tell(runs.stop_requested_in_db, job.run_id):
                verdict = (RunStatus.STOPPED, STOPPED)
            if verdict:  # on a thread of its own: recording it may wait through a database restart
                threading.Thread(target=self._end_in_context, args=(job, *verdict), daemon=True).start()

    def _end_in_context(self, job: _Job, status, error: str) -> None:
        with self.app.app_context():
            self._end(job, status, error)

    # -- lost workers ---------------------------------------------------------------------------

    def _reap(self) -> None:
        while not self._stopping.wait(self.lease_seconds):
            try:
                with self.app.app_context():
                    self.reap()
            except Exception:  # noqa: BLE001 - the database or Redis may be away for a moment
                log.warning("plan reaper: pass failed; retrying", exc_info=True)

    def reap(self) -> None:
        """One pass: runs lost with their worker are queued again (nothing streamed) or interrupted."""
        lost = {run_id for run_id in runs.generating_ids(older_than=self.lease_seconds)
                if self.bus.may_reap(run_id) and not self.bus.is_queued_or_leased(run_id)}
        confirmed, self._suspects = lost & self._suspects, lost - self._suspects
        for run_id in confirmed:
            if self.bus.is_queued_or_leased(run_id):  # another replica's reaper acted meanwhile
                continue
            if runs.nothing_streamed(run_id) and self.bus.claim_once(run_id, "retry"):
                log.info("plan run %s lost its worker before any text: queued again", run_id)
                self.bus.append(run_id, RESET, "")  # followers start over with the new attempt
                runs.requeue(run_id)
                self.bus.enqueue(run_id)
            elif runs.interrupt(run_id, INTERRUPTED):
                log.info("plan run %s lost its worker: marked interrupted", run_id)
                self.bus.append(run_id, END, end_event(RunStatus.INTERRUPTED, INTERRUPTED))
