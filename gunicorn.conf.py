"""gunicorn hooks for a replica that is stopped (a rolling restart, `kill -TERM`), loaded with
`-c gunicorn.conf.py` by scripts/run and the tests' servers.

On SIGTERM a worker process drains: its open SSE streams end (browsers reconnect, to another replica
behind the load balancer, and resume from their Last-Event-ID), it takes no new plan job (queued
ones stay in Redis for the other replicas), and the plans it is writing get up to
CODEX_PLAN_DRAIN_SECONDS to finish before they are marked interrupted, their text kept. Keep
gunicorn's --graceful-timeout above that setting.
"""

import signal

# Keep an idle connection open longer than any client or load balancer keeps its side (nginx 75 s,
# AWS ALB 60 s by default): gunicorn closing one while the client sends its next request on it is a
# reset the client sees (the load bench saw 435 with the default 2 s and users pausing 1-3 s).
# gthread parks idle connections in its poller, not on a thread.
keepalive = 75


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
