"""What keeps a signed-in session valid: the user's session version and an absolute lifetime.

A session records the user's session_version and the time of sign-in when it starts.
Bumping the version (sign-out, disable, password change) ends every session of that user,
on every device, at its next request. CODEX_SESSION_ABSOLUTE_LIFETIME ends a session however
active it is: the cookie's own lifetime (CODEX_SESSION_LIFETIME) is renewed by every request,
so on its own it never ends a busy session. A session without these stamps (made before
they existed, or restored from a remember-me cookie) is not valid.
"""

import time

from flask import current_app, session

from app.models import User

VERSION_KEY = "_codex_session_version"
SIGNED_IN_AT_KEY = "_codex_signed_in_at"


def start(user):
    """Stamp the fresh session with the user's session version and the time of sign-in."""
    session[VERSION_KEY] = user.session_version
    session[SIGNED_IN_AT_KEY] = int(time.time())


def is_valid(user):
    """True while the session carries the user's current version and is young enough."""
    signed_in_at = session.get(SIGNED_IN_AT_KEY)
    if session.get(VERSION_KEY) != user.session_version or not isinstance(signed_in_at, int):
        return False
    return time.time() - signed_in_at < current_app.config["CODEX_SESSION_ABSOLUTE_LIFETIME"]


def end_all(user):
    """End every session of the user at its next request (the caller commits).

    Incremented in SQL, so two bumps at once still change the version.
    """
    user.session_version = User.session_version + 1
