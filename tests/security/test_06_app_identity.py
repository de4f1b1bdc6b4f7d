"""The app's own identity manages only Cluster Codex's bindings (charts/cluster-codex).

RBAC lets that identity create, change and delete any RoleBinding and ClusterRoleBinding, and bind
any role whose permissions it holds; the chart's ValidatingAdmissionPolicy narrows it to bindings
labelled app.kubernetes.io/managed-by=cluster-codex, to cluster-codex:view:<kind> and
cluster-codex:change:<kind> ClusterRoles, for Users system:serviceaccount:cluster-codex-users:user-<id>. Requests are sent with the app's own
client certificate from the lab; objects made here are labelled codex-test=security and deleted.
"""

from __future__ import annotations

import json
import random
import uuid

import pytest
import sqlalchemy as sa
from kubernetes import client

from app.access import CHANGEABLE_NAMES
from app.cluster.rbac_sync import MANAGED_BY, MANAGED_BY_VALUE, USER_ID_LABEL, sync_user
from app.extensions import db
from app.kinds import KIND_NAMES as KINDS
from app.models import Grant, User
from tests.support.lab_control import install_app_chart, wait_for
from tests.support.users import lab_users

pytestmark = pytest.mark.db_engines("sqlite")  # the DB engines are covered elsewhere

POLICY = "cluster-codex-app-bindings"
USERS_NS = "cluster-codex-users"
RUN = uuid.uuid4().hex[:8]
TEST_LABEL = {"codex-test": "security", "codex-test-run": RUN}
OURS = {**TEST_LABEL, MANAGED_BY: MANAGED_BY_VALUE}
PASSWORD = "correct horse battery staple"
GROUP = "rbac.authorization.k8s.io"

LABEL_REFUSED = "may only create, change or delete bindings labelled app.kubernetes.io/managed-by=cluster-codex"
TAKEOVER_REFUSED = "may not take over a binding that is not labelled"
ROLE_REFUSED = "may only bind its ClusterRoles cluster-codex:view:<kind> and cluster-codex:change:<kind>"
SUBJECT_REFUSED = f"may only bind its users (User system:serviceaccount:{USERS_NS}:user-<id>)"


def user_name(uid: int) -> str:
    return f"system:serviceaccount:{USERS_NS}:user-{uid}"


def some_user() -> dict:
    return {"apiGroup": GROUP, "kind": "User", "name": user_name(random.randint(10_000_000, 2_000_000_000))}


def binding_body(name, role="cluster-codex:view:configmaps", subjects=None, labels=OURS,
                 role_kind="ClusterRole") -> dict:
    return {"apiVersion": f"{GROUP}/v1", "kind": "RoleBinding",
            "metadata": {"name": name, "labels": dict(labels)},
            "roleRef": {"apiGroup": GROUP, "kind": role_kind, "name": role},
            "subjects": subjects if subjects is not None else [some_user()]}


def unique(prefix="codex-sec") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def refusal(call) -> tuple[int, str]:
    """(HTTP status, message) of a call expected to fail; (200, '') when it succeeded."""
    try:
        call()
    except client.ApiException as exc:
        try:
            return exc.status, json.loads(exc.body).get("message", "")
        except (TypeError, ValueError):
            return exc.status, str(exc.body)
    return 200, ""


def assert_refused_by_policy(call, reason: str) -> str:
    status, message = refusal(call)
    assert status == 403, (status, message)
    assert f"ValidatingAdmissionPolicy '{POLICY}'" in message and reason in message, message
    return message


@pytest.fixture(scope="module")
def chart(lab):
    """This checkout's charts/cluster-codex is installed and its policy is in force for the app."""
    install_app_chart()  # `lab up` on a running lab does not reinstall the chart
    admission = client.AdmissionregistrationV1Api(lab.admin())

    def type_checked():
        policy = admission.read_validating_admission_policy(POLICY, _request_timeout=30)
        done = (policy.status and policy.status.observed_generation == policy.metadata.generation)
        return policy if done else None

    policy = wait_for("the binding policy to be type-checked", type_checked, timeout=60)
    warnings = policy.status.type_checking and policy.status.type_checking.expression_warnings
    assert not warnings, [w.warning for w in warnings]
    return lab


@pytest.fixture(scope="module")
def namespace(chart):
    """A namespace of this module's own, deleted (with every binding in it) at the end."""
    lab = chart
    name = unique()
    core = client.CoreV1Api(lab.admin())
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name, labels=TEST_LABEL)),
                          _request_timeout=30)
    yield name
    core.delete_namespace(name, _request_timeout=30)


