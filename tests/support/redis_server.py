"""A throwaway Redis for tests: Debian's redis-server on a free loopback port.

No persistence, a temporary working directory, stopped with its process group::

    with RedisServer() as redis_server:
        url = redis_server.url(db=0)   # redis://127.0.0.1:<port>/0

`start()` returns once the server answers PING; everything it prints goes to a log file
whose tail is part of any failure message.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import redis

from tests.support.app_server import free_port

START_TIMEOUT = 20  # seconds
STOP_TIMEOUT = 10


class RedisServerError(RuntimeError):
    """redis-server is missing or did not come up."""


class RedisServer:
    def __init__(self):
        self.binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        if not os.access(self.binary, os.X_OK):
            raise RedisServerError("redis-server not found: install Debian's redis-server "
                                   "(scripts/bootstrap does)")
        self.root = Path(tempfile.mkdtemp(prefix="codex-redis-"))
        self.log_path = self.root / "redis.log"
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def client(self, db: int = 0) -> redis.Redis:
        return redis.Redis.from_url(self.url(db), socket_timeout=5)

    def start(self) -> "RedisServer":
        cmd = [self.binary, "--bind", "127.0.0.1", "--port", str(self.port),
               "--dir", str(self.root), "--save", "", "--appendonly", "no",
               "--daemonize", "no", "--logfile", ""]
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(cmd, cwd=self.root, stdout=log,
                                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT
        with self.client() as probe:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RedisServerError(f"redis-server exited with {self.process.returncode}:"
                                           f"\n{self.log_tail()}")
                try:
                    if probe.ping():
                        return self
                except redis.ConnectionError:
                    pass
                time.sleep(0.05)
        self.stop()
        raise RedisServerError(f"redis-server did not answer PING within {START_TIMEOUT}s:\n"
                               f"{self.log_tail()}")

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return "(no log)"
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def stop(self) -> None:
        """Stop the server's process group (idempotent) and remove its directory."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=STOP_TIMEOUT)
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> "RedisServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
