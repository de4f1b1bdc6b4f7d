"""Plans as a feature: run lifecycle and limits in the database, plan jobs (the bus they share and
the workers that write them), live context read as the user, the SSE stream that follows a run. The
Flask-free pieces (prompts, context, redaction of logs, the model client, Markdown) live in
``app.plans.core``; this package ties them to the database, the access policy and the cluster.

`init_app` gives each app its one model client (one connection pool for every plan), its bus
(Redis when CODEX_REDIS_URL is set, this process otherwise) and its workers; on the process's first
request it marks runs a crashed process left streaming too long as interrupted, queues again the runs
an in-process queue held when its process stopped, and starts the workers, so a restarted replica
takes queued jobs at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import current_app, request

from app.plans.core.model_client import ModelClient, ModelSettings

if TYPE_CHECKING:
    from app.plans.bus import PlanBus

MODEL_KEY = "codex_model_client"
BUS_KEY = "codex_plan_bus"
WORKERS_KEY = "codex_plan_workers"
SWEPT_KEY = "codex_plan_swept"


def init_app(app):
    # Imported here: app.models imports app.plans.core, which loads this package before app.models is ready.
    from app.plans.bus import bus_for
    from app.plans.worker import Workers

    model = app.extensions[MODEL_KEY] = ModelClient(ModelSettings.from_mapping(app.config))
    bus = app.extensions[BUS_KEY] = bus_for(app.config)
    app.extensions[WORKERS_KEY] = Workers(app, bus, model, int(app.config["CODEX_PLAN_WORKERS"]),
                                          float(app.config["CODEX_PLAN_LEASE_SECONDS"]),
                                          float(app.config["CODEX_PLAN_TIMEOUT"]))

    @app.before_request
    def _sweep_interrupted_runs():
        if request.blueprint == "health":  # probes must answer even when the database does not
            return
        if app.extensions.get(SWEPT_KEY):
            return
        from app.plans import runs

        bus = app.extensions[BUS_KEY]

        def alive(run_id):
            try:
                return bus.is_queued_or_leased(run_id)
            except Exception:  # noqa: BLE001 - Redis away: sweep nothing rather than a live run
                return True

        count = runs.sweep_stale_runs(app.config["CODEX_PLAN_STALE_AFTER"], alive=alive)
        if count:
            app.logger.info("marked %d stale plan run(s) interrupted", count)
        if not bus.shared:
            # Runs no worker started: with the embedded default, what the in-process queue held when the
            # last process stopped. (Several processes without Redis queue each other's too; the first
            # worker to start a run writes it -- runs.start_run -- and the duplicates are dropped.)
            for run_id in runs.unstarted_ids():
                bus.enqueue(run_id)
        app.extensions[SWEPT_KEY] = True  # only once it all worked: a database down retries next request
        if app.config["CODEX_PLAN_WORKERS_AT_START"]:
            app.extensions[WORKERS_KEY].start()


def model_client() -> ModelClient:
    """The current app's model client."""
    return current_app.extensions[MODEL_KEY]


def plan_bus() -> PlanBus:
    """The current app's bus (app.plans.bus)."""
    return current_app.extensions[BUS_KEY]


def submit(run_id: int) -> None:
    """Queue a reserved run for a worker of any replica, and make sure this process has workers."""
    current_app.extensions[WORKERS_KEY].start()
    plan_bus().enqueue(run_id)


def drain(app) -> None:
    """The process is being stopped (gunicorn.conf.py, on SIGTERM): open streams end so that their
    browsers reconnect elsewhere, and this process takes no new job. Sets flags only."""
    from app.web.sse import DRAINING

    DRAINING.set()
    app.extensions[WORKERS_KEY].drain()


def shutdown(app, drain_seconds: float = 5) -> None:
    """Stop the app's workers (the plans being written get `drain_seconds` to finish) and close its
    bus: at a gunicorn worker's exit, and in tests and benchmarks that build many apps."""
    app.extensions[WORKERS_KEY].stop(drain_seconds)
    app.extensions[BUS_KEY].close()
