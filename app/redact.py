"""Mask secrets before anything is sent to a model or shown to a user.

Text (logs, events, YAML, user notes) goes through `redact_text`; Kubernetes objects through
`redact_object`, which also removes Secret ``data``/``stringData``, env values that come from a
``secretKeyRef``, literal env values under secret-looking names and kubectl's last-applied
annotation. K8sGPT's ``sensitive`` pairs (app.findings) are applied to finding texts with
`mask_sensitive`.
"""

from __future__ import annotations

import copy
import re

REDACTED = "[REDACTED]"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"

_SECRET_WORDS = re.compile(r"passw(or)?d|passwd|\bpwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key"
                           r"|credential|auth[_-]?key|client[_-]?secret|signing[_-]?key|encryption[_-]?key|dsn"
                           r"|session[_-]?key|cookie[_-]?secret|_key$", re.I)
# Keys that mention a secret but hold a reference or a setting, not the secret itself.
_REFERENCE_SUFFIX = re.compile(r"(name|names|ref|path|file|seconds|kind|type|mode|ttl|expiry|enabled|length|url)$", re.I)

# Every pattern below runs in time linear in the text, whatever the text (a 16 KB run of
# letters took seconds). Two habits make that hold:
# - a match may only start where a token starts (a lookbehind that fails inside a run), so the
#   engine does not rescan the same long run from each of its characters;
# - quantifiers are possessive (``*+``, ``++``) where giving characters back can never help, so a
#   failing attempt costs one pass over its run and no backtracking.
# Where a match may also start inside a run (``\b`` holds after each ``-`` in ``a-b-eyJ...``), a
# lookahead from the run's start first checks what every such start needs (the run ends in ``.``
# or ``://``), then an atomic group takes the leftmost start: the matches ``\b`` finds, in one scan.
_PEM = re.compile(r"-----BEGIN ([A-Z0-9 ]++)-----.*?(?:-----END \1-----|\Z)", re.S)
_B64URL = "[A-Za-z0-9_-]"
_JWT = re.compile(
    rf"(?<!{_B64URL})(?={_B64URL}*+\.{_B64URL}{{5,}}+\.{_B64URL}{{5}})"
    rf"(?P<pre>(?>(?:[A-Za-z0-9_]*+-)*?(?=eyJ{_B64URL}{{5}})))"
    rf"eyJ{_B64URL}{{5,}}+\.{_B64URL}{{5,}}+\.{_B64URL}{{5,}}+")
_BEARER = re.compile(r"\b(Bearer|Basic|Token)(\s++)[A-Za-z0-9._~+/=-]{8,}+", re.I)
_URL_CREDENTIALS = re.compile(
    r"(?<![a-z0-9+.-])(?=[a-z0-9+.-]*+://)(?P<pre>(?>(?:[a-z0-9]*+[+.-])*?\b(?=[a-z])))"
    r"(?P<lead>[a-z][a-z0-9+.-]*+://[^\s:/@]++:)[^\s@/]++(?P<at>@)", re.I)
# Linear as they stand: each starts with a literal at a word boundary, and a failing attempt scans
# only the run after its literal (a failing run has no word boundary, so no second literal in it).
_KNOWN_TOKENS = re.compile(
    r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b|\bgh[pousr]_[A-Za-z0-9]{30,}+\b|\bgithub_pat_[A-Za-z0-9_]{30,}+\b"
    r"|\bglpat-[A-Za-z0-9_-]{20,}\b|\bxox[abposr]-[A-Za-z0-9-]{10,}\b|\bsk-[A-Za-z0-9_-]{20,}\b"
    r"|\bAIza[0-9A-Za-z_-]{35}\b")
# The key is the token from its first letter or underscore on (as before, when a match could start
# at any character of the token); the characters before it stay in ``lead``, untouched.
_KEY_VALUE = re.compile(
    r"(?P<lead>(?P<q>[\"']?)(?<![\w.-])(?:(?![A-Za-z_])[\w.-])*+(?P<key>[A-Za-z_][\w.-]*+)(?P=q)"
    r"[ \t]*+(?P<sep>[:=])[ \t]*+)"
    r"(?P<val>\"[^\"\n]*+\"|'[^'\n]*+'|[^\s,;&\"'}{\]\[]++)")
# Starts at the literal ``name:``; the ``- `` in front of it is left in the text as it is.
_ENV_PAIR = re.compile(r"(?P<lead>name:[ \t]*+[\"']?(?P<key>[A-Za-z_][\w.-]*+)[\"']?[ \t]*+\n[ \t]*+value:[ \t]*+)"
                       r"(?P<val>\"[^\"\n]*+\"|'[^'\n]*+'|[^\n]++)")
_HEX = re.compile(r"(?<![\w:])(?<!sha256:)(?<!sha1:)[0-9a-fA-F]{32,}+(?!\w)")
_BASE64 = re.compile(r"(?<![\w/+=])[A-Za-z0-9+/]{40,}+={0,2}+(?![\w/+=])")
_HARMLESS_VALUES = re.compile(r"^(true|false|null|none|~|\[\]|\{\}|yes|no|\d{1,5}|REDACTED)$", re.I)


def is_secret_name(key: str) -> bool:
    """True for names like DB_PASSWORD, apiKey, AWS_SECRET_ACCESS_KEY; false for secretName, tokenPath."""
    return bool(_SECRET_WORDS.search(key)) and not _REFERENCE_SUFFIX.search(key)


