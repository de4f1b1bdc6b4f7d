"""The admin portal: who may enter, users, grants, the audit log.

The cluster is unreachable here (see app_config in tests/conftest.py); the lab tests
in test_lab_rbac.py cover what happens in a real cluster.
"""

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import AuditEvent, Grant, User


@pytest.fixture
def admin(auth, make_user):
    uid = make_user("root", admin=True)
    auth.login("root")
    return uid


def _grants(app, uid):
    with app.app_context():
        return {g.namespace: (set(g.kinds), g.sync_state) for g in
                db.session.scalars(sa.select(Grant).where(Grant.user_id == uid))}


def _levels(app, uid):
    """{namespace: (kinds, change kinds)} of the user's grants."""
    with app.app_context():
        return {g.namespace: (set(g.kinds), set(g.change_kinds)) for g in
                db.session.scalars(sa.select(Grant).where(Grant.user_id == uid))}


def _grant_id(app, uid, namespace):
    with app.app_context():
        return db.session.scalar(sa.select(Grant.id).where(Grant.user_id == uid,
                                                           Grant.namespace == namespace))


def _audit(app, action):
    with app.app_context():
        return [(e.target, e.detail) for e in db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))]


def _actions(app):
    with app.app_context():
        return [e.action for e in db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id))]


@pytest.mark.parametrize("path", ["/admin/", "/admin/users", "/admin/audit", "/admin/users/1"])
def test_anonymous_is_sent_to_login(client, path):
    response = client.get(path)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("method, path", [
    ("get", "/admin/users"), ("get", "/admin/audit"), ("get", "/admin/users/1"),
    ("post", "/admin/users"), ("post", "/admin/users/1/grants"),
    ("post", "/admin/users/1/promote"), ("post", "/admin/rbac/sync"),
    ("get", "/admin/users/1/grants/1"), ("post", "/admin/users/1/grants/1"),
])
def test_non_admin_gets_403(client, auth, make_user, method, path):
    make_user("dev")
    auth.login("dev")
    response = client.get(path) if method == "get" else client.submit(path, {})
    assert response.status_code == 403
    assert b"administrators" in response.data


def test_admin_sees_users(client, admin, make_user):
    make_user("dev", email="dev@example.com")
    page = client.get("/admin/users")
    assert page.status_code == 200 and b"dev" in page.data and b"root" in page.data
    assert page.headers["Vary"] and "HX-Request" in page.headers["Vary"]


def test_htmx_gets_the_panel_only(client, admin):
    page = client.get("/admin/users", headers={"HX-Request": "true"})
    assert page.status_code == 200
    assert b'id="admin-panel"' in page.data and b"<html" not in page.data


def test_create_local_user(app, client, admin, auth):
    response = client.submit("/admin/users", {
        "username": "carol", "display_name": "Carol", "email": "carol@example.com",
        "password": "a long password", "password_confirm": "a long password"})
    assert response.status_code == 303
    assert b"User carol created." in client.get("/admin/users").data
    assert "user.create" in _actions(app)
    auth.logout()
    assert auth.login("carol", "a long password").status_code == 303


@pytest.mark.parametrize("form, field, message", [
    ({"username": "", "password": "12345678", "password_confirm": "12345678"},
     "username", b"Use 1"),
    ({"username": "root", "password": "12345678", "password_confirm": "12345678"},
     "username", b"already exists"),
    ({"username": "x", "password": "short", "password_confirm": "short"},
     "password", b"at least 8"),
    ({"username": "x", "password": "12345678", "password_confirm": "87654321"},
     "password_confirm", b"differ"),
    ({"username": "x", "password": "12345678", "password_confirm": "12345678", "email": "nope"},
     "email", b"not an email"),
])
def test_create_user_validation(app, client, admin, form, field, message):
    response = client.submit("/admin/users", form)
    assert response.status_code == 422
    assert message in response.data
    assert f'id="new-{field}-error"'.encode() in response.data
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(User.id))) == 1  # only root


def test_create_user_validation_as_htmx_returns_the_panel(client, admin):
    response = client.submit("/admin/users", {"username": ""}, htmx=True)
    assert response.status_code == 422
    assert b'id="admin-panel"' in response.data and b"<html" not in response.data


def test_disable_and_enable_a_user(app, client, admin, make_user, auth):
    uid = make_user("dev")
    assert client.submit(f"/admin/users/{uid}/disable").status_code == 303
    with app.app_context():
        assert db.session.get(User, uid).is_disabled
    auth.logout()
    assert auth.login("dev").status_code == 403
    auth.login("root")
    client.submit(f"/admin/users/{uid}/enable")
    auth.logout()
    assert auth.login("dev").status_code == 303
    assert {"user.disable", "user.enable"} <= set(_actions(app))


