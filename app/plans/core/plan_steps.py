"""The steps of a finished plan, as the run page lists them: every kubectl command of the plan in
order, each with its role in the plan's prose.

A plan says how to verify and how to undo each change ("**How to undo:**" and its command, as the
prompts ask and the offline planner writes). A command under such a line is that change's undo, not a
step of the fix: the run page labels it, the Apply confirmation names it, and whoever follows a plan to
the end (tests/, bench/) runs the fix without undoing it. An `apply -f -` step reads the YAML block its
step shows, so the step carries that manifest.

A step is named by its index in this list: the order of `extract_commands`, which it walks the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from markdown_it import MarkdownIt

from app.plans.core.commands import KubectlCommand, parse_command, split_code, split_words


class StepRole(StrEnum):
    STEP = "step"
    VERIFY = "verify"
    UNDO = "undo"


# The line before a command that says what it is for: "**How to undo:**", "To undo it:", "Undo:",
# "Rollback:". A step titled "Roll back deployment/x" is a change, not an undo: only these forms count.
_ROLE_LABELS = (
    (StepRole.UNDO, re.compile(r"^\W*undo\b|\bto undo\b|\bundo\s*(it|this|the change)?\s*:|"
                               r"\broll\s*back\s*:|\brevert\s*:", re.I)),
    (StepRole.VERIFY, re.compile(r"^\W*verify\b|\bto verify\b|\bverify\s*(it|this)?\s*:|\bwhat to look for\b|"
                                 r"\bcheck\s*:", re.I)),
)
_YAML_INFO = {"yaml", "yml"}


@dataclass(frozen=True)
class PlanStep:
    command: KubectlCommand
    role: StepRole = StepRole.STEP
    undoes: int | None = None  # for an undo: the index of the change it undoes
    undo: str | None = None  # for a change: the text of its undo command
    manifest: str | None = None  # for `apply -f -`: the YAML block of its step

    @property
    def text(self) -> str:
        return self.command.text

    @property
    def changes_cluster(self) -> bool:
        return self.command.changes_cluster


def _role(label: str) -> StepRole:
    for role, pattern in _ROLE_LABELS:
        if pattern.search(label.strip()):
            return role
    return StepRole.STEP


def _reads_stdin(command: KubectlCommand) -> bool:
    """`kubectl apply -f -` (or `--filename=-`, `-f-`): the manifest comes from the plan."""
    if command.verbs != ("apply",):
        return False
    words = split_words(command.text).commands[0]
    pairs = zip(words, list(words[1:]) + [""])
    return any(w in ("-f-", "--filename=-") or (w in ("-f", "--filename") and nxt == "-") for w, nxt in pairs)


def plan_steps(markdown: str) -> list[PlanStep]:
    """Every kubectl command of the plan, in order, with its role, undo and manifest."""
    found: list[dict] = []
    label, section, manifests = "", 0, {}  # the paragraph before the block; heading count; section -> YAML
    for token in MarkdownIt("commonmark").parse(markdown or ""):
        if token.type == "heading_open":
            section, label = section + 1, ""
        elif token.type == "inline" and token.map is not None:
            for child in token.children or []:
                if child.type == "code_inline" and "kubectl" in child.content:
                    command = parse_command(child.content)
                    if command:
                        found.append({"command": command, "role": _role(token.content), "section": section})
            label = token.content
        elif token.type in ("fence", "code_block"):
            if token.info.strip().lower() in _YAML_INFO:
                manifests.setdefault(section, token.content)
            for _, command in split_code(token.content):
                if command:
                    found.append({"command": command, "role": _role(label), "section": section})
    return _pair(found, manifests)


def _pair(found: list[dict], manifests: dict[int, str]) -> list[PlanStep]:
    """Each undo with the change before it; each `apply -f -` with its section's YAML block."""
    undo_of: dict[int, int] = {}
    last_change = None
    for index, item in enumerate(found):
        if item["role"] == StepRole.UNDO and last_change is not None and last_change not in undo_of.values():
            undo_of[index] = last_change
        elif item["role"] == StepRole.STEP and item["command"].changes_cluster:
            last_change = index
    undo_text = {change: found[undo]["command"].text for undo, change in undo_of.items()}
    steps = []
    for index, item in enumerate(found):
        command = item["command"]
        role = item["role"] if item["role"] != StepRole.UNDO or index in undo_of else StepRole.STEP
        steps.append(PlanStep(command, role, undo_of.get(index), undo_text.get(index),
                              manifests.get(item["section"]) if _reads_stdin(command) else None))
    return steps
