"""The strict kubectl parser: which plan steps the app may run, with which arguments, and why not.

A plan is untrusted model output, so a step runs only if it is one plain ``kubectl`` command of a
stated subset: no shell (the app never starts one), no identity or target flags (the executor adds
its own kubeconfig and ``--as``), one namespace, one named object for a change, registered kinds
only (grants are per kind), every flag on the verb's allow-list and every value checked. Anything
else is a `Refusal` with a reason the user reads beside the step. Words, verb and namespaces are
read by the same functions the badges use (app.plans.core.commands), so the two never disagree.

kubectl never reads the plan's own words: `Step.argv` is rebuilt from what was checked (the verb,
the object as ``deployments.v1.apps/web``, each flag as ``--flag=value``), so no spelling can mean
one thing here and another to kubectl's flag parser.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timezone

import yaml

from app.kinds import Kind, get_kind, kind_for_api_kind
from app.plans.core.commands import (
    NAMESPACE_FLAGS, changes_cluster, read_namespaces, read_verb, split_flag, split_words,
)
from app.plans.core.kubectl_verbs import (
    SHORTS, SWITCH, VERB_ALIASES, Check, Refused, Verb, check_nesting, clip, flag_reason, kind_named,
    namespace_value, object_name, resource_arg, verb_spec,
)

MAX_TEXT = 2000
MAX_MANIFEST = 20000
MAX_DOCUMENTS = 20
LOG_TAIL_DEFAULT = 200  # logs without --tail: the last lines, never a whole log


@dataclass(frozen=True)
class Refusal:
    """A step the app will not run, and the reason shown beside it."""

    text: str
    reason: str


@dataclass(frozen=True)
class Step:
    """One accepted kubectl command: what it does, to what, where, and how to run it."""

    text: str
    verb: str  # "get", "rollout restart", "set image"...
    mutates: bool
    kind: str  # grant name of the (first) object's kind
    name: str | None
    namespace: str | None  # None only for a cluster-scoped kind (administrators)
    kinds: tuple[str, ...]  # every kind the caller must check against the grant
    objects: tuple[tuple[str, str], ...] = ()  # (kind, name) of each named object
    stdin: str | None = None  # `apply -f -`: the manifest as parsed, one JSON object a line
    args: tuple[str, ...] = field(default=(), repr=False)

    def argv(self, dry_run: bool) -> list[str]:
        """kubectl's arguments after the binary, without identity flags, with ``--namespace`` explicit.

        ``dry_run`` (changes only): ``--dry-run=server`` and, where the server's answer is the
        changed object, ``--output=yaml``. Verbs without a server dry-run (rollout restart, pause,
        resume) are dry-run as the patch they send.
        """
        dry = dry_run and self.mutates
        args = _equivalent_patch(self) if dry and self.verb in _EQUIVALENT_PATCH else list(self.args)
        if self.namespace:
            args += ["--namespace", self.namespace]
        return args + (["--dry-run=server", *self._dry_run_output()] if dry else [])

    def _dry_run_output(self) -> list[str]:
        if self.verb == "delete":
            return []  # delete prints only the name
        return ["--output=name"] if "secrets" in self.kinds else ["--output=yaml"]  # never a Secret's values


def _restarted_at() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# What kubectl sends for the verbs that have no --dry-run of their own.
_EQUIVALENT_PATCH: Mapping[str, Callable[[], dict]] = {
    "rollout restart": lambda: {"spec": {"template": {"metadata": {"annotations": {
        "kubectl.kubernetes.io/restartedAt": _restarted_at()}}}}},
    "rollout pause": lambda: {"spec": {"paused": True}},
    "rollout resume": lambda: {"spec": {"paused": False}},
}


def _equivalent_patch(step: Step) -> list[str]:
    patch = json.dumps(_EQUIVALENT_PATCH[step.verb](), separators=(",", ":"))
    return ["patch", step.args[2], "--type=merge", f"--patch={patch}"]


def parse_step(text: str, *, default_namespace: str | None, cluster_scoped_allowed: bool,
               manifest: str | None = None) -> Step | Refusal:
    """Read one plan step strictly: a Step the executor may run, or a Refusal saying why not.

    ``manifest`` is the YAML an ``apply -f -`` step reads (shown in the plan's own block).
    The caller still checks ``step.namespace`` and ``step.kinds`` against the user's grant.
    """
    text = (text or "").strip()
    try:
        return _parse(text, default_namespace, cluster_scoped_allowed, manifest)
    except Refused as refused:
        return Refusal(text, str(refused))


def _parse(text: str, default_namespace: str | None, cluster_ok: bool, manifest: str | None) -> Step:
    args = _kubectl_args(text)
    verb, positions = read_verb(args)
    _check_before_verb(args, positions)
    verb = VERB_ALIASES.get(verb, verb)
    spec = verb_spec(verb)
    flags, words = _read_flags(verb, spec, [a for i, a in enumerate(args) if i not in positions])
    if spec.needs and not any(flag in flags for flag in spec.needs):
        raise Refused(f"`{verb}` needs {' or '.join(spec.needs)}")
    if spec.verify:
        spec.verify(flags)
    namespace = _explicit_namespace(args, flags)
    if (manifest is not None) != (spec.shape == "apply"):
        raise Refused("a manifest goes only with `apply -f -`" if manifest is not None
                      else "`apply -f -` needs the manifest shown in the plan")
    if spec.shape == "apply":
        return _apply_step(text, flags, words, namespace or None, default_namespace, manifest, cluster_ok)
    return _object_step(text, verb, spec, flags, words, namespace or default_namespace, cluster_ok)


def _kubectl_args(text: str) -> list[str]:
    """The words after ``kubectl``, once the text is known to be one plain kubectl command."""
    if len(text) > MAX_TEXT:
        raise Refused(f"longer than {MAX_TEXT:,} characters")
    if bad := next((c for c in text if not " " <= c <= "~"), None):
        raise Refused(_character_reason(bad))
    split = split_words(text)
    if not split.balanced:
        raise Refused("a quote is left open")
    if split.shell:
        char = split.shell[0]
        raise Refused(f'shell syntax ({_SHELL_WORDS[char]} "{char}"): the app runs kubectl alone, '
                      "never through a shell")
    words = split.commands[0] if split.commands else ()
    if not words:
        raise Refused("no command")
    if words[0] != "kubectl":
        raise Refused(_program_reason(words[0]))
    return list(words[1:])


_SHELL_WORDS = {"|": "a pipe", ";": "a second command", "&": "a second command or a background job",
                "<": "a redirection or here-document", ">": "a redirection", "(": "a subshell",
                ")": "a subshell", "`": "command substitution", "$": "shell expansion", "\n": "a second line"}


def _character_reason(char: str) -> str:
    if char < " " or char == "\x7f":
        return f"a control character ({char!r}): a step is one line of plain text"
    name = unicodedata.name(char, f"U+{ord(char):04X}")
    return f"`{char}` ({name}) is not plain ASCII: look-alike dashes, quotes and spaces are refused"


def _program_reason(program: str) -> str:
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", program):
        return f"sets an environment variable (`{clip(program)}`): the app sets kubectl's environment"
    if program.endswith("/kubectl") or program.lower().startswith("kubectl"):
        return f"`{clip(program)}`: write plain `kubectl`; the app chooses which kubectl runs"
    return f"`{clip(program)}` is not kubectl: the app runs kubectl only"


def _check_before_verb(args: list[str], positions: tuple[int, ...]) -> None:
    """Only ``-n``/``--namespace`` may come before the verb, so the verb is read as kubectl reads it."""
    index = 0
    while index < (positions[0] if positions else len(args)):
        name, value = split_flag(args[index])
        if name not in NAMESPACE_FLAGS:
            raise Refused(flag_reason(_long(name, {}), name)
                          or f"`{clip(args[index])}` before the verb: only -n/--namespace may go there")
        index += 2 if value is None else 1
    if not positions:
        raise Refused("no verb: say what kubectl should do")


def _explicit_namespace(args: list[str], flags: dict) -> str | None:
    """The namespace ``-n`` names; the badges' reading of the same words must find just that one."""
    explicit = flags.get("--namespace")
    if set(read_namespaces(args)[0]) != ({explicit} if explicit else set()):
        raise Refused("the namespace cannot be read unambiguously")
    return explicit


def _long(written: str, shorts: Mapping[str, str]) -> str:
    if written.startswith("--"):
        return written
    return shorts.get(written) or SHORTS.get(written, written)


def _read_flags(verb: str, spec: Verb, words: list[str]) -> tuple[dict, list[str]]:
    """The flags, each on the verb's allow-list with its value checked, and the other words in order."""
    flags: dict[str, str | bool] = {}
    positionals: list[str] = []
    queue = list(words)
    while queue:
        word = queue.pop(0)
        if word == "-" or not word.startswith("-"):
            positionals.append(word)
            continue
        written, value = split_flag(word)
        flag = _long(written, spec.shorts)
        check = _allowed(verb, spec, flag, written)
        value = _switch(written, value) if check is SWITCH else check(written, _value(written, value, queue))
        if flags.setdefault(flag, value) != value:
            raise Refused(f"`{written}` given twice with different values")
    return flags, positionals


def _allowed(verb: str, spec: Verb, flag: str, written: str) -> Check:
    if flag == "--namespace":
        return namespace_value
    if flag in spec.flags:
        return spec.flags[flag]
    raise Refused(flag_reason(flag, written) or f"`{clip(written)}` is not a flag the app accepts for `{verb}`")


def _value(written: str, value: str | None, queue: list[str]) -> str:
    if value is not None:
        return value
    if not queue or (queue[0].startswith("-") and queue[0] != "-"):
        raise Refused(f"`{written}` needs a value")
    return queue.pop(0)


def _switch(written: str, value: str | None) -> bool:
    if value is None:
        return True
    if written.startswith("--") and value in ("true", "false"):
        return value == "true"
    raise Refused(f"`{written}` is a switch: write it alone")


def _flag_args(flags: dict) -> list[str]:
    """Flags in one unambiguous spelling each: ``--flag=value``, ``--switch``, ``--switch=false``."""
    return [flag if value is True else f"{flag}=false" if value is False else f"{flag}={value}"
            for flag, value in flags.items() if flag != "--namespace"]


def _object(verb: str, spec: Verb, words: list[str], cluster_ok: bool) -> tuple[Kind, str | None, list[str]]:
    """The kind and name a step acts on (``kind/name`` or ``kind name``) and the words after them."""
    if spec.shape == "events":
        return get_kind("events"), None, words
    if spec.shape == "top" or (spec.shape == "logs" and words and "/" not in words[0]):
        kind_word, name, rest = "pods", (words[0] if words else None), words[1:]
    elif not words:
        raise Refused(f"`{verb}` needs " + ("a kind" if spec.shape == "list" else "an object: kind/name"))
    else:
        kind_word, slash, name = words[0].partition("/")
        rest = words[1:]
        if not slash:
            name = rest.pop(0) if rest else None
    kind = kind_named(kind_word, cluster_ok)
    if spec.kinds is not None and kind.name not in spec.kinds:
        raise Refused(f"`{verb}` works on {', '.join(sorted(spec.kinds))}, not {kind.name}")
    if name is None and spec.shape in ("object", "logs"):
        raise Refused(f"`{verb}` needs one named object")
    return kind, (object_name(name) if name is not None else None), rest


def _object_step(text: str, verb: str, spec: Verb, flags: dict, words: list[str], namespace: str | None,
                 cluster_ok: bool) -> Step:
    """A step on one kind (and at most one named object) in one namespace."""
    kind, name, rest = _object(verb, spec, words, cluster_ok)
    if spec.pairs:
        rest = spec.pairs(verb, rest)
    elif rest:
        raise Refused(f"one object at a time: `{clip(rest[0])}` is one word too many")
    if kind.name == "secrets" and verb == "get" and (flags.get("--output", "name") not in ("name", "wide")
                                                      or "--sort-by" in flags):
        raise Refused("this would print the Secret's values: list secrets by name, or describe one")
    if verb == "logs":
        flags.setdefault("--tail", str(LOG_TAIL_DEFAULT))
    if kind.namespaced and not namespace:
        raise Refused("no namespace: add -n <namespace>")
    kinds = (kind.name, "pods") if verb == "logs" and kind.name != "pods" else (kind.name,)
    return Step(text, verb, changes_cluster(verb, []), kind.name, name, namespace if kind.namespaced else None,
                kinds, ((kind.name, name),) if name else (), None,
                (*verb.split(" "), *_target(spec, kind, name), *rest, *_flag_args(flags)))


def _target(spec: Verb, kind: Kind, name: str | None) -> tuple[str, ...]:
    """The object as kubectl gets it: ``deployments.v1.apps/web``; ``top pod`` takes a bare pod name."""
    if spec.shape == "events" or (spec.shape == "top" and not name):
        return ()
    if spec.shape == "top":
        return (name,)
    return (f"{resource_arg(kind)}/{name}" if name else resource_arg(kind),)


def _apply_step(text: str, flags: dict, words: list[str], namespace: str | None, default_namespace: str | None,
                manifest: str, cluster_ok: bool) -> Step:
    """``apply -f -``: the objects come from the manifest, all in one namespace."""
    if words:
        raise Refused(f"`apply` reads its objects from the manifest, not `{clip(words[0])}`")
    documents, stream = _manifest(manifest, cluster_ok)
    named = sorted({ns for _, _, ns in documents if ns})
    if len(named) > 1:
        raise Refused(f"the manifest spans several namespaces ({', '.join(named)}): one per step")
    if namespace and named and namespace != named[0]:
        raise Refused(f"the manifest says namespace {named[0]}, the command {namespace}")
    namespace = namespace or (named[0] if named else default_namespace)
    if not namespace and any(kind.namespaced for kind, _, _ in documents):
        raise Refused("no namespace: add -n <namespace>")
    objects = tuple((kind.name, name) for kind, name, _ in documents)
    return Step(text, "apply", True, objects[0][0], objects[0][1] if len(objects) == 1 else None, namespace,
                tuple(dict.fromkeys(kind for kind, _ in objects)), objects, stream, ("apply", *_flag_args(flags)))


def _manifest(manifest: str, cluster_ok: bool) -> tuple[list[tuple[Kind, str, str | None]], str]:
    """Each document's kind, name and namespace, and what kubectl reads: the documents as parsed here.

    kubectl gets the parsed documents re-written as a stream of JSON objects (one a line, which
    every kubectl's decoder reads), so it acts on exactly what was checked: no YAML reader
    differences (duplicate keys, tags). Aliases are refused: a few lines of them expand to gigabytes.
    """
    if len(manifest) > MAX_MANIFEST:
        raise Refused(f"the manifest is longer than {MAX_MANIFEST:,} characters")
    check_nesting(manifest, "the manifest")
    try:
        if any(isinstance(event, yaml.AliasEvent) for event in yaml.parse(manifest, Loader=yaml.SafeLoader)):
            raise Refused("the manifest uses YAML aliases (*name): write each object out")
        documents = [d for d in yaml.safe_load_all(manifest) if d is not None]
        stream = "".join(json.dumps(d, allow_nan=False, default=_json_value) + "\n" for d in documents)
    except (yaml.YAMLError, ValueError, TypeError, RecursionError):
        raise Refused("the manifest is not valid YAML for Kubernetes objects") from None
    if not documents or len(documents) > MAX_DOCUMENTS:
        raise Refused(f"the manifest needs from 1 to {MAX_DOCUMENTS} objects")
    return [_document(d, cluster_ok) for d in documents], stream


def _json_value(value):
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def _document(document, cluster_ok: bool) -> tuple[Kind, str, str | None]:
    """One manifest object: a registered kind at its own API version, named, in at most one namespace."""
    if not isinstance(document, dict) or not isinstance(document.get("metadata"), dict):
        raise Refused("each manifest document must be one object with metadata")
    api_version, api_kind = document.get("apiVersion"), document.get("kind")
    kind = kind_for_api_kind(api_kind) if isinstance(api_kind, str) else None
    if kind is None or api_kind != kind.api_kind or api_version != kind.api_version:
        raise Refused(f"`{clip(str(api_version))}` `{clip(str(api_kind))}` is not one of the kinds grants name")
    kind_named(kind.name, cluster_ok)
    metadata = document["metadata"]
    if "name" not in metadata:
        raise Refused("each object in the manifest needs metadata.name (one named object, no generateName)")
    namespace = metadata.get("namespace")
    return kind, object_name(metadata["name"]), None if namespace is None else namespace_value(
        "metadata.namespace", namespace)
