"""Dry-run and Apply against the real lab with the real kubectl (the lab's build), behind a wrapper
that records every start: a change grant works in its namespace and nowhere else, the API server
refuses what the app refuses when the app's check is bypassed, an Apply needs the same text, a
fresh dry-run and an unchanged object, and nothing is reported applied that was not.

Namespaces are made per session (``codex-act-<hex>-a``/``-b``, labelled codex-test=actions),
objects per test (unique names), users with random high ids; all deleted at the end.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa
from kubernetes import client

from app.actions import service
from app.actions.outcome import ActionStatus, Reason, failure_of
from app.cluster.gateway import NotFound, gateway
from app.cluster.rbac_sync import sync_user
from app.extensions import db
from app.models import PlanAction, User
from app.plans.core.kubectl import parse_step
from tests.actions.fakes import hanging, wrapping
from tests.actions.helpers import act, audited, make_run, recorded
from tests.support.apps import marked_settings
from tests.support.lab_control import install_app_chart, labctl, wait_for
from tests.support.lab_kube import APP_KUBECONFIG
from tests.support.lab_namespaces import lab_namespaces

LABEL = {"codex-test": "actions"}
DEPLOYMENTS = "/apis/apps/v1/namespaces/{}/deployments"


@pytest.fixture(scope="session")
def lab_kubectl():
    """The kubectl `scripts/lab build` made (the lab's own version)."""
    return str(labctl("paths").binary("kubectl"))


@pytest.fixture(scope="session")
def namespaces(kube):
    """Two test-made namespaces, with this checkout's charts/cluster-codex (the change roles) installed."""
    install_app_chart()
    prefix = f"codex-act-{uuid.uuid4().hex[:6]}"
    with lab_namespaces(kube, (f"{prefix}-a", f"{prefix}-b"), LABEL) as names:
        yield names


@pytest.fixture
def kubectl_fake(tmp_path, lab_kubectl):
    """The real kubectl behind a wrapper that records each start."""
    return wrapping(tmp_path / "kubectl", lab_kubectl)


@pytest.fixture
def app_config(request, database_url, kube, kubectl_fake):
    return marked_settings(request, "actions_config", {
        "SQLALCHEMY_DATABASE_URI": database_url, "CODEX_KUBECONFIG": str(APP_KUBECONFIG),
        "CODEX_KUBECTL": str(kubectl_fake.path), "CODEX_ACTIONS_PER_MINUTE": 1000})


@pytest.fixture
def deployment(kube, namespaces):
    """make(namespace, replicas=2) -> the name of a new Deployment, once its status has settled."""

    def make(namespace, replicas=2):
        name = f"web-{uuid.uuid4().hex[:6]}"
        kube.create(DEPLOYMENTS.format(namespace), {
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "labels": LABEL},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name, **LABEL}},
                                  "spec": {"containers": [{"name": "web", "image": "registry.example/web:1"}]}}}})
        _settle(kube, f"{DEPLOYMENTS.format(namespace)}/{name}")
        return name

    return make


def _settle(kube, path, quiet=2.0, timeout=60):
    """Wait until the controllers stop writing the object (its resourceVersion holds for `quiet` s)."""
    deadline, last, since = time.monotonic() + timeout, None, time.monotonic()
    while time.monotonic() < deadline:
        obj = kube.get(path)
        version = obj["metadata"]["resourceVersion"]
        if version != last:
            last, since = version, time.monotonic()
        elif (time.monotonic() - since >= quiet
              and obj.get("status", {}).get("observedGeneration") == obj["metadata"]["generation"]):
            return obj
        time.sleep(0.25)
    pytest.fail(f"{path} kept changing for {timeout}s")


def _replicas(kube, namespace, name):
    return kube.get(f"{DEPLOYMENTS.format(namespace)}/{name}")["spec"]["replicas"]


def _scale(name, namespace, replicas=0):
    return f"kubectl scale deployment {name} --replicas={replicas} -n {namespace}"


def _bypassing_the_app(app, user_id, text, dry_run):
    """Run a step the way the service would, minus every check of the app's: the API server decides."""
    with app.app_context():
        user, gw = db.session.get(User, user_id), gateway()
        step = parse_step(text, default_namespace=None, cluster_scoped_allowed=False)
        return service.kubectl_for(app.config, gw).run(step.argv(dry_run=dry_run),
                                                       identity=service.identity_for(gw, user))


def _applies(kubectl_fake):
    """The kubectl starts that were not dry-runs."""
    return [argv for argv in kubectl_fake.argvs() if "--dry-run=server" not in argv]


