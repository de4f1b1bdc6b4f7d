"""K8sGPT's own explanation: the short answer its operator stores in a Result's `spec.details`.

With an AI backend configured, K8sGPT (v0.4.36, pkg/ai/prompts.go) sends one chat completion per
finding, not streamed, whose only user message is its default prompt around the failure texts:

    Simplify the following Kubernetes error message delimited by triple dashes written in --- english
    --- language; --- <errors> ---.\\n\\tProvide the most possible solution in a step by step style in no
    more than 280 characters. Write the output in the following format:\\n\\tError: ...\\n\\tSolution: ...

The answer names the failure class (the planner's own classifier) and its usual fix, in that format,
within 280 characters, and depends on nothing but the failure texts: the same finding is explained the
same way on every pass (the operator rewrites a Result only when its errors change anyway).
"""

from __future__ import annotations

import re

from offline_planner.common import STEP_KINDS, classify
from offline_planner.facts import Facts

PROMPT = re.compile(r"\ASimplify the following Kubernetes error message delimited by triple dashes written in "
                    r"--- (?P<language>.*?) --- language; --- (?P<errors>.*) ---\.\s*\n\s*Provide the most "
                    r"possible solution", re.S)
LIMIT = 280

# failure class -> (what went wrong, the steps that usually fix it)
ANSWERS = {
    "unavailable": ("The workload has fewer available replicas than it wants.",
                    "1. kubectl describe its pods 2. fix the failing pod (image, probe, resources) 3. watch the rollout."),
    "oom": ("A container used more memory than its limit and was OOM-killed.",
            "1. Compare the limit with real use (kubectl top) 2. raise the memory limit or lower the app's use."),
    "image_pull": ("The image cannot be pulled: wrong name or tag, or no registry access.",
                   "1. Check the image and tag exist 2. set a valid image 3. add an imagePullSecret if private."),
    "crash_loop": ("The container keeps exiting and Kubernetes backs off restarting it.",
                   "1. Read kubectl logs --previous 2. fix the command, config or dependency it fails on."),
    "pvc_pending": ("The claim cannot be bound: its storage class does not exist or cannot provision.",
                    "1. kubectl get storageclass 2. recreate the claim with an existing class."),
    "service_no_endpoints": ("The Service selects no ready pods, so it has no endpoints.",
                             "1. Compare its selector with the pods' labels 2. fix the selector or the labels."),
    "ingress_backend_missing": ("The Ingress routes to a Service that does not exist.",
                                "1. kubectl get svc in its namespace 2. point the backend at the right Service."),
    "cronjob_suspended": ("The CronJob is suspended, so it starts no jobs.",
                          "1. Check why it was paused 2. resume it: spec.suspend=false."),
    "cronjob_schedule": ("The CronJob's schedule is not valid cron syntax.",
                         "1. Fix spec.schedule (five fields, e.g. 0 2 * * *)."),
    "not_ready": ("The readiness probe fails, so the pod gets no traffic.",
                  "1. Check the probe's port and path against the container 2. fix the probe or the app."),
    "unschedulable": ("No node fits the pod: its selector, affinity, taints or requests rule all out.",
                      "1. kubectl describe pod for the reason 2. relax the nodeSelector or requests."),
    "job_failed": ("The Job's pods failed until it passed its backoff limit; it is not retried any more.",
                   "1. Read the failed pod's log 2. fix the cause (memory, config) 3. delete and re-create the Job."),
    "config_error": ("The container cannot be created: its env names a ConfigMap key that does not exist.",
                     "1. kubectl describe configmap for its keys 2. point the reference at the right key or add it."),
    "hpa_target_missing": ("The HorizontalPodAutoscaler scales a workload that does not exist.",
                           "1. kubectl get deployments 2. point spec.scaleTargetRef at the right one or delete the HPA."),
    "general": ("Kubernetes reports a problem with this object.",
                "1. kubectl describe it and read its events 2. fix what they name."),
}


# K8sGPT findings the planner's runbooks do not classify (they are no failure of a workload).
OTHER = [(re.compile(r"is not used by any pods", re.I),
          ("The ConfigMap is not used by any pod in its namespace.",
           "1. Check that nothing needs it 2. delete it, or mount it where it was meant to be used."))]


# K8sGPT's Pod analyzer words a crash without "CrashLoopBackOff": the explanation has no events to read.
CRASHED = re.compile(r"last termination reason is error\b", re.I)


def explain(messages: list[dict]) -> str | None:
    """The answer to K8sGPT's explain prompt, or None when the messages are not that prompt."""
    users = [m for m in messages if m.get("role") == "user"]
    content = users[-1].get("content") if users else None
    if not isinstance(content, str) or not (match := PROMPT.match(content)):
        return None
    errors = match["errors"].strip()
    first = errors.split(" ", 1)[0]
    facts = Facts(found=True, kind=first if first in STEP_KINDS else "Object", errors=[errors])
    failure = "crash_loop" if CRASHED.search(errors) else classify(facts)
    what, fix = next((answer for pattern, answer in OTHER if pattern.search(errors)), None) or ANSWERS[failure]
    return f"Error: {what}\nSolution: {fix}"[:LIMIT]
