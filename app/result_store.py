"""The per-process store of K8sGPT Results (one per app, refreshed in the background), and the
findings a user may see from it.

"Not reported yet" (see pending_report): an empty dashboard says "No issues in your namespaces"
only once K8sGPT has had time to look. Before that -- K8sGPT set up less than ``REPORT_WITHIN``
seconds ago and no Result seen yet, or a granted namespace created less than ``REPORT_WITHIN``
seconds ago -- it says when K8sGPT's report is expected instead. Outside that window zero Results
means a healthy cluster and "No issues" stays.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable

from flask import current_app

from app.cluster.errors import Forbidden
from app.cluster.gateway import EXTENSION_KEY as GATEWAY_KEY
from app.findings import Finding, parse_results, visible_findings
from app.resources.format import parse_time

# How long K8sGPT takes to report on something new (itself just set up, a new namespace).
# k8sgpt-operator v0.2.20 analyses on its first reconcile, then every 30 s (its
# ReconcileSuccessInterval: spec.analysis.interval is ignored while auto-remediation is off),
# 10 s after a failed pass; the lab measures new findings 33-44 s after their object appears and
# the first Results 30-45 s after `scripts/lab up`. Twice the slowest pass plus margin.
REPORT_WITHIN = 90.0



@dataclass
class Snapshot:
    """What the store knows: the findings, when they were read, since when reads fail."""

    findings: list[Finding] = field(default_factory=list)
    fetched_at: float | None = None  # time.time() of the last successful read
    failing_since: float | None = None  # first failure of the current outage, None when healthy
    error: str = ""
    # When K8sGPT was set up; set by a successful read only while no Result was ever seen.
    k8sgpt_since: float | None = None
    # Namespaces created less than REPORT_WITHIN before the read: name -> creation time.
    new_namespaces: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class PendingReport:
    """A report K8sGPT has not had time to make: about `namespace` (None: its very first)."""

    namespace: str | None
    since: float  # when K8sGPT was set up, or when the namespace was created
    due: float


def pending_report(snapshot: Snapshot, namespaces: Iterable[str] | None,
                   now: float | None = None) -> PendingReport | None:
    """Return the latest-due report K8sGPT still owes a user of `namespaces` (None: every one).

    Asked only when the user sees no finding at all: it decides between "No issues in your
    namespaces" (None) and "K8sGPT has not reported yet, expected by ...".
    """
    now = time.time() if now is None else now
    pending = []
    if snapshot.k8sgpt_since is not None:
        pending.append(PendingReport(None, snapshot.k8sgpt_since,
                                     snapshot.k8sgpt_since + REPORT_WITHIN))
    wanted = None if namespaces is None else set(namespaces)
    pending += [PendingReport(ns, created, created + REPORT_WITHIN)
                for ns, created in snapshot.new_namespaces.items()
                if wanted is None or ns in wanted]
    pending = [p for p in pending if now < p.due]
    return max(pending, key=lambda p: (p.due, p.namespace is None)) if pending else None


def namespace_creations(gw) -> dict[str, float]:
    """Return every namespace's creation time (epoch seconds), read as the app."""
    data = gw.get(gw.as_app(), "/api/v1/namespaces", resourceVersion="0")  # the watch cache
    created = {}
    for item in data.get("items", []):
        metadata = item.get("metadata") if isinstance(item, dict) else None
        if not isinstance(metadata, dict):
            continue
        when = parse_time(metadata.get("creationTimestamp"))
        if isinstance(metadata.get("name"), str) and when is not None:
            created[metadata["name"]] = when.timestamp()
    return created


def k8sgpt_set_up_at(gw, namespaces: dict[str, float]) -> float | None:
    """Return when K8sGPT was set up here (epoch seconds): its newest K8sGPT object's creation.

    The operator (v0.2.20) writes no status on the K8sGPT object, so its age is all there is.
    When the app may not read K8sGPT objects (the chart grants it Results only), the K8sGPT
    namespace's creation (from `namespaces`) stands in: it is made with the operator's
    installation. None when there is no K8sGPT object.
    """
    try:
        items = gw.list_k8sgpts()
    except Forbidden:
        return namespaces.get(gw.k8sgpt_namespace)
    created = [parse_time((item.get("metadata") or {}).get("creationTimestamp"))
               for item in items if isinstance(item, dict)]
    created = [c for c in created if c is not None]
    return max(created).timestamp() if created else None


