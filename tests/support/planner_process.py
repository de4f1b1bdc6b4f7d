"""Start the real offline planner (``python -m offline_planner``) on a free port, for tests.

Usage::

    with PlannerProcess("--delay-ms", "1") as planner:
        settings = ModelSettings(base_url=planner.base_url)

The planner binds port 0 and prints the port it got, so parallel test runs never collide.
"""

from __future__ import annotations

import os
import re
import selectors
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
READY = re.compile(r"listening on (http://[\d.]+:(\d+)/v1)")


class PlannerProcess:
    def __init__(self, *args: str, host: str = "127.0.0.1", env: dict | None = None, start_timeout: float = 30):
        self.args = [sys.executable, "-m", "offline_planner", "--host", host, "--port", "0", *args]
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        self.start_timeout = start_timeout
        self.process: subprocess.Popen | None = None
        self.base_url = ""
        self.port = 0
        self._log = tempfile.TemporaryFile(mode="w+")

    def start(self) -> "PlannerProcess":
        self.process = subprocess.Popen(self.args, cwd=REPO, env=self.env, stdout=subprocess.PIPE,
                                        stderr=self._log, text=True)
        selector = selectors.DefaultSelector()
        selector.register(self.process.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if selector.select(timeout=0.2):
                match = READY.search(self.process.stdout.readline())
                if match:
                    self.base_url, self.port = match.group(1), int(match.group(2))
                    return self
            if self.process.poll() is not None:
                break
        self.stop()
        raise RuntimeError(f"offline planner did not start: {self.log()}")

    def log(self) -> str:
        self._log.seek(0)
        return self._log.read()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process and self.process.stdout:
            self.process.stdout.close()
        self._log.close()

    def __enter__(self) -> "PlannerProcess":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