def test_promote_and_demote(app, client, admin, make_user):
    uid = make_user("dev")
    client.submit(f"/admin/users/{uid}/promote")
    with app.app_context():
        assert db.session.get(User, uid).is_admin
    client.submit(f"/admin/users/{uid}/demote")
    with app.app_context():
        assert not db.session.get(User, uid).is_admin


@pytest.mark.parametrize("action", ["demote", "disable"])
def test_last_admin_cannot_remove_themselves(app, client, admin, action):
    response = client.submit(f"/admin/users/{admin}/{action}")
    assert response.status_code == 409
    assert b"last active administrator" in response.data
    with app.app_context():
        user = db.session.get(User, admin)
        assert user.is_admin and not user.is_disabled


def test_admin_cannot_disable_themselves_even_with_another_admin(client, admin, make_user):
    make_user("other", admin=True)
    response = client.submit(f"/admin/users/{admin}/disable")
    assert response.status_code == 409 and b"your own account" in response.data


def test_admin_may_demote_themselves_when_another_admin_exists(app, client, admin, make_user):
    make_user("other", admin=True)
    assert client.submit(f"/admin/users/{admin}/demote").status_code == 303
    assert client.get("/admin/users").status_code == 403


def test_unknown_user_is_404(client, admin):
    assert client.get("/admin/users/999").status_code == 404
    assert client.submit("/admin/users/999/promote").status_code == 404


def test_grant_while_cluster_unreachable_is_saved_and_pending(app, client, admin, make_user):
    uid = make_user("dev")
    response = client.submit(f"/admin/users/{uid}/grants",
                             {"namespace": "team-a", "kinds": ["pods", "events"]})
    assert response.status_code == 303
    page = client.get(response.headers["Location"])
    assert b"cluster RBAC will be synced when the cluster is reachable" in page.data
    assert b"pending" in page.data
    assert b"cannot be listed right now" in page.data  # the namespace picker says why it is empty
    assert _grants(app, uid) == {"team-a": ({"pods", "events"}, "pending")}
    with app.app_context():
        assert db.session.get(User, uid).rbac_pending
    assert "grant.create" in _actions(app)


def test_duplicate_grant_merges_kinds_and_says_so(app, client, admin, make_user):
    uid = make_user("dev", grants={"team-a": {"pods"}})
    response = client.submit(f"/admin/users/{uid}/grants",
                             {"namespace": "team-a", "kinds": ["pods", "services"]})
    page = client.get(response.headers["Location"])
    assert b"team-a was already granted; added services to that grant." in page.data
    assert _grants(app, uid)["team-a"][0] == {"pods", "services"}


def test_duplicate_grant_with_nothing_new_changes_nothing(app, client, admin, make_user):
    uid = make_user("dev", grants={"team-a": {"pods", "events"}})
    response = client.submit(f"/admin/users/{uid}/grants", {"namespace": "team-a", "kinds": ["pods"]})
    page = client.get(response.headers["Location"])
    assert b"already has pods in team-a; nothing changed" in page.data
    assert _grants(app, uid) == {"team-a": ({"pods", "events"}, "synced")}


@pytest.mark.parametrize("form, message", [
    ({"namespace": "", "kinds": ["pods"]}, b"Pick or type a namespace."),
    ({"namespace": "Team_A", "kinds": ["pods"]}, b"Not a valid namespace name"),
    ({"namespace": "a" * 64, "kinds": ["pods"]}, b"Not a valid namespace name"),
    ({"namespace": "team-a"}, b"Choose at least one kind."),
    ({"namespace": "team-a", "kinds": ["pods", "nodes"]}, b"Unknown kinds: nodes."),
])
def test_grant_validation_writes_nothing(app, client, admin, make_user, form, message):
    uid = make_user("dev")
    response = client.submit(f"/admin/users/{uid}/grants", form)
    assert response.status_code == 422
    assert message in response.data
    assert _grants(app, uid) == {}
    assert "grant.create" not in _actions(app)


def test_revoke_grant(app, client, admin, make_user):
    uid = make_user("dev", grants={"team-a": {"pods"}, "team-b": {"pods"}})
    with app.app_context():
        gid = db.session.scalar(sa.select(Grant.id).where(Grant.namespace == "team-a"))
    response = client.submit(f"/admin/users/{uid}/grants/{gid}/revoke")
    assert response.status_code == 303
    assert set(_grants(app, uid)) == {"team-b"}
    assert "grant.revoke" in _actions(app)
    with app.app_context():
        assert db.session.get(User, uid).rbac_pending  # the cluster still has to drop it


