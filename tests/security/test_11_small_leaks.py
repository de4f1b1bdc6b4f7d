"""Small leaks: /readyz reasons and stray OIDC callbacks.

/readyz tells everyone what is down, but its error texts (hosts, paths, drivers) only to
loopback callers and signed-in administrators. A callback whose state matches no sign-in of
this browser is refused with nothing else happening: nobody is signed out, nothing is audited.
"""

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import AuditEvent
from tests.support.oidc_flow import CLIENT_ID, is_signed_in

PASSWORD = "correct horse battery staple"
NOT_VALID = "This sign-in attempt is not valid"
PROVIDER_REFUSED = "The sign-in provider did not let you in"


# -- /readyz ---------------------------------------------------------------------------------


def test_readyz_tells_remote_clients_only_what_is_down(client, remote):
    response = client.get("/readyz", environ_base=remote)

    assert response.status_code == 503
    assert response.json == {"status": "unavailable",
                             "checks": {"database": "ok", "cluster": "unavailable"}}
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("address", ["127.0.0.1", "::1"])
def test_readyz_gives_loopback_callers_the_reasons(client, address):
    response = client.get("/readyz", environ_base={"REMOTE_ADDR": address})

    assert response.status_code == 503
    assert response.json["checks"]["cluster"].startswith("unavailable: cannot reach the API server")


@pytest.mark.parametrize("admin, sees_reasons", [(True, True), (False, False)])
def test_readyz_gives_signed_in_administrators_the_reasons(client, make_user, remote,
                                                           admin, sees_reasons):
    make_user("ann", admin=admin)
    client.submit("/login", {"username": "ann", "password": PASSWORD}, environ_base=remote)

    cluster = client.get("/readyz", environ_base=remote).json["checks"]["cluster"]

    assert (cluster != "unavailable") == sees_reasons, cluster


# -- OIDC callbacks that belong to no sign-in --------------------------------------------------


@pytest.fixture
def sso_app(make_app, oidc_provider):
    return make_app(CODEX_OIDC_ISSUER=oidc_provider.issuer, CODEX_OIDC_CLIENT_ID=CLIENT_ID,
                    CODEX_OIDC_CLIENT_SECRET="test-secret")


def audit_count(app):
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count(AuditEvent.id)))


@pytest.mark.parametrize("query, status, message", [
    ({"state": "made-up", "code": "made-up"}, 400, NOT_VALID),
    ({"code": "made-up"}, 400, NOT_VALID),
    ({}, 400, NOT_VALID),
    ({"state": "made-up", "error": "access_denied"}, 403, PROVIDER_REFUSED),
    ({"error": "access_denied", "error_description": "forged"}, 403, PROVIDER_REFUSED),
], ids=["code", "code-no-state", "nothing", "error", "error-no-state"])
def test_stray_callback_signs_nobody_out_and_writes_no_audit(sso_app, make_user, query, status,
                                                             message):
    """What a page elsewhere can make a signed-in browser fetch (an <img>, a link)."""
    make_user("ann")
    victim = sso_app.test_client()
    assert victim.submit("/login", {"username": "ann", "password": PASSWORD}).status_code == 303
    before = audit_count(sso_app)

    response = victim.get("/auth/oidc/callback", query_string=query)

    assert response.status_code == status
    assert message in response.get_data(as_text=True)
    assert is_signed_in(victim)
    assert audit_count(sso_app) == before
