"""Plan jobs: Generate enqueues a run, and a worker thread of some replica writes the plan to the end
(or to Stop, or to CODEX_PLAN_TIMEOUT) whether or not a browser follows it.

Each app process runs CODEX_PLAN_WORKERS threads, started with the first job it enqueues or at its
first request, that take runs off the bus (app.plans.bus). A worker streams the model's answer,
appends it to the run's events in pieces (followers render them), saves the text so far to the
database every second (a restart loses no finished text); a heartbeat thread renews the leases of the
runs the process writes, a few times per lease period. At the end the worker records the run and appends the `end` event.

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

from flask import Flask

from app.models import utcnow
from app.plans import runs
from app.plans.bus import END, RESET, TEXT, PlanBus
from app.plans.core.model_client import ModelClient, ModelError, StreamDone, TextDelta
from app.plans.core.vocabulary import RunStatus

FLUSH_SECONDS = 0.1  # text is appended to the run's events at most this often
SAVE_SECONDS = 1.0  # and saved to the database, the lease renewed and Stop looked for
STOPPED = "Stopped by the user."
INTERRUPTED = ("The plan was interrupted: the server writing it stopped before the end. The text so far "
               "is kept; generate again for a whole plan.")

log = logging.getLogger(__name__)


def end_event(status: str, message: str = "") -> str:
    return json.dumps({"status": str(status), "message": message or ""})


class Workers:
    """This process's worker threads and its reaper, for one app."""

    def __init__(self, app: Flask, bus: PlanBus, model: ModelClient, count: int, lease_seconds: float,
                 timeout_seconds: float):
        self.app, self.bus, self.model, self.count = app, bus, model, count
        self.lease_seconds, self.timeout_seconds = lease_seconds, timeout_seconds
        self.name = ""  # set by start(): gunicorn --preload forks after create_app, each worker its own
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._suspects: set[int] = set()
        self._held: set[int] = set()  # runs this process's workers are writing (their leases renewed)

    def start(self) -> None:
        """Start the threads once (idempotent; a forked process starts its own)."""
        with self._lock:
            if self._threads and all(t.is_alive() for t in self._threads):
                return
            if self._threads:  # one died: stop the others before starting a new set
                self._stopping.set()
                for thread in self._threads:
                    thread.join(2)
            self._stopping.clear()
            self._suspects = set()
            self.name = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
            self._threads = [threading.Thread(target=self._work, name=f"plan-worker-{n}", daemon=True)
                             for n in range(self.count)]
            self._threads.append(threading.Thread(target=self._reap, name="plan-reaper", daemon=True))
            self._threads.append(threading.Thread(target=self._heartbeat, name="plan-heartbeat", daemon=True))
            for thread in self._threads:
                thread.start()

    def stop(self, timeout: float = 5) -> None:
        self._stopping.set()
        for thread in self._threads:
            thread.join(timeout)
        self._threads = []

    # -- one job --------------------------------------------------------------------------------

    def _work(self) -> None:
        while not self._stopping.is_set():
            try:
                run_id = self.bus.take(self.name, timeout=1)
            except Exception:  # noqa: BLE001 - Redis away: try again shortly, never die
                log.warning("plan worker: the bus cannot be read; retrying", exc_info=True)
                self._stopping.wait(1)
                continue
            if run_id is None:
                continue
            with self._lock:
                self._held.add(run_id)
            try:
                with self.app.app_context():
                    self.run(run_id)
            except Exception:  # noqa: BLE001 - a bug ends this job, not the worker
                log.exception("plan run %s failed in its worker", run_id)
            finally:
                with self._lock:
                    self._held.discard(run_id)
                try:
                    self.bus.release(run_id)
                except Exception:  # noqa: BLE001 - the lease expires by itself
                    pass

    def run(self, run_id: int) -> None:
        """Write one run's plan to its end (inside an app context); see the module docstring."""
        messages = runs.start_run(run_id)
        if messages is None:  # stopped (or ended) while it was queued
            status, message = runs.status_of(run_id)
            self.bus.append(run_id, END, end_event(status, message))
            return
        text, pending, status, error, done, first_token_at = "", "", RunStatus.STREAMING, None, None, None
        started = last_save = time.monotonic()
        last_flush = 0.0  # the first piece goes out at once: it is what a follower waits for
        plan = self.model.stream_plan(messages)
        try:
            for event in plan:
                if isinstance(event, StreamDone):
                    done = event
                    continue
                if isinstance(event, TextDelta) and event.text:
                    text += event.text
                    pending += event.text
                    first_token_at = first_token_at or utcnow()
                now = time.monotonic()
                if pending and now - last_flush >= FLUSH_SECONDS:
                    self._tell(self.bus.append, run_id, TEXT, pending)
                    pending, last_flush = "", now
                if now - last_save >= SAVE_SECONDS:
                    last_save = now
                    self._tell(runs.save_progress, run_id, text, first_token_at)  # a busy database: next second
                    if self._tell(self.bus.stopped, run_id) or self._tell(runs.stop_requested_in_db, run_id):
                        status, error = RunStatus.STOPPED, STOPPED
                        break
                if now - started > self.timeout_seconds:
                    status, error = RunStatus.FAILED, (f"The plan took longer than {self.timeout_seconds:.0f} s "
                                                       "and was stopped; the text so far is kept.")
                    break
            else:
                status = RunStatus.DONE
        except ModelError as exc:
            status, error = RunStatus.FAILED, exc.user_message
        except Exception:  # noqa: BLE001 - a bug must still end the run cleanly
            log.exception("plan run %s failed", run_id)
            status, error = RunStatus.FAILED, "The plan failed because of an unexpected error. It has been logged."
        finally:
            plan.close()
        if pending:
            self._tell(self.bus.append, run_id, TEXT, pending)
        for attempt in range(3):  # the record of the whole plan: worth a retry through a database blip
            try:
                runs.finish_run(run_id, status, text, error, usage=done.usage if done else None,
                                model=done.model if done else None, first_token_at=first_token_at,
                                if_generating=True)
                break
            except Exception:  # noqa: BLE001 - after the last try the reaper marks it interrupted
                log.warning("plan run %s: recording its end failed (try %d)", run_id, attempt + 1, exc_info=True)
                time.sleep(1)
        self._tell(self.bus.append, run_id, END, end_event(status, error or ""))

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
        """Renew the lease of every run this process writes, a few times per lease period, whether
        or not its model is sending anything (a slow first token is not a dead worker)."""
        while not self._stopping.wait(self.lease_seconds / 4):
            with self._lock:
                held = list(self._held)
            for run_id in held:
                self._tell(self.bus.renew, run_id, self.name, self.lease_seconds)

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