class ResultStore:
    """Per-process cache of parsed Results, refreshed in the background once stale.

    Every user's dashboard refreshes every few seconds; listing 2,000 Results per request
    would cost more than the page. Readers get the last snapshot at once; a stale one
    triggers one background refresh (never more than one in flight). ``max_age`` 0 reads
    synchronously on every call (tests that create a Result and look for it right away).
    The outage start is remembered here, per process, for the "unreachable since" banner.
    For "not reported yet" (pending_report) each refresh also reads ``namespaces()`` (see
    namespace_creations) and, until the first Result shows up or is overdue,
    ``set_up_at(namespaces)`` (see k8sgpt_set_up_at); when either fails, the plain empty state
    stays.
    """

    def __init__(self, fetch: Callable[[], list[dict]], max_age: float,
                 namespaces: Callable[[], dict[str, float]] | None = None,
                 set_up_at: Callable[[dict[str, float]], float | None] | None = None):
        self._fetch = fetch
        self._namespaces = namespaces
        self._set_up_at = set_up_at
        self.max_age = max_age
        self._snapshot = Snapshot()
        self._ages: tuple[float, dict[str, float]] = (0.0, {})  # when read, namespace creations
        self._change = threading.Condition()
        self.version = 0  # bumped by every new snapshot; dashboards' streams wait on it
        self.watching = False  # a watch keeps the snapshot current: reads never refresh it
        self._lock = threading.Lock()
        self._refreshing = False
        # Once K8sGPT has reported (or its first report is overdue), it never "has not reported
        # yet" again in this process: zero Results later means every issue is gone.
        self._past_first_report = False

    def snapshot(self) -> Snapshot:
        """Return the current findings, refreshing them first or in the background."""
        snap = self._snapshot
        if self.watching and (snap.fetched_at is not None or snap.failing_since is not None):
            return snap
        if self.max_age <= 0 or snap.fetched_at is None and snap.failing_since is None:
            self.refresh()
        elif time.time() - (snap.fetched_at or snap.failing_since or 0) > self.max_age:
            self._refresh_in_background()
        return self._snapshot

    def refresh(self) -> None:
        """Read the Results now and replace the snapshot."""
        try:
            items = self._fetch()
        except Exception as exc:  # noqa: BLE001 - any failure is an outage for the banner
            self._failed(exc)
            return
        self._publish(parse_results(items), reported=bool(items))

    def _failed(self, exc: Exception) -> None:
        old = self._snapshot
        self._snapshot = Snapshot(findings=old.findings, fetched_at=old.fetched_at,
                                  failing_since=old.failing_since or time.time(), error=str(exc) or type(exc).__name__)
        self._changed()

    def _publish(self, findings: list[Finding], ages_max_age: float = 0, reported: bool = False) -> None:
        """Replace the snapshot with these findings (and K8sGPT's and the namespaces' ages);
        `reported`: K8sGPT has written Results (even ones without a usable name)."""
        now = time.time()
        if not ages_max_age or now - self._ages[0] > ages_max_age:
            self._ages = (now, self._ask(self._namespaces) or {})
        created = self._ages[1]
        self._past_first_report = self._past_first_report or reported or bool(findings)
        since = None if self._past_first_report else self._ask(self._set_up_at, created)
        if since is not None and now >= since + REPORT_WITHIN:
            self._past_first_report, since = True, None
        self._snapshot = Snapshot(
            findings=findings, fetched_at=now, k8sgpt_since=since,
            new_namespaces={ns: t for ns, t in created.items() if now < t + REPORT_WITHIN})
        self._changed()

    # -- pushed changes (the watch) -------------------------------------------------------------

    def _changed(self) -> None:
        with self._change:
            self.version += 1
            self._change.notify_all()

    def wait_for_change(self, seen: int, timeout: float) -> int:
        """Block until the snapshot is newer than version `seen` (or `timeout` passes); the version now."""
        with self._change:
            self._change.wait_for(lambda: self.version != seen, timeout)
            return self.version

    def watch_forever(self, list_with_version, watch, stop: threading.Event) -> None:
        """Keep the snapshot current by list-and-watch (run in a thread of its own): list, then
        apply each change as it comes, resume from the last resourceVersion when a watch ends, list
        again on 410 Gone, and back off (1 s doubling to 30 s) while the API server is away."""
        from app.cluster.errors import Gone

        backoff = 1.0
        while not stop.is_set():
            try:
                items, version = list_with_version()
                parsed = {f.result_name: f for f in parse_results(items)}
                self._publish(sorted_findings(parsed), WATCH_AGES_MAX_AGE, reported=bool(items))
                backoff = 1.0
                while not stop.is_set():
                    for kind, obj in watch(version):
                        version = (obj.get("metadata") or {}).get("resourceVersion") or version
                        if kind == "BOOKMARK":
                            continue
                        finding = Finding.from_result(obj)
                        if kind == "DELETED":
                            parsed.pop(finding.result_name, None)
                        elif finding.result_name:
                            parsed[finding.result_name] = finding
                        self._publish(sorted_findings(parsed), WATCH_AGES_MAX_AGE, reported=kind != "DELETED")
            except Gone:
                continue  # the version is too old: list again
            except Exception as exc:  # noqa: BLE001 - an outage: the banner says so, the watch retries
                self._failed(exc)
                stop.wait(backoff)
                backoff = min(backoff * 2, 30.0)

    @staticmethod
    def _ask(reader, *args):
        if reader is None:
            return None
        try:
            return reader(*args)
        except Exception:  # noqa: BLE001 - unknown ages: the plain empty state stays
            return None

    def _refresh_in_background(self) -> None:
        with self._lock:
            if self._refreshing:
                return
            self._refreshing = True

        def run():
            try:
                self.refresh()
            finally:
                self._refreshing = False

        threading.Thread(target=run, name="codex-results-refresh", daemon=True).start()