def _mask_value(match: re.Match) -> str:
    value = match["val"]
    if not is_secret_name(match["key"]) or _HARMLESS_VALUES.match(value.strip("\"'")) or REDACTED in value:
        return match[0]
    quote = value[0] if value[:1] in "\"'" else ""
    return f"{match['lead']}{quote}{REDACTED}{quote}"


def _looks_random(candidate: str) -> bool:
    classes = sum(bool(re.search(p, candidate)) for p in (r"[a-z]", r"[A-Z]", r"[0-9]"))
    if candidate.count("/") * 10 > len(candidate):  # a file path, not a key
        return False
    return classes >= 3 or (classes == 2 and ("+" in candidate or "/" in candidate))


def redact_text(text: str) -> str:
    """Mask values that look like tokens, passwords or keys; the rest of the text is kept as is."""
    if not text:
        return text
    text = _PEM.sub(lambda m: f"-----BEGIN {m[1]}----- {REDACTED} -----END {m[1]}-----", text)
    text = _JWT.sub(lambda m: f"{m['pre']}{REDACTED}", text)
    text = _BEARER.sub(lambda m: f"{m[1]}{m[2]}{REDACTED}", text)
    text = _URL_CREDENTIALS.sub(lambda m: f"{m['pre']}{m['lead']}{REDACTED}{m['at']}", text)
    text = _KNOWN_TOKENS.sub(REDACTED, text)
    text = _ENV_PAIR.sub(_mask_value, text)
    text = _KEY_VALUE.sub(_mask_value, text)
    text = _HEX.sub(REDACTED, text)
    text = _BASE64.sub(lambda m: REDACTED if _looks_random(m[0]) else m[0], text)
    return text


def _redact_env(env: list) -> None:
    for var in env or []:
        if not isinstance(var, dict):
            continue
        value_from = var.get("valueFrom") or var.get("value_from") or {}
        if value_from.get("secretKeyRef") or value_from.get("secret_key_ref"):
            var.pop("value", None)
        elif isinstance(var.get("value"), str) and is_secret_name(str(var.get("name", ""))):
            var["value"] = REDACTED


def _walk(node):
    if isinstance(node, dict):
        if node.get("kind") == "Secret":
            for key in ("data", "stringData", "string_data"):
                if key in node:
                    node[key] = {k: REDACTED for k in (node[key] or {})}
        annotations = (node.get("metadata") or {}).get("annotations") if isinstance(node.get("metadata"), dict) else None
        if isinstance(annotations, dict) and LAST_APPLIED in annotations:
            annotations[LAST_APPLIED] = REDACTED
        for key, value in list(node.items()):
            if key == "env" and isinstance(value, list):
                _redact_env(value)
            if isinstance(value, str):
                secret = is_secret_name(str(key)) and not _HARMLESS_VALUES.match(value)
                node[key] = REDACTED if secret else redact_text(value)
            else:
                _walk(value)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            if isinstance(value, str):
                node[index] = redact_text(value)
            else:
                _walk(value)


def strip_secret_values(obj: dict) -> None:
    """Remove, in place, everything of a Secret that holds its values: ``data``, ``stringData``,
    ``binaryData`` and kubectl's last-applied copy (which embeds them). Keys are lost too: used
    where nothing of a Secret's body may pass (answers of the secrets resource, the YAML view)."""
    for key in ("data", "stringData", "binaryData"):
        obj.pop(key, None)
    metadata = obj.get("metadata")
    annotations = metadata.get("annotations") if isinstance(metadata, dict) else None
    if isinstance(annotations, dict):
        annotations.pop(LAST_APPLIED, None)


def redact_object(obj: dict) -> dict:
    """A deep copy of a Kubernetes object (or list) with every secret value masked.

    Secret ``data``/``stringData`` keep their keys (useful: which keys exist) but lose every value.
    """
    clean = copy.deepcopy(obj)
    _walk(clean)
    return clean


def mask_sensitive(text: str, pairs: list[tuple[str, str]]) -> str:
    """Replace each K8sGPT ``unmasked`` value in text by its ``masked`` form, the way K8sGPT does.

    K8sGPT masks a failure's text for its AI backends with ``util.ReplaceIfMatch(text, unmasked,
    masked)``: the regexp ``unmasked(\\b)``, every occurrence that a word boundary follows, none
    required before it. That rule, kept here, masks ``team-a`` in ``pod web-1_team-a(uid)`` and
    ``app`` in ``app-v2`` (a whole-word rule left both readable) but not the ``app`` in
    ``application`` (a substring rule made that ``YXBwlication``). Unlike K8sGPT the value is
    matched literally (K8sGPT compiles it as a regexp, so its ``.`` matches any character) and all
    values are replaced in one pass, longest first: a value inside another is masked whole, and a
    masked form is never masked again.
    """
    if not pairs or not text:
        return text
    replacement = {}
    for unmasked, masked in pairs:
        replacement.setdefault(unmasked, masked)
    values = sorted(replacement, key=len, reverse=True)
    # re.ASCII: Go's \b, like K8sGPT's, knows only ASCII letters, digits and "_".
    pattern = re.compile("(?:" + "|".join(map(re.escape, values)) + r")\b", re.ASCII)
    return pattern.sub(lambda match: replacement[match[0]], text)
