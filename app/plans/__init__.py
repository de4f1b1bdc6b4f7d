"""Plans as a feature: run lifecycle and limits in the database, live context read as the user, the
SSE stream. The Flask-free pieces (prompts, context, redaction of logs, the model client, Markdown)
live in ``app.plans.core``; this package ties them to the database, the access policy and the
cluster.

`init_app` gives each app its one model client (one connection pool for every plan) and, on the
process's first request, marks runs a crashed process left streaming as interrupted.
"""

from flask import current_app, request

from app.plans.core.model_client import ModelClient, ModelSettings

MODEL_KEY = "codex_model_client"
SWEPT_KEY = "codex_plan_swept"


def init_app(app):
    app.extensions[MODEL_KEY] = ModelClient(ModelSettings.from_mapping(app.config))

    @app.before_request
    def _sweep_interrupted_runs():
        if request.blueprint == "health":  # probes must answer even when the database does not
            return
        if app.extensions.get(SWEPT_KEY):
            return
        app.extensions[SWEPT_KEY] = True
        from app.plans import runs

        count = runs.sweep_stale_runs(app.config["CODEX_PLAN_STALE_AFTER"])
        if count:
            app.logger.info("marked %d stale plan run(s) interrupted", count)


def model_client() -> ModelClient:
    """The current app's model client."""
    return current_app.extensions[MODEL_KEY]
