"""Read ``kubectl`` command lines: find them in a plan and say what each would do to the cluster.

The lexical half -- `split_words` (a line split the way bash splits it), `read_verb` and
`read_namespaces` -- is shared with the strict step parser (app.plans.core.kubectl), so a badge
and the executor never disagree about which verb a line runs or which namespace it aims at.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from markdown_it import MarkdownIt

READ_ONLY = "read-only"
CHANGES = "changes-cluster"

READ_ONLY_VERBS = frozenset({
    "get", "describe", "logs", "log", "events", "top", "explain", "api-resources", "api-versions", "diff",
    "version", "cluster-info", "wait", "kustomize", "completion", "options", "help", "plugin",
    "rollout status", "rollout history", "auth can-i", "auth whoami", "apply view-last-applied",
    "config view", "config get-contexts", "config current-context", "config get-clusters", "config get-users",
})
TWO_WORD_VERBS = frozenset({"rollout", "auth", "config", "set", "create", "top", "certificate", "apply", "plugin"})
# Flags whose value is the next word, so that word is not mistaken for the verb.
VALUE_FLAGS = frozenset({"-n", "--namespace", "--context", "--kubeconfig", "--cluster", "--user", "-s", "--server",
                         "--as", "--as-group", "--as-uid", "--token", "--request-timeout", "-v", "--v",
                         "--cache-dir"})
NAMESPACE_FLAGS = ("-n", "--namespace")
ALL_NAMESPACES_FLAGS = ("-A", "--all-namespaces")
SHELL_OPERATORS = frozenset(";&|<>()`\n")
_OPERATOR = re.compile(r"^[;&|<>()]+$")
_HEREDOC = re.compile(r"<<-?\s*['\"]?(\w+)['\"]?")
_SHELL_PROMPT = re.compile(r"^\s*\$\s+")


@dataclass(frozen=True)
class ShellWords:
    """A line split the way bash would split it, without running anything."""

    commands: tuple[tuple[str, ...], ...]  # the words of each simple command, between operators
    shell: tuple[str, ...]  # what a shell would do besides: operators met, `$` expansions
    balanced: bool  # False when a quote is left open (model output cut short)


class _Splitter:
    """The state of one split: finished commands, the word being read, the open quote."""

    def __init__(self):
        self.commands: list[list[str]] = [[]]
        self.shell: list[str] = []
        self.word: list[str] | None = None  # the parts of the word being read; [] is an empty word ('')
        self.quote: str | None = None

    def add(self, text: str) -> None:
        if self.word is None:
            self.word = []
        self.word.append(text)

    def end_word(self) -> None:
        if self.word is not None:
            self.commands[-1].append("".join(self.word))
        self.word = None

    def operator(self, char: str) -> None:
        self.end_word()
        self.shell.append(char)
        self.commands.append([])

    def quoted(self, char: str, chars) -> None:
        """One character inside quotes: single quotes keep everything, double quotes expand `$`."""
        if char == self.quote:
            self.quote = None
        elif self.quote == '"' and char == "\\":
            following = next(chars, "")
            self.add(following if following in '"\\$`\n' else char + following)
        else:
            if self.quote == '"' and char in "$`":
                self.shell.append(char)
            self.add(char)


def split_words(line: str) -> ShellWords:
    """Split like bash (quotes, backslashes, ``#`` comments), noting operators instead of obeying them."""
    state, chars = _Splitter(), iter(line)
    for char in chars:
        if state.quote:
            state.quoted(char, chars)
        elif char == "\\":
            following = next(chars, "")
            if following != "\n":  # backslash-newline joins lines
                state.add(following)
        elif char in " \t":
            state.end_word()
        elif char == "#" and state.word is None:
            for skipped in chars:  # a comment runs to the end of its line
                if skipped == "\n":
                    state.operator(skipped)
                    break
        elif char in "'\"":
            state.quote = char
            state.add("")
        elif char in SHELL_OPERATORS:
            state.operator(char)
        else:
            if char == "$":
                state.shell.append(char)
            state.add(char)
    balanced = state.quote is None
    state.end_word()
    return ShellWords(tuple(tuple(c) for c in state.commands if c), tuple(state.shell), balanced)


def split_flag(arg: str) -> tuple[str, str | None]:
    """A flag's name and attached value, as kubectl reads them: ``--namespace=a``, ``-na``, ``-n=a``."""
    if arg.startswith("--"):
        name, equals, value = arg.partition("=")
        return name, value if equals else None
    name, value = arg[:2], arg[2:]
    return (name, value[1:]) if value.startswith("=") else (name, value or None)


def read_verb(args: Sequence[str]) -> tuple[str, tuple[int, ...]]:
    """The verb ("get", "rollout restart") and the positions of its words, skipping flags and values."""
    positions: list[int] = []
    skip = False
    for index, arg in enumerate(args):
        if skip:
            skip = False
        elif arg.startswith("-"):
            skip = arg in VALUE_FLAGS
        else:
            positions.append(index)
            if len(positions) == 2 or arg not in TWO_WORD_VERBS:
                break
    if len(positions) == 2:
        first, second = (args[i] for i in positions)
        if (not re.fullmatch(r"[a-z][a-z-]*", second)
                or (first == "apply" and "last-applied" not in second)):
            positions.pop()
    return " ".join(args[i] for i in positions), tuple(positions)


def read_namespaces(args: Sequence[str]) -> tuple[list[str], bool]:
    """The namespaces ``-n``/``--namespace`` name, in order, and whether ``-A`` asks for all of them."""
    namespaces, every = [], False
    for index, arg in enumerate(args):
        name, value = split_flag(arg) if arg.startswith("-") else ("", None)
        if name in NAMESPACE_FLAGS:
            if value is None and index + 1 < len(args):
                value = args[index + 1]
            if value is not None:
                namespaces.append(value)
        elif name in ALL_NAMESPACES_FLAGS and value in (None, "true"):
            every = True
    return namespaces, every


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


def _commands(line: str) -> tuple[tuple[str, ...], ...]:
    """The simple commands of a line; with a quote left open, words split at whitespace instead."""
    split = split_words(line)
    if split.balanced:
        return split.commands
    commands: list[list[str]] = [[]]
    for word in line.split():
        if _OPERATOR.match(word):
            commands.append([])
        else:
            commands[-1].append(word)
    return tuple(tuple(c) for c in commands if c)


def _invocations(line: str) -> list[list[str]]:
    """The argument lists that follow the first ``kubectl`` of each simple command in a line."""
    found = []
    for words in _commands(line):
        start = next((i for i, word in enumerate(words) if word == "kubectl" or word.endswith("/kubectl")), None)
        if start is not None:
            found.append(list(words[start + 1:]))
    return found


def changes_cluster(verb: str, args: Sequence[str]) -> bool:
    """Whether a kubectl verb can change the cluster (a ``--dry-run`` of it cannot)."""
    if verb in READ_ONLY_VERBS or verb.split(" ")[0] in ("get", "describe", "logs", "top", "explain"):
        return False
    dry_run = [a for a in args if a == "--dry-run" or a.startswith("--dry-run=")]
    return not (dry_run and dry_run[-1].split("=", 1)[-1] in ("--dry-run", "client", "server"))


def parse_command(text: str) -> KubectlCommand | None:
    """Classify one logical shell line; None when it runs no kubectl."""
    invocations = _invocations(_SHELL_PROMPT.sub("", text.split("\n", 1)[0]))
    if not invocations:
        return None
    verbs, namespaces, every, changes = [], [], False, False
    for args in invocations:
        verb = read_verb(args)[0]
        verbs.append(verb)
        changes = changes or changes_cluster(verb, args)
        found, all_ns = read_namespaces(args)
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
