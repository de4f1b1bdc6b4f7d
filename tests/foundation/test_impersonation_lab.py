"""Grants enforced by the API server itself (the real lab, the real charts/cluster-codex).

Reads go through the gateway directly, skipping the app's own access check, to show
that an impersonated user is refused outside its grants by Kubernetes RBAC alone.
Test namespaces and users are unique per session (random high user ids) and labelled
codex-test=foundation; everything made here is deleted at the end.
"""

from __future__ import annotations

import random
import uuid

import pytest
import sqlalchemy as sa

from app.access import Access
from app.cluster import rbac_sync
from app.cluster.gateway import Forbidden, NotFound, gateway
from app.cluster.user_reader import UserReader
from app.extensions import db
from app.kinds import get_kind
from app.models import Grant, User
from tests.support.lab_control import install_app_chart
from tests.support.lab_kube import APP_KUBECONFIG
from tests.support.users import add_user

LABEL = {"codex-test": "foundation"}
RB = "/apis/rbac.authorization.k8s.io/v1"

pytestmark = pytest.mark.db_engines("sqlite")  # the DB engines are covered elsewhere


@pytest.fixture(scope="session")
def kube(kube):
    """The shared admin access to the lab (tests/support/lab_fixtures.py) as its raw gateway, with
    this checkout's charts/cluster-codex installed (`lab up` on a running lab does not reinstall it)."""
    install_app_chart()
    return kube.gw


@pytest.fixture(scope="session")
def namespaces(kube):
    prefix = f"codex-found-{uuid.uuid4().hex[:6]}"
    names = {"a": f"{prefix}-a", "b": f"{prefix}-b", "later": f"{prefix}-later"}
    api = kube.as_app()
    for key in ("a", "b"):
        kube.request(api, "POST", "/api/v1/namespaces",
                     body={"metadata": {"name": names[key], "labels": LABEL}})
        kube.request(api, "POST", f"/api/v1/namespaces/{names[key]}/configmaps",
                     body={"metadata": {"name": "settings", "labels": LABEL}, "data": {"k": "v"}})
    yield names
    for name in names.values():
        try:
            kube.request(api, "DELETE", f"/api/v1/namespaces/{name}")
        except NotFound:
            pass


@pytest.fixture
def app_config(database_url):
    return {"SQLALCHEMY_DATABASE_URI": database_url,
            "CODEX_KUBECONFIG": str(APP_KUBECONFIG)}


@pytest.fixture
def lab_user(app, kube):
    """Create users with random high ids (no clash with other sessions sharing the lab)."""
    made = []

    def make(grants=None, admin=False):
        uid = random.randint(10_000_000, 2_000_000_000)
        with app.app_context():
            add_user(f"lab-{uid}", id=uid, admin=admin, grants=grants)
        made.append(uid)
        return uid

    yield make
    api = kube.as_app()
    for uid in made:
        for path in ("rolebindings", "clusterrolebindings"):
            for item in kube.get(api, f"{RB}/{path}",
                                 labelSelector=f"cluster-codex.io/user-id={uid}")["items"]:
                meta = item["metadata"]
                where = f"namespaces/{meta['namespace']}/" if "namespace" in meta else ""
                kube.request(api, "DELETE", f"{RB}/{where}{path}/{meta['name']}")


def _user(uid):
    return db.session.get(User, uid)


def _sync(app, uid):
    with app.app_context():
        return rbac_sync.sync_user(_user(uid))


# The app's own grant check is waived (an administrator's Access) in these readers: what is under
# test is the API server's answer to the impersonated user.
UNCHECKED = Access(admin=True)


def _list(app, uid, kind, namespace):
    with app.app_context():
        items, _ = UserReader(gateway(), _user(uid), UNCHECKED).list(get_kind(kind), namespace)
        return {"items": items}


def _bindings(kube, uid):
    items = kube.get(kube.as_app(), f"{RB}/rolebindings",
                     labelSelector=f"cluster-codex.io/user-id={uid}")["items"]
    return {(i["metadata"]["namespace"], i["metadata"]["name"]) for i in items}


