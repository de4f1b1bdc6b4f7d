"""Run the real app under gunicorn, for the browser tests, the sweeps and the benchmarks.

One process tree per server: a fresh SQLite database in a temporary directory, a kubeconfig
(the lab's app identity, or one that reaches nothing), optionally a real OIDC provider and the
offline planner. gunicorn binds a free loopback port; `start()` returns once `/healthz` answers.
Everything the app prints goes to a log file whose tail is shown when something fails.

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
import sqlite3
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

from tests.support.child_process import REPO, ChildProcess, free_port

START_TIMEOUT = 90  # seconds; a cold import on a busy 2-core machine is slow
GUNICORN_CONF = REPO / "gunicorn.conf.py"  # drains plan jobs and streams on SIGTERM


class AppServerError(RuntimeError):
    """A CLI command against the server's database failed."""


class AppServer:
    """gunicorn serving `wsgi:app` on 127.0.0.1:<free port> with a fresh database."""

    def __init__(self, *, kubeconfig: str | Path, oidc_issuer: str | None = None,
                 oidc_client_id: str = "cluster-codex-browser",
                 oidc_client_secret: str = "browser-test-secret",
                 llm_base_url: str | None = None, workers: int = 2, threads: int = 48,
                 access_log: bool = True, extra_env: dict[str, str] | None = None,
                 workdir: Path | None = None, graceful_timeout: int = 5):
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="codex-app-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.db_path = self.workdir / "codex.db"
        self.log_path = self.workdir / "app.log"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cmd = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{self.port}",
               "--workers", str(workers), "--worker-class", "gthread", "--threads", str(threads),
               "--timeout", "120", "--graceful-timeout", str(graceful_timeout), "--config", str(GUNICORN_CONF),
               *(["--access-logfile", "-"] if access_log else []),
               "--error-logfile", "-", "--preload", "wsgi:app"]
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
            "CODEX_PLAN_DRAIN_SECONDS": str(max(1, graceful_timeout - 2)),  # within the graceful timeout
        }
        if oidc_issuer:
            self.env.update(CODEX_OIDC_ISSUER=oidc_issuer, CODEX_OIDC_CLIENT_ID=oidc_client_id,
                            CODEX_OIDC_CLIENT_SECRET=oidc_client_secret)
        if llm_base_url:
            self.env.update(CODEX_LLM_BASE_URL=llm_base_url, CODEX_LLM_API_KEY="offline")
        self.env.update(extra_env or {})
        self.child = ChildProcess("gunicorn", cmd, log_path=self.log_path, env=self.env)

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
        url = self.env["CODEX_DATABASE_URL"]
        if url.startswith("postgresql"):  # a sequence: move it (replicas sharing it may each do so)
            engine = sa.create_engine(url)
            with engine.begin() as conn:
                conn.execute(sa.text("SELECT setval(pg_get_serial_sequence('users', 'id'), :floor)"),
                             {"floor": floor})
            engine.dispose()
            return
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

    @contextmanager
    def in_process_app(self):
        """This server's app built in this process (same database, cluster and secret key), inside
        its app context: for seeding users and plan runs before or while gunicorn serves."""
        from app.config import Config
        from tests.support.apps import build_app, close_app

        settings = {"SQLALCHEMY_DATABASE_URI": self.env["CODEX_DATABASE_URL"],
                    "SECRET_KEY": self.env["CODEX_SECRET_KEY"],
                    "CODEX_KUBECONFIG": self.env["CODEX_KUBECONFIG"], "CODEX_RBAC_SYNC_INTERVAL": 0}
        app = build_app(settings, base=Config)
        try:
            with app.app_context():
                yield app
        finally:
            close_app(app)

    # -- the server ----------------------------------------------------------------------------

    @property
    def process(self) -> subprocess.Popen | None:
        """The gunicorn master (its workers are its children)."""
        return self.child.process

    def start(self) -> "AppServer":
        if not self.db_path.exists():
            self.prepare_database()
        self.child.start().wait_for_http(f"{self.url}/healthz", timeout=START_TIMEOUT)
        return self

    def log_tail(self, lines: int = 80, skip: str | None = None) -> str:
        """The last lines the app logged (for failure messages), leaving out lines with `skip`."""
        return self.child.log_tail(lines, skip)

    def stop(self) -> None:
        """Stop gunicorn and its workers (idempotent)."""
        self.child.stop()

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