@pytest.fixture(scope="module")
def as_app(chart, namespace):
    """RBAC API as the app's identity, once the policy (picked up asynchronously) refuses it."""
    rbac = client.RbacAuthorizationV1Api(chart.api_client(chart.app_kubeconfig))

    def enforced():
        probe = binding_body(unique(), labels=TEST_LABEL)
        status, message = refusal(lambda: rbac.create_namespaced_role_binding(
            namespace, probe, dry_run="All", _request_timeout=30))
        return status == 403 and POLICY in message

    wait_for("the binding policy to be enforced", enforced, timeout=60)
    return rbac


@pytest.fixture(scope="module")
def as_admin(chart):
    return client.RbacAuthorizationV1Api(chart.admin())


@pytest.fixture(scope="module", autouse=True)
def leftovers(chart):
    """Whatever got through outside this module's namespace is deleted at the end."""
    yield
    rbac = client.RbacAuthorizationV1Api(chart.admin())
    selector = f"codex-test-run={RUN}"
    for item in rbac.list_cluster_role_binding(label_selector=selector, _request_timeout=30).items:
        rbac.delete_cluster_role_binding(item.metadata.name, _request_timeout=30)
    for item in rbac.list_namespaced_role_binding(USERS_NS, label_selector=selector, _request_timeout=30).items:
        rbac.delete_namespaced_role_binding(item.metadata.name, USERS_NS, _request_timeout=30)


@pytest.fixture
def app_config(database_url, chart):
    return {"SQLALCHEMY_DATABASE_URI": database_url, "CODEX_KUBECONFIG": str(chart.app_kubeconfig)}


def test_app_identity_may_bind_only_its_view_and_change_roles_and_never_escalate(as_app, chart,
                                                                                 namespace):
    auth = client.AuthorizationV1Api(chart.api_client(chart.app_kubeconfig))

    def allowed(verb, resource, name="", ns=""):
        review = client.V1SelfSubjectAccessReview(spec=client.V1SelfSubjectAccessReviewSpec(
            resource_attributes=client.V1ResourceAttributes(group=GROUP, resource=resource, verb=verb,
                                                            name=name, namespace=ns)))
        return auth.create_self_subject_access_review(review, _request_timeout=30).status.allowed

    assert allowed("bind", "clusterroles", "cluster-codex:view:pods")
    assert allowed("bind", "clusterroles", "cluster-codex:change:deployments")
    assert not allowed("bind", "clusterroles", "cluster-admin")
    assert not allowed("bind", "clusterroles", "cluster-codex:change:secrets")  # view only
    assert not allowed("escalate", "clusterroles", "cluster-codex:view:pods")
    assert not allowed("escalate", "clusterroles", "cluster-codex:change:pods")
    assert not allowed("escalate", "roles", ns=namespace)
    # RBAC alone still lets it manage every binding: that is what the policy narrows.
    assert allowed("delete", "rolebindings", "anything", namespace)


def _cluster_roles(rbac, level):
    items = rbac.list_cluster_role(label_selector="app.kubernetes.io/part-of=cluster-codex",
                                   _request_timeout=30).items
    prefix = f"cluster-codex:{level}:"
    return {r.metadata.name.removeprefix(prefix): r for r in items if r.metadata.name.startswith(prefix)}


def test_the_chart_ships_a_view_role_per_kind_and_a_change_role_per_changeable_kind(as_admin):
    assert set(_cluster_roles(as_admin, "view")) == set(KINDS)
    change = _cluster_roles(as_admin, "change")
    assert set(change) == CHANGEABLE_NAMES and not {"events", "secrets"} & set(change)
    for kind, role in change.items():
        granted = {(resource, verb) for rule in role.rules for resource in rule.resources
                   for verb in rule.verbs}
        # Everything kubectl needs to change one object of the kind, on the kind itself ...
        for verb in ("get", "list", "watch", "create", "update", "patch", "delete"):
            assert (kind, verb) in granted, (kind, verb)
        # ... and never a collection delete, a shell, an eviction, or power over RBAC and identities.
        assert not {verb for _, verb in granted} & {"deletecollection", "escalate", "bind", "impersonate", "*"}
        assert not {res for res, _ in granted} - {kind, f"{kind}/scale", "replicasets", "controllerrevisions"}, kind
    for kind in ("deployments", "statefulsets", "replicasets"):
        rules = {(res, verb) for rule in change[kind].rules for res in rule.resources for verb in rule.verbs}
        assert {(f"{kind}/scale", "patch"), (f"{kind}/scale", "update")} <= rules, kind


