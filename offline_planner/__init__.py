"""The offline planner: a deterministic OpenAI-compatible chat-completions server.

It reads the finding and the gathered context that Cluster Codex's prompt templates put in
the user message (a fenced ```finding JSON block and fenced ``context=...`` sections) and
answers with a runbook for that class of failure, in remediation or root-cause mode.
Run it with ``python -m offline_planner --host 127.0.0.1 --port 8765``.
"""

from offline_planner.config import PlannerConfig
from offline_planner.server import make_server

__all__ = ["PlannerConfig", "make_server"]
