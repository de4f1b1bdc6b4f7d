"""What each kubectl verb the app runs accepts: the shape of its words, its kinds, its flags, its values.

The allow-list behind the strict step parser (app.plans.core.kubectl). A flag that is not listed
for a verb is refused; every value is checked here and comes back as the text kubectl will get,
or raises `Refused` with the reason a user reads beside the step.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import yaml

from app.cluster.errors import InvalidName
from app.cluster.paths import NAMESPACE, name_segment, namespace_segment
from app.kinds import Kind, resolve_alias

Check = Callable[[str, str], str]  # (flag as written, value) -> the value kubectl gets
Pairs = Callable[[str, list[str]], list[str]]  # (verb, words after the object) -> the same words


class Refused(Exception):
    """A step the parser will not accept; the message is the reason shown beside it."""


def clip(value: str, size: int = 40) -> str:
    """A value short enough to quote in a reason."""
    return value if len(value) <= size else value[:size] + "…"


IDENTITY_FLAGS = frozenset({
    "--as", "--as-group", "--as-uid", "--as-user-extra", "--token", "--kubeconfig", "--server", "--context",
    "--cluster", "--user", "--certificate-authority", "--client-certificate", "--client-key",
    "--insecure-skip-tls-verify", "--tls-server-name", "--username", "--password",
})
SHORTS = {"-n": "--namespace", "-f": "--filename", "-k": "--kustomize", "-A": "--all-namespaces",
          "-l": "--selector", "-o": "--output", "-s": "--server", "-w": "--watch", "-R": "--recursive"}
_EVERY = "`{}` acts on every matching object: name one object"
_FORCE = "`{}` skips graceful deletion: a force-deleted pod can keep running on its node"
_ENDLESS = "`{}` would never end: the app shows one bounded answer"
_FLAG_REASONS = {
    "--dry-run": "`{}` is the app's to add: use Dry-run",
    "--raw": "`{}` sends a request to any API path",
    "--filename": "`{}` reads a file or URL: only `apply -f -` takes a manifest, the one shown in the plan",
    "--kustomize": "`{}` builds manifests from local files", "--recursive": "`{}` reads directories",
    "--all-namespaces": "`{}`: a step runs in one namespace, checked against your grants",
    "--all": _EVERY, "--selector": _EVERY, "--field-selector": _EVERY,
    "--output": "`{}`: the app chooses the output (it shows the server's answer)",
    "--force": _FORCE, "--grace-period": _FORCE, "--now": _FORCE,
    "--prune": "`{}` deletes objects the manifest does not name", "--watch": _ENDLESS, "--follow": _ENDLESS,
}


def flag_reason(flag: str, written: str) -> str | None:
    """Why a flag a verb does not accept is refused, when there is more to say than 'not accepted'."""
    if flag in IDENTITY_FLAGS:
        return f"`{written}` changes who kubectl acts as or which cluster it talks to: the app sets both"
    reason = _FLAG_REASONS.get(flag)
    return reason.format(written) if reason else None


def SWITCH(flag: str, value: str) -> str:  # noqa: N802 -- a marker: the flag takes no value
    return value


def _pattern(regex: str, what: str) -> Check:
    compiled = re.compile(regex)

    def check(flag: str, value: str) -> str:
        if not compiled.fullmatch(value):
            raise Refused(f"`{flag}` needs {what}, not `{clip(value)}`")
        return value
    return check


def _count(low: int, high: int) -> Check:
    def check(flag: str, value: str) -> str:
        if not re.fullmatch(r"\d{1,7}", value) or not low <= int(value) <= high:
            raise Refused(f"`{flag}` takes a whole number from {low} to {high:,}")
        return str(int(value))
    return check


def _choice(*values: str) -> Check:
    return _pattern("|".join(map(re.escape, values)), "one of " + ", ".join(values))


def namespace_value(flag: str, value: str) -> str:
    """A namespace: a DNS-1123 label (app.cluster.paths decides)."""
    try:
        namespace_segment(value)
    except InvalidName:
        raise Refused(f"`{clip(str(value))}` is not a valid namespace") from None
    return value


def object_name(value) -> str:
    """An object name the gateway would accept in a path: never '.', '..', '/' or '%'."""
    try:
        name_segment(value)
    except InvalidName:
        raise Refused(f"`{clip(str(value))}` is not a valid object name") from None
    return value


def kind_named(word: str, cluster_scoped_allowed: bool) -> Kind:
    """The registered kind a kubectl resource word names: ``deploy``, ``deployments``, ``deployments.apps``."""
    if "," in word:
        raise Refused(f"`{clip(word)}`: one kind at a time")
    kind = resolve_alias(word)
    if kind is None and "." in word:
        resource, _, group = word.partition(".")
        kind = resolve_alias(resource)
        if kind and (not kind.group or group not in (kind.group, f"{kind.version}.{kind.group}")):
            kind = None
    if kind is None:
        raise Refused(f"`{clip(word)}` is not one of the kinds grants name (pods, deployments, services…)")
    if not kind.namespaced and not cluster_scoped_allowed:
        raise Refused(f"{kind.name} are cluster-scoped: for administrators only")
    return kind


def resource_arg(kind: Kind) -> str:
    """The kind as kubectl gets it: group-qualified, so no custom resource's short name can shadow it."""
    return f"{kind.name}.{kind.version}.{kind.group}" if kind.group else kind.name