@pytest.mark.parametrize("cluster_wide", [False, True], ids=["RoleBinding", "ClusterRoleBinding"])
def test_a_binding_to_cluster_admin_is_refused(as_app, as_admin, namespace, cluster_wide):
    name = unique()
    body = binding_body(name, role="cluster-admin")
    if cluster_wide:
        status, message = refusal(lambda: as_app.create_cluster_role_binding(
            {**body, "kind": "ClusterRoleBinding"}, _request_timeout=30))
        read = lambda: as_admin.read_cluster_role_binding(name, _request_timeout=30)  # noqa: E731
    else:
        status, message = refusal(lambda: as_app.create_namespaced_role_binding(
            namespace, body, _request_timeout=30))
        read = lambda: as_admin.read_namespaced_role_binding(name, namespace, _request_timeout=30)  # noqa: E731
    # RBAC's escalation check answers first (the app may not `bind` cluster-admin and does not hold
    # its permissions); the policy would refuse it next, as it does for roles RBAC lets through.
    assert status == 403, (status, message)
    assert "attempting to grant RBAC permissions not currently held" in message or ROLE_REFUSED in message, message
    assert refusal(read)[0] == 404


@pytest.mark.parametrize("role_kind, role", [
    ("ClusterRole", "cluster-codex:app"),  # the app holds all its permissions, so RBAC would allow it
    ("ClusterRole", "system:basic-user"),
    ("Role", "cluster-codex:impersonate-users"),
], ids=["cluster-codex:app", "system:basic-user", "Role impersonate-users"])
def test_roles_it_holds_but_are_not_view_roles_are_refused(as_app, role_kind, role):
    # In the users namespace, where the Role cluster-codex:impersonate-users lives.
    body = binding_body(unique(), role=role, role_kind=role_kind)
    message = assert_refused_by_policy(lambda: as_app.create_namespaced_role_binding(
        USERS_NS, body, _request_timeout=30), ROLE_REFUSED)
    assert f"not {role_kind} {role}" in message


@pytest.mark.parametrize("subject", [
    {"apiGroup": GROUP, "kind": "User", "name": "alice"},
    {"apiGroup": GROUP, "kind": "User", "name": "cluster-codex-app"},  # itself
    {"apiGroup": GROUP, "kind": "User", "name": "system:serviceaccount:kube-system:default"},
    {"kind": "ServiceAccount", "name": "default", "namespace": "kube-system"},
    {"kind": "ServiceAccount", "name": "user-7", "namespace": USERS_NS},  # not the form rbac_sync writes
    {"apiGroup": GROUP, "kind": "Group", "name": "cluster-codex:users"},
    {"apiGroup": GROUP, "kind": "Group", "name": "system:authenticated"},
    {"apiGroup": GROUP, "kind": "User", "name": f"system:serviceaccount:{USERS_NS}:user-7x"},
    {"apiGroup": GROUP, "kind": "User", "name": f"system:serviceaccount:{USERS_NS}:user-7:x"},
    {"apiGroup": GROUP, "kind": "User", "name": "system:serviceaccount:other-users:user-7"},
], ids=lambda s: f"{s['kind']} {s.get('namespace', '')}{s['name']}")
def test_a_view_role_for_another_subject_is_refused(as_app, namespace, subject):
    body = binding_body(unique(), role="cluster-codex:view:secrets", subjects=[some_user(), subject])
    message = assert_refused_by_policy(lambda: as_app.create_namespaced_role_binding(
        namespace, body, _request_timeout=30), SUBJECT_REFUSED)
    assert subject["name"] in message


@pytest.mark.parametrize("subject", [
    {"apiGroup": GROUP, "kind": "User", "name": "cluster-codex-app"},
    {"apiGroup": GROUP, "kind": "Group", "name": "system:authenticated"},
    {"kind": "ServiceAccount", "name": "default", "namespace": "kube-system"},
], ids=lambda s: f"{s['kind']} {s['name']}")
def test_a_change_role_for_another_subject_is_refused(as_app, namespace, subject):
    body = binding_body(unique(), role="cluster-codex:change:deployments", subjects=[subject])
    assert_refused_by_policy(lambda: as_app.create_namespaced_role_binding(
        namespace, body, _request_timeout=30), SUBJECT_REFUSED)


@pytest.mark.parametrize("role", ["cluster-codex:change:secrets", "cluster-codex:change:events",
                                  "cluster-codex:change:nodes", "cluster-codex:edit:pods"])
