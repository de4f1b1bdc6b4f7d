"""A real OpenID Connect provider process for tests (PyPI ``oidc-provider-mock``).

The provider runs as a separate process (``python -m oidc_provider_mock``) on a free
loopback port, so the app talks to it over real HTTP: discovery, JWKS, token exchange.
Tests play the user's part at the provider's authorization form with ``requests``.

The session fixture ``oidc_provider`` is registered for every suite (tests/conftest.py)::

    def test_something(oidc_provider):
        oidc_provider.set_user("alice", email="alice@example.com", groups=["dev"])
        # point CODEX_OIDC_ISSUER at oidc_provider.issuer, start sign-in at the app,
        # then either oidc_provider.authorize(authorization_url, "alice") (HTTP) or, in a
        # browser, fill the field with placeholder "sub" and press "Authorize".

Nothing here imports ``oidc_provider_mock`` itself: it emits deprecation warnings at
import time, which the suite turns into errors.
"""

import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import requests

from tests.support.child_process import ChildProcess

HTTP_TIMEOUT = 10
_STARTUP_DEADLINE = 60  # seconds; the machine is shared, a cold import can be slow
_LISTENING = r"Uvicorn running on (http://127\.0\.0\.1:\d+)"


class ProviderError(RuntimeError):
    """The provider answered unexpectedly."""


@dataclass
class OidcProvider:
    """Handle on a running provider process."""

    issuer: str
    child: ChildProcess

    def set_user(self, sub: str, **claims) -> None:
        """Register (or replace) the claims the provider issues for ``sub``."""
        response = requests.put(
            f"{self.issuer}/users/{quote(sub, safe='')}", json=claims, timeout=HTTP_TIMEOUT
        )
        if response.status_code != 204:
            raise ProviderError(f"setting user {sub!r}: {response.status_code} {response.text}")

    def authorize(self, authorization_url: str, sub: str) -> str:
        """Sign in as ``sub`` at the authorization form; return the redirect back to the app."""
        return self._submit(authorization_url, {"sub": sub})

    def deny(self, authorization_url: str) -> str:
        """Press "Deny" at the authorization form; return the redirect back to the app."""
        return self._submit(authorization_url, {"action": "deny"})

    def register_client(self, redirect_uris: list[str]) -> tuple[str, str]:
        """Register a client (RFC 7591); return ``(client_id, client_secret)``."""
        response = requests.post(
            f"{self.issuer}/oauth2/clients",
            json={"redirect_uris": redirect_uris},
            timeout=HTTP_TIMEOUT,
        )
        if response.status_code != 201:
            raise ProviderError(f"registering a client: {response.status_code} {response.text}")
        body = response.json()
        return body["client_id"], body["client_secret"]

    def log(self) -> str:
        """Return what the provider logged so far (for failure messages)."""
        return self.child.log()

    def stop(self) -> None:
        """Stop the process (idempotent); afterwards its port refuses connections."""
        self.child.stop()

    def _submit(self, authorization_url: str, form: dict) -> str:
        if not authorization_url.startswith(self.issuer + "/"):
            raise ProviderError(f"{authorization_url!r} is not this provider's URL")
        response = requests.post(
            authorization_url, data=form, allow_redirects=False, timeout=HTTP_TIMEOUT
        )
        if response.status_code != 302:
            raise ProviderError(
                f"authorization form answered {response.status_code}: {response.text[:500]}"
            )
        return response.headers["Location"]


def query_params(url: str) -> dict[str, str]:
    """Return the query parameters of ``url`` (single values)."""
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


@contextmanager
def running_oidc_provider(
    *, require_registration: bool = False, require_nonce: bool = True, log_dir: Path | None = None
) -> Iterator[OidcProvider]:
    """Start a provider on a free 127.0.0.1 port; stop it when the block ends.

    ``require_registration``: only clients registered through ``register_client`` may
    sign in, and their secret is checked (by default any client id/secret is accepted).
    ``require_nonce``: refuse authorization requests without a nonce, like a strict IdP.
    """
    log_dir = Path(log_dir or tempfile.mkdtemp(prefix="codex-oidc-"))
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"oidc-provider-{os.getpid()}-{time.monotonic_ns()}.log"
    args = [sys.executable, "-m", "oidc_provider_mock", "--host", "127.0.0.1", "--port", "0"]
    if require_registration:
        args.append("--require-registration")
    if require_nonce:
        args.append("--require-nonce")
    env = {**os.environ, "NO_COLOR": "1", "PYTHONUNBUFFERED": "1"}
    with ChildProcess("OIDC provider", args, log_path=log_path, env=env) as child:
        issuer = child.wait_for_log(_LISTENING, timeout=_STARTUP_DEADLINE).group(1)
        yield OidcProvider(issuer, child)


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory) -> Iterator[OidcProvider]:
    """One provider process for the whole test session (use a distinct ``sub`` per test)."""
    with running_oidc_provider(log_dir=tmp_path_factory.mktemp("oidc-provider")) as provider:
        yield provider