def test_a_change_grant_dry_runs_and_applies_in_its_namespace(app, kube, namespaces, lab_user, deployment,
                                                              kubectl_fake):
    a, _ = namespaces
    dev = lab_user("dev", changes={a: {"deployments"}})
    name = deployment(a)
    run = make_run(app, dev, a, name)

    dry = act(app, "dry-run", dev, run, _scale(name, a))
    assert dry.ok and dry.status_code == 200, dry.message
    assert "nothing was changed" in dry.message and dry.namespace == a
    assert "-  replicas: 2\n" in dry.diff and "+  replicas: 0\n" in dry.diff
    assert "replicas: 2" in dry.before and "replicas: 0" in dry.after and "managedFields" not in dry.before
    assert _replicas(kube, a, name) == 2, "a dry-run changes nothing"
    started, = kubectl_fake.argvs()
    assert started == [f"--kubeconfig={APP_KUBECONFIG}", f"--as=system:serviceaccount:cluster-codex-users:user-{dev}",
                       "--as-group=cluster-codex:users", "scale", f"deployments.v1.apps/{name}", "--replicas=0",
                       "--namespace", a, "--dry-run=server", "--output=yaml"]

    applied = act(app, "apply", dev, run, _scale(name, a))
    assert applied.ok and applied.status_code == 200, applied.message
    assert applied.message == f"Applied as you. kubectl said: deployment.apps/{name} scaled"
    assert _replicas(kube, a, name) == 0

    rows = recorded(app, run)
    assert [(r["action"], r["status"]) for r in rows] == [("dry-run", "accepted"), ("apply", "accepted")]
    assert rows[0]["resource_versions"] == rows[1]["resource_versions"] != f"deployments/{name}=-"
    assert rows[0]["diff"] == dry.diff and rows[1]["exit_code"] == 0
    assert [e.action for e in audited(app, dev) if e.action != "action.requested"] == [
        "action.dry-run", "action.apply"]


