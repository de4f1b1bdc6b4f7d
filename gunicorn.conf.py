"""gunicorn hooks for a replica that is stopped (a rolling restart, `kill -TERM`), loaded with
`-c gunicorn.conf.py` by scripts/run and the tests' servers.

On SIGTERM a worker process drains: its open SSE streams end (browsers reconnect, to another replica
behind the load balancer, and resume from their Last-Event-ID), it takes no new plan job (queued
ones stay in Redis for the other replicas), and the plans it is writing get up to
CODEX_PLAN_DRAIN_SECONDS to finish before they are marked interrupted, their text kept. Keep
gunicorn's --graceful-timeout above that setting.
"""

import signal


def post_worker_init(worker):
    previous = signal.getsignal(signal.SIGTERM)

    def drain_then_stop(signum, frame):
        from app.plans import drain

        drain(worker.wsgi)  # sets flags only: this runs in a signal handler
        if callable(previous):
            previous(signum, frame)

    signal.signal(signal.SIGTERM, drain_then_stop)


def worker_exit(server, worker):
    from app.plans import shutdown

    app = getattr(worker, "wsgi", None)
    if app is not None and hasattr(app, "extensions"):
        shutdown(app, drain_seconds=float(app.config["CODEX_PLAN_DRAIN_SECONDS"]))
