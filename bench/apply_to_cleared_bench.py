"""Benchmark the time from Apply to "finding cleared", against the lab.

Every scenario of the plan-quality suite (eval/scenarios.py: the known-issue findings) is followed end to end, each on its own copy of its chart in its own
test-made namespace (tests/support/remedy.py): the plan written for a developer with a change grant
there, each change dry-run and applied as them, then the run follows the finding until K8sGPT drops it.

Prints, per finding, Apply -> cleared beside the baseline measured in the same run: install -> K8sGPT's
first Result for the same copy (how long K8sGPT takes to notice anything). Then p50/p95 of both.

    .venv/bin/python -m bench.apply_to_cleared_bench [--rounds 1] [--within 300]   # from the repository root
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from app.plans.core.model_client import ModelClient, ModelSettings
from eval.scenarios import SCENARIOS
from tests.support.apps import app_factory
from tests.support.lab_control import install_app_chart, labctl
from tests.support.lab_kube import APP_KUBECONFIG, Kube
from tests.support.planner_process import PlannerProcess
from tests.support.remedy import remedy_all
from tests.support.users import lab_users


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=1, help="times to follow every finding (default 1)")
    parser.add_argument("--within", type=int, default=300, help="seconds a run follows its finding (default 300)")
    args = parser.parse_args()
    scenarios = [s.copy for s in SCENARIOS]
    install_app_chart()  # the change roles the developer's grant binds
    kube = Kube()
    rows = []
    with tempfile.TemporaryDirectory() as folder, PlannerProcess() as planner:
        settings = {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(folder) / 'codex.db'}",
                    "CODEX_KUBECONFIG": str(APP_KUBECONFIG), "CODEX_KUBECTL": str(labctl("paths").binary("kubectl")),
                    "CODEX_ACTIONS_PER_MINUTE": 10_000, "CODEX_VERIFY_WITHIN": args.within}
        model = ModelClient(ModelSettings(base_url=planner.base_url, timeout=30))
        with app_factory(settings) as make:
            app = make()
            with lab_users(app, "bench password") as make_user:
                for _ in range(args.rounds):
                    rows += remedy_all(app, model, kube, make_user, scenarios, args.within)
        model.close()
    print(f"{'finding':<42} {'install -> reported (s)':>24} {'Apply -> cleared (s)':>22}  outcome")
    for remedy in rows:
        cleared = f"{remedy.cleared_after:.1f}" if remedy.cleared_after is not None else "-"
        print(f"{remedy.chart + ' ' + remedy.kind:<42} {remedy.reported_after:>24.1f} {cleared:>22}  {remedy.state}")
    reported = [r.reported_after for r in rows]
    cleared = [r.cleared_after for r in rows if r.cleared_after is not None]
    print(f"\n{len(cleared)} of {len(rows)} followed findings cleared")
    print(f"baseline install -> reported: p50 {statistics.median(reported):.1f} s, p95 {percentile(reported, .95):.1f} s")
    if cleared:
        print(f"Apply -> cleared:             p50 {statistics.median(cleared):.1f} s, p95 {percentile(cleared, .95):.1f} s")


if __name__ == "__main__":
    main()