def test_a_change_role_the_chart_does_not_ship_is_refused(as_app, as_admin, namespace, role):
    # Someone made a role of that name without rules: RBAC lets the app bind it (binding it grants
    # nothing the app does not hold), so only the policy stands in the way.
    try:  # left by an earlier run that was killed: a test-made role, so take it away first
        existing = as_admin.read_cluster_role(role, _request_timeout=30)
    except client.ApiException as exc:
        assert exc.status == 404, exc
    else:
        assert (existing.metadata.labels or {}).get("codex-test") == "security", f"{role} exists in this cluster"
        as_admin.delete_cluster_role(role, _request_timeout=30)
    as_admin.create_cluster_role({"metadata": {"name": role, "labels": TEST_LABEL}, "rules": []},
                                 _request_timeout=30)
    try:
        name = unique()
        assert_refused_by_policy(lambda: as_app.create_namespaced_role_binding(
            namespace, binding_body(name, role=role), _request_timeout=30), ROLE_REFUSED)
        assert refusal(lambda: as_admin.read_namespaced_role_binding(
            name, namespace, _request_timeout=30))[0] == 404
    finally:
        as_admin.delete_cluster_role(role, _request_timeout=30)


def test_a_view_role_for_another_subject_is_refused_cluster_wide(as_app):
    name = unique()
    body = {**binding_body(name, role="cluster-codex:view:secrets",
                           subjects=[{"apiGroup": GROUP, "kind": "User", "name": "cluster-codex-app"}]),
            "kind": "ClusterRoleBinding"}
    assert_refused_by_policy(lambda: as_app.create_cluster_role_binding(body, _request_timeout=30),
                             SUBJECT_REFUSED)


@pytest.mark.parametrize("labels", [TEST_LABEL, {**TEST_LABEL, MANAGED_BY: "Helm"}],
                         ids=["unlabelled", "managed by someone else"])
def test_a_binding_not_labelled_as_ours_is_refused(as_app, namespace, labels):
    body = binding_body(unique(), labels=labels)
    assert_refused_by_policy(lambda: as_app.create_namespaced_role_binding(
        namespace, body, _request_timeout=30), LABEL_REFUSED)


def test_bindings_that_are_not_ours_cannot_be_changed_or_deleted(as_app, as_admin, namespace):
    theirs = binding_body(unique(), labels=TEST_LABEL)  # a view role for one of our users, but not ours
    name = theirs["metadata"]["name"]
    as_admin.create_namespaced_role_binding(namespace, theirs, _request_timeout=30)
    assert_refused_by_policy(lambda: as_app.delete_namespaced_role_binding(
        name, namespace, _request_timeout=30), LABEL_REFUSED)
    assert_refused_by_policy(lambda: as_app.patch_namespaced_role_binding(
        name, namespace, {"metadata": {"labels": {MANAGED_BY: MANAGED_BY_VALUE}}}, _request_timeout=30),
        TAKEOVER_REFUSED)
    assert_refused_by_policy(lambda: as_app.patch_namespaced_role_binding(
        name, namespace, {"subjects": [some_user()]}, _request_timeout=30), LABEL_REFUSED)
    after = as_admin.read_namespaced_role_binding(name, namespace, _request_timeout=30)
    assert after.subjects[0].name == theirs["subjects"][0]["name"]
    assert MANAGED_BY not in after.metadata.labels


def test_a_labelled_binding_to_cluster_admin_made_by_someone_else_cannot_be_deleted(as_app, as_admin,
                                                                                   namespace):
    decoy = binding_body(unique(), role="cluster-admin",
                         subjects=[{"apiGroup": GROUP, "kind": "User", "name": unique("codex-sec-nobody")}])
    as_admin.create_namespaced_role_binding(namespace, decoy, _request_timeout=30)
    assert_refused_by_policy(lambda: as_app.delete_namespaced_role_binding(
        decoy["metadata"]["name"], namespace, _request_timeout=30), ROLE_REFUSED)


def test_its_own_bindings_cannot_be_pointed_at_someone_else(as_app, namespace):
    ours = binding_body(unique())
    as_app.create_namespaced_role_binding(namespace, ours, _request_timeout=30)
    assert_refused_by_policy(lambda: as_app.patch_namespaced_role_binding(
        ours["metadata"]["name"], namespace,
        {"subjects": [{"apiGroup": GROUP, "kind": "User", "name": "alice"}]}, _request_timeout=30),
        SUBJECT_REFUSED)
    assert_refused_by_policy(lambda: as_app.patch_namespaced_role_binding(
        ours["metadata"]["name"], namespace, {"metadata": {"labels": {MANAGED_BY: None}}},
        _request_timeout=30), LABEL_REFUSED)
    as_app.delete_namespaced_role_binding(ours["metadata"]["name"], namespace, _request_timeout=30)


