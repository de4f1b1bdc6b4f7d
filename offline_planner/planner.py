"""Turn a chat request into a plan: read the facts, classify the failure, write the runbook."""

from __future__ import annotations

import logging

from offline_planner import remediation, root_cause
from offline_planner.explain import explain
from offline_planner.common import classify
from offline_planner.facts import read_facts

log = logging.getLogger(__name__)

NO_FINDING = """# Offline planner

I could not find a ```finding block in the request, so I cannot write a runbook for a specific object.
Send the prompt built by Cluster Codex (it carries the finding and the gathered context): open a finding
there and ask for its remediation or root-cause plan.
"""


def write_plan(messages: list[dict]) -> str:
    """The whole answer for these messages; deterministic for the same input."""
    explained = explain(messages)  # K8sGPT asking for a finding's short explanation
    if explained is not None:
        return explained
    facts = read_facts(messages)
    if not facts.found:
        return NO_FINDING
    books = root_cause.RUNBOOKS if facts.mode == "root_cause" else remediation.RUNBOOKS
    failure, note = classify(facts), ""
    pod = facts.for_pod() if failure == "unavailable" else None
    if pod is not None and classify(pod) not in ("unavailable", "general"):
        # The workload is short of pods because its pods fail: the plan is the pod's, said so up front.
        note = (f"_K8sGPT reported {facts.kind} `{facts.name}` short of available pods; its pod `{pod.name}` "
                "shows why, so this plan is for that cause._")
        facts, failure = pod, classify(pod)
    try:
        plan = books[failure](facts)
    except (AttributeError, KeyError, TypeError, ValueError, IndexError):
        # Unusual object shapes must not take the demo down: fall back to the general runbook.
        log.exception("the %s runbook failed; answering with the general one", failure)
        facts.obj, facts.owners = None, []
        plan = books["general"](facts)
    if note:
        first, _, rest = plan.partition("\n")
        plan = f"{first}\n\n{note}\n{rest}"
    return plan
