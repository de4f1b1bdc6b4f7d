"""Follow a remediation plan to the end, the way a developer does it in the app, and time it.

A copy of a known-issue chart goes into a test-made namespace; once K8sGPT reports it, its plan is
written the way the app writes it (the live context read as the user, the app's prompt, the planner),
and every change of the plan -- not its undos -- is dry-run and then applied, in order, through
app.actions.service as a developer whose change grant covers that namespace. Then the run follows its
finding with app.actions.verification until K8sGPT drops it or the bound passes.

Shared by the plan-quality suite (eval/, run in CI by tests/eval/test_plan_quality.py) and the
Apply-to-cleared benchmark (bench/apply_to_cleared_bench.py).
"""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pytest

from app.access import CHANGEABLE_NAMES, access_for
from app.actions import service, verification
from app.cluster.gateway import gateway
from app.cluster.user_reader import UserReader
from app.extensions import db
from app.findings import Finding
from app.kinds import KIND_NAMES
from app.models import PlanRun, User
from app.plans import runs
from app.plans.cluster_context import live_context
from app.plans.core.plan_steps import StepRole, plan_steps
from app.plans.core.model_client import TextDelta
from app.plans.core.prompts import build_messages
from app.plans.core.vocabulary import PlanMode, RunStatus
from tests.support.child_process import REPO
from tests.support.lab_control import labctl
from tests.support.lab_namespaces import lab_namespaces

CHARTS = REPO / "charts" / "known-issues"
CHART_DIRS = (CHARTS, REPO / "eval" / "charts")  # the lab's known issues, then the plan-quality suite's own
EVERY_KIND = set(KIND_NAMES) - {"secrets"}  # a developer's usual grant: all but Secret values
LABEL = {"codex-test": "remedy"}
# A copy leaves out what is cluster-wide: the shared chart's release owns the IngressClass.
COPY_VALUES = {"ingress-missing-service": ["--set", "ingressClass.create=false"]}
# A copy that first gets an earlier, working release, so that its workload has a revision to roll back
# to: the bad tag came with an upgrade, as it does in real life.
HISTORY = {"bad-image": ["--set", "image=docker.io/library/nginx:1.27-alpine"]}


@dataclass
class Remedy:
    """What following one finding's remediation plan did."""

    chart: str
    kind: str  # the finding's kind
    prefix: str  # the start of its object's name
    changes: list[str] = field(default_factory=list)  # the commands applied, in order
    refused: str = ""  # why a dry-run or Apply was refused (then nothing after it was applied)
    state: str = "no change"  # "cleared", "still-reported", "refused", or "no change" when the plan has none
    plan: str = ""  # the remediation plan as the model wrote it
    reported_after: float | None = None  # seconds from install to K8sGPT's Result (the baseline)
    cleared_after: float | None = None  # seconds from the last Apply to the Result gone

    @property
    def cleared(self) -> bool:
        return self.state == "cleared"


@dataclass(frozen=True)
class Scenario:
    """One finding of a known-issue chart: its kind and the name its object starts with."""

    chart: str
    kind: str
    prefix: str


def install_copy(chart: str, namespace: str) -> float:
    """Install a copy of the chart (release = chart name) into `namespace`; when it was installed."""
    folder = next(d / chart for d in CHART_DIRS if (d / chart / "Chart.yaml").exists())
    if chart in HISTORY:
        labctl().helm("upgrade", "--install", chart, str(folder), "--namespace", namespace, "--timeout", "2m",
                      *COPY_VALUES.get(chart, []), *HISTORY[chart])
    # --reset-values: without values an upgrade would keep the earlier release's.
    labctl().helm("upgrade", "--install", chart, str(folder), "--namespace", namespace, "--reset-values",
                  "--timeout", "2m", *COPY_VALUES.get(chart, []))
    return time.monotonic()


def developer(make_user, namespaces) -> int:
    """A developer who may see every kind but Secrets in `namespaces` and change what can be changed."""
    return make_user("remedy-dev", {ns: EVERY_KIND for ns in namespaces},
                     changes={ns: set(CHANGEABLE_NAMES) for ns in namespaces})


def remediation_plan(app, model, user_id: int, finding: Finding, notes: str = "") -> tuple[str, list]:
    """The plan as the app writes it for this user (context read as them), and its prompt."""
    with app.app_context():
        user = db.session.get(User, user_id)
        gathered = live_context(UserReader(gateway(), user, access_for(user)), finding,
                                app.config["CODEX_PLAN_CONTEXT_BUDGET"])
        messages = build_messages(finding, PlanMode.REMEDIATION, notes, gathered)
    text = "".join(event.text for event in model.stream_plan(messages) if isinstance(event, TextDelta))
    return text, messages