def test_a_dry_run_shows_the_servers_answer(app, namespaces, lab_user, deployment):
    a, _ = namespaces
    dev = lab_user("dev", changes={a: {"deployments"}})
    name = deployment(a)
    run = make_run(app, dev, a, name)
    dry = act(app, "dry-run", dev, run, f"kubectl -n {a} set image deployment/{name} web=registry.example/web:2")
    assert dry.ok, dry.message
    changed = [line for line in dry.diff.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    assert changed == ["-  generation: 1", "+  generation: 2",  # counted by the API server, not by the app
                       "-      - image: registry.example/web:1", "+      - image: registry.example/web:2"], dry.diff


def test_a_change_that_changes_nothing_says_so_instead_of_a_deletion(app, namespaces, lab_user, deployment):
    a, _ = namespaces
    dev = lab_user("dev", changes={a: {"deployments"}})
    name = deployment(a)
    dry = act(app, "dry-run", dev, make_run(app, dev, a, name),
              f"kubectl -n {a} set image deployment/{name} web=registry.example/web:1")  # the image it has
    assert dry.ok, dry.message
    assert "It would change nothing" in dry.message and dry.diff == "" and "deleted" not in dry.message


def test_a_rollout_undo_shows_the_template_it_brings_back(app, kube, namespaces, lab_user, deployment):
    """kubectl prints the Deployment as it is for a server dry-run of `rollout undo`: the app shows the
    older ReplicaSet's template instead, as kubectl would roll it back."""
    a, _ = namespaces
    dev = lab_user("dev", grants={a: {"replicasets"}}, changes={a: {"deployments"}})
    name = deployment(a)
    path = f"{DEPLOYMENTS.format(a)}/{name}"
    client.AppsV1Api(kube.admin()).patch_namespaced_deployment(name, a, {"spec": {"template": {"spec": {
        "containers": [{"name": "web", "image": "registry.example/web:2"}]}}}}, _request_timeout=30)
    _settle(kube, path)
    dry = act(app, "dry-run", dev, make_run(app, dev, a, name), f"kubectl -n {a} rollout undo deployment/{name}")
    assert dry.ok, dry.message
    changed = [line for line in dry.diff.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    assert changed == ["-      - image: registry.example/web:2", "+      - image: registry.example/web:1"], dry.diff
    assert kube.get(path)["spec"]["template"]["spec"]["containers"][0]["image"] == "registry.example/web:2"


def test_the_namespace_next_door_is_refused_by_the_app_and_by_the_api_server(app, kube, namespaces, lab_user,
                                                                             deployment, kubectl_fake):
    a, b = namespaces
    dev = lab_user("dev", changes={a: {"deployments"}})
    name = deployment(b)
    run = make_run(app, dev, a, name)
    for what in ("dry-run", "apply"):
        outcome = act(app, what, dev, run, _scale(name, b))
        assert (outcome.status, outcome.status_code, outcome.reason) == (ActionStatus.REFUSED, 403, Reason.GRANT)
        assert outcome.message == f"Not run: you may not change deployments in namespace {b} (no change grant)."
    assert kubectl_fake.calls() == []
    for dry_run in (True, False):
        result = _bypassing_the_app(app, dev, _scale(name, b), dry_run)
        assert not result.ok and failure_of(result)[0] is Reason.FORBIDDEN, result
        assert "forbidden" in result.stderr
    assert _replicas(kube, b, name) == 2


def test_a_view_only_user_is_refused_by_the_app_and_by_the_api_server(app, kube, namespaces, lab_user,
                                                                      deployment, kubectl_fake):
    a, _ = namespaces
    viewer = lab_user("viewer", grants={a: {"deployments", "pods"}})
    name = deployment(a)
    run = make_run(app, viewer, a, name)
    outcome = act(app, "dry-run", viewer, run, _scale(name, a))
    assert (outcome.status_code, outcome.reason) == (403, Reason.GRANT)
    assert kubectl_fake.calls() == []
    result = _bypassing_the_app(app, viewer, _scale(name, a), dry_run=True)
    assert failure_of(result)[0] is Reason.FORBIDDEN, result
    ran = act(app, "run", viewer, run, f"kubectl get deployment {name} -n {a} -o name")  # reading is fine
    assert ran.ok and ran.output == f"deployment.apps/{name}\n"


def test_apply_needs_the_same_text_a_fresh_dry_run_and_an_unchanged_object(app, kube, namespaces, lab_user,
                                                                           deployment, kubectl_fake):
    a, _ = namespaces
    dev = lab_user("dev", changes={a: {"deployments"}})
    name = deployment(a)
    run = make_run(app, dev, a, name)
    text = _scale(name, a)

    def apply(command=text):
        return act(app, "apply", dev, run, command)

    assert apply().reason is Reason.NO_DRY_RUN
    assert act(app, "dry-run", dev, run, text).ok
    for other in (_scale(name, a, replicas=1), text.replace(" -n ", "  -n ")):
        refused = apply(other)
        assert (refused.status_code, refused.reason) == (409, Reason.NO_DRY_RUN), other
        assert refused.message == ("Dry-run this exact command first: Apply runs only a command whose dry-run "
                                   "the API server accepted.")

    with app.app_context():  # the dry-run grows old
        for row in db.session.scalars(sa.select(PlanAction).where(PlanAction.run_id == run)):
            row.created_at -= timedelta(seconds=app.config["CODEX_DRY_RUN_VALID_FOR"] + 1)
        db.session.commit()
    expired = apply()
    assert (expired.status_code, expired.reason) == (409, Reason.DRY_RUN_EXPIRED)
    assert expired.message == "The dry-run is older than 5 min: dry-run again."

    assert act(app, "dry-run", dev, run, text).ok
    client.AppsV1Api(kube.admin()).patch_namespaced_deployment(  # someone else changes it meanwhile
        name, a, {"metadata": {"labels": {"touched": "by-someone-else"}}})
    changed = apply()
    assert (changed.status_code, changed.reason) == (409, Reason.CHANGED)
    assert changed.message == "The object changed since the dry-run; dry-run again."
    assert _replicas(kube, a, name) == 2 and _applies(kubectl_fake) == []

    assert act(app, "dry-run", dev, run, text).ok
    assert apply().ok and _replicas(kube, a, name) == 0
    again = apply()
    assert (again.status_code, again.reason) == (409, Reason.DRY_RUN_USED)
    assert len(_applies(kubectl_fake)) == 1


def test_revoking_the_grant_between_dry_run_and_apply_refuses_the_apply(app, kube, namespaces, lab_user,
                                                                        deployment, kubectl_fake):
    a, _ = namespaces
    dev = lab_user("dev", changes={a: {"deployments"}})
    name = deployment(a)
    run = make_run(app, dev, a, name)
    assert act(app, "dry-run", dev, run, _scale(name, a)).ok
    with app.app_context():
        user = db.session.get(User, dev)
        user.grants[0].change_kinds = set()
        db.session.commit()
        assert sync_user(user).ok
    refused = act(app, "apply", dev, run, _scale(name, a))
    assert (refused.status, refused.status_code, refused.reason) == (ActionStatus.REFUSED, 403, Reason.GRANT)
    assert _applies(kubectl_fake) == [] and _replicas(kube, a, name) == 2
    wait_for("the API server to refuse the revoked change",  # and RBAC no longer allows it either
             lambda: failure_of(result := _bypassing_the_app(app, dev, _scale(name, a), True))[0]
             is Reason.FORBIDDEN and not result.ok, timeout=15, interval=0.5)


@pytest.mark.actions_config(CODEX_ACTION_TIMEOUT=1)
def test_an_apply_whose_kubectl_hangs_is_not_reported_applied(app, kube, namespaces, lab_user, deployment,
                                                              tmp_path, kubectl_fake):
    a, _ = namespaces
    dev = lab_user("dev", changes={a: {"deployments"}})
    name = deployment(a)
    run = make_run(app, dev, a, name)
    assert act(app, "dry-run", dev, run, _scale(name, a)).ok
    app.config["CODEX_KUBECTL"] = str(hanging(tmp_path / "hang").path)
    stuck = act(app, "apply", dev, run, _scale(name, a))
    assert (stuck.status, stuck.status_code, stuck.reason) == (ActionStatus.FAILED, 504, Reason.TIMEOUT)
    assert not stuck.ok and stuck.timed_out
    assert stuck.message == ("Apply failed. kubectl did not finish within 1 s and was stopped. Part of the change "
                             "may have reached the API server: check the object before trying again.")
    assert recorded(app, run)[-1]["status"] == "failed"
    assert "outcome: failed (504 timeout)" in audited(app, dev, "action.apply")[-1].detail
    app.config["CODEX_KUBECTL"] = str(kubectl_fake.path)
    retry = act(app, "apply", dev, run, _scale(name, a))
    assert (retry.status_code, retry.reason) == (409, Reason.DRY_RUN_USED)
    assert retry.message.startswith("The last Apply of this command failed")
    assert _replicas(kube, a, name) == 2


def test_a_dry_run_the_api_server_refuses_says_why(app, namespaces, lab_user, deployment):
    a, _ = namespaces
    dev = lab_user("dev", changes={a: {"deployments"}})
    name = deployment(a)
    run = make_run(app, dev, a, name)
    invalid = f"kubectl -n {a} patch deployment {name} --type=merge -p '{{\"spec\": {{\"replicas\": \"x\"}}}}'"
    outcome = act(app, "dry-run", dev, run, invalid)
    assert (outcome.status, outcome.status_code, outcome.reason) == (ActionStatus.FAILED, 422, Reason.INVALID)
    assert outcome.message.startswith("Dry-run failed. The API server found the change invalid. kubectl said: ")
    assert act(app, "apply", dev, run, invalid).message == ("The last dry-run of this command did not succeed: "
                                                            "dry-run it again.")
    missing = act(app, "dry-run", dev, run, _scale("nope", a))
    assert (missing.status_code, missing.reason) == (404, Reason.NOT_FOUND)
    assert "does not exist" in missing.message


def test_a_manifest_is_dry_run_and_applied_as_shown(app, kube, namespaces, lab_user):
    a, _ = namespaces
    dev = lab_user("dev", changes={a: {"configmaps"}})
    run = make_run(app, dev, a, "settings", kind="ConfigMap")
    name = f"settings-{uuid.uuid4().hex[:6]}"
    manifest = (f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  labels:\n    codex-test: actions\n"
                "data:\n  mode: safe\n")
    text = f"kubectl apply -f - -n {a}"
    dry = act(app, "dry-run", dev, run, text, manifest=manifest)
    assert dry.ok, dry.message
    assert f"--- configmaps/{name} (does not exist)" in dry.diff and "+  mode: safe\n" in dry.diff
    with pytest.raises(NotFound):
        kube.get(f"/api/v1/namespaces/{a}/configmaps/{name}")
    other = manifest.replace("safe", "unsafe")
    assert act(app, "apply", dev, run, text, manifest=other).reason is Reason.NO_DRY_RUN
    applied = act(app, "apply", dev, run, text, manifest=manifest)
    assert applied.ok, applied.message
    assert kube.get(f"/api/v1/namespaces/{a}/configmaps/{name}")["data"] == {"mode": "safe"}
    assert recorded(app, run)[0]["resource_versions"] == f"configmaps/{name}=-"


def test_kubectl_acts_as_exactly_the_identity_the_gateway_reads_as(app, lab_user, lab_kubectl):
    uid = lab_user("whoami")
    with app.app_context():
        user, gw = db.session.get(User, uid), gateway()
        review = gw.request(gw.as_user(user), "POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews",
                            body={"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"})
        result = service.kubectl_for(app.config, gw).run(["auth", "whoami", "--output=json"],
                                                         identity=service.identity_for(gw, user))
    assert result.ok, result.stderr
    seen = json.loads(result.stdout)["status"]["userInfo"]
    expected = review["status"]["userInfo"]
    assert (seen["username"], sorted(seen["groups"])) == (expected["username"], sorted(expected["groups"]))
    assert seen["username"] == f"system:serviceaccount:cluster-codex-users:user-{uid}"