def test_impersonated_user_is_allowed_inside_and_refused_outside_its_grants(app, namespaces, lab_user):
    a, b = namespaces["a"], namespaces["b"]
    uid = lab_user({a: {"configmaps", "pods"}})
    report = _sync(app, uid)
    assert report.ok and len(report.created) == 2
    assert "settings" in [i["metadata"]["name"] for i in _list(app, uid, "configmaps", a)["items"]]
    assert _list(app, uid, "pods", a)["items"] == []
    with pytest.raises(Forbidden):
        _list(app, uid, "configmaps", b)  # namespace not granted
    with pytest.raises(Forbidden):
        _list(app, uid, "services", a)  # kind not granted
    with pytest.raises(Forbidden):
        _list(app, uid, "secrets", a)


def test_api_server_sees_the_user_and_group(app, lab_user):
    uid = lab_user()
    with app.app_context():
        gw = gateway()
        review = gw.request(gw.as_user(_user(uid)), "POST",
                            "/apis/authentication.k8s.io/v1/selfsubjectreviews",
                            body={"apiVersion": "authentication.k8s.io/v1",
                                  "kind": "SelfSubjectReview"})
    info = review["status"]["userInfo"]
    assert info["username"] == f"system:serviceaccount:cluster-codex-users:user-{uid}"
    assert "cluster-codex:users" in info["groups"]
    assert "system:masters" not in info["groups"]


def test_secrets_grant_allows_listing_but_never_reading(app, kube, namespaces, lab_user):
    a = namespaces["a"]
    kube.request(kube.as_app(), "POST", f"/api/v1/namespaces/{a}/secrets",
                 body={"metadata": {"name": "db", "labels": LABEL}, "stringData": {"pw": "x"}}) \
        if not _exists(kube, f"/api/v1/namespaces/{a}/secrets/db") else None
    uid = lab_user({a: {"secrets"}})
    _sync(app, uid)
    assert "db" in [i["metadata"]["name"] for i in _list(app, uid, "secrets", a)["items"]]
    with app.app_context(), pytest.raises(Forbidden):
        reader = UserReader(gateway(), _user(uid), UNCHECKED)
        reader.gw.get(reader.api, get_kind("secrets").object_path(a, "db"))


def _exists(kube, path):
    try:
        kube.get(kube.as_app(), path)
        return True
    except NotFound:
        return False


def test_app_identity_alone_cannot_read_workloads_or_impersonate_others(app, namespaces):
    a = namespaces["a"]
    with app.app_context():
        gw = gateway()
        with pytest.raises(Forbidden):
            gw.get(gw.as_app(), f"/api/v1/namespaces/{a}/configmaps")
        for header, value in [("Impersonate-User", "admin"),
                              ("Impersonate-User", "system:serviceaccount:kube-system:default"),
                              ("Impersonate-Group", "system:masters")]:
            rogue = type(gw.as_app())(gw.configuration)
            rogue.set_default_header(header, value)
            if header == "Impersonate-Group":
                rogue.set_default_header("Impersonate-User", "system:serviceaccount:cluster-codex-users:user-1")
            try:
                with pytest.raises(Forbidden):
                    gw.get(rogue, "/api/v1/namespaces")
            finally:
                rogue.close()


def test_admin_reads_every_namespace_through_cluster_bindings(app, namespaces, lab_user):
    uid = lab_user(admin=True)
    assert _sync(app, uid).ok
    for key in ("a", "b"):
        assert _list(app, uid, "configmaps", namespaces[key])["items"]


def test_revoke_in_the_portal_removes_the_bindings(app, client, auth, make_user, kube, namespaces,
                                                  lab_user):
    a, b = namespaces["a"], namespaces["b"]
    make_user("root", admin=True)
    auth.login("root")
    uid = lab_user()
    response = client.submit(f"/admin/users/{uid}/grants", {"namespace": a, "kinds": ["configmaps"]})
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Granted configmaps in" in page and "synced" in page
    client.submit(f"/admin/users/{uid}/grants", {"namespace": b, "kinds": ["configmaps"]})
    assert _list(app, uid, "configmaps", a)["items"]
    with app.app_context():
        gid = db.session.scalar(sa.select(Grant.id).where(Grant.user_id == uid, Grant.namespace == a))
    assert client.submit(f"/admin/users/{uid}/grants/{gid}/revoke").status_code == 303
    assert _bindings(kube, uid) == {(b, f"cluster-codex-{uid}-configmaps")}
    with pytest.raises(Forbidden):
        _list(app, uid, "configmaps", a)
    assert _list(app, uid, "configmaps", b)["items"]