def remedy_all(app, model, kube, make_user, scenarios, within: float, report_timeout: float = 240,
               inspect=None) -> list[Remedy]:
    """Each scenario on its own copy in its own test-made namespace, followed to the end; deleted at exit.
    `inspect(scenario, namespace, remedy)`, when given, looks at each copy before it is deleted."""
    tag = uuid.uuid4().hex[:6]
    names = [f"codex-fix-{tag}-{number}" for number in range(len(scenarios))]
    with lab_namespaces(kube, names, LABEL):
        user_id = developer(make_user, names)
        with ThreadPoolExecutor(4) as pool:
            installed = list(pool.map(install_copy, [s.chart for s in scenarios], names))
        remedies = [Remedy(s.chart, s.kind, s.prefix) for s in scenarios]
        results = _reported(kube, scenarios, names, installed, remedies, report_timeout)
        runs_ = []
        for scenario, result, remedy in zip(scenarios, results, remedies):
            plan, messages = remediation_plan(app, model, user_id, Finding.from_result(result))
            runs_.append(apply_plan(app, user_id, result, plan, messages, remedy))
        follow_all(app, list(zip(runs_, remedies)), within)
        if inspect is not None:
            for scenario, namespace, remedy in zip(scenarios, names, remedies):
                inspect(scenario, namespace, remedy)
    return remedies


def _reported(kube, scenarios, names, installed, remedies, timeout) -> list[dict]:
    """Wait for K8sGPT's Result of every scenario (one pass over the Results per poll); note how long each took."""
    found: dict[int, dict] = {}
    deadline = time.monotonic() + timeout
    while len(found) < len(scenarios):
        results = kube.results()
        for number, (scenario, namespace) in enumerate(zip(scenarios, names)):
            if number in found:
                continue
            match = next((r for r in results if r["spec"].get("kind") == scenario.kind
                          and (r["spec"].get("name") or "").startswith(f"{namespace}/{scenario.prefix}")), None)
            if match is not None:
                found[number] = match
                remedies[number].reported_after = time.monotonic() - installed[number]
        if len(found) < len(scenarios) and time.monotonic() > deadline:
            missing = [f"{s.kind} {ns}/{s.prefix}… ({s.chart})" for n, (s, ns) in enumerate(zip(scenarios, names))
                       if n not in found]
            pytest.fail(f"K8sGPT reported none of {missing} within {timeout:.0f}s")
        time.sleep(0.5)
    return [found[number] for number in range(len(scenarios))]


def apply_plan(app, user_id: int, result: dict, plan: str, messages, remedy: Remedy) -> int:
    """A finished run of the plan, and each change of it dry-run then applied as the user; the run id."""
    finding = Finding.from_result(result)
    with app.app_context():
        user = db.session.get(User, user_id)
        run = runs.create_run(user_id, result["metadata"]["name"], finding, PlanMode.REMEDIATION,
                              messages=messages, status=RunStatus.STREAMING)
        runs.finish_run(run.id, RunStatus.DONE, plan)
        remedy.plan = plan
        run = db.session.get(PlanRun, run.id)
        for step in plan_steps(plan):
            if step.role != StepRole.STEP or not step.changes_cluster:
                continue
            for act in (service.dry_run, service.apply):
                outcome = act(user, run, step.text, manifest=step.manifest)
                if not outcome.ok:
                    remedy.refused, remedy.state = f"{act.__name__} of `{step.text}`: {outcome.message}", "refused"
                    return run.id
            remedy.changes.append(step.text)
        return run.id


def follow_all(app, pending: list[tuple[int, Remedy]], within: float) -> None:
    """Poll each run's verification (as its run page does) until it decides, `within` seconds at most."""
    waiting = [(run_id, remedy) for run_id, remedy in pending if remedy.changes and not remedy.refused]
    deadline = time.monotonic() + within + 30  # the verification itself decides at `within`
    with app.app_context():
        while waiting and time.monotonic() < deadline:
            db.session.expire_all()
            for run_id, remedy in list(waiting):
                seen = verification.follow(db.session.get(PlanRun, run_id), gateway(), int(within))
                if seen is not None and not seen.waiting:
                    remedy.state = seen.state
                    if seen.state == "cleared":
                        remedy.cleared_after = (seen.decided_at - seen.applied_at).total_seconds()
                    waiting.remove((run_id, remedy))
            time.sleep(0.5)
    for _, remedy in waiting:
        remedy.state = "still-reported"
