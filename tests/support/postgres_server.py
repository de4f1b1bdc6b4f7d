"""A throwaway PostgreSQL for the suite's second database engine: Debian's server in a temporary
directory, reachable on a unix socket only, started and stopped like every other test server.

    server = PostgresServer().start()
    server.execute("CREATE DATABASE codex_1")
    url = server.url("codex_1")   # postgresql+psycopg://codex@/codex_1?host=...&port=...

As root the server runs as the ``postgres`` OS user (PostgreSQL refuses to run as root).
"""

from __future__ import annotations

import itertools
import os
import shutil
import signal
import subprocess
import tempfile
from glob import glob
from pathlib import Path

import pytest

from tests.support.child_process import ChildProcess, free_port

START_TIMEOUT = 60  # seconds


def _pg_bindir() -> Path:
    found = sorted(glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).resolve().parent
    pytest.fail("PostgreSQL server binaries not found: install Debian's postgresql "
                "(scripts/bootstrap does)")


class PostgresServer:
    """A fresh cluster (initdb) served by `postgres` itself, stopped with an immediate shutdown."""

    def __init__(self):
        self.bindir = _pg_bindir()
        self.root = Path(tempfile.mkdtemp(prefix="codex-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.user = "postgres" if os.geteuid() == 0 else None
        self._counter = itertools.count(1)
        cmd = [str(self.bindir / "postgres"), "-D", str(self.data), "-p", str(self.port),
               "-k", str(self.root), "-c", "listen_addresses=", "-c", "fsync=off",
               "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
        # SIGQUIT: immediate shutdown; the data is thrown away anyway.
        self.child = ChildProcess("postgres", cmd, log_path=self.root / "server.log",
                                  cwd=self.root, user=self.user, stop_signal=signal.SIGQUIT)

    def start(self) -> "PostgresServer":
        self.root.chmod(0o755)
        self.data.mkdir()
        if self.user:
            shutil.chown(self.root, self.user)
            shutil.chown(self.data, self.user)
        initdb = subprocess.run([str(self.bindir / "initdb"), "-D", str(self.data), "-U", "codex",
                                 "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"],
                                user=self.user, cwd=self.root, capture_output=True, text=True,
                                timeout=120)
        if initdb.returncode != 0:
            pytest.fail(f"initdb failed:\n{initdb.stdout}\n{initdb.stderr}")
        self.child.start().wait_until(self._answers, "connection on its socket",
                                      timeout=START_TIMEOUT)
        return self

    def _connect(self, dbname: str = "postgres"):
        import psycopg

        return psycopg.connect(host=str(self.root), port=self.port, user="codex", dbname=dbname,
                               autocommit=True, connect_timeout=5)

    def _answers(self) -> bool:
        import psycopg

        try:
            with self._connect():
                return True
        except psycopg.OperationalError:
            return False

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://codex@/{database}?host={self.root}&port={self.port}"

    def execute(self, sql: str) -> None:
        with self._connect() as conn:
            conn.execute(sql)

    def new_database_name(self) -> str:
        return f"codex_test_{next(self._counter)}"

    def down(self) -> None:
        """Stop the server, keeping its data (an outage; `up()` ends it)."""
        self.child.stop()

    def up(self) -> None:
        """Start the stopped server again on the same port and data (crash recovery included)."""
        self.child.start().wait_until(self._answers, "connection on its socket", timeout=START_TIMEOUT)

    def stop(self) -> None:
        self.child.stop()
        shutil.rmtree(self.root, ignore_errors=True)
