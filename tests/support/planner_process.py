"""The real offline planner (``python -m offline_planner``) on a free port, for tests and benchmarks.

    with PlannerProcess("--delay-ms", "1") as planner:
        settings = ModelSettings(base_url=planner.base_url)

The planner binds port 0 and prints the port it got, so parallel test runs never collide.
"""

from __future__ import annotations

import os
import sys

from tests.support.child_process import ChildProcess

READY = r"listening on (http://[\d.]+:(\d+)/v1)"


class PlannerProcess:
    """One planner process; `base_url` and `port` are known once `start()` returns."""

    def __init__(self, *args: str, host: str = "127.0.0.1", env: dict | None = None,
                 start_timeout: float = 30):
        cmd = [sys.executable, "-m", "offline_planner", "--host", host, "--port", "0", *args]
        self.child = ChildProcess("offline planner", cmd,
                                  env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})})
        self.start_timeout = start_timeout
        self.base_url = ""
        self.port = 0

    def start(self) -> "PlannerProcess":
        ready = self.child.start().wait_for_log(READY, timeout=self.start_timeout)
        self.base_url, self.port = ready.group(1), int(ready.group(2))
        return self

    def log(self) -> str:
        return self.child.log()

    def stop(self) -> None:
        self.child.stop()

    def __enter__(self) -> "PlannerProcess":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
