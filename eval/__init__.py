"""Plan quality you can measure: a scored scenario suite for any OpenAI-compatible model.

Each scenario (eval/scenarios.py) is a chart that produces a genuine failure in a fresh test-made
namespace of the lab, and what a correct remediation plan must get right. The suite (eval/suite.py)
writes each plan the way the app does -- the live context read as a developer with a change grant
there, the app's own prompt, the model -- and scores it three ways:

- diagnosis: the plan names the cause (one of several accepted phrasings);
- valid: every mutating step passes the command parser and a server-side dry-run as that developer;
- fixed: applying the remediation's steps in order through the same dry-run/Apply path makes K8sGPT
  drop the finding within a bound, and the workload ends in the scenario's intended state.

    .venv/bin/python -m eval [--base-url URL --model NAME --api-key KEY] [--only NAME ...] [--json PATH]

Without --base-url it starts the offline planner; otherwise the usual settings (CODEX_LLM_BASE_URL,
CODEX_LLM_MODEL, CODEX_LLM_API_KEY) apply under the flags. Prints a table; writes the JSON
(artifacts/eval/<model>.json by default) to compare runs.
"""
