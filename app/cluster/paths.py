"""API paths built from names that came from the cluster, a URL or a user: validated, then quoted.

Names read from the cluster are data, not paths. The API server accepts an ownerReference named
``../secrets``; joined into ``.../pods/<name>`` as it is, the HTTP stack removes the dot segments
and the request becomes *list secrets*. So every variable segment of every request the gateway
sends is checked here first: a namespace must be a DNS-1123 label, an object name a Kubernetes
path-segment name (never ``.`` or ``..``, no ``/`` or ``%``, a conservative character set), and
each is percent-quoted. A name that fails raises `InvalidName` (a NotFound): the caller turns it
into a note or a 404, never into a request.

The same names also go into field selectors (``involvedObject.name=...``), where ``,`` and ``=``
would add terms of their own; `selector_value` refuses those too.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from app.cluster.errors import InvalidName

NAMESPACE = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
# DNS-1123 subdomains (most kinds) plus ':' (RBAC object names such as cluster-codex:view:pods)
# and upper case (a few kinds allow it). Dots only inside: "." and ".." can never match.
OBJECT_NAME = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.:]{0,251}[A-Za-z0-9])?")
# Fixed words of a path: API prefixes, resource names, subresources.
WORD = re.compile(r"[a-z0-9][a-z0-9.\-]{0,62}")


def _invalid(what, value):
    return InvalidName(f"{what} {str(value)[:80]!r} is not a valid Kubernetes name")


def namespace_segment(value) -> str:
    """A namespace, validated (DNS-1123 label) and quoted for a path."""
    if not isinstance(value, str) or not NAMESPACE.fullmatch(value):
        raise _invalid("namespace", value)
    return quote(value, safe="")


def name_segment(value) -> str:
    """An object name, validated (never '.', '..', '/', '%') and quoted for a path."""
    if not isinstance(value, str) or not OBJECT_NAME.fullmatch(value):
        raise _invalid("name", value)
    return quote(value, safe="")


def word_segment(value) -> str:
    """A fixed path word (resource, subresource), checked so a typo can never widen a request."""
    if not isinstance(value, str) or not WORD.fullmatch(value):
        raise _invalid("path word", value)
    return value


def selector_value(value) -> str:
    """A name used as a field-selector value: validated like a name, so it adds no terms."""
    name_segment(value)
    return value


def check_path(path: str) -> str:
    """Refuse a finished path with dot segments, empty segments or encoded separators."""
    if not path.startswith("/") or "%2f" in path.lower() or "%2e" in path.lower():
        raise _invalid("path", path)
    segments = path.split("?", 1)[0].split("/")[1:]
    if any(s in ("", ".", "..") for s in segments):
        raise _invalid("path", path)
    return path
