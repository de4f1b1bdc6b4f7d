"""Configuration from the environment (every variable starts with CODEX_)."""

import os
import re
import secrets
import shutil
from datetime import timedelta
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def _env(name, default=None):
    value = os.environ.get(name)
    return default if value is None or value == "" else value


def _flag(name, default):
    value = _env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "on", "true", "yes"}


def default_kubeconfig():
    """The lab's app kubeconfig when it exists, else None (standard resolution)."""
    lab_dir = Path(_env("CODEX_LAB_DIR", str(REPO_ROOT / ".lab")))
    candidate = lab_dir / "app.kubeconfig"
    return str(candidate) if candidate.exists() else None


def default_kubectl():
    """The newest kubectl `scripts/lab build` made (the lab's own version, like the lab's kubeconfig
    is the default cluster), else kubectl on PATH, else None (no kubectl)."""
    cache = Path(_env("CODEX_CACHE_DIR", str(Path.home() / ".cache" / "cluster-codex")))
    built = [path for path in (cache / "bin").glob("kube-*/kubectl") if os.access(path, os.X_OK)]
    return str(max(built, key=_version_of_dir)) if built else shutil.which("kubectl")


def _version_of_dir(path):
    return tuple(int(part) for part in re.findall(r"\d+", path.parent.name))


def _timeout(value):
    connect, _, read = value.partition(",")
    return (float(connect), float(read or connect))