def test_revoke_someone_elses_grant_is_404(app, client, admin, make_user):
    uid = make_user("dev", grants={"team-a": {"pods"}})
    other = make_user("eve")
    with app.app_context():
        gid = db.session.scalar(sa.select(Grant.id))
    assert client.submit(f"/admin/users/{other}/grants/{gid}/revoke").status_code == 404
    assert set(_grants(app, uid)) == {"team-a"}


def test_audit_log_pages_newest_first(app, client, admin):
    from app.auth import audit

    with app.app_context():
        for i in range(60):
            audit(None, "test.event", f"target-{i:02d}")
        db.session.commit()
    first = client.get("/admin/audit").get_data(as_text=True)
    assert "target-59" in first and "target-00" not in first
    assert first.index("target-59") < first.index("target-58")
    second = client.get("/admin/audit?page=2").get_data(as_text=True)
    assert "target-00" in second and "login" in second  # root's own login is the oldest
    assert client.get("/admin/audit?page=abc").status_code == 200


def test_audit_log_records_failed_logins(app, client, admin, auth):
    auth.logout()
    auth.login("root", "wrong")
    auth.login("root")
    page = client.get("/admin/audit").get_data(as_text=True)
    assert "login.failed" in page and "bad credentials" in page


def test_user_names_render_as_text(client, admin, make_user):
    uid = make_user("x", display_name="<script>alert(1)</script>")
    page = client.get(f"/admin/users/{uid}").data
    assert b"<script>alert(1)</script>" not in page and b"&lt;script&gt;" in page


def _change_column(page, namespace):
    """The grants table's "May change" cell of the namespace's row, as text."""
    row = page.split(f"<td>{namespace}", 1)[1].split("</tr>", 1)[0]
    return " ".join(row.split('class="grant-change">', 1)[1].split("</td>", 1)[0].split())


def test_grant_with_a_change_level_round_trips(app, client, admin, make_user):
    uid = make_user("dev")
    response = client.submit(f"/admin/users/{uid}/grants", {
        "namespace": "team-a", "kinds": ["pods", "deployments"], "change": ["deployments"]})
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Granted deployments, pods in team-a; may change deployments." in page
    assert _change_column(page, "team-a") == "Deployments"
    assert _levels(app, uid) == {"team-a": ({"pods", "deployments"}, {"deployments"})}
    assert _audit(app, "grant.create") == [("dev team-a", "kinds: deployments,pods; change: deployments")]
    # The edit form shows the stored levels: change ticked for deployments only.
    edit = client.get(f"/admin/users/{uid}/grants/{_grant_id(app, uid, 'team-a')}").get_data(as_text=True)
    assert 'name="change" value="deployments" checked' in edit
    assert 'name="change" value="pods" checked' not in edit
    assert 'name="kinds" value="pods" checked' in edit


def test_view_only_grant_says_so(app, client, admin, make_user):
    uid = make_user("dev", grants={"team-a": {"pods"}})
    page = client.get(f"/admin/users/{uid}").get_data(as_text=True)
    assert _change_column(page, "team-a") == '<span class="muted">view only</span>'


def test_events_and_secrets_offer_no_change_box(client, admin, make_user):
    page = client.get(f"/admin/users/{make_user('dev')}").get_data(as_text=True)
    assert 'name="change" value="deployments"' in page and 'name="change" value="pods"' in page
    assert 'name="change" value="events"' not in page and 'name="change" value="secrets"' not in page


@pytest.mark.parametrize("form, message", [
    ({"kinds": ["pods"], "change": ["deployments"]},
     "Also grant Deployments: a user may change only kinds they may see."),
    ({"kinds": ["events"], "change": ["events"]}, "Events cannot be changed through Cluster Codex"),
    ({"kinds": ["secrets", "pods"], "change": ["secrets", "pods"]},
     "Secrets cannot be changed through Cluster Codex"),
    ({"kinds": ["pods"], "change": ["nodes"]}, "Unknown kinds: nodes."),
])
def test_change_level_validation_writes_nothing(app, client, admin, make_user, form, message):
    uid = make_user("dev")
    response = client.submit(f"/admin/users/{uid}/grants", {"namespace": "team-a", **form})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page and 'class="field-error"' in page
    assert 'name="kinds" value="pods" checked' in page if "pods" in form["kinds"] else True
    assert _levels(app, uid) == {} and "grant.create" not in _actions(app)


