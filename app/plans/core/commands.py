"""Find the ``kubectl`` commands in a plan and say what each would do to the cluster."""

from __future__ import annotations

import re
import shlex
from collections.abc import Collection
from dataclasses import dataclass

from markdown_it import MarkdownIt

READ_ONLY = "read-only"
CHANGES = "changes-cluster"

_READ_ONLY_VERBS = {
    "get", "describe", "logs", "log", "events", "top", "explain", "api-resources", "api-versions", "diff",
    "version", "cluster-info", "wait", "kustomize", "completion", "options", "help", "plugin",
    "rollout status", "rollout history", "auth can-i", "auth whoami", "apply view-last-applied",
    "config view", "config get-contexts", "config current-context", "config get-clusters", "config get-users",
}
_TWO_WORD = {"rollout", "auth", "config", "set", "create", "top", "certificate", "apply", "plugin"}
_VALUE_FLAGS = {"-n", "--namespace", "--context", "--kubeconfig", "--cluster", "--user", "-s", "--server",
                "--as", "--as-group", "--as-uid", "--token", "--request-timeout", "-v", "--v", "--cache-dir"}
_OPERATOR = re.compile(r"^[;&|<>()]+$")
_HEREDOC = re.compile(r"<<-?\s*['\"]?(\w+)['\"]?")
_SHELL_PROMPT = re.compile(r"^\s*\$\s+")


@dataclass(frozen=True)
class KubectlCommand:
    text: str
    verbs: tuple[str, ...]
    changes_cluster: bool
    namespaces: tuple[str, ...] = ()
    all_namespaces: bool = False

    @property
    def effect(self) -> str:
        return CHANGES if self.changes_cluster else READ_ONLY

    def namespaces_outside(self, allowed: Collection[str]) -> tuple[str, ...]:
        """Namespaces this command aims at that are not in ``allowed`` ("*" for --all-namespaces)."""
        outside = tuple(ns for ns in self.namespaces if ns not in allowed)
        return outside + (("*",) if self.all_namespaces else ())

    def outside_grants(self, allowed: Collection[str]) -> bool:
        return bool(self.namespaces_outside(allowed))


def _tokens(line: str) -> list[str]:
    lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|<>()")
    lexer.whitespace_split = True
    lexer.commenters = "#"
    try:
        return list(lexer)
    except ValueError:  # unbalanced quotes in model output: fall back to whitespace
        return line.split()


def _invocations(tokens: list[str]) -> list[list[str]]:
    """The argument lists that follow each ``kubectl`` in a tokenized line."""
    found, current = [], None
    for token in tokens:
        if _OPERATOR.match(token):
            current = None
        elif current is not None:
            current.append(token)
        elif token == "kubectl" or token.endswith("/kubectl"):
            current = []
            found.append(current)
    return found


def _verb(args: list[str]) -> str:
    words, skip = [], False
    for arg in args:
        if skip:
            skip = False
        elif arg.startswith("-"):
            skip = arg in _VALUE_FLAGS
        else:
            words.append(arg)
            if len(words) == 2 or words[0] not in _TWO_WORD:
                break
    if len(words) == 2 and (words[0] not in _TWO_WORD or not re.fullmatch(r"[a-z][a-z-]*", words[1])
                            or (words[0] == "apply" and "last-applied" not in words[1])):
        words = words[:1]
    return " ".join(words)


def _namespaces(args: list[str]) -> tuple[list[str], bool]:
    namespaces, every = [], False
    for index, arg in enumerate(args):
        if arg in ("-n", "--namespace") and index + 1 < len(args):
            namespaces.append(args[index + 1])
        elif arg.startswith("--namespace="):
            namespaces.append(arg.split("=", 1)[1])
        elif arg.startswith("-n") and not arg.startswith("--") and len(arg) > 2:
            namespaces.append(arg[2:].lstrip("="))
        elif arg in ("-A", "--all-namespaces") or arg == "--all-namespaces=true":
            every = True
    return namespaces, every


def _changes(verb: str, args: list[str]) -> bool:
    if verb in _READ_ONLY_VERBS or verb.split(" ")[0] in ("get", "describe", "logs", "top", "explain"):
        return False
    dry_run = [a for a in args if a == "--dry-run" or a.startswith("--dry-run=")]
    return not (dry_run and dry_run[-1].split("=", 1)[-1] in ("--dry-run", "client", "server"))


def parse_command(text: str) -> KubectlCommand | None:
    """Classify one logical shell line; None when it runs no kubectl."""
    invocations = _invocations(_tokens(_SHELL_PROMPT.sub("", text.split("\n", 1)[0])))
    if not invocations:
        return None
    verbs, namespaces, every, changes = [], [], False, False
    for args in invocations:
        verb = _verb(args)
        verbs.append(verb)
        changes = changes or _changes(verb, args)
        found, all_ns = _namespaces(args)
        namespaces.extend(ns for ns in found if ns not in namespaces)
        every = every or all_ns
    return KubectlCommand(_SHELL_PROMPT.sub("", text).strip(), tuple(verbs), changes, tuple(namespaces), every)


def logical_lines(code: str) -> list[str]:
    """Join backslash continuations and keep here-documents with the line that opens them."""
    lines, result, index = code.split("\n"), [], 0
    while index < len(lines):
        line = lines[index]
        index += 1
        while line.rstrip().endswith("\\") and index < len(lines):
            line = line.rstrip()[:-1].rstrip() + " " + lines[index].strip()
            index += 1
        heredoc = _HEREDOC.search(line) if "kubectl" in line else None
        if heredoc:
            body = []
            while index < len(lines):
                body.append(lines[index])
                index += 1
                if body[-1].strip() == heredoc.group(1):
                    break
            line = "\n".join([line, *body])
        result.append(line)
    return result


def split_code(code: str) -> list[tuple[str, KubectlCommand | None]]:
    """A code block as segments: each kubectl line alone, other lines grouped in order."""
    segments: list[tuple[str, KubectlCommand | None]] = []
    for line in logical_lines(code.rstrip("\n")):
        command = parse_command(line) if "kubectl" in line else None
        if command:
            segments.append((_SHELL_PROMPT.sub("", line).strip(), command))
        elif segments and segments[-1][1] is None:
            segments[-1] = (segments[-1][0] + "\n" + line, None)
        else:
            segments.append((line, None))
    return [(text, cmd) for text, cmd in segments if cmd or text.strip()]


def extract_commands(markdown: str) -> list[KubectlCommand]:
    """Every kubectl command in a plan: in fenced/indented code blocks and in inline code."""
    found = []
    for token in MarkdownIt("commonmark").parse(markdown or ""):
        if token.type in ("fence", "code_block"):
            found.extend(cmd for _, cmd in split_code(token.content) if cmd)
        elif token.type == "inline":
            for child in token.children or []:
                if child.type == "code_inline" and "kubectl" in child.content:
                    command = parse_command(child.content)
                    if command:
                        found.append(command)
    return found
