"""The steps of a plan as the run page lists them: roles from the plan's prose, each change paired
with its undo, an `apply -f -` with its step's YAML, and always the order of extract_commands."""

from __future__ import annotations

import pytest

from app.plans.core.commands import extract_commands
from app.plans.core.plan_steps import StepRole, plan_steps
from offline_planner.common import step

SCALE = "kubectl -n team-a scale deployment/api --replicas=0"
UNSCALE = "kubectl -n team-a scale deployment/api --replicas=3"


def offline_plan() -> str:
    """Two steps the way the offline planner writes them: a read, then a change with verify and undo."""
    return "\n\n".join([
        "# Remediation plan", "## Steps",
        step(1, "Read the logs", "kubectl -n team-a logs pod/api-1 -c api --previous", "Nothing, it only reads.",
             "The last lines say why it exited."),
        step(2, "Stop the bleeding: scale `deployment/api` to zero", SCALE, "Removes the pods.",
             "No pods are left:", "kubectl -n team-a get deployment/api", "Scale back to the 3 replicas it had:",
             UNSCALE),
    ])


def test_the_offline_planners_undo_is_paired_with_its_change():
    steps = plan_steps(offline_plan())
    assert [(s.role, s.text) for s in steps] == [
        (StepRole.STEP, "kubectl -n team-a logs pod/api-1 -c api --previous"),
        (StepRole.STEP, SCALE),
        (StepRole.VERIFY, "kubectl -n team-a get deployment/api"),
        (StepRole.UNDO, UNSCALE)]
    assert steps[1].undo == UNSCALE and steps[3].undoes == 1
    assert steps[0].undo is None and steps[3].undo is None


@pytest.mark.parametrize("label", ["**How to undo:**", "To undo it, run:", "Undo:", "Rollback:", "**Revert:**",
                                   "If it makes things worse, undo it:"])
def test_the_ways_a_model_says_undo(label):
    plan = f"1. Pause it:\n\n```bash\n{SCALE}\n```\n\n{label}\n\n```bash\n{UNSCALE}\n```\n"
    assert [s.role for s in plan_steps(plan)] == [StepRole.STEP, StepRole.UNDO]


@pytest.mark.parametrize("label", ["3. Roll back `deployment/api` to the previous revision",
                                   "**Roll back the release** if the new image is the cause:"])
def test_a_step_titled_roll_back_is_a_change_not_an_undo(label):
    """Only "undo:"-like labels make an undo; a rollback step is the fix itself (and has its own undo)."""
    plan = f"{label}\n\n```bash\nkubectl -n team-a rollout undo deployment/api\n```\n"
    assert [s.role for s in plan_steps(f"1. Scale down:\n\n```bash\n{SCALE}\n```\n\n{plan}")] == [
        StepRole.STEP, StepRole.STEP]


def test_an_undo_without_a_change_before_it_is_an_ordinary_step():
    plan = f"**How to undo:**\n\n```bash\n{UNSCALE}\n```\n"
    [only] = plan_steps(plan)
    assert only.role == StepRole.STEP and only.undoes is None


def test_inline_undo_in_the_same_paragraph():
    plan = f"1. Scale down:\n\n```bash\n{SCALE}\n```\n\n**How to undo:** `{UNSCALE}`\n"
    steps = plan_steps(plan)
    assert [s.role for s in steps] == [StepRole.STEP, StepRole.UNDO] and steps[0].undo == UNSCALE


def test_apply_from_stdin_carries_its_steps_yaml_and_nothing_else_does():
    manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  level: info\n"
    plan = (f"## 1. Restore the settings\n\n```yaml\n{manifest}```\n\n```bash\nkubectl -n team-a apply -f -\n```\n\n"
            f"## 2. Scale\n\n```bash\n{SCALE}\n```\n\n"
            "## 3. Apply the other one\n\n```bash\nkubectl -n team-a apply --filename=-\n```\n")
    steps = plan_steps(plan)
    assert [s.manifest for s in steps] == [manifest, None, None]  # step 3's section shows no YAML


def test_the_order_is_always_that_of_extract_commands():
    plans = [offline_plan(),
             "Run `kubectl get pods -n a` then\n\n```bash\nkubectl -n a delete pod x\nkubectl -n a get pods\n```\n"
             "\n```yaml\nkind: Pod\n```\n\nUndo: `kubectl -n a apply -f -`\n",
             "no commands at all"]
    for plan in plans:
        assert [s.text for s in plan_steps(plan)] == [c.text for c in extract_commands(plan)]
