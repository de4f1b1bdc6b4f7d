"""Driving the app's OIDC sign-in from tests (test client + real provider process).

The app runs as the Flask test client; the provider is a real HTTP server. A test starts
sign-in at the app, performs the provider's authorization step over real HTTP
(``OidcProvider.authorize``), then feeds the provider's redirect back to the test client.
"""

import re
from urllib.parse import urlencode, urlsplit, urlunsplit

from tests.support.oidc_provider import query_params

CLIENT_ID = "cluster-codex-test"
LOGIN_PATH = "/auth/oidc/login"
CALLBACK_URL = "http://localhost/auth/oidc/callback"  # what url_for builds in the test client


def begin_sign_in(client, **query):
    """Start SSO at the app; return the provider authorization URL it redirects to."""
    response = client.get(LOGIN_PATH, query_string=query)
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"]


def sign_in(client, provider, sub, **query):
    """Run the whole flow as ``sub``; return the app's response to the callback."""
    callback = provider.authorize(begin_sign_in(client, **query), sub)
    assert callback.startswith(CALLBACK_URL + "?"), callback
    return client.get(callback)


def with_query(url, **changes):
    """Return ``url`` with query parameters replaced (None removes one)."""
    params = query_params(url)
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value
    parts = urlsplit(url)
    return urlunsplit(parts._replace(query=urlencode(params)))


def is_signed_in(client):
    """The login page sends signed-in users on and shows the form to everybody else."""
    return client.get("/login").status_code == 302


def any_page(client):
    """A page that needs neither a login nor the cluster: the 404 page, in the full layout."""
    return client.get("/oidc-tests-no-such-page").get_data(as_text=True)


def csrf_token(client):
    """The CSRF token of the client's session, as pages embed it."""
    return re.search(r'name="csrf-token" content="([^"]+)"', any_page(client)).group(1)


def sign_out(client):
    """Press "Sign out" (a POST with the CSRF token); return the response."""
    return client.post("/logout", data={"csrf_token": csrf_token(client)})
