"""A server process for tests and benchmarks: started in its own process group with its output in
a log file, waited for with a bound, stopped with everything it forked.

Every server the suites start (gunicorn, the offline planner, the OIDC provider, Redis,
PostgreSQL) runs through `ChildProcess`, so each gets the same bounded start, the same failure
message (the log's tail) and the same stop: TERM to the group, KILL after a bound.

    with ChildProcess("redis", [binary, "--port", str(port)], log_path=root / "redis.log") as proc:
        proc.wait_until(lambda: ping(port), "redis-server to answer PING", timeout=20)
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[2]
STOP_TIMEOUT = 15  # seconds from TERM to KILL, and from KILL to giving up


class ChildProcessError(RuntimeError):
    """The process exited or did not become ready in time (the message has its log's tail)."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def closed_port_url() -> str:
    """An http URL on 127.0.0.1 where nothing listens (connections are refused)."""
    return f"http://127.0.0.1:{free_port()}"


class ChildProcess:
    """One command in its own session (process group), stdout and stderr in `log_path`."""

    def __init__(self, name: str, cmd: list[str], *, log_path: Path | None = None,
                 cwd: Path = REPO, env: dict[str, str] | None = None, user: str | None = None,
                 stop_signal: int = signal.SIGTERM):
        self.name, self.cmd, self.cwd, self.env, self.user = name, cmd, cwd, env, user
        self.stop_signal = stop_signal
        if log_path is None:
            fd, log_name = tempfile.mkstemp(prefix=f"codex-{name}-", suffix=".log")
            os.close(fd)
            log_path = Path(log_name)
        self.log_path = Path(log_path)
        self.process: subprocess.Popen | None = None

    @property
    def pid(self) -> int:
        return self.process.pid

    def start(self) -> "ChildProcess":
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(self.cmd, cwd=self.cwd, env=self.env, user=self.user,
                                            stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True)
        return self

    def wait_until(self, probe: Callable[[], object], what: str, *, timeout: float,
                   interval: float = 0.1):
        """Poll `probe` until it returns something truthy and return that; stop the process and
        raise ChildProcessError if it exits first or `timeout` seconds pass."""
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                self.stop()
                raise ChildProcessError(f"{self.name} exited with {self.process.returncode} "
                                        f"before {what}:\n{self.log_tail()}")
            found = probe()
            if found:
                return found
            if time.monotonic() >= deadline:
                self.stop()
                raise ChildProcessError(f"{self.name}: no {what} within {timeout:.0f}s:\n"
                                        f"{self.log_tail()}")
            time.sleep(interval)

    def wait_for_http(self, url: str, *, timeout: float) -> None:
        """Wait until GET `url` answers 200."""

        def answers():
            try:
                return requests.get(url, timeout=2).status_code == 200
            except requests.RequestException:
                return False

        self.wait_until(answers, f"200 from {url}", timeout=timeout, interval=0.2)

    def wait_for_log(self, pattern: str | re.Pattern, *, timeout: float) -> re.Match:
        """Wait until the log has a line matching `pattern` (a server saying where it listens)."""
        return self.wait_until(lambda: re.search(pattern, self.log()), f"log line {pattern!r}",
                               timeout=timeout)

    def log(self) -> str:
        """Everything the process printed so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_tail(self, lines: int = 80, skip: str | None = None) -> str:
        """The last lines of the log (for failure messages), leaving out lines with `skip`."""
        if not self.log_path.exists():
            return "(no log)"
        text = [line for line in self.log().splitlines() if not (skip and skip in line)]
        return f"--- {self.log_path} (last {lines} lines) ---\n" + "\n".join(text[-lines:])

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Signal the whole process group, then KILL it after `timeout` seconds (idempotent)."""
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, self.stop_signal)
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=timeout)
        except ProcessLookupError:  # it exited between poll() and the signal
            self.process.wait(timeout=timeout)

    def __enter__(self) -> "ChildProcess":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
