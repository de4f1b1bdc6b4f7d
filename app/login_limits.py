"""Sign-in throttling: failed password attempts counted per account and per client address.

Flask-Limiter does the counting (moving window) in CODEX_RATELIMIT_STORAGE_URL: memory:// in
one process, Redis when several workers or replicas must share the counts. Only attempts the
credentials check refused (401, 403) count, so a user who signs in fine is never locked out;
once a limit is reached every attempt gets 429 until the oldest failure leaves the window,
a correct password included (otherwise guessing could simply go on).

One Limiter per app, kept in app.extensions: the extension holds its storage on the instance,
so a module-level singleton would give every app in a process (the test suite builds many)
the storage of whichever app was initialised last.

The client address is request.remote_addr: behind a reverse proxy that is the proxy's, and
all clients share one count, unless the deployment sets up werkzeug's ProxyFix.
"""

import hashlib
import math
import time

from flask import current_app, request
from flask_limiter import Limiter

EXTENSION_KEY = "codex.login_limits"
SIGN_IN_ENDPOINT = "auth.login"
_PLAIN_REDIS_SCHEMES = {"redis", "rediss", "redis+unix"}


def address_key():
    """The client address the request came from."""
    return "address:" + (request.remote_addr or "unknown")


def account_key():
    """The submitted username, case-folded and hashed: one count however it is typed.

    Hashed because it is whatever the client sent: bounded length, no key separators.
    """
    name = request.form.get("username", "").strip().casefold()
    return "account:" + hashlib.sha256(name.encode()).hexdigest()[:32]


def _refused(response):
    return response.status_code in (401, 403)


def init_app(app):
    """Create this app's limiter and put both limits on POST to the sign-in view."""
    uri = app.config["CODEX_RATELIMIT_STORAGE_URL"]
    options = {}
    if uri.split("://", 1)[0] in _PLAIN_REDIS_SCHEMES:
        # A Redis that accepts connections but never answers must not hold sign-ins for long.
        timeout = app.config["CODEX_RATELIMIT_TIMEOUT"]
        options = {"socket_connect_timeout": timeout, "socket_timeout": timeout}
    limiter = Limiter(
        address_key,
        storage_uri=uri,
        storage_options=options,
        strategy="moving-window",
        key_prefix="codex-login",
        # A storage outage must not turn sign-in into a 500: fall back to per-process counts
        # (the same limits, retried against the real storage with back-off), and should even
        # that fail, let the attempt through and log it.
        in_memory_fallback_enabled=True,
        swallow_errors=True,
    )
    # Its before-request hook has nothing to do anywhere else (and, while the storage is
    # down, would ping it from any page).
    limiter.request_filter(lambda: request.endpoint != SIGN_IN_ENDPOINT)
    limiter.init_app(app)
    app.extensions[EXTENSION_KEY] = limiter
    view = app.view_functions[SIGN_IN_ENDPOINT]
    for limit, key in ((app.config["CODEX_LOGIN_LIMIT_PER_ADDRESS"], address_key),
                       (app.config["CODEX_LOGIN_LIMIT_PER_ACCOUNT"], account_key)):
        view = limiter.limit(limit, key_func=key, methods=["POST"], deduct_when=_refused)(view)
    # Failures are counted after the answer, so parallel guesses all pass those checks; this one
    # counts each attempt before the password is looked at, which bounds a burst.
    view = limiter.limit(app.config["CODEX_LOGIN_ATTEMPTS_PER_ACCOUNT"], key_func=account_key,
                         methods=["POST"], scope="attempts")(view)
    app.view_functions[SIGN_IN_ENDPOINT] = view


def retry_after():
    """Whole seconds until the limit this request hit lets the next attempt through."""
    breached = current_app.extensions[EXTENSION_KEY].current_limit
    try:
        # The window's own reset time: RequestLimit.reset_at adds up to a second on top.
        return max(1, math.ceil(breached.window.reset_time - time.time()))
    except Exception:  # the storage went away since the check: the whole window, at most
        current_app.logger.warning("sign-in limit storage unreadable; Retry-After is the window")
        return breached.limit.get_expiry()
