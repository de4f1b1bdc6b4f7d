"""Plans written by the second real model server (llama-cpp-python serving SmolLM2, tests/support/
llama_server.py) through the app's own path: the model client, a plan job's worker, the stream that
follows it. What differs from the offline planner is what real local servers do: no usage in the
stream, their own chunking, a slow CPU. Stop and the plan timeout end a run it is still writing."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.models import PlanRun
from app.plans import plan_bus, runs, submit
from app.plans.core.vocabulary import RunStatus
from tests.jobs.test_plan_jobs import _follow, _run, _wait_for
from tests.support.apps import app_factory
from tests.support.llama_server import LlamaServer

PROMPT = "In two sentences: why would a Kubernetes pod be stuck in CrashLoopBackOff?"
# What Stop and the plan timeout must cut short: measured here, 2,500-10,000 characters in 8-26 s (a shorter
# question is answered in about a second, before either acts).
LONG_PROMPT = "Write a very long, detailed Kubernetes troubleshooting guide with at least fifty numbered sections."


@pytest.fixture(scope="module")
def own_llama():
    """A server of this module's own: how long its answers run depends on its sampler's state, which
    the session's server carries over from whatever other tests asked it before."""
    with LlamaServer() as server:
        yield server


@pytest.fixture
def llama_app(own_llama, tmp_path, sqlite_template):
    llama_server = own_llama
    database = tmp_path / "codex.db"
    database.write_bytes(sqlite_template.read_bytes())
    with app_factory({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}", "CODEX_LLM_BASE_URL": llama_server.base_url,
                      "CODEX_LLM_MODEL": llama_server.model, "CODEX_LLM_API_KEY": "none",
                      "CODEX_LLM_TIMEOUT": 300, "CODEX_PLAN_LEASE_SECONDS": 2}) as make:
        yield make


def test_a_plan_from_llama_cpp_is_written_streamed_and_recorded_without_usage(llama_app):
    app = llama_app(CODEX_LLM_MAX_TOKENS=48)
    run_id = _run(app, PROMPT)
    with app.test_request_context():
        submit(run_id)
    events = _follow(app, run_id)
    run = _wait_for(app, run_id, lambda r: r.status != RunStatus.STREAMING, timeout=120)
    assert run.status == RunStatus.DONE, run.error_message
    assert run.output_text.strip() and run.model and run.first_token_at
    assert run.prompt_tokens is None  # llama-cpp-python sends no usage chunk: the run says nothing, not 0
    plans = [e for e in events if e[1] == "plan"]
    assert events[-1][1] == "done" and "Plan finished" in events[-1][2] and plans


def test_stop_ends_a_plan_llama_cpp_is_still_writing(llama_app):
    app = llama_app(CODEX_LLM_MAX_TOKENS=2000)
    # A long answer on purpose: SmolLM2 ends a short one in about a second here, before Stop would act.
    run_id = _run(app, LONG_PROMPT)
    with app.test_request_context():
        submit(run_id)
    _wait_for(app, run_id, lambda r: r.output_text, timeout=120)  # text saved while it grows
    with app.app_context():
        runs.request_stop(db.session.get(PlanRun, run_id), plan_bus())
    run = _wait_for(app, run_id, lambda r: r.status != RunStatus.STREAMING, timeout=10)
    assert run.status == RunStatus.STOPPED and run.output_text.strip()


def test_the_plan_timeout_ends_a_long_llama_cpp_plan_with_its_text_kept(llama_app):
    app = llama_app(CODEX_LLM_MAX_TOKENS=4000, CODEX_PLAN_TIMEOUT=4)
    run_id = _run(app, LONG_PROMPT)
    with app.test_request_context():
        submit(run_id)
    run = _wait_for(app, run_id, lambda r: r.status != RunStatus.STREAMING, timeout=30)
    assert run.status == RunStatus.FAILED and "took longer than 4 s" in run.error_message
