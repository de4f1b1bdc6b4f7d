"""Run scenarios against a model and score each plan three ways (see the package docstring)."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

from eval.scenarios import Scenario
from tests.support.remedy import remedy_all


@dataclass
class Score:
    scenario: str
    diagnosis: bool
    valid: bool  # every mutating step passed the parser and a dry-run as the developer
    fixed: bool  # the finding cleared within the bound and the workload is in its intended state
    changes: list[str] = field(default_factory=list)  # the steps applied, in order
    refused: str = ""  # the parser's or the API server's answer to the first step it refused
    outcome: str = ""  # cleared, still-reported, refused or "no change"
    state: str = ""  # what the intended-state check saw
    cleared_after: float | None = None

    @property
    def passed(self) -> bool:
        return self.diagnosis and self.valid and self.fixed


def run(app, model, kube, make_user, scenarios: list[Scenario], within: float) -> tuple[list[Score], float]:
    """Every scenario on its own copy, at once; (scores in the scenarios' order, seconds in all)."""
    states: dict[str, tuple[bool, str]] = {}

    def inspect(copy, namespace, remedy):
        scenario = next(s for s in scenarios if s.copy == copy and s.name not in states)
        try:
            states[scenario.name] = scenario.check(kube, namespace)
        except Exception as exc:  # noqa: BLE001 - a deleted object is a state too
            states[scenario.name] = (False, f"check failed: {exc}")

    started = time.monotonic()
    remedies = remedy_all(app, model, kube, make_user, [s.copy for s in scenarios], within, inspect=inspect)
    scores = []
    for scenario, remedy in zip(scenarios, remedies):
        in_state, seen = states.get(scenario.name, (False, "not checked"))
        scores.append(Score(scenario.name, diagnosis=scenario.diagnosed(remedy.plan), valid=not remedy.refused,
                            fixed=remedy.cleared and in_state, changes=list(remedy.changes), refused=remedy.refused,
                            outcome=remedy.state, state=seen, cleared_after=remedy.cleared_after))
    return scores, time.monotonic() - started


def summary(scores: list[Score]) -> dict:
    count = len(scores) or 1
    return {"scenarios": len(scores), "passed": sum(s.passed for s in scores),
            "score": round(sum(s.passed for s in scores) / count, 3),
            "diagnosis": round(sum(s.diagnosis for s in scores) / count, 3),
            "valid": round(sum(s.valid for s in scores) / count, 3),
            "fixed": round(sum(s.fixed for s in scores) / count, 3)}


def as_json(model: str, scores: list[Score], seconds: float) -> dict:
    return {"model": model, "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "seconds": round(seconds, 1), "summary": summary(scores),
            "scenarios": [dict(asdict(s), passed=s.passed) for s in scores]}


def table(scores: list[Score]) -> str:
    mark = {True: "yes", False: "no"}
    lines = [f"{'scenario':<26} {'diagnosis':>9} {'valid':>6} {'fixed':>6}  outcome / state"]
    for s in scores:
        detail = s.refused or f"{s.outcome}; {s.state}"
        lines.append(f"{s.scenario:<26} {mark[s.diagnosis]:>9} {mark[s.valid]:>6} {mark[s.fixed]:>6}  {detail[:90]}")
    total = summary(scores)
    lines.append(f"{'all three':<26} {total['passed']} of {total['scenarios']} ({total['score']:.0%}); "
                 f"diagnosis {total['diagnosis']:.0%}, valid {total['valid']:.0%}, fixed {total['fixed']:.0%}")
    return "\n".join(lines)
