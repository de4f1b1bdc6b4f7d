"""The offline planner answers K8sGPT's explain prompt (offline_planner/explain.py) the way K8sGPT
v0.4.36 asks it: one non-streamed chat completion per finding, its default prompt around the failure
texts. The answer is what the operator stores in a Result's spec.details."""

import pytest

from tests.plans_core.test_offline_planner import call

# K8sGPT's pkg/ai/prompts.go default_prompt with its language and failure texts filled in.
PROMPT = ("Simplify the following Kubernetes error message delimited by triple dashes written in --- english "
          "--- language; --- {errors} ---.\n\tProvide the most possible solution in a step by step style in no "
          "more than 280 characters. Write the output in the following format:\n\tError: {{Explain error here}}"
          "\n\tSolution: {{Step by step solution here}}")


def explain(planner, errors):
    status, body = call(planner.base_url + "/chat/completions",
                        {"model": "codex-offline-planner", "max_completion_tokens": 2048,
                         "messages": [{"role": "user", "content": PROMPT.format(errors=errors)}]})
    assert status == 200 and len(body["choices"]) == 1  # K8sGPT indexes choices[0] without a check
    return body["choices"][0]["message"]["content"]


@pytest.mark.parametrize("errors, says", [
    ("the last termination reason is OOMKilled container=worker pod=oom-worker-7c9d", "OOM-killed"),
    ("the last termination reason is Error container=api pod=crashloop-api-c8b8c8889-rhqhw", "keeps exiting"),
    ('Back-off pulling image "registry.example/shop:2.0-does-not-exist"', "cannot be pulled"),
    ("Service has no endpoints, expected label app=payments", "no endpoints"),
    ("Deployment team-a/crashloop-api has 1 replicas but 0 are available", "fewer available replicas"),
    ("0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector.", "No node fits"),
    ("CronJob nightly-report is suspended", "suspended"),
    ("ConfigMap kube-root-ca.crt is not used by any pods in the namespace", "not used by any pod"),
    ("Readiness probe failed: Get \"http://10.0.0.7:9090/healthz\": connection refused", "readiness probe"),
    ("Job has reached the specified backoff limit", "backoff limit"),
    ("Job nightly-export has failed", "backoff limit"),
    ("couldn't find key DATABASE_HOST in ConfigMap team-a/orders-config", "ConfigMap key"),
    ("HorizontalPodAutoscaler uses Deployment/inventory as ScaleTargetRef which does not exist.", "does not exist"),
])
def test_a_finding_is_explained_briefly_in_k8sgpts_format(planner, errors, says):
    answer = explain(planner, errors)
    assert answer.startswith("Error: ") and "\nSolution: 1. " in answer
    assert says in answer and len(answer) <= 280
    assert explain(planner, errors) == answer  # the same finding, the same words, every pass


def test_a_plan_prompt_is_still_answered_with_a_plan(planner):
    from tests.plans_core.planning_helpers import simple_messages

    status, body = call(planner.base_url + "/chat/completions",
                        {"model": "codex-offline-planner", "messages": simple_messages()})
    assert status == 200 and not body["choices"][0]["message"]["content"].startswith("Error: ")


def test_every_failure_class_has_an_explanation():
    """One explain call that fails fails K8sGPT's whole analysis pass: no class may lack its answer."""
    from offline_planner.common import CLASSES
    from offline_planner.explain import ANSWERS

    assert set(ANSWERS) == set(CLASSES)