class Config:
    """Settings read once from the environment when the class body runs.

    Keys named CODEX_* mirror the environment variable of the same name;
    Flask's own keys (SECRET_KEY, ...) are filled from CODEX_ variables.
    """

    # None: create_app loads or creates instance/secret_key (never hard-coded).
    SECRET_KEY = _env("CODEX_SECRET_KEY")
    # None: create_app uses sqlite:///<instance>/codex.db.
    SQLALCHEMY_DATABASE_URI = _env("CODEX_DATABASE_URL")
    CODEX_AUTO_MIGRATE = _flag("CODEX_AUTO_MIGRATE", True)

    PERMANENT_SESSION_LIFETIME = timedelta(seconds=int(_env("CODEX_SESSION_LIFETIME", "28800")))
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _flag("CODEX_COOKIE_SECURE", False)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session

    # None: the lab's .lab/app.kubeconfig if present, else ~/.kube/config or in-cluster.
    CODEX_KUBECONFIG = _env("CODEX_KUBECONFIG")
    CODEX_KUBE_CONTEXT = _env("CODEX_KUBE_CONTEXT")
    CODEX_KUBE_TIMEOUT = _timeout(_env("CODEX_KUBE_TIMEOUT", "3,10"))
    CODEX_K8SGPT_NAMESPACE = _env("CODEX_K8SGPT_NAMESPACE", "k8sgpt")
    # Seconds a process serves its cached K8sGPT Results before re-reading them in the
    # background (0: read on every request). See app/result_store.py.
    CODEX_RESULTS_MAX_AGE = float(_env("CODEX_RESULTS_MAX_AGE", "5"))
    # One list-and-watch of Results per process keeps the store current and pushes changed rows to
    # open dashboards (off: the store re-reads every CODEX_RESULTS_MAX_AGE s when asked).
    CODEX_RESULTS_WATCH = _flag("CODEX_RESULTS_WATCH", True)
    # Open dashboard push streams per process (each holds a server thread); beyond, pages poll.
    CODEX_PUSH_STREAMS = int(_env("CODEX_PUSH_STREAMS", "32"))
    CODEX_LIST_CACHE_TTL = float(_env("CODEX_LIST_CACHE_TTL", "5"))  # resource-table rows reuse, s
    CODEX_IMPERSONATION = _flag("CODEX_IMPERSONATION", True)
    CODEX_USERS_NAMESPACE = _env("CODEX_USERS_NAMESPACE", "cluster-codex-users")
    CODEX_USERS_GROUP = _env("CODEX_USERS_GROUP", "cluster-codex:users")
    CODEX_RBAC_SYNC_INTERVAL = int(_env("CODEX_RBAC_SYNC_INTERVAL", "300"))
    # Periodic sync also deletes bindings of users unknown to this database (one app per cluster).
    CODEX_RBAC_PRUNE = _flag("CODEX_RBAC_PRUNE", False)
    # Off: read-only mode. Every action (Run, Dry-run, Apply) is refused, nobody may change
    # (app.access.actions_enabled), and RBAC sync binds no change ClusterRoles.
    CODEX_ACTIONS = _flag("CODEX_ACTIONS", True)
    # Actions (app/actions/): the kubectl binary (None: default_kubectl()), seconds before a
    # kubectl is killed, seconds a dry-run stays good for its Apply, actions a user may start per
    # minute (Run, Dry-run and Apply alike, counted before the parser and grants are asked).
    CODEX_KUBECTL = _env("CODEX_KUBECTL")
    CODEX_ACTION_TIMEOUT = float(_env("CODEX_ACTION_TIMEOUT", "30"))
    CODEX_DRY_RUN_VALID_FOR = int(_env("CODEX_DRY_RUN_VALID_FOR", "300"))
    # Seconds after an Apply a plan waits for K8sGPT to drop its finding before it says "still
    # reported" (app/actions/verification.py).
    CODEX_VERIFY_WITHIN = int(_env("CODEX_VERIFY_WITHIN", "300"))
    CODEX_ACTIONS_PER_MINUTE = int(_env("CODEX_ACTIONS_PER_MINUTE", "20"))
    # Who approves an Apply: "self" (the user, after their dry-run) or "admin" (four eyes: the user
    # requests, an administrator approves, the change is applied as the user); seconds a request
    # stays open (app/actions/approvals.py).
    CODEX_APPROVAL = _env("CODEX_APPROVAL", "self")
    CODEX_APPROVAL_EXPIRES_AFTER = int(_env("CODEX_APPROVAL_EXPIRES_AFTER", "3600"))

    CODEX_OIDC_ISSUER = _env("CODEX_OIDC_ISSUER")
    CODEX_OIDC_CLIENT_ID = _env("CODEX_OIDC_CLIENT_ID")
    CODEX_OIDC_CLIENT_SECRET = _env("CODEX_OIDC_CLIENT_SECRET")
    CODEX_OIDC_SCOPES = _env("CODEX_OIDC_SCOPES", "openid email profile")
    CODEX_OIDC_GROUPS_CLAIM = _env("CODEX_OIDC_GROUPS_CLAIM", "groups")
    CODEX_ADMIN_GROUP = _env("CODEX_ADMIN_GROUP")
    CODEX_OIDC_TIMEOUT = float(_env("CODEX_OIDC_TIMEOUT", "10"))  # seconds per provider request

    # Sign-in hardening (app/login_limits.py, app/sessions.py).
    # Failed password sign-ins allowed per account (the username as typed, case-folded) and per
    # client address, as Flask-Limiter rate strings ("5 per minute", "5/minute;30/hour");
    # the next attempt gets 429 with Retry-After until the oldest failure leaves the window.
    CODEX_LOGIN_LIMIT_PER_ACCOUNT = _env("CODEX_LOGIN_LIMIT_PER_ACCOUNT", "5 per minute")
    CODEX_LOGIN_LIMIT_PER_ADDRESS = _env("CODEX_LOGIN_LIMIT_PER_ADDRESS", "20 per minute")
    # Every attempt per account, counted before the password is checked: failures are only
    # counted once answered, so without this a burst of parallel guesses would all be checked.
    CODEX_LOGIN_ATTEMPTS_PER_ACCOUNT = _env("CODEX_LOGIN_ATTEMPTS_PER_ACCOUNT", "10 per minute")
    # Where the counts live: memory:// is per process (the embedded one-process default);
    # redis://host:6379/0 shares them across workers and replicas.
    # Default: CODEX_REDIS_URL when set (the replicas' Redis), else memory://.
    CODEX_RATELIMIT_STORAGE_URL = _env("CODEX_RATELIMIT_STORAGE_URL", _env("CODEX_REDIS_URL") or "memory://")
    # Seconds a Redis storage may take to answer before sign-in falls back to in-memory counts.
    CODEX_RATELIMIT_TIMEOUT = float(_env("CODEX_RATELIMIT_TIMEOUT", "2"))
    # Seconds after sign-in when a session ends however active it is (CODEX_SESSION_LIFETIME is
    # the cookie's lifetime, renewed by every request).
    CODEX_SESSION_ABSOLUTE_LIFETIME = int(_env("CODEX_SESSION_ABSOLUTE_LIFETIME", "43200"))

    # Plans: the model server (read by app/plans/core/model_client.py) and the limits.
    CODEX_LLM_BASE_URL = _env("CODEX_LLM_BASE_URL", "http://127.0.0.1:8765/v1")
    CODEX_LLM_API_KEY = _env("CODEX_LLM_API_KEY", "offline")
    CODEX_LLM_MODEL = _env("CODEX_LLM_MODEL", "codex-offline-planner")
    CODEX_LLM_TIMEOUT = float(_env("CODEX_LLM_TIMEOUT", "60"))
    CODEX_LLM_MAX_TOKENS = _env("CODEX_LLM_MAX_TOKENS")
    # Plan jobs (app/plans/worker.py): worker threads per process, seconds a worker's lease on a run
    # lasts without renewal (a dead worker's run is reaped after about twice that), seconds a plan
    # may take in all; whether workers start at a process's first request (else with its first job).
    CODEX_PLAN_WORKERS = int(_env("CODEX_PLAN_WORKERS", "16"))
    CODEX_PLAN_LEASE_SECONDS = float(_env("CODEX_PLAN_LEASE_SECONDS", "10"))
    CODEX_PLAN_TIMEOUT = float(_env("CODEX_PLAN_TIMEOUT", "600"))
    CODEX_PLAN_WORKERS_AT_START = _flag("CODEX_PLAN_WORKERS_AT_START", True)
    # A pooled connection is tested before use: after a database restart a request gets a new one
    # instead of an error.
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    CODEX_PLAN_DRAIN_SECONDS = float(_env("CODEX_PLAN_DRAIN_SECONDS", "20"))
    # Shared state of several replicas (jobs, event streams, stop signals): redis://host:6379/0.
    # Unset: this process only (the embedded one-process default).
    CODEX_REDIS_URL = _env("CODEX_REDIS_URL")
    CODEX_PLAN_MAX_CONCURRENT = int(_env("CODEX_PLAN_MAX_CONCURRENT", "2"))  # streaming runs per user
    CODEX_PLAN_MAX_PER_MINUTE = int(_env("CODEX_PLAN_MAX_PER_MINUTE", "10"))  # runs started per user
    CODEX_PLAN_CONTEXT_LIMIT = int(_env("CODEX_PLAN_CONTEXT_LIMIT", "4000"))  # chars of user context
    CODEX_PLAN_CONTEXT_BUDGET = int(_env("CODEX_PLAN_CONTEXT_BUDGET", "16000"))  # bytes gathered
    CODEX_PLAN_STALE_AFTER = int(_env("CODEX_PLAN_STALE_AFTER", "900"))  # s before 'interrupted'


class TestConfig(Config):
    """Isolated settings for tests: no background sync; CSRF stays on."""

    TESTING = True
    SECRET_KEY = secrets.token_hex(32)  # fresh per test process: no key lives in the repo
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    CODEX_RBAC_SYNC_INTERVAL = 0
    CODEX_RESULTS_WATCH = False  # tests read the store synchronously (CODEX_RESULTS_MAX_AGE)
    CODEX_PLAN_WORKERS = 4
    CODEX_PLAN_WORKERS_AT_START = False  # started with a test's first plan, not by every request
    CODEX_REDIS_URL = None
    CODEX_OIDC_ISSUER = None
    CODEX_ADMIN_GROUP = None
