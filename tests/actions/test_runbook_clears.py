"""What the offline planner's remediation clears, end to end, in the lab.

Every finding K8sGPT reports about the known-issue charts, each on its own copy of its chart in its own
test-made namespace: the plan written as the app writes it for a developer with a change grant there,
each of its changes dry-run and applied as that developer (tests/support/remedy.py), then the run
follows the finding until K8sGPT drops it. The outcome of each is stated below, misses included, with
the reason; the copies are deleted at the end and the shared charts are never touched.
"""

from __future__ import annotations

import pytest

from app.plans.core.model_client import ModelClient, ModelSettings

from tests.actions.test_runbook_steps import change_roles, lab_kubectl  # noqa: F401 - shared fixtures
from tests.support.apps import app_factory
from tests.support.lab_kube import APP_KUBECONFIG
from tests.support.remedy import Scenario, remedy_all
from tests.support.users import lab_users

CLEARED, NONE = "cleared", "no change"
# (chart, finding kind, object name prefix) -> what following its remediation plan does.
OUTCOMES = {
    Scenario("crashloop-api", "Pod", "crashloop-api-"): CLEARED,  # scaled to zero
    Scenario("crashloop-api", "Deployment", "crashloop-api"): CLEARED,
    Scenario("bad-image", "Pod", "bad-image-"): CLEARED,  # scaled to zero (no tag is known without a note)
    Scenario("bad-image", "Deployment", "bad-image"): CLEARED,
    # The limit is raised above what the worker's log says it allocates (512 MiB -> 640Mi): the lab's
    # kwok OOM-kills it only while its limit is below that (lab/stages/simulated-failure.jq).
    Scenario("oom-worker", "Pod", "oom-worker-"): CLEARED,
    Scenario("oom-worker", "Deployment", "oom-worker"): CLEARED,  # scaled to zero
    Scenario("orphan-service", "Service", "payments"): CLEARED,  # selector pointed at the renamed pods
    Scenario("unschedulable", "Pod", "gpu-trainer-"): CLEARED,  # the impossible nodeSelector removed
    Scenario("unschedulable", "Deployment", "gpu-trainer"): CLEARED,
    Scenario("suspended-cronjob", "CronJob", "nightly-report"): CLEARED,  # resumed
    Scenario("not-ready", "Pod", "checkout-"): CLEARED,  # the probe moved to the declared port
    Scenario("not-ready", "Deployment", "checkout"): CLEARED,
    # The claim never bound: deleted and re-created on the cluster's default class (the lab's `standard`).
    Scenario("pvc-missing-class", "PersistentVolumeClaim", "reports-data"): CLEARED,
    # No safe change from inside the namespace: the context names no Service for the Ingress. The plan
    # says so; nothing is applied.
    Scenario("ingress-missing-service", "Ingress", "shop"): NONE,
}
WITHIN = 150  # seconds the run follows a finding after its Apply (CODEX_VERIFY_WITHIN)


@pytest.fixture(scope="module")
def remedies(change_roles, lab_kubectl, kube, planner, sqlite_template, tmp_path_factory):  # noqa: F811
    database = tmp_path_factory.mktemp("remedy") / "codex.db"
    database.write_bytes(sqlite_template.read_bytes())
    settings = {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}", "CODEX_KUBECONFIG": str(APP_KUBECONFIG),
                "CODEX_KUBECTL": lab_kubectl, "CODEX_ACTIONS_PER_MINUTE": 1000, "CODEX_VERIFY_WITHIN": WITHIN}
    model = ModelClient(ModelSettings(base_url=planner.base_url, timeout=20))
    with app_factory(settings) as make:
        app = make()
        with lab_users(app, "remedy password") as make_user:
            done = remedy_all(app, model, kube, make_user, list(OUTCOMES), WITHIN)
    model.close()
    return dict(zip(OUTCOMES, done))


@pytest.mark.parametrize("scenario", list(OUTCOMES), ids=lambda s: f"{s.chart}-{s.kind}")
def test_following_the_remediation_plan(remedies, scenario):
    remedy = remedies[scenario]
    assert not remedy.refused, remedy.refused
    assert remedy.state == OUTCOMES[scenario], (remedy.changes, remedy.state)
    assert bool(remedy.changes) == (OUTCOMES[scenario] != NONE)
    if remedy.cleared:
        assert 0 <= remedy.cleared_after <= WITHIN


def test_the_offline_planner_clears_thirteen_of_fourteen(remedies):
    cleared = [s for s, r in remedies.items() if r.cleared]
    assert len(cleared) == 13, {f"{s.chart}/{s.kind}": r.state for s, r in remedies.items()}
