"""How labctl talks to whoever runs it: `say` prints one progress line; a LabError is a failure
that `cli.main` turns into one line on stderr and exit code 1 (no traceback)."""

from __future__ import annotations


class LabError(RuntimeError):
    """A failure worth one line on stderr and a non-zero exit."""


def say(msg: str) -> None:
    print(f"lab: {msg}", flush=True)