def test_second_grant_can_raise_a_kind_to_change(app, client, admin, make_user):
    uid = make_user("dev", grants={"team-a": {"pods", "deployments"}})
    response = client.submit(f"/admin/users/{uid}/grants", {
        "namespace": "team-a", "kinds": ["deployments"], "change": ["deployments"]})
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "team-a was already granted; may now change deployments." in page
    assert _levels(app, uid) == {"team-a": ({"pods", "deployments"}, {"deployments"})}


def test_edit_lowers_change_to_view_and_is_audited(app, client, admin, make_user):
    uid = make_user("dev", changes={"team-a": {"deployments", "pods"}})
    gid = _grant_id(app, uid, "team-a")
    response = client.submit(f"/admin/users/{uid}/grants/{gid}", {
        "kinds": ["deployments", "pods"], "change": ["pods"]})
    assert response.status_code == 303 and response.headers["Location"] == f"/admin/users/{uid}"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "dev now has deployments, pods in team-a; may change pods." in page
    assert _levels(app, uid) == {"team-a": ({"deployments", "pods"}, {"pods"})}
    assert _audit(app, "grant.update") == [(
        "dev team-a",
        "kinds: deployments,pods; change: pods (was kinds: deployments,pods; change: deployments,pods)")]
    client.submit(f"/admin/users/{uid}/grants/{gid}", {"kinds": ["pods"]})
    assert _levels(app, uid) == {"team-a": ({"pods"}, set())}
    assert _grants(app, uid)["team-a"][1] == "pending"  # the cluster is unreachable here


def test_edit_with_nothing_new_changes_nothing(app, client, admin, make_user):
    uid = make_user("dev", changes={"team-a": {"deployments"}})
    gid = _grant_id(app, uid, "team-a")
    response = client.submit(f"/admin/users/{uid}/grants/{gid}", {
        "kinds": ["deployments"], "change": ["deployments"]})
    assert b"team-a: nothing changed." in client.get(response.headers["Location"]).data
    assert "grant.update" not in _actions(app)


@pytest.mark.parametrize("form, message", [
    ({}, "Choose at least one kind."),
    ({"kinds": ["pods"], "change": ["deployments"]}, "Also grant Deployments"),
])
def test_edit_validation_keeps_the_grant(app, client, admin, make_user, form, message):
    uid = make_user("dev", changes={"team-a": {"deployments"}})
    gid = _grant_id(app, uid, "team-a")
    response = client.submit(f"/admin/users/{uid}/grants/{gid}", form, htmx=True)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page and "<html" not in page and 'id="admin-panel"' in page
    assert _levels(app, uid) == {"team-a": ({"deployments"}, {"deployments"})}


def test_edit_page_is_a_page_or_the_panel(app, client, admin, make_user):
    uid = make_user("dev", grants={"team-a": {"pods"}})
    url = f"/admin/users/{uid}/grants/{_grant_id(app, uid, 'team-a')}"
    page = client.get(url)
    assert page.status_code == 200 and b"<html" in page.data and b"Save" in page.data
    panel = client.get(url, headers={"HX-Request": "true"})
    assert b"<html" not in panel.data and b'id="admin-panel"' in panel.data
    assert "HX-Request" in panel.headers["Vary"]


def test_edit_someone_elses_grant_is_404(app, client, admin, make_user):
    uid = make_user("dev", grants={"team-a": {"pods"}})
    other = make_user("eve")
    gid = _grant_id(app, uid, "team-a")
    assert client.get(f"/admin/users/{other}/grants/{gid}").status_code == 404
    assert client.submit(f"/admin/users/{other}/grants/{gid}", {"kinds": ["pods"]}).status_code == 404
    assert client.get(f"/admin/users/{uid}/grants/999").status_code == 404


def test_edit_needs_csrf(app, client, admin, make_user):
    uid = make_user("dev", grants={"team-a": {"pods"}})
    gid = _grant_id(app, uid, "team-a")
    assert client.post(f"/admin/users/{uid}/grants/{gid}", data={"kinds": ["events"]}).status_code == 400
    assert _levels(app, uid) == {"team-a": ({"pods"}, set())}


def test_read_only_mode_says_changes_are_disabled(app, client, admin, make_user):
    uid = make_user("dev", changes={"team-a": {"deployments"}})
    assert b"Changes are disabled" not in client.get(f"/admin/users/{uid}").data
    app.config["CODEX_ACTIONS"] = False
    for url in (f"/admin/users/{uid}", f"/admin/users/{uid}/grants/{_grant_id(app, uid, 'team-a')}"):
        page = client.get(url).get_data(as_text=True)
        assert "Changes are disabled" in page and "CODEX_ACTIONS" in page
    assert "May change (read-only mode)" in client.get(f"/admin/users/{uid}").get_data(as_text=True)