def test_drift_is_repaired(app, kube, namespaces, lab_user):
    a = namespaces["a"]
    uid = lab_user({a: {"configmaps", "pods"}})
    _sync(app, uid)
    api = kube.as_app()
    # By hand: delete one binding, point the other at someone else.
    kube.request(api, "DELETE", f"{RB}/namespaces/{a}/rolebindings/cluster-codex-{uid}-pods")
    path = f"{RB}/namespaces/{a}/rolebindings/cluster-codex-{uid}-configmaps"
    edited = kube.get(api, path)
    edited["subjects"][0]["name"] = "system:serviceaccount:cluster-codex-users:user-0"
    kube.request(api, "PUT", path, body=edited)
    with pytest.raises(Forbidden):
        _list(app, uid, "configmaps", a)
    report = _sync(app, uid)
    assert len(report.created) == 1 and len(report.updated) == 1
    assert _list(app, uid, "configmaps", a)["items"]
    assert _list(app, uid, "pods", a)["items"] == []
    # A binding of ours that nobody granted is removed.
    kube.request(api, "POST", f"{RB}/namespaces/{namespaces['b']}/rolebindings", body={
        "metadata": {"name": f"cluster-codex-{uid}-configmaps",
                     "labels": {"app.kubernetes.io/managed-by": "cluster-codex",
                                "cluster-codex.io/user-id": str(uid)}},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                    "name": "cluster-codex:view:configmaps"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User",
                      "name": f"system:serviceaccount:cluster-codex-users:user-{uid}"}]})
    assert len(_sync(app, uid).deleted) == 1
    with pytest.raises(Forbidden):
        _list(app, uid, "configmaps", namespaces["b"])


def test_disabled_user_loses_every_binding(app, kube, namespaces, lab_user):
    uid = lab_user({namespaces["a"]: {"configmaps"}})
    _sync(app, uid)
    with app.app_context():
        _user(uid).is_disabled = True
        db.session.commit()
    _sync(app, uid)
    assert _bindings(kube, uid) == set()


def test_namespace_that_does_not_exist_yet(app, client, auth, make_user, kube, namespaces, lab_user):
    later = namespaces["later"]
    make_user("root", admin=True)
    auth.login("root")
    uid = lab_user()
    response = client.submit(f"/admin/users/{uid}/grants", {"namespace": later, "kinds": ["configmaps"]})
    assert response.status_code == 303
    page = client.get(f"/admin/users/{uid}").get_data(as_text=True)
    assert "not in cluster yet" in page and "pending" in page
    kube.request(kube.as_app(), "POST", "/api/v1/namespaces",
                 body={"metadata": {"name": later, "labels": LABEL}})
    page = client.get(f"/admin/users/{uid}").get_data(as_text=True)  # a page load retries the sync
    assert "not in cluster yet" not in page
    with app.app_context():
        assert db.session.scalar(sa.select(Grant.sync_state).where(Grant.user_id == uid)) == "synced"
    assert isinstance(_list(app, uid, "configmaps", later)["items"], list)  # allowed now


def test_namespaces_are_offered_from_the_cluster(client, auth, make_user, namespaces, lab_user):
    make_user("root", admin=True)
    auth.login("root")
    uid = lab_user()
    page = client.get(f"/admin/users/{uid}").get_data(as_text=True)
    assert f'<option value="{namespaces["a"]}">' in page


def test_readyz_is_ready_with_the_lab(client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.json
    assert response.json["checks"] == {"database": "ok", "cluster": "ok"}


def test_impersonation_off_reads_as_the_app(app, namespaces, lab_user):
    """With CODEX_IMPERSONATION=off the API server sees the app, which may not read workloads."""
    uid = lab_user({namespaces["a"]: {"configmaps"}})
    _sync(app, uid)
    with app.app_context():
        gw = gateway()
        gw.impersonation = False
        with pytest.raises(Forbidden):
            UserReader(gw, _user(uid), UNCHECKED).list(get_kind("configmaps"), namespaces["a"])
