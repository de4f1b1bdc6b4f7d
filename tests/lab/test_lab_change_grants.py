"""Change grants in the real lab: the API server lets a user change exactly what they were granted.

Each user is granted through the app (rbac_sync writing RoleBindings to this checkout's
charts/cluster-codex roles) and then acts with the lab's real kubectl as the app would run it: the
app's kubeconfig, `--as` the user's ServiceAccount-shaped name, `--as-group` the users group, and
`--dry-run=server`, so nothing is really changed. Namespaces are made here (labelled
codex-test=change-grants) and deleted at the end, with every binding in them.
"""

from __future__ import annotations

import json
import subprocess
import uuid

import pytest
import sqlalchemy as sa

from app.access import CHANGEABLE_NAMES
from app.cluster.gateway import user_subject_name
from app.config import Config
from app.extensions import db
from app.cluster.rbac_sync import sync_user
from app.models import Grant, User
from tests.support.lab_control import install_app_chart, labctl
from tests.support.lab_fixtures import LAB_PASSWORD
from tests.support.lab_kube import APP_KUBECONFIG
from tests.support.lab_namespaces import lab_namespaces

pytestmark = pytest.mark.db_engines("sqlite")  # the DB engines are covered elsewhere

LABEL = {"codex-test": "change-grants"}
RB = "/apis/rbac.authorization.k8s.io/v1"
PATCH = json.dumps({"spec": {"replicas": 3}})


@pytest.fixture(scope="module")
def change_roles(kube):
    """This checkout's chart is installed (`lab up` on a running lab does not reinstall it) and
    its change roles exist."""
    install_app_chart()
    for kind in CHANGEABLE_NAMES:
        kube.get(f"{RB}/clusterroles/cluster-codex:change:{kind}")
    return kube


@pytest.fixture(scope="module")
def namespaces(change_roles):
    """Two namespaces, a and b, each with a Deployment `web` (one replica)."""
    prefix = f"codex-chg-{uuid.uuid4().hex[:6]}"
    names = {"a": f"{prefix}-a", "b": f"{prefix}-b"}
    with lab_namespaces(change_roles, list(names.values()), LABEL):
        for ns in names.values():
            change_roles.create(f"/apis/apps/v1/namespaces/{ns}/deployments", deployment())
        yield names


def deployment():
    labels = {"app": "web", **LABEL}
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "labels": labels},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}}}


@pytest.fixture
def app_config(database_url, change_roles):
    return {"SQLALCHEMY_DATABASE_URI": database_url, "CODEX_KUBECONFIG": str(APP_KUBECONFIG)}