def _managed(rbac, uid):
    selector = f"{MANAGED_BY}={MANAGED_BY_VALUE},{USER_ID_LABEL}={uid}"
    namespaced = rbac.list_role_binding_for_all_namespaces(label_selector=selector, _request_timeout=30).items
    cluster = rbac.list_cluster_role_binding(label_selector=selector, _request_timeout=30).items
    return namespaced, cluster


def test_the_bindings_rbac_sync_writes_are_accepted_and_removed(app, as_app, namespace):
    with lab_users(app, PASSWORD) as make:
        uid = make(unique("sec-user"), grants={namespace: {"configmaps", "secrets"}},
                   changes={namespace: {"configmaps"}}, admin=True)
        with app.app_context():
            states = db.session.scalars(sa.select(Grant.sync_state).where(Grant.user_id == uid)).all()
        assert states == ["synced"]
        namespaced, cluster = _managed(as_app, uid)
        assert {b.metadata.name: b.role_ref.name for b in namespaced} == {
            f"cluster-codex-{uid}-configmaps": "cluster-codex:view:configmaps",
            f"cluster-codex-{uid}-secrets": "cluster-codex:view:secrets",
            f"cluster-codex-{uid}-change-configmaps": "cluster-codex:change:configmaps"}
        assert sorted(b.role_ref.name for b in cluster) == sorted(
            [f"cluster-codex:view:{k}" for k in KINDS] + [f"cluster-codex:change:{k}" for k in CHANGEABLE_NAMES])
        assert {s.name for b in namespaced + cluster for s in b.subjects} == {user_name(uid)}
    assert _managed(as_app, uid) == ([], [])  # revoking went through the policy too


def test_lowering_a_level_deletes_the_change_binding_through_the_policy(app, as_app, namespace):
    with lab_users(app, PASSWORD) as make:
        uid = make(unique("sec-user"), changes={namespace: {"services"}})
        with app.app_context():
            user = db.session.get(User, uid)
            user.grants[0].change_kinds = set()
            db.session.commit()
            report = sync_user(user)
        assert report.ok and report.deleted == [(namespace, f"cluster-codex-{uid}-change-services")], report
        namespaced, _ = _managed(as_app, uid)
        assert [b.role_ref.name for b in namespaced] == ["cluster-codex:view:services"]


def test_a_binding_of_ours_pointed_elsewhere_by_hand_is_repaired(app, as_app, as_admin, namespace):
    with lab_users(app, PASSWORD) as make:
        uid = make(unique("sec-user"), grants={namespace: {"pods"}})
        name = f"cluster-codex-{uid}-pods"
        as_admin.patch_namespaced_role_binding(name, namespace, {"subjects": [
            {"kind": "ServiceAccount", "name": "default", "namespace": "kube-system"}]}, _request_timeout=30)
        with app.app_context():
            report = sync_user(db.session.get(User, uid))
        assert report.ok and report.updated == [(namespace, name)], report.errors
        repaired = as_admin.read_namespaced_role_binding(name, namespace, _request_timeout=30)
        assert [(s.kind, s.name) for s in repaired.subjects] == [("User", user_name(uid))]


def test_a_hand_made_binding_with_our_name_is_not_taken_over(app, as_admin, namespace):
    with lab_users(app, PASSWORD) as make:
        uid = make(unique("sec-user"))
        name = f"cluster-codex-{uid}-pods"
        squatter = binding_body(name, role="cluster-codex:view:pods", labels=TEST_LABEL,
                                subjects=[{"apiGroup": GROUP, "kind": "User", "name": "alice"}])
        as_admin.create_namespaced_role_binding(namespace, squatter, _request_timeout=30)
        with app.app_context():
            user = db.session.get(User, uid)
            grant = Grant(namespace=namespace)
            grant.kinds = {"pods"}
            user.grants.append(grant)
            db.session.commit()
            report = sync_user(user)
            assert db.session.scalar(sa.select(Grant.sync_state).where(Grant.user_id == uid)) == "error"
        assert [key for key, _ in report.errors] == [(namespace, name)]
        assert POLICY in report.errors[0][1] and LABEL_REFUSED in report.errors[0][1], report.errors
        kept = as_admin.read_namespaced_role_binding(name, namespace, _request_timeout=30)
        assert [s.name for s in kept.subjects] == ["alice"] and MANAGED_BY not in kept.metadata.labels
