"""A real OpenID Connect provider process for tests (PyPI ``oidc-provider-mock``).

The provider runs as a separate process (``python -m oidc_provider_mock``) on a free
loopback port, so the app talks to it over real HTTP: discovery, JWKS, token exchange.
Tests play the user's part at the provider's authorization form with ``requests``.

Reuse from any test package (``tests`` has no ``__init__.py``, so put the repository
root on ``sys.path`` first, as tests/oidc/conftest.py does)::

    # tests/<area>/conftest.py
    from tests.support.oidc_provider import oidc_provider  # noqa: F401  (the fixture)

    def test_something(oidc_provider):
        oidc_provider.set_user("alice", email="alice@example.com", groups=["dev"])
        # point CODEX_OIDC_ISSUER at oidc_provider.issuer, start sign-in at the app,
        # then either oidc_provider.authorize(authorization_url, "alice") (HTTP) or, in a
        # browser, fill the field with placeholder "sub" and press "Authorize".

Nothing here imports ``oidc_provider_mock`` itself: it emits deprecation warnings at
import time, which the suite turns into errors.
"""

import os
import re
import subprocess
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

HTTP_TIMEOUT = 10
_STARTUP_DEADLINE = 60  # seconds; the machine is shared, a cold import can be slow
_LISTENING = re.compile(r"Uvicorn running on (http://127\.0\.0\.1:\d+)")


class ProviderError(RuntimeError):
    """The provider process did not start or answered unexpectedly."""


@dataclass
class OidcProvider:
    """Handle on a running provider process."""

    issuer: str
    process: subprocess.Popen
    log_path: Path

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
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        """Stop the process (idempotent); afterwards its port refuses connections."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

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
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(
            args, stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env
        )
    provider = None
    try:
        provider = OidcProvider(_wait_for_issuer(process, log_path), process, log_path)
        yield provider
    finally:
        if provider is None:
            provider = OidcProvider("", process, log_path)
        provider.stop()


def _wait_for_issuer(process: subprocess.Popen, log_path: Path) -> str:
    """Read the bound address from the provider's log once it listens."""
    deadline = time.monotonic() + _STARTUP_DEADLINE
    while time.monotonic() < deadline:
        match = _LISTENING.search(log_path.read_text(errors="replace"))
        if match:
            return match.group(1)
        if process.poll() is not None:
            break
        time.sleep(0.1)
    raise ProviderError(
        f"OIDC provider did not start (exit code {process.poll()}):\n"
        + log_path.read_text(errors="replace")
    )


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory) -> Iterator[OidcProvider]:
    """One provider process for the whole test session (use a distinct ``sub`` per test)."""
    with running_oidc_provider(log_dir=tmp_path_factory.mktemp("oidc-provider")) as provider:
        yield provider