def _stdin(flag: str, value: str) -> str:
    if value != "-":
        raise Refused(_FLAG_REASONS["--filename"].format(f"{flag} {clip(value)}"))
    return value


def _for_object(flag: str, value: str) -> str:
    # The plain plural: older `kubectl events` do not read group-qualified names here (it only filters).
    kind_word, _, name = value.partition("/")
    return f"{kind_named(kind_word, False).name}/{object_name(name)}"


_QUANTITY = r"[a-z0-9][a-z0-9./-]{0,62}=\d{1,9}(\.\d{1,6})?([mkMGTPE]|[KMGTPE]i)?"
_LABEL_KEY = r"([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?"
_LABEL_VALUE = r"([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?"
_container = _pattern(NAMESPACE.pattern, "a container name")  # a DNS-1123 label, like a namespace
_duration = _pattern(r"(?=\d)(\d{1,4}h)?(\d{1,4}m)?(\d{1,5}s)?", "a duration such as 30s or 5m")
_timestamp = _pattern(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", "an RFC 3339 time")
_selector = _pattern(r"[A-Za-z0-9_.,=!()/ -]{1,256}", "a label or field selector")
_short_text = _pattern(r"[ -~]{1,256}", "a short text")
_patch_text = _pattern(r"[ -~]{1,10000}", "a patch of at most 10,000 characters")
_resources = _pattern(rf"{_QUANTITY}(,{_QUANTITY}){{0,9}}", "name=quantity pairs such as memory=128Mi")
_read_output = _pattern(r"wide|yaml|json|name|(jsonpath|jsonpath-as-json|custom-columns)=[ -~]{1,500}",
                        "wide, yaml, json, name, jsonpath=… or custom-columns=…")
_event_types = _pattern(r"(Normal|Warning)(,(Normal|Warning))?", "Normal and/or Warning")


def _pairs(key: str, value: str, what: str, removable: bool = True) -> Pairs:
    """Check ``KEY=VALUE`` words (and ``KEY-``, which removes KEY): label, annotate, set image/env."""
    key_re, value_re = re.compile(key), re.compile(value)

    def check(verb: str, words: list[str]) -> list[str]:
        if not words:
            raise Refused(f"`{verb}` needs at least one {what}")
        for word in words:
            name, equals, rest = word.partition("=")
            removal = removable and not equals and word.endswith("-")
            if not (key_re.fullmatch(word[:-1] if removal else name)
                    and (removal or (equals and value_re.fullmatch(rest)))):
                raise Refused(f"`{clip(word)}` is not a valid {what}")
        return words
    return check


_JSON_PATCH_OPS = ("add", "remove", "replace", "move", "copy", "test")


MAX_NESTING = 32


def check_nesting(text: str, what: str) -> None:
    """Refuse brackets nested deeper than real objects are: PyYAML slows quadratically on them."""
    depth = 0
    for char in text:
        if char in "[{":
            depth += 1
            if depth > MAX_NESTING:
                raise Refused(f"{what} is nested more than {MAX_NESTING} levels deep")
        elif char in "]}":
            depth = max(depth - 1, 0)


def _loads(text: str):
    check_nesting(text, "the patch")
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        try:
            return yaml.safe_load(text)
        except (yaml.YAMLError, RecursionError):
            raise Refused("the patch is neither JSON nor YAML") from None


def _verify_patch(flags: dict) -> None:
    """The patch must parse, and be a list of operations for ``--type=json``, an object otherwise."""
    patch = _loads(flags["--patch"])
    if flags.get("--type", "strategic") == "json":
        valid = isinstance(patch, list) and patch and all(
            isinstance(op, dict) and op.get("op") in _JSON_PATCH_OPS and isinstance(op.get("path"), str)
            for op in patch)
    else:
        valid = isinstance(patch, dict) and patch
    if not valid:
        raise Refused("a JSON patch is a list of operations (op, path); a merge patch is an object")


@dataclass(frozen=True)
class Verb:
    """What one verb accepts: the shape of its words, its kinds, its flags and their checks."""

    shape: str  # "list" (kind, name optional), "object" (kind and name), "logs", "top", "events", "apply"
    kinds: frozenset[str] | None = None  # None: every registered kind
    flags: Mapping[str, Check] = field(default_factory=dict)
    shorts: Mapping[str, str] = field(default_factory=dict)  # on top of SHORTS
    pairs: Pairs | None = None  # the words after the object: label pairs, container=image...
    needs: tuple[str, ...] = ()  # at least one of these flags
    verify: Callable[[dict], None] | None = None  # a check of the flags together


_ROLLING = frozenset({"deployments", "statefulsets", "daemonsets"})
_POD_TEMPLATES = _ROLLING | {"pods", "replicasets", "jobs", "cronjobs"}
_REVISION = _count(0, 1_000_000)
_LISTING = {"--selector": _selector, "--no-headers": SWITCH}
VERBS: Mapping[str, Verb] = {
    "get": Verb("list", flags={**_LISTING, "--output": _read_output, "--field-selector": _selector,
                               "--show-labels": SWITCH, "--show-kind": SWITCH, "--ignore-not-found": SWITCH,
                               "--sort-by": _short_text}),
    "describe": Verb("list", flags={"--selector": _selector, "--show-events": SWITCH}),
    "logs": Verb("logs", _POD_TEMPLATES - {"cronjobs"}, {
        "--container": _container, "--tail": _count(1, 1000), "--previous": SWITCH, "--timestamps": SWITCH,
        "--since": _duration, "--since-time": _timestamp, "--all-containers": SWITCH, "--prefix": SWITCH,
        "--limit-bytes": _count(1, 10_000_000)}, {"-c": "--container", "-p": "--previous", "-f": "--follow"}),
    "events": Verb("events", frozenset({"events"}), {
        "--for": _for_object, "--types": _event_types, "--no-headers": SWITCH, "--output": _read_output}),
    "top pod": Verb("top", frozenset({"pods"}), {**_LISTING, "--containers": SWITCH, "--sum": SWITCH,
                                                 "--sort-by": _choice("cpu", "memory")}),
    "rollout status": Verb("object", _ROLLING, {"--timeout": _duration, "--watch": SWITCH, "--revision": _REVISION}),
    "rollout history": Verb("object", _ROLLING, {"--revision": _REVISION}),
    "apply": Verb("apply", flags={"--filename": _stdin, "--server-side": SWITCH, "--force-conflicts": SWITCH},
                  needs=("--filename",)),
    "patch": Verb("object", flags={"--type": _choice("strategic", "merge", "json"), "--patch": _patch_text},
                  shorts={"-p": "--patch"}, needs=("--patch",), verify=_verify_patch),
    "set image": Verb("object", _POD_TEMPLATES, pairs=_pairs(
        NAMESPACE.pattern, r"[A-Za-z0-9][A-Za-z0-9._/:@+-]{0,254}", "container=image pair", removable=False)),
    "set resources": Verb("object", _POD_TEMPLATES, {
        "--containers": _container, "--limits": _resources, "--requests": _resources},
        {"-c": "--containers"}, needs=("--limits", "--requests")),
    "set env": Verb("object", _POD_TEMPLATES, {"--containers": _container, "--overwrite": SWITCH},
                    {"-c": "--containers"}, pairs=_pairs(r"[-._a-zA-Z][-._a-zA-Z0-9]{0,252}", r"[ -~]{0,4096}",
                                                         "NAME=value pair")),
    "scale": Verb("object", frozenset({"deployments", "statefulsets", "replicasets"}), {
        "--replicas": _count(0, 1000), "--current-replicas": _count(0, 1000)}, needs=("--replicas",)),
    "rollout restart": Verb("object", _ROLLING),
    "rollout undo": Verb("object", _ROLLING, {"--to-revision": _REVISION}),
    "rollout pause": Verb("object", frozenset({"deployments"})),
    "rollout resume": Verb("object", frozenset({"deployments"})),
    "delete": Verb("object", flags={"--wait": SWITCH, "--ignore-not-found": SWITCH,
                                    "--cascade": _choice("background", "foreground")}),
    "label": Verb("object", flags={"--overwrite": SWITCH}, pairs=_pairs(_LABEL_KEY, _LABEL_VALUE, "label")),
    "annotate": Verb("object", flags={"--overwrite": SWITCH},
                     pairs=_pairs(_LABEL_KEY, r"[ -~]{0,4096}", "annotation")),
}
VERB_ALIASES = {"top pods": "top pod", "top po": "top pod"}
_NODES = "changes nodes, which are cluster-scoped"
_VERB_REASONS = {
    "exec": "runs a program inside a container", "cp": "copies files to or from a container",
    "port-forward": "opens a network tunnel", "proxy": "opens a proxy to the API server",
    "attach": "attaches to a running container", "run": "starts a new pod",
    "debug": "starts a debugging container", "edit": "opens an editor: use `patch`",
    "create": "is not run: use `apply -f -` with the manifest", "expose": "is not run: use `apply -f -`",
    "autoscale": "is not run: use `apply -f -`", "replace": "replaces whole objects: use `apply -f -` or `patch`",
    "auth": "is about permissions: the app checks yours itself", "config": "reads or changes kubeconfig files",
    "plugin": "runs a local program", "certificate": "approves or denies certificates",
    "drain": _NODES, "cordon": _NODES, "uncordon": _NODES, "taint": _NODES,
    "top node": "reads nodes, which are cluster-scoped", "top nodes": "reads nodes, which are cluster-scoped",
}


def verb_spec(verb: str) -> Verb:
    """The allow-list of one verb; any other verb is refused, with the reason when there is one."""
    if verb in VERBS:
        return VERBS[verb]
    reason = _VERB_REASONS.get(verb) or _VERB_REASONS.get(verb.split(" ")[0])
    raise Refused(f"`kubectl {verb}` {reason}" if reason else f"`{clip(verb)}` is not a verb the app runs")
