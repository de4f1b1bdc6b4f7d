"""RBAC in the lab is real: a RoleBinding in team-a grants team-a only.

Checked two ways: the admin impersonating the identity (Impersonate-User header, as the app
does), and the identity's own client certificate from `scripts/lab cert`.
"""

from __future__ import annotations

import uuid

import pytest
from kubernetes import client


@pytest.fixture(scope="module")
def viewer(known_issues):
    """A fresh user bound to the built-in `view` ClusterRole in team-a only."""
    lab = known_issues
    user = f"lab-viewer-{uuid.uuid4().hex[:8]}"
    rbac = client.RbacAuthorizationV1Api(lab.admin())
    binding = client.V1RoleBinding(
        metadata=client.V1ObjectMeta(name=f"{user}-view"),
        role_ref=client.V1RoleRef(api_group="rbac.authorization.k8s.io", kind="ClusterRole", name="view"),
        subjects=[client.RbacV1Subject(api_group="rbac.authorization.k8s.io", kind="User", name=user)])
    rbac.create_namespaced_role_binding("team-a", binding, _request_timeout=30)
    try:
        yield lab, user
    finally:
        rbac.delete_namespaced_role_binding(f"{user}-view", "team-a", _request_timeout=30)


def status_of(call) -> int:
    try:
        call()
    except client.ApiException as exc:
        return exc.status
    return 200


def check_team_a_only(api: client.ApiClient) -> None:
    core = client.CoreV1Api(api)
    apps = client.AppsV1Api(api)
    assert status_of(lambda: core.list_namespaced_pod("team-a", _request_timeout=30)) == 200
    assert status_of(lambda: apps.list_namespaced_deployment("team-a", _request_timeout=30)) == 200
    assert status_of(lambda: core.list_namespaced_pod("team-b", _request_timeout=30)) == 403
    assert status_of(lambda: apps.list_namespaced_deployment("team-b", _request_timeout=30)) == 403
    assert status_of(lambda: core.list_namespaced_pod("team-c", _request_timeout=30)) == 403
    # `view` never includes Secrets, even in the granted namespace
    assert status_of(lambda: core.list_namespaced_secret("team-a", _request_timeout=30)) == 403
    # cluster-scoped reads are not granted either
    assert status_of(lambda: core.list_namespace(_request_timeout=30)) == 403


def test_impersonated_identity_is_refused_outside_its_namespace(viewer):
    lab, user = viewer
    check_team_a_only(lab.api_client(impersonate=user))


def test_client_certificate_identity_is_refused_outside_its_namespace(viewer):
    lab, user = viewer
    kubeconfig = lab.cert_kubeconfig(user)
    api = lab.api_client(kubeconfig)
    review = client.AuthenticationV1Api(api).create_self_subject_review(
        client.V1SelfSubjectReview(), _request_timeout=30)
    assert review.status.user_info.username == user
    assert "system:masters" not in (review.status.user_info.groups or [])
    check_team_a_only(api)


def test_unbound_identity_sees_nothing(lab):
    api = lab.api_client(impersonate=f"lab-nobody-{uuid.uuid4().hex[:8]}")
    assert status_of(lambda: client.CoreV1Api(api).list_namespaced_pod("team-a", _request_timeout=30)) == 403


def test_cert_groups_are_carried_into_the_identity(lab):
    user = f"lab-grouped-{uuid.uuid4().hex[:8]}"
    api = lab.api_client(lab.cert_kubeconfig(user, "lab-group-one", "lab-group-two"))
    info = client.AuthenticationV1Api(api).create_self_subject_review(
        client.V1SelfSubjectReview(), _request_timeout=30).status.user_info
    assert info.username == user
    assert {"lab-group-one", "lab-group-two"} <= set(info.groups)


def test_app_identity_has_no_groups_and_no_admin_rights(lab):
    api = lab.api_client(lab.app_kubeconfig)
    info = client.AuthenticationV1Api(api).create_self_subject_review(
        client.V1SelfSubjectReview(), _request_timeout=30).status.user_info
    assert info.username == "cluster-codex-app"
    assert set(info.groups or []) == {"system:authenticated"}
    # whatever charts/cluster-codex grants, the app must never read Secrets' values cluster-wide
    assert status_of(lambda: client.CoreV1Api(api).list_secret_for_all_namespaces(_request_timeout=30)) == 403


def test_pod_logs_come_through_the_apiserver_under_rbac(viewer):
    """kwok serves canned container logs as the fake nodes' kubelet; the apiserver applies RBAC
    (pods/log) as for any kubelet. The crash-looping API logs its planted DB password on purpose:
    a trap for the app's redaction."""
    lab, user = viewer
    admin = client.CoreV1Api(lab.admin())

    def pod(ns: str, app: str) -> str:
        return admin.list_namespaced_pod(ns, label_selector=f"app.kubernetes.io/name={app}",
                                         _request_timeout=30).items[0].metadata.name

    as_viewer = client.CoreV1Api(lab.api_client(impersonate=user))
    crash = pod("team-a", "crashloop-api")
    log = as_viewer.read_namespaced_pod_log(crash, "team-a", container="api", previous=True, _request_timeout=30)
    assert "FATAL: password authentication failed" in log and "s3cr3t-planted-" in log
    healthy = as_viewer.read_namespaced_pod_log(pod("team-a", "healthy-web"), "team-a", _request_timeout=30)
    assert "nginx" in healthy
    oom = pod("team-b", "oom-worker")
    assert status_of(lambda: as_viewer.read_namespaced_pod_log(oom, "team-b", _request_timeout=30)) == 403