def kubectl_as(uid, *args) -> subprocess.CompletedProcess:
    """The lab's kubectl as the app runs it for a user: app kubeconfig, user identity forced."""
    cmd = [str(labctl("paths").binary("kubectl")), f"--kubeconfig={APP_KUBECONFIG}",
           f"--as={user_subject_name(uid)}", f"--as-group={Config.CODEX_USERS_GROUP}",
           "--request-timeout=30s", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


def dry_run_patch(uid, namespace):
    return kubectl_as(uid, "-n", namespace, "patch", "deployment", "web", "-p", PATCH,
                      "--dry-run=server")


def assert_accepted(proc):
    # kubectl patch says just "patched" on a server dry run (it sent dryRun=All all the same):
    # the tests check that the object did not change.
    assert proc.returncode == 0, proc.stderr


def assert_forbidden(proc):
    assert proc.returncode != 0, proc.stdout
    assert "Forbidden" in proc.stderr or "forbidden" in proc.stderr, proc.stderr


def replicas(kube, namespace):
    return kube.get(f"/apis/apps/v1/namespaces/{namespace}/deployments/web")["spec"]["replicas"]


def bindings(kube, namespace, uid):
    items = kube.get(f"{RB}/namespaces/{namespace}/rolebindings",
                     labelSelector=f"cluster-codex.io/user-id={uid}")["items"]
    return {item["metadata"]["name"]: item["roleRef"]["name"] for item in items}


@pytest.mark.parametrize("command", [
    ("patch", "deployment", "web", "-p", PATCH),
    ("scale", "deployment", "web", "--replicas=0"),
    ("annotate", "deployment", "web", "codex-test-note=yes"),  # `rollout restart` has no --dry-run
    ("set", "image", "deployment/web", "web=nginx:1.28"),
    ("label", "deployment", "web", "codex-test-touched=yes"),
    ("delete", "deployment", "web"),
], ids=lambda c: " ".join(c[:2]))
def test_a_change_grant_lets_the_user_dry_run_changes_in_that_namespace_only(
        change_roles, namespaces, lab_user, command):
    uid = lab_user(f"chg-{uuid.uuid4().hex[:6]}", changes={namespaces["a"]: {"deployments"}})
    assert_accepted(kubectl_as(uid, "-n", namespaces["a"], *command, "--dry-run=server"))
    assert_forbidden(kubectl_as(uid, "-n", namespaces["b"], *command, "--dry-run=server"))
    assert replicas(change_roles, namespaces["a"]) == 1  # a dry run changes nothing


def test_a_change_grant_is_a_second_binding_beside_the_view_one(change_roles, namespaces, lab_user):
    uid = lab_user(f"chg-{uuid.uuid4().hex[:6]}", grants={namespaces["a"]: {"pods"}},
                   changes={namespaces["a"]: {"deployments"}})
    assert bindings(change_roles, namespaces["a"], uid) == {
        f"cluster-codex-{uid}-pods": "cluster-codex:view:pods",
        f"cluster-codex-{uid}-deployments": "cluster-codex:view:deployments",
        f"cluster-codex-{uid}-change-deployments": "cluster-codex:change:deployments",
    }
    # Change of deployments is not change of pods, nor of anything in the other namespace.
    assert_forbidden(kubectl_as(uid, "-n", namespaces["a"], "delete", "pod", "web-0", "--dry-run=server"))
    assert bindings(change_roles, namespaces["b"], uid) == {}


def test_a_view_grant_may_read_but_not_change(change_roles, namespaces, lab_user):
    uid = lab_user(f"view-{uuid.uuid4().hex[:6]}", grants={namespaces["a"]: {"deployments"}})
    got = kubectl_as(uid, "-n", namespaces["a"], "get", "deployment", "web", "-o", "name")
    assert got.returncode == 0 and got.stdout.strip() == "deployment.apps/web", got.stderr
    assert_forbidden(dry_run_patch(uid, namespaces["a"]))
    assert_forbidden(kubectl_as(uid, "-n", namespaces["a"], "scale", "deployment", "web",
                                "--replicas=0", "--dry-run=server"))


def test_lowering_change_to_view_in_the_admin_portal_removes_the_change_binding(
        app, change_roles, namespaces, lab_user, sign_in):
    ns = namespaces["a"]
    uid = lab_user(f"down-{uuid.uuid4().hex[:6]}", changes={ns: {"deployments"}})
    assert_accepted(dry_run_patch(uid, ns))
    admin = f"root-{uuid.uuid4().hex[:6]}"
    lab_user(admin, admin=True)
    with app.app_context():
        gid = db.session.scalar(sa.select(Grant.id).where(Grant.user_id == uid))
    client = sign_in(admin)
    response = client.submit(f"/admin/users/{uid}/grants/{gid}", {"kinds": ["deployments"]})
    assert response.status_code == 303
    assert "synced" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert bindings(change_roles, ns, uid) == {f"cluster-codex-{uid}-deployments": "cluster-codex:view:deployments"}
    assert_forbidden(dry_run_patch(uid, ns))
    # ... and raising it again binds it again.
    client.submit(f"/admin/users/{uid}/grants/{gid}", {"kinds": ["deployments"], "change": ["deployments"]})
    assert f"cluster-codex-{uid}-change-deployments" in bindings(change_roles, ns, uid)
    assert_accepted(dry_run_patch(uid, ns))


def test_read_only_mode_unbinds_every_change_role(app, change_roles, namespaces, lab_user):
    ns = namespaces["a"]
    uid = lab_user(f"ro-{uuid.uuid4().hex[:6]}", changes={ns: {"deployments"}})
    app.config["CODEX_ACTIONS"] = False
    with app.app_context():
        sync_user(db.session.get(User, uid))
    assert bindings(change_roles, ns, uid) == {f"cluster-codex-{uid}-deployments": "cluster-codex:view:deployments"}
    assert_forbidden(dry_run_patch(uid, ns))
    app.config["CODEX_ACTIONS"] = True
    with app.app_context():
        sync_user(db.session.get(User, uid))
    assert_accepted(dry_run_patch(uid, ns))


def test_an_administrator_may_change_everywhere_but_events_and_secrets(change_roles, namespaces, lab_user):
    uid = lab_user(f"adm-{uuid.uuid4().hex[:6]}", admin=True)
    for ns in namespaces.values():
        assert_accepted(dry_run_patch(uid, ns))
    for verb, *resource in (("create", "secrets"), ("patch", "secrets"), ("delete", "events"),
                            ("deletecollection", "deployments"), ("escalate", "clusterroles"),
                            ("create", "pods", "--subresource=exec"),
                            ("create", "pods", "--subresource=eviction")):
        answer = kubectl_as(uid, "-n", namespaces["a"], "auth", "can-i", verb, *resource)
        assert answer.stdout.strip() == "no", (verb, resource, answer.stdout, answer.stderr)