def sorted_findings(by_name: dict[str, Finding]) -> list[Finding]:
    return sorted(by_name.values(), key=lambda f: (f.namespace or "", f.kind.lower(), f.name, f.result_name))


STORE_KEY = "codex_results"
WATCH_KEY = "codex_results_watch"
WATCH_AGES_MAX_AGE = 10.0  # s: under a watch, namespace and K8sGPT ages are re-read at most this often


def init_app(app):
    """Give the app its Result store, reading through the app's gateway (init it first); with
    CODEX_RESULTS_WATCH, one list-and-watch per process keeps it current from the first request on."""
    gw = app.extensions[GATEWAY_KEY]  # bound now: the background refresh runs outside the app
    store = app.extensions[STORE_KEY] = ResultStore(
        gw.list_results, max_age=app.config["CODEX_RESULTS_MAX_AGE"],
        namespaces=lambda: namespace_creations(gw),
        set_up_at=lambda created: k8sgpt_set_up_at(gw, created))
    if not app.config["CODEX_RESULTS_WATCH"]:
        return
    store.watching = True
    stop = threading.Event()
    app.extensions[WATCH_KEY] = stop
    started = threading.Lock()

    @app.before_request
    def _start_watch():
        # Started by a request, not here: gunicorn --preload forks after create_app, and a thread
        # started in the master would not exist in the workers.
        if started.acquire(blocking=False):
            threading.Thread(target=store.watch_forever, name="codex-results-watch", daemon=True,
                             args=(gw.list_results_with_version, gw.watch_results, stop)).start()


def result_store() -> ResultStore:
    return current_app.extensions[STORE_KEY]


def findings_for(access) -> tuple[list[Finding], Snapshot]:
    """The findings an Access (app.access) may see, and the store snapshot they came from."""
    snapshot = result_store().snapshot()
    return visible_findings(snapshot.findings, access.namespaces(), is_admin=access.admin), snapshot
