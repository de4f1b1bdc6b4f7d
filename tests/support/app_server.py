"""Run the real app under gunicorn for browser tests.

One process tree per test session: a fresh SQLite database in a temporary directory, the
lab's app identity (`.lab/app.kubeconfig`), a real OIDC provider and the offline planner.
gunicorn binds a free loopback port; `start()` returns once `/healthz` answers. Everything the
app prints goes to a log file whose tail is shown when something fails.

    with AppServer(kubeconfig=..., oidc_issuer=..., llm_base_url=...) as server:
        password = server.seed_admin("admin")
        ...  # a browser at server.url

User ids start at a random high number: RBAC bindings are named after user ids
(`cluster-codex-<id>-<kind>`) and the lab is shared with other test sessions.
"""

from __future__ import annotations

import os
import random
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT = 90  # seconds; a cold import on a busy 2-core machine is slow
STOP_TIMEOUT = 15


class AppServerError(RuntimeError):
    """The app did not start, or a CLI command against its database failed."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class AppServer:
    """gunicorn serving `wsgi:app` on 127.0.0.1:<free port> with a fresh database."""

    def __init__(self, *, kubeconfig: str | Path, oidc_issuer: str | None = None,
                 oidc_client_id: str = "cluster-codex-browser",
                 oidc_client_secret: str = "browser-test-secret",
                 llm_base_url: str | None = None, workers: int = 2, threads: int = 8,
                 extra_env: dict[str, str] | None = None, workdir: Path | None = None):
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="codex-app-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.db_path = self.workdir / "codex.db"
        self.log_path = self.workdir / "app.log"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workers, self.threads = workers, threads
        self.process: subprocess.Popen | None = None
        self.env = {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "CODEX_DATABASE_URL": f"sqlite:///{self.db_path}",
            "CODEX_INSTANCE_PATH": str(self.workdir / "instance"),
            "CODEX_SECRET_KEY": secrets.token_hex(32),
            "CODEX_KUBECONFIG": str(kubeconfig),
            # The periodic sync deletes bindings of users unknown to *this* database, which
            # would strip other sessions' users in the shared lab: grants sync on change only.
            "CODEX_RBAC_SYNC_INTERVAL": "0",
            "CODEX_RESULTS_MAX_AGE": "1",
        }
        if oidc_issuer:
            self.env.update(CODEX_OIDC_ISSUER=oidc_issuer, CODEX_OIDC_CLIENT_ID=oidc_client_id,
                            CODEX_OIDC_CLIENT_SECRET=oidc_client_secret)
        if llm_base_url:
            self.env.update(CODEX_LLM_BASE_URL=llm_base_url, CODEX_LLM_API_KEY="offline")
        self.env.update(extra_env or {})

    # -- the database, through the app's own CLI ---------------------------------------------

    def flask(self, *args: str, stdin: str | None = None, timeout: float = 120) -> str:
        """Run `flask --app wsgi <args>` against this server's database; return stdout."""
        cmd = [sys.executable, "-m", "flask", "--app", "wsgi", *args]
        proc = subprocess.run(cmd, cwd=REPO, env=self.env, input=stdin, capture_output=True,
                              text=True, timeout=timeout)
        if proc.returncode != 0:
            raise AppServerError(f"flask {' '.join(args)} failed ({proc.returncode}):\n"
                                 f"{proc.stdout}\n{proc.stderr}")
        return proc.stdout

    def prepare_database(self) -> None:
        """Migrate the fresh database and make user ids start at a random high number."""
        self.flask("users", "list")  # create_app migrates on every start, CLI included
        floor = random.randint(1_000_000, 1_900_000_000)
        with sqlite3.connect(self.db_path) as conn:
            conn.execute("INSERT INTO users (id, username, is_admin, is_disabled, rbac_pending, "
                         "created_at) VALUES (?, '_id-floor', 0, 1, 0, CURRENT_TIMESTAMP)",
                         (floor,))
        self._id_floor = floor

    def seed_admin(self, username: str = "admin") -> str:
        """Create the first administrator with `flask seed-admin`; return its password."""
        out = self.flask("seed-admin", "--username", username)
        match = re.search(r"with password: (\S+)", out)
        if not match:
            raise AppServerError(f"seed-admin printed no password:\n{out}")
        floor = getattr(self, "_id_floor", None)
        if floor is not None:  # the admin holds the high id now; the placeholder can go
            with sqlite3.connect(self.db_path) as conn:
                conn.execute("DELETE FROM users WHERE id = ?", (floor,))
        return match.group(1)

    # -- the server ----------------------------------------------------------------------------

    def start(self) -> "AppServer":
        if not self.db_path.exists():
            self.prepare_database()
        cmd = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{self.port}",
               "--workers", str(self.workers), "--worker-class", "gthread",
               "--threads", str(self.threads), "--timeout", "120", "--graceful-timeout", "5",
               "--access-logfile", "-", "--error-logfile", "-", "--preload", "wsgi:app"]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(cmd, cwd=REPO, env=self.env, stdout=log,
                                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AppServerError(f"gunicorn exited with {self.process.returncode}:\n"
                                     f"{self.log_tail()}")
            try:
                if requests.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.2)
        self.stop()
        raise AppServerError(f"the app did not answer /healthz within {START_TIMEOUT}s:\n"
                             f"{self.log_tail()}")

    def log_tail(self, lines: int = 80, skip: str | None = None) -> str:
        """The last lines the app logged (for failure messages), leaving out lines with `skip`."""
        if not self.log_path.exists():
            return "(no log)"
        text = [line for line in self.log_path.read_text(errors="replace").splitlines()
                if not (skip and skip in line)]
        return f"--- {self.log_path} (last {lines} lines) ---\n" + "\n".join(text[-lines:])

    def stop(self) -> None:
        """Stop gunicorn and its workers (idempotent)."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=STOP_TIMEOUT)

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> "AppServer":
        try:
            return self.start()
        except BaseException:  # a half-started gunicorn must not outlive the failure
            self.stop()
            raise

    def __exit__(self, *exc) -> None:
        self.stop()
