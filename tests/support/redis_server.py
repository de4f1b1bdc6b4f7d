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
import tempfile
from pathlib import Path

import pytest
import redis

from tests.support.child_process import ChildProcess, free_port

START_TIMEOUT = 20  # seconds


class RedisServerError(RuntimeError):
    """redis-server is missing."""


class RedisServer:
    """redis-server on 127.0.0.1:<free port>, its files in a temporary directory."""

    def __init__(self):
        self.binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        if not os.access(self.binary, os.X_OK):
            raise RedisServerError("redis-server not found: install Debian's redis-server "
                                   "(scripts/bootstrap does)")
        self.root = Path(tempfile.mkdtemp(prefix="codex-redis-"))
        self.port = free_port()
        cmd = [self.binary, "--bind", "127.0.0.1", "--port", str(self.port),
               "--dir", str(self.root), "--save", "", "--appendonly", "no",
               "--daemonize", "no", "--logfile", ""]
        self.child = ChildProcess("redis-server", cmd, log_path=self.root / "redis.log",
                                  cwd=self.root)

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def client(self, db: int = 0) -> redis.Redis:
        return redis.Redis.from_url(self.url(db), socket_timeout=5)

    def start(self) -> "RedisServer":
        self.child.start()
        try:
            with self.client() as probe:
                self.child.wait_until(lambda: _answers(probe), "answer to PING",
                                      timeout=START_TIMEOUT, interval=0.05)
        except BaseException:
            self.stop()
            raise
        return self

    def restart(self) -> None:
        """Stop the server and start it again on the same port (empty: nothing is persisted)."""
        self.child.stop()
        self.start()

    def stop(self) -> None:
        """Stop the server's process group (idempotent) and remove its directory."""
        self.child.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> "RedisServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _answers(probe: redis.Redis) -> bool:
    try:
        return probe.ping()
    except redis.ConnectionError:
        return False


@pytest.fixture(scope="session")
def redis_server():
    """Debian's redis-server for this session (a pytest plugin, tests/conftest.py); tests use
    redis_url for an empty database."""
    with RedisServer() as server:
        yield server


@pytest.fixture
def redis_url(redis_server):
    """The URL of an emptied Redis database."""
    with redis_server.client() as client:
        client.flushdb()
    return redis_server.url()
